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
      for (const f of lookup(o.first, "instance-starts", false)) graph.order(f, enough, { impliesThen: true })
      for (const t of thens) graph.order(enough, t, { runnableLeft: true, reason: `${o.first.id} start` })
    }
    const firsts = minimum > 0 && o.firstAction === "start" ? [] : lookup(o.first, o.firstAction, true)
    for (const f of firsts)
      for (const t of thens) {
        graph.order(f, t, {
          impliesThen: mandatory && o.thenAction !== "stop" ? true : mandatory && o.firstAction === "stop",
          runnableLeft: mandatory,
          reason: `${o.first.id} ${o.firstAction}`
        })
      }
    if (!o.symmetrical) continue
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
