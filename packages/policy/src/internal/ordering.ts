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
    const firsts = lookup(o.first, o.firstAction, true)
    const thens = lookup(o.then, o.thenAction, false)
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
