/**
 * Order constraints (rsc_order): `first` action before `then` action. Mandatory orders also propagate:
 * if first must happen, then must happen (a restart of then), and if first cannot happen, neither can
 * then; symmetrical orders add the inverse for the opposite actions (stop then before stop first).
 * Collectives are entered through their pseudo-actions: as `first` their completion (running, stopped),
 * as `then` their start (start, stop).
 */
import type { ActionGraph, GraphAction } from "./actions.ts"
import type { OrderRule } from "./constraints.ts"
import type { Resource } from "./resources.ts"

/** Looks up the actions of a resource for a task; `done` picks a collective's completion pseudo-action. */
export type ActionLookup = (r: Resource, task: string, done: boolean) => ReadonlyArray<GraphAction>

const inverse: Record<string, string> = {
  start: "stop",
  stop: "start",
  promote: "demote",
  demote: "promote"
}

export const applyOrders = (
  graph: ActionGraph,
  orders: ReadonlyArray<OrderRule>,
  lookup: ActionLookup
): void => {
  for (const o of orders) {
    if (o.first === o.then) continue
    const mandatory = o.kind === "Mandatory"
    const thens = lookup(o.then, o.thenAction, false)
    if (o.anyOf) {
      // `then` waits for any one member of a require-all=false set
      const any = graph.action({
        key: `one-or-more:${o.anyOf.id}`,
        task: `one-or-more:${o.anyOf.id}`,
        kind: "pseudo_event",
        required: false,
        runnable: true,
        minRunnable: 1
      })
      for (const m of o.anyOf.members)
        for (const f of lookup(m, o.firstAction, true)) graph.order(f, any, { impliesThen: true })
      for (const t of thens)
        graph.order(any, t, { runnableLeft: mandatory, reason: `${o.anyOf.id} ${o.firstAction}` })
      continue
    }
    // clone-min / require-all=false: `then` waits for enough instances, through a pseudo-action
    const minimum =
      o.first.kind === "clone" ? (o.first.cloneMin > 0 ? o.first.cloneMin : o.requireAll ? 0 : 1) : 0
    const instanceStarts = o.first.kind === "clone" ? lookup(o.first, "instance-starts", false) : []
    if (mandatory && o.firstAction === "start" && minimum > 0) {
      const enough = graph.action({
        key: `clone-one-or-more:${o.id}`,
        task: `clone-one-or-more:${o.id}`,
        kind: "pseudo_event",
        required: false,
        runnable: true,
        minRunnable: minimum
      })
      // (in the graph when an instance starts)
      for (const f of instanceStarts) graph.order(f, enough, { impliesThen: true })
      for (const t of thens) graph.order(enough, t, { runnableLeft: true, reason: `${o.first.id} start` })
    }
    const firsts = minimum > 0 && o.firstAction === "start" ? [] : lookup(o.first, o.firstAction, true)
    // an asymmetrical order never forces `then`
    const implies = mandatory && o.symmetrical && (o.thenAction !== "stop" || o.firstAction === "stop")
    for (const f of firsts)
      for (const t of thens) {
        // a start of a resource that stays where it runs is not blocked by an asymmetrical order
        const staying =
          t.task === "start" &&
          ((t.kind === "rsc_op" && !t.required && t.runnable) || o.then.kind !== "primitive")
        // a clone's start forces a primitive's start only when an instance starts on its node
        const perNode =
          implies && o.first.kind === "clone" && o.firstAction === "start" && t.kind === "rsc_op"
        graph.order(f, t, {
          impliesThen: implies && !perNode,
          runnableLeft: mandatory && (o.symmetrical || !staying),
          reason: `${o.first.id} ${o.firstAction}`
        })
        if (perNode)
          for (const a of instanceStarts)
            if (a.node === t.node)
              graph.order(a, t, { impliesThen: true, silent: true, reason: `${o.first.id} ${o.firstAction}` })
      }
    // a mandatory order into a group or clone makes each member start again when `first` must happen
    // (when `first` is a clone: when it must happen on the member's node)
    if (mandatory && o.symmetrical && o.thenAction === "start" && o.then.kind !== "primitive") {
      for (const m of lookup(o.then, "member-starts", false)) {
        const before = o.first.kind === "clone" ? instanceStarts.filter((a) => a.node === m.node) : firsts
        for (const f of before)
          graph.order(f, m, { impliesThen: true, silent: true, reason: `${o.first.id} ${o.firstAction}` })
      }
    }
    if (!o.symmetrical) {
      // into a group or clone, an asymmetrical order blocks each member's start (but those staying)
      if (mandatory && o.thenAction === "start" && o.then.kind !== "primitive") {
        const memberStarts = lookup(o.then, "instance-starts", false)
        for (const f of firsts)
          for (const m of memberStarts)
            if (!(m.kind === "rsc_op" && !m.required && m.runnable))
              graph.order(f, m, {
                runnableLeft: true,
                silent: true,
                reason: `${o.first.id} ${o.firstAction}`
              })
      }
      continue
    }
    const fi = inverse[o.firstAction]
    const ti = inverse[o.thenAction]
    if (fi === undefined || ti === undefined) continue
    const invFirsts = lookup(o.then, ti, true)
    const invThens = lookup(o.first, fi, false)
    for (const f of invFirsts)
      for (const t of invThens) {
        graph.order(f, t, {
          impliesFirst: mandatory,
          runnableLeft: mandatory,
          reason: `${o.then.id} ${ti}`
        })
      }
  }
}
