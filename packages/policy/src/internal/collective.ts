/**
 * Groups and clones: their pseudo-actions (start, running, stop, stopped) framing their members'
 * actions, and a group's implied ordering (members start in order and stop in reverse order).
 */
import type { ActionGraph, GraphAction } from "./actions.ts"
import { opKey, type PrimitivePlan } from "./primitive.ts"
import type { Resource } from "./resources.ts"

export interface CollectivePlan {
  readonly resource: Resource
  readonly start: GraphAction
  readonly running: GraphAction
  readonly stop: GraphAction
  readonly stopped: GraphAction
  /** promotable clones only */
  readonly promote: GraphAction | undefined
  readonly promoted: GraphAction | undefined
  readonly demote: GraphAction | undefined
  readonly demoted: GraphAction | undefined
  readonly probes: ReadonlyArray<GraphAction>
}

const pseudo = (graph: ActionGraph, r: Resource, task: string) =>
  graph.action({
    key: opKey(r.id, task, 0),
    task,
    resource: r.id,
    kind: "pseudo_event",
    required: false,
    runnable: true
  })

/** The start/stop actions of a child (a primitive's own, or a nested collective's pseudo-actions). */
export interface Endpoints {
  readonly starts: ReadonlyArray<GraphAction>
  readonly startsDone: ReadonlyArray<GraphAction>
  readonly stops: ReadonlyArray<GraphAction>
  readonly stopsDone: ReadonlyArray<GraphAction>
  readonly promotes: ReadonlyArray<GraphAction>
  readonly demotes: ReadonlyArray<GraphAction>
  /** probes of clone instances, ordered before the clone's start */
  readonly probes: ReadonlyArray<GraphAction>
}

export const primitiveEndpoints = (p: PrimitivePlan): Endpoints => ({
  starts: [p.start],
  startsDone: [p.start],
  stops: [...p.stops.values()],
  stopsDone: [...p.stops.values()],
  promotes: p.promote ? [p.promote] : [],
  demotes: [...p.demotes.values()],
  probes: p.resource.instance !== undefined ? p.probes : []
})

export const collectiveEndpoints = (c: CollectivePlan): Endpoints => ({
  starts: [c.start],
  startsDone: [c.running],
  stops: [c.stop],
  stopsDone: [c.stopped],
  promotes: [],
  demotes: [],
  probes: c.resource.instance !== undefined ? c.probes : []
})

export const planCollective = (
  graph: ActionGraph,
  r: Resource,
  children: ReadonlyArray<Endpoints>
): CollectivePlan => {
  const plan: CollectivePlan = {
    resource: r,
    start: pseudo(graph, r, "start"),
    running: pseudo(graph, r, "running"),
    stop: pseudo(graph, r, "stop"),
    stopped: pseudo(graph, r, "stopped"),
    promote: r.promotable ? pseudo(graph, r, "promote") : undefined,
    promoted: r.promotable ? pseudo(graph, r, "promoted") : undefined,
    demote: r.promotable ? pseudo(graph, r, "demote") : undefined,
    demoted: r.promotable ? pseudo(graph, r, "demoted") : undefined,
    probes: children.flatMap((c) => c.probes)
  }
  if (r.kind === "clone") for (const probe of plan.probes) graph.order(probe, plan.start)
  const isGroup = r.kind === "group"
  for (const child of children) {
    for (const s of child.starts) graph.order(plan.start, s, { impliesFirst: true, runnableLeft: true })
    for (const s of child.startsDone)
      graph.order(s, plan.running, { impliesThen: true, runnableLeft: isGroup })
    for (const s of child.stops) graph.order(plan.stop, s, { impliesFirst: true })
    for (const s of child.stopsDone)
      graph.order(s, plan.stopped, { impliesThen: true, runnableLeft: isGroup })
  }
  graph.order(plan.stopped, plan.start)
  // each phase's pseudo-action is followed by its completion pseudo-action
  graph.order(plan.start, plan.running, { runnableLeft: true })
  graph.order(plan.stop, plan.stopped, { runnableLeft: true })
  if (plan.promote && plan.promoted && plan.demote && plan.demoted) {
    graph.order(plan.promote, plan.promoted, { runnableLeft: true })
    graph.order(plan.demote, plan.demoted, { runnableLeft: true })
    for (const child of children) {
      for (const a of child.promotes) {
        graph.order(plan.promote, a, { impliesFirst: true, runnableLeft: true })
        graph.order(a, plan.promoted, { impliesThen: true })
      }
      for (const a of child.demotes) {
        graph.order(plan.demote, a, { impliesFirst: true })
        graph.order(a, plan.demoted, { impliesThen: true })
      }
    }
    graph.order(plan.running, plan.promote)
    graph.order(plan.demoted, plan.stop)
    graph.order(plan.demoted, plan.promote)
    graph.order(plan.stopped, plan.promote)
  }
  if (isGroup || r.ordered) {
    for (let i = 1; i < children.length; i++) {
      const before = children[i - 1]!
      const after = children[i]!
      for (const a of before.startsDone)
        for (const b of after.starts) graph.order(a, b, { impliesThen: isGroup, runnableLeft: true })
      for (const a of after.stopsDone)
        for (const b of before.stops) graph.order(a, b, { impliesFirst: isGroup, runnableLeft: isGroup })
    }
  }
  return plan
}
