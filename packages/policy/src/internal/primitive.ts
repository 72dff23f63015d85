/**
 * Actions of one primitive: stops where it runs and must not stay (or failed), a start where it is
 * placed, demote/promote for promotable clone instances, recurring monitors for the role it will have,
 * and probes (monitor_0) on nodes where its state is unknown. Every action the resource might need
 * exists; those not needed now are optional and may become required through orderings (a restart) or
 * unrunnable (blocked).
 */
import type { Role } from "../Transition.ts"
import type { ActionGraph, GraphAction } from "./actions.ts"
import type { NodeInfo } from "./nodes.ts"
import type { Resource } from "./resources.ts"

export interface PrimitivePlan {
  readonly resource: Resource
  /** active node indexes now */
  readonly active: ReadonlyArray<number>
  /** role on each active node */
  readonly roles: ReadonlyMap<number, Role>
  /** node index where it will run, undefined when stopped */
  readonly target: number | undefined
  readonly targetRole: Role
  /** failed on these nodes */
  readonly failed: ReadonlySet<number>
  readonly stops: Map<number, GraphAction>
  readonly demotes: Map<number, GraphAction>
  readonly start: GraphAction
  readonly promote: GraphAction | undefined
  readonly monitors: Array<GraphAction>
  readonly probes: Array<GraphAction>
  /** moving by live migration (migrate_to on the source, migrate_from on the target) */
  readonly migrating: boolean
  readonly migrateTo: GraphAction | undefined
  /** the resource is left alone (unmanaged, maintenance, frozen) */
  readonly frozen: boolean
}

export interface PrimitiveContext {
  readonly graph: ActionGraph
  readonly nodes: ReadonlyArray<NodeInfo>
  readonly nodeIndex: ReadonlyMap<string, number>
  /** nodes being fenced: stops there are implied by fencing (pseudo actions) */
  readonly fenced: ReadonlySet<number>
  /** starts cannot run (no quorum, stop-all) */
  readonly startsBlocked: string | undefined
  /** active resources must stop (no quorum with no-quorum-policy=stop) */
  readonly stopAll: string | undefined
  readonly usable: ReadonlyArray<boolean>
  /** resources that must move by stop and start even if they allow migration */
  readonly noMigrate: ReadonlySet<string>
}

export const opKey = (rsc: string, task: string, interval: number) => `${rsc}_${task}_${interval}`

export const planPrimitive = (
  ctx: PrimitiveContext,
  r: Resource,
  target: number | undefined,
  targetRole: Role,
  known: ReadonlySet<number>,
  noProbe: ReadonlySet<number> | undefined,
  frozen: boolean,
  /** nodes where the resource runs with parameters that changed since (it restarts there) */
  changed: ReadonlySet<number>
): PrimitivePlan => {
  const { graph, nodes } = ctx
  // without quorum, fence devices keep running, and resources that require nothing may also start
  const stopAll = r.requires === "nothing" || r.className === "stonith" ? undefined : ctx.stopAll
  const startsBlocked = r.requires === "nothing" ? undefined : ctx.startsBlocked
  const active: Array<number> = []
  const roles = new Map<number, Role>()
  const failed = new Set<number>()
  // a failure with on-fail=demote of a promoted instance is handled by demoting it there
  const demoteFailed = new Set<number>()
  for (const h of r.history) {
    const i = ctx.nodeIndex.get(h.node)
    if (i === undefined) continue
    if (h.role !== "Stopped") {
      active.push(i)
      // a promotable instance that is merely started is unpromoted
      roles.set(i, r.promotable && h.role === "Started" ? "Unpromoted" : h.role)
    }
    // a node lost anyway (unclean by its own state) is fenced and the resource moves; on a node fenced
    // only because a resource failed there (a failed stop), that resource recovers
    const lostAnyway = ctx.fenced.has(i) && nodes[i]!.uncleanReason !== undefined
    if (h.failed && !lostAnyway) {
      if (h.onFail === "demote" && h.role === "Promoted") demoteFailed.add(i)
      else failed.add(i)
    }
  }
  // several active copies (multiple-active=stop_start): stop them all, start one
  // (a copy on a node being fenced is stopped by the fencing: it does not count)
  const multiple = active.filter((i) => !ctx.fenced.has(i)).length > 1 && r.multipleActive !== "block"
  const alreadyThere =
    target !== undefined &&
    active.includes(target) &&
    !failed.has(target) &&
    !multiple &&
    !changed.has(target)
  const stops = new Map<number, GraphAction>()
  const demotes = new Map<number, GraphAction>()
  for (const i of active) {
    const node = nodes[i]!
    const implied = ctx.fenced.has(i)
    const leaving = target !== i || failed.has(i) || stopAll !== undefined || multiple || changed.has(i)
    // a resource left alone is never stopped by the cluster
    const runnable = !frozen && (implied || (node.online && !node.unclean))
    const stop = graph.action({
      key: opKey(r.id, "stop", 0),
      task: "stop",
      resource: r.id,
      node: implied ? undefined : node.name,
      kind: implied ? "pseudo_event" : "rsc_op",
      required: !frozen && leaving,
      runnable
    })
    if (stop.required)
      stop.requiredBy ??= failed.has(i)
        ? "failure"
        : (stopAll ?? (changed.has(i) && target === i ? "resource definition change" : "node availability"))
    if (!stop.runnable) stop.blockedBy ??= "node availability"
    stops.set(i, stop)
    if (roles.get(i) === "Promoted") {
      const demote = graph.action({
        key: opKey(r.id, "demote", 0),
        task: "demote",
        resource: r.id,
        node: implied ? undefined : node.name,
        kind: implied ? "pseudo_event" : "rsc_op",
        required: !frozen && (leaving || targetRole !== "Promoted" || demoteFailed.has(i)),
        runnable
      })
      demotes.set(i, demote)
      // stopping a promoted instance demotes it first
      graph.order(demote, stop, { impliesFirst: true, runnableLeft: true })
    }
  }
  const startNode = target !== undefined ? nodes[target]!.name : undefined
  const source = active.length === 1 ? active[0]! : undefined
  const migrating =
    !frozen &&
    r.allowMigrate &&
    !ctx.noMigrate.has(r.id) &&
    r.promotable === false &&
    source !== undefined &&
    target !== undefined &&
    target !== source &&
    !failed.has(source) &&
    !ctx.fenced.has(source) &&
    nodes[source]!.online &&
    ctx.usable[target]! &&
    startsBlocked === undefined &&
    stopAll === undefined &&
    roles.get(source) !== "Promoted"
  const start = graph.action({
    key: opKey(r.id, "start", 0),
    task: "start",
    resource: r.id,
    node: migrating ? undefined : startNode,
    kind: migrating ? "pseudo_event" : "rsc_op",
    required: !frozen && target !== undefined && !alreadyThere,
    runnable: !frozen && target !== undefined && ctx.usable[target]! && startsBlocked === undefined
  })
  if (!start.runnable) start.blockedBy ??= startsBlocked ?? "node availability"
  if (target !== undefined && changed.has(target) && active.includes(target))
    start.requiredBy ??= "resource definition change"
  // a start needs the resource stopped everywhere it runs
  for (const stop of stops.values()) graph.order(stop, start, { runnableLeft: stop.required, restart: true })
  let migrateTo: GraphAction | undefined
  if (migrating) {
    migrateTo = graph.action({
      key: opKey(r.id, "migrate_to", 0),
      task: "migrate_to",
      resource: r.id,
      node: nodes[source]!.name,
      kind: "rsc_op",
      required: true,
      runnable: true
    })
    const migrateFrom = graph.action({
      key: opKey(r.id, "migrate_from", 0),
      task: "migrate_from",
      resource: r.id,
      node: startNode,
      kind: "rsc_op",
      required: true,
      runnable: true
    })
    graph.order(migrateTo, migrateFrom, { impliesThen: true, runnableLeft: true })
    graph.order(migrateFrom, stops.get(source)!, { impliesThen: true, runnableLeft: true })
    graph.order(migrateFrom, start, { runnableLeft: true })
  }

  let promote: GraphAction | undefined
  if (targetRole === "Promoted" && target !== undefined) {
    const promotedThere = alreadyThere && roles.get(target) === "Promoted" && !demoteFailed.has(target)
    promote = graph.action({
      key: opKey(r.id, "promote", 0),
      task: "promote",
      resource: r.id,
      node: startNode,
      kind: "rsc_op",
      required: !frozen && !promotedThere,
      runnable: start.runnable || (alreadyThere && startsBlocked === undefined)
    })
    graph.order(start, promote, { impliesThen: true, runnableLeft: true })
    const demoteThere = demotes.get(target)
    if (demoteThere) graph.order(demoteThere, promote, { impliesThen: true })
  }

  const monitors: Array<GraphAction> = []
  if (target !== undefined && !frozen) {
    const history = r.history.find((h) => h.node === startNode)
    const roleChanges = alreadyThere && (roles.get(target) ?? "Started") !== targetRole && r.promotable
    for (const op of r.ops) {
      if (op.name !== "monitor" || op.interval <= 0 || !op.enabled) continue
      const opRole = op.role === "Started" ? undefined : op.role
      // a monitor without a role runs in every active role but Promoted
      const wanted = (opRole === "Promoted") === (targetRole === "Promoted")
      if (!wanted) continue
      const recorded =
        alreadyThere && (!roleChanges || opRole === undefined) && history?.monitors.has(op.interval)
      const m = graph.action({
        key: opKey(r.id, "monitor", op.interval),
        task: "monitor",
        resource: r.id,
        node: startNode,
        interval: op.interval,
        kind: "rsc_op",
        required: !recorded,
        runnable: start.runnable || alreadyThere
      })
      graph.order(start, m, { impliesThen: true, runnableLeft: true })
      if (promote && opRole === "Promoted") graph.order(promote, m, { impliesThen: true, runnableLeft: true })
      monitors.push(m)
    }
    // a role change in place cancels the monitors of the old role
    if (roleChanges && history) {
      const kept = new Set(monitors.map((m) => m.interval))
      const roleAction = promote ?? demotes.get(target)
      for (const interval of history.monitors) {
        if (kept.has(interval)) continue
        const cancel = graph.action({
          key: opKey(r.id, "monitor", interval),
          task: "cancel",
          resource: r.id,
          node: startNode,
          interval,
          kind: "rsc_op",
          required: true,
          runnable: true
        })
        if (roleAction) graph.order(cancel, roleAction)
      }
    }
  }

  // monitors for the Stopped role run on every other node, to detect the resource starting there
  if (!frozen) {
    for (const op of r.ops) {
      if (op.name !== "monitor" || op.interval <= 0 || !op.enabled || op.role !== "Stopped") continue
      nodes.forEach((node, i) => {
        if (i === target || !node.online || node.unclean || node.pending || node.maintenance) return
        const history = r.history.find((h) => h.node === node.name)
        const m = graph.action({
          key: opKey(r.id, "monitor", op.interval),
          task: "monitor",
          resource: r.id,
          node: node.name,
          interval: op.interval,
          kind: "rsc_op",
          required: !(history?.monitors.has(op.interval) ?? false),
          runnable: true
        })
        const stop = stops.get(i)
        if (stop) graph.order(stop, m, { runnableLeft: true })
        monitors.push(m)
      })
    }
  }

  const probes: Array<GraphAction> = []
  // an anonymous clone is probed once per node (through its first instance)
  const probesHere = r.instance === undefined || r.globallyUnique || r.instance === 0
  // one key string and one list of stops for all of this resource's probes (a large cluster has
  // hundreds of thousands of probes)
  const probeKey = opKey(r.id, "monitor", 0)
  const stopsAfterProbes = [...stops.values()].filter((stop) => stop.kind === "rsc_op")
  for (let i = 0; probesHere && i < nodes.length; i++) {
    const node = nodes[i]!
    if (known.has(i) || noProbe?.has(i)) continue
    if (!node.online || node.unclean || node.pending || node.maintenance) continue
    const probe = graph.unique(probeKey, "monitor", r.id, node.name, "rsc_op", true, true)
    // clone instances are probed before the clone starts (collective.ts)
    if (r.instance === undefined) graph.order(probe, start)
    for (const stop of stopsAfterProbes) graph.order(probe, stop)
    probes.push(probe)
  }
  return {
    resource: r,
    active,
    roles,
    target,
    targetRole,
    failed,
    stops,
    demotes,
    start,
    promote,
    monitors,
    probes,
    migrating,
    migrateTo,
    frozen
  }
}
