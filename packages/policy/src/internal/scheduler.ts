/**
 * The scheduling pipeline, in Pacemaker's order: unpack (options, nodes, resources, constraints,
 * status) → place → create actions → orderings → settle flags → fencing → summary and graph.
 */
import type { Cib } from "@ha/cib"
import type { Action, Decision, Edge, Placement, Reason, Transition } from "../Transition.ts"
import { ActionGraph, type GraphAction } from "./actions.ts"
import {
  type CollectivePlan,
  collectiveEndpoints,
  type Endpoints,
  planCollective,
  primitiveEndpoints
} from "./collective.ts"
import { clusterOptions } from "./config.ts"
import { type OrderRule, resolveConstraints } from "./constraints.ts"
import { definitionChange } from "./digest.ts"
import { canHostResources, unpackNodes } from "./nodes.ts"
import { addNotifications } from "./notifications.ts"
import { applyOrders } from "./ordering.ts"
import { place } from "./placement.ts"
import { type PrimitivePlan, planPrimitive } from "./primitive.ts"
import { buildResources, type Resource } from "./resources.ts"
import { NodeScores } from "./scores.ts"
import { unpackStatus } from "./status.ts"
import { fenceDecision, summarizePrimitive } from "./summary.ts"

export type ScheduleResult =
  | { readonly _tag: "Planned"; readonly transition: Transition }
  | { readonly _tag: "Unsupported"; readonly feature: string }

/** Features ha's scheduler does not model yet, detected from the decoded CIB. */
const unsupportedFeature = (cib: Cib.Cib): string | undefined => {
  for (const n of cib.configuration.nodes) if (n.type === "remote") return `remote node ${n.uname}`
  for (const s of cib.status.nodes) if (s.remoteNode !== undefined) return `remote node ${s.uname ?? s.id}`
  const primitives: Array<Cib.Primitive> = []
  for (const r of cib.configuration.resources) {
    if (r._tag === "Primitive") primitives.push(r)
    else if (r._tag === "Group") primitives.push(...r.members)
    else if (r._tag === "Clone")
      primitives.push(...(r.child._tag === "Primitive" ? [r.child] : r.child.members))
  }
  for (const p of primitives) {
    if (p.class === "ocf" && p.provider === "pacemaker" && p.type === "remote")
      return `remote connection ${p.id}`
    for (const set of p.metaAttributes) {
      for (const pair of set.nvpairs) {
        if (pair.name === "remote-node") return `guest node ${pair.value ?? p.id}`
        if (pair.name === "container") return `container ${pair.value ?? ""}`
      }
    }
  }
  return undefined
}

const primitivesOf = (r: Resource): ReadonlyArray<Resource> =>
  r.kind === "primitive" ? [r] : r.children.flatMap(primitivesOf)

export const schedule = (cib: Cib.Cib, now: number): ScheduleResult => {
  const unsupported = unsupportedFeature(cib)
  if (unsupported !== undefined) return { _tag: "Unsupported", feature: unsupported }
  const options = clusterOptions(cib, now)
  const unpackedNodes = unpackNodes(cib, options, now)
  const built = buildResources(cib, options, { attributes: new Map(), now })
  if ("unsupported" in built) return { _tag: "Unsupported", feature: built.unsupported }
  const constraints = resolveConstraints(cib, built)
  if ("unsupported" in constraints) return { _tag: "Unsupported", feature: constraints.unsupported }
  const status = unpackStatus(unpackedNodes, built, options, now)
  const nodeIndex = new Map(unpackedNodes.map((n, i) => [n.name, i]))

  // fencing: unclean nodes, and nodes where a stop failed
  const fenceReasons = new Map<number, string>()
  // without quorum (unless no-quorum-policy=ignore) only nodes in our membership can be fenced
  const canFence = (i: number) =>
    options.haveQuorum || options.noQuorumPolicy === "ignore" || unpackedNodes[i]!.online
  if (options.stonithEnabled) {
    unpackedNodes.forEach((n, i) => {
      if (n.unclean && n.uncleanReason !== undefined && canFence(i)) fenceReasons.set(i, n.uncleanReason)
    })
    for (const p of built.primitives) {
      for (const h of p.history) {
        const i = nodeIndex.get(h.node)
        if (i === undefined || fenceReasons.has(i) || !canFence(i)) continue
        if ((h.stopFailed && h.onFail === "fence") || (h.failed && h.onFail === "fence")) {
          fenceReasons.set(i, `${p.id} failed there`)
        }
      }
    }
  }

  // a node about to be fenced can host nothing
  // a failure with on-fail=standby puts its node in standby: everything moves off it
  const standbyByFailure = new Set<number>()
  for (const p of built.primitives)
    for (const h of p.history) {
      const i = nodeIndex.get(h.node)
      if (i !== undefined && h.failed && h.onFail === "standby") standbyByFailure.add(i)
    }
  const nodes = unpackedNodes.map((n, i) =>
    fenceReasons.has(i) && !n.unclean
      ? { ...n, unclean: true }
      : standbyByFailure.has(i) && !n.standby
        ? { ...n, standby: true }
        : n
  )

  const active = new Map<string, Array<number>>()
  for (const p of built.primitives) {
    const a: Array<number> = []
    for (const h of p.history) {
      const i = nodeIndex.get(h.node)
      if (i === undefined) continue
      if (h.role !== "Stopped") a.push(i)
      if (h.banned !== undefined) {
        const fc = status.failCounts.get(p.id) ?? new Map<number, number>()
        if (h.banned === "everywhere") for (let j = 0; j < nodes.length; j++) fc.set(j, 1_000_000)
        else fc.set(i, 1_000_000)
        status.failCounts.set(p.id, fc)
      }
    }
    active.set(p.id, a)
  }

  // quorum
  const quorumLost = !options.haveQuorum && options.noQuorumPolicy !== "ignore"
  const startsBlocked = quorumLost ? "no quorum" : undefined
  const stopAll = !options.haveQuorum && options.noQuorumPolicy === "stop" ? "no quorum" : undefined

  // resources that are left alone: unmanaged, maintenance, frozen without quorum
  // a failure on an unclean node needs no reaction of its own: the node is fenced, or nothing there can run
  const failureReaction = (p: Resource, reaction: string) =>
    p.history.some((h) => h.failed && h.onFail === reaction && !nodes[nodeIndex.get(h.node) ?? -1]?.unclean)
  const frozen = (p: Resource) => {
    if (!p.managed || options.maintenanceMode || failureReaction(p, "block")) return true
    const a = active.get(p.id) ?? []
    // multiple-active=block: a resource found active on several nodes is left alone
    if (a.length > 1 && p.multipleActive === "block") return true
    if (a.some((i) => nodes[i]!.maintenance)) return true
    // freezing keeps what runs in our partition; what ran on an unclean node must still stop
    return quorumLost && options.noQuorumPolicy === "freeze" && a.some((i) => !nodes[i]!.unclean)
  }
  const disabled = (p: Resource) =>
    p.targetRole === "Stopped" || options.stopAllResources || failureReaction(p, "stop")

  // (decided once: every build of the action graph asks again)
  const leftAlone = new Set(built.primitives.filter(frozen))

  const placement = place({
    nodes,
    primitives: built.primitives,
    constraints,
    options,
    now,
    failCounts: status.failCounts,
    active,
    promotedNow: new Set(
      built.primitives.filter((p) => p.history.some((h) => h.role === "Promoted")).map((p) => p.id)
    ),
    disabled: new Set(built.primitives.filter(disabled).map((p) => p.id)),
    pinned: new Map([...leftAlone].map((p) => [p.id, (active.get(p.id) ?? [])[0]] as const))
  })

  // resources whose parameters changed since they started restart where they run
  const changed = new Map<string, Set<number>>()
  const noNodes: ReadonlySet<number> = new Set()
  for (const p of built.primitives) {
    for (const h of p.history) {
      const i = nodeIndex.get(h.node)
      if (i === undefined || h.role === "Stopped" || !nodes[i]!.online) continue
      const change = definitionChange(p, h, nodes[i]!, now)
      // a change the agent could reload still restarts a resource that failed or is still starting
      if (change === "match" || (change === "reload" && !h.failed && h.pending !== "start")) continue
      const set = changed.get(p.id) ?? new Set<number>()
      set.add(i)
      changed.set(p.id, set)
    }
  }

  /** Builds the action graph; resources in noMigrate move by stop and start instead of migrating. */
  const build = (noMigrate: ReadonlySet<string>) => {
    // sized for a start, a stop and a few monitors per primitive, and a probe per primitive and node
    const graph = new ActionGraph(built.primitives.length * (nodes.length + 4))
    const usable = nodes.map(canHostResources)
    const ctx = {
      graph,
      nodes,
      nodeIndex,
      fenced: new Set(fenceReasons.keys()),
      startsBlocked,
      stopAll,
      usable,
      noMigrate
    }
    const plans = new Map<string, PrimitivePlan>()
    const startOwner = new Map<number, PrimitivePlan>()
    for (const p of built.primitives) {
      const plan = planPrimitive(
        ctx,
        p,
        placement.assigned.get(p.id),
        placement.roles.get(p.id) ?? (p.promotable ? "Unpromoted" : "Started"),
        status.known.get(p.id) ?? new Set(),
        placement.noProbe.get(p.id),
        leftAlone.has(p),
        changed.get(p.id) ?? noNodes
      )
      plans.set(p.id, plan)
      startOwner.set(plan.start.id, plan)
    }
    // a required start where the resource already runs means a restart: stop it there first
    graph.onRequired = (a: GraphAction) => {
      const plan = startOwner.get(a.id)
      if (!plan || plan.target === undefined) return
      const stop = plan.stops.get(plan.target)
      if (stop && !stop.required) {
        graph.require(stop, a.requiredBy)
        graph.touched(stop)
      }
    }

    // with a placement strategy, what a node's load allows is known once stops there are done
    const strategy = options.placementStrategy
    if (strategy === "utilization" || strategy === "minimal" || strategy === "balanced") {
      const loadStopped = (i: number) =>
        graph.action({
          key: `load_stopped_${nodes[i]!.name}`,
          task: `load_stopped_${nodes[i]!.name}`,
          kind: "pseudo_event",
          required: true,
          runnable: true
        })
      if (plans.size > 0) for (const [i, n] of nodes.entries()) if (n.online) loadStopped(i)
      for (const plan of plans.values()) {
        if (plan.resource.utilization.size === 0) continue
        for (const [i, stop] of plan.stops) graph.order(stop, loadStopped(i))
        if (plan.target === undefined) continue
        const loaded = loadStopped(plan.target)
        graph.order(loaded, plan.start)
        if (plan.migrateTo) graph.order(loaded, plan.migrateTo)
      }
    }

    // fencing actions: stops on fenced nodes are implied by (ordered after) the fencing
    const fenceActions = new Map<number, GraphAction>()
    for (const [i, reason] of fenceReasons) {
      const node = nodes[i]!
      const a = graph.action({
        key: `stonith-${node.name}-${options.stonithAction}`,
        task: "stonith",
        node: node.name,
        kind: "crm_event",
        required: true,
        runnable: true
      })
      a.requiredBy = reason
      fenceActions.set(i, a)
    }
    for (const plan of plans.values()) {
      for (const [i, stop] of plan.stops) {
        const fence = fenceActions.get(i)
        if (fence) graph.order(fence, stop, { runnableLeft: true })
      }
      // resources start (anywhere) only once fencing is done, unless they require nothing
      if (plan.resource.requires !== "nothing" && !plan.frozen) {
        for (const fence of fenceActions.values()) {
          graph.order(fence, plan.start)
          if (plan.promote) graph.order(fence, plan.promote)
          if (plan.migrateTo) graph.order(fence, plan.migrateTo)
        }
      }
    }
    // without concurrent-fencing, nodes are fenced one after the other; the DC always last
    const dcFence = [...fenceActions].find(([i]) => nodes[i]!.attributes.get("#is_dc") === "true")?.[1]
    const others = [...fenceActions].filter(([, a]) => a !== dcFence).map(([, a]) => a)
    if (!options.concurrentFencing)
      for (let k = 1; k < others.length; k++) graph.order(others[k - 1]!, others[k]!)
    if (dcFence) {
      if (options.concurrentFencing) for (const a of others) graph.order(a, dcFence)
      else if (others.length > 0) graph.order(others.at(-1)!, dcFence)
    }

    // groups and clones
    const collectives = new Map<string, CollectivePlan>()
    const endpoints = (r: Resource): Endpoints => {
      if (r.kind === "primitive") return primitiveEndpoints(plans.get(r.id)!)
      const existing = collectives.get(r.id)
      if (existing) return collectiveEndpoints(existing)
      const plan = planCollective(graph, r, r.children.map(endpoints))
      collectives.set(r.id, plan)
      return collectiveEndpoints(plan)
    }
    for (const r of built.top) endpoints(r)

    // order constraints
    const lookup = (r: Resource, task: string, done: boolean): ReadonlyArray<GraphAction> => {
      if (r.kind === "primitive") {
        const plan = plans.get(r.id)!
        if (task === "start") return [plan.start]
        if (task === "stop") return [...plan.stops.values()]
        if (task === "promote") return plan.promote ? [plan.promote] : []
        if (task === "demote") return [...plan.demotes.values()]
        return []
      }
      const c = collectives.get(r.id)
      if (!c) return []
      if (task === "instance-starts")
        return r.children.flatMap((ch) => {
          const lead = ch.kind === "primitive" ? ch : ch.children[0]
          const plan = lead ? plans.get(lead.id) : undefined
          return plan ? [plan.start] : []
        })
      if (task === "member-starts")
        return primitivesOf(r).flatMap((p) => {
          const plan = plans.get(p.id)
          return plan ? [plan.start] : []
        })
      if (task === "start") return [done ? c.running : c.start]
      if (task === "stop") return [done ? c.stopped : c.stop]
      const pick = (a: GraphAction | undefined) => (a ? [a] : [])
      if (task === "promote") return pick(done ? c.promoted : c.promote)
      if (task === "demote") return pick(done ? c.demoted : c.demote)
      return []
    }
    // interleaved clones (the `then` clone's interleave=true): each instance waits only for the
    // instance of the first clone on its own node; without one there it is not started at all
    const deallocated = new Set<string>()
    const leadPlan = (instance: Resource) => {
      const lead = instance.kind === "primitive" ? instance : instance.children[0]
      return lead ? plans.get(lead.id) : undefined
    }
    const interleaved = (o: OrderRule) =>
      o.kind === "Mandatory" &&
      o.first.kind === "clone" &&
      o.then.kind === "clone" &&
      o.then.interleave &&
      o.firstAction === "start" &&
      o.thenAction === "start" &&
      o.requireAll &&
      o.first.cloneMin === 0
    for (const o of constraints.orders) {
      if (!interleaved(o)) continue
      // the clones' own pseudo-actions stay ordered, without making anything required or unrunnable
      for (const f of lookup(o.first, "start", true))
        for (const t of lookup(o.then, "start", false)) graph.order(f, t)
      if (o.symmetrical)
        for (const f of lookup(o.then, "stop", true))
          for (const t of lookup(o.first, "stop", false)) graph.order(f, t)
      for (const ti of o.then.children) {
        const tPlan = leadPlan(ti)
        if (tPlan?.target === undefined) continue
        const local = o.first.children.filter((fi) => leadPlan(fi)?.target === tPlan.target)
        if (local.length === 0) {
          for (const start of lookup(ti, "start", false))
            graph.block(start, `no local instance of ${o.first.id}`)
          // an instance running there restarts, and cannot start again: it stops (what is
          // ordered after the clone's start sees a required start)
          for (const p of ti.kind === "primitive" ? [ti] : ti.children) {
            const plan = plans.get(p.id)
            const stop = plan?.target === undefined ? undefined : plan.stops.get(plan.target)
            if (!stop || plan?.frozen) continue
            graph.require(stop, `no local instance of ${o.first.id}`)
            graph.require(plan!.start, `no local instance of ${o.first.id}`)
          }
          if (tPlan.active.length === 0)
            for (const p of ti.kind === "primitive" ? [ti] : ti.children) deallocated.add(p.id)
          continue
        }
        for (const fi of local) {
          for (const f of lookup(fi, "start", true))
            for (const t of lookup(ti, "start", false))
              graph.order(f, t, { impliesThen: true, runnableLeft: true, reason: `${o.first.id} start` })
          if (o.symmetrical)
            for (const f of lookup(ti, "stop", true))
              for (const t of lookup(fi, "stop", false))
                graph.order(f, t, { impliesFirst: true, runnableLeft: true, reason: `${o.then.id} stop` })
        }
      }
    }
    applyOrders(
      graph,
      constraints.orders.filter((o) => !interleaved(o)),
      lookup
    )

    // a resource left alone where it runs does not start, yet what runs after it need not stop
    const ownerOfStart = new Map<number, PrimitivePlan>()
    for (const plan of plans.values()) ownerOfStart.set(plan.start.id, plan)
    const heldMemo = new Map<string, boolean>()
    const onlyHeldByLeftAlone = (plan: PrimitivePlan): boolean => {
      const known = heldMemo.get(plan.resource.id)
      if (known !== undefined) return known
      heldMemo.set(plan.resource.id, false)
      const held = graph.incomingOf(plan.start).every((o) => {
        if (!o.runnableLeft || o.first.runnable) return true
        const owner = ownerOfStart.get(o.first.id)
        if (owner === undefined || owner.active.length === 0) return false
        // left alone itself, or staying where it runs for the same reason
        return (
          owner.frozen ||
          (owner.target !== undefined && owner.active.includes(owner.target) && onlyHeldByLeftAlone(owner))
        )
      })
      heldMemo.set(plan.resource.id, held)
      return held
    }

    // settle; a resource whose start became impossible where it runs must stop there
    for (let round = 0; round < 10; round++) {
      graph.settle()
      heldMemo.clear()
      let changed = false
      for (const plan of plans.values()) {
        if (plan.target === undefined || plan.frozen) continue
        const stop = plan.stops.get(plan.target)
        if (stop && !stop.required && !plan.start.runnable && !onlyHeldByLeftAlone(plan)) {
          graph.require(stop, plan.start.blockedBy)
          changed = true
        }
      }
      // a dependent cannot start where its mandatory primary cannot
      for (const c of placement.mandatory) {
        const dependent = plans.get(c.dependent.id)
        const primary = plans.get(c.primary.id)
        if (!dependent || !primary || primary.start.runnable || !dependent.start.runnable) continue
        if (primary.target === undefined || primary.target !== dependent.target) continue
        if (!primary.start.required) continue
        graph.block(dependent.start, `colocation with ${c.primary.id}`)
        changed = true
      }
      if (!changed) break
    }

    // migrations that wait for other resources' real actions (not migrating themselves) cannot happen
    const cannotMigrate = new Set<string>()
    const movesNormally = (a: GraphAction, self: string) =>
      a.kind === "rsc_op" &&
      a.resource !== self &&
      a.required &&
      a.runnable &&
      (a.task === "start" || a.task === "stop" || a.task === "promote" || a.task === "demote") &&
      !(plans.get(a.resource ?? "")?.migrating ?? false)
    const waitsForNonMigrating = (from: GraphAction, self: string): boolean => {
      const seen = new Set<number>()
      const stack = [from]
      while (stack.length > 0) {
        const a = stack.pop()!
        for (const o of graph.incomingOf(a)) {
          const f = o.first
          // optional orderings do not hold a migration back
          if (seen.has(f.id) || !(o.runnableLeft || o.impliesThen || o.impliesFirst)) continue
          seen.add(f.id)
          if (movesNormally(f, self)) return true
          // through the start pseudo-actions of groups and clones, not through their stop phase
          if (f.kind === "pseudo_event" && (f.task === "start" || f.task === "running")) stack.push(f)
        }
      }
      return false
    }
    for (const plan of plans.values())
      if (plan.migrating && waitsForNonMigrating(plan.start, plan.resource.id))
        cannotMigrate.add(plan.resource.id)

    // clone notifications around the phases that happen
    for (const c of collectives.values()) {
      if (c.resource.kind !== "clone" || !c.resource.notify) continue
      const instances = c.resource.children.flatMap((ch) => {
        const plan = plans.get(ch.id)
        return plan ? [plan] : []
      })
      addNotifications(graph, c, instances, nodes, ctx.fenced)
    }

    // shutdown of nodes being shut down, after everything on them stopped
    for (const [i, n] of nodes.entries()) {
      if (!n.shutdown) continue
      const a = graph.action({
        key: `do_shutdown-${n.name}`,
        task: "do_shutdown",
        node: n.name,
        kind: "crm_event",
        required: true,
        runnable: true
      })
      for (const plan of plans.values()) {
        const stop = plan.stops.get(i)
        // a node cannot shut down while a resource there cannot stop
        if (stop) graph.order(stop, a, { runnableLeft: !plan.frozen })
      }
    }

    // orphans: active resources no longer configured are stopped and their history deleted
    const orphanDecisions: Array<Decision> = []
    if (options.stopOrphanResources) {
      for (const o of status.orphans) {
        const node = nodes[o.node]!
        const implied = ctx.fenced.has(o.node)
        const stop = graph.action({
          key: `${o.id}_stop_0`,
          task: "stop",
          resource: o.id,
          node: implied ? undefined : node.name,
          kind: implied ? "pseudo_event" : "rsc_op",
          required: true,
          runnable: implied || node.online
        })
        const fence = fenceActions.get(o.node)
        if (fence) graph.order(fence, stop, { runnableLeft: true })
        if (!implied) {
          const del = graph.action({
            key: `${o.id}_delete_0`,
            task: "delete",
            resource: o.id,
            node: node.name,
            kind: "rsc_op",
            required: true,
            runnable: stop.runnable
          })
          graph.order(stop, del, { runnableLeft: true })
        }
        orphanDecisions.push({
          verb: "Stop",
          resource: o.id,
          from: { node: node.name, role: o.history.role },
          to: undefined,
          blocked: !stop.runnable,
          reason: "node availability",
          reasons: [{ _tag: "Text", text: "no longer in the configuration" }]
        })
      }
    }

    // results
    const summary: Array<Decision> = [...orphanDecisions]
    for (const [i, reason] of fenceReasons)
      summary.push(fenceDecision(nodes[i]!, options.stonithAction, reason))
    const placements: Array<Placement> = []
    for (const plan of plans.values()) {
      const reasons: ReadonlyArray<Reason> = placement.reasons.get(plan.resource.id) ?? []
      if (!deallocated.has(plan.resource.id)) summary.push(...summarizePrimitive(plan, nodes, reasons))
      placements.push({
        resource: plan.resource.id,
        current: plan.resource.history
          .filter((h) => h.role !== "Stopped")
          .map((h) => ({ node: h.node, role: h.role })),
        node: plan.target !== undefined && plan.start.runnable ? nodes[plan.target]!.name : undefined,
        role: plan.target !== undefined && plan.start.runnable ? "Started" : "Stopped",
        reasons
      })
    }
    const inGraph = (a: GraphAction) => a.required && a.runnable
    const actions: Array<Action> = []
    for (const a of graph.actions) {
      if (!inGraph(a)) continue
      actions.push({
        id: a.id,
        key: a.key,
        task: a.task,
        resource: a.resource,
        node: a.node,
        interval: a.interval,
        kind: a.kind
      })
    }
    const edges: Array<Edge> = graph.edges(inGraph)
    const scores = new Map<string, ReadonlyMap<string, number>>()
    for (const [id, s] of placement.scores) scores.set(id, new NodeScores(nodeIndex, s))
    return { transition: { placements, actions, edges, scores, summary }, cannotMigrate }
  }
  let result = build(new Set())
  // a migration ordered after actions that do not migrate is undone: the resource moves by stop and start
  const noMigrate = new Set<string>()
  for (let round = 0; round < 3; round++) {
    const fresh = [...result.cannotMigrate].filter((id) => !noMigrate.has(id))
    if (fresh.length === 0) break
    for (const id of fresh) noMigrate.add(id)
    result = build(noMigrate)
  }
  return { _tag: "Planned", transition: result.transition }
}
