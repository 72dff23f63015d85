/**
 * The transition engine as a pure state machine: it carries out one transition graph at a time
 * and says when a new one must be computed. Inputs are relevant events (triggers), computed plans
 * and action results; outputs are actions to dispatch and requests to (re)schedule. Scheduling
 * itself (packages/policy), running actions and writing the CIB are the Controller's edges.
 *
 * Rules it keeps:
 * - an action runs only once everything ordered before it completed (the policy's edges);
 *   pseudo events complete by themselves once their predecessors did;
 * - at most `batchLimit` actions (resource operations and fencing) are in flight at once;
 * - a start of a resource never runs while a stop of the same resource on another node in the
 *   graph has not completed (implicit edges, whatever the policy's graph says);
 * - a node that left the membership is unclean until fenced: a start of a resource that is still
 *   recorded active there waits for that node's fencing in the graph, and is blocked without it;
 *   operations on it are implied by its fencing (and fail without it);
 * - any failed action or relevant event aborts the graph: nothing new is dispatched, and once the
 *   actions in flight have reported, a new plan is asked for. Results from older graphs are
 *   ignored here (the Controller still records them).
 *
 * Like etcd's raft, the machine owns its state: `step` may update the graph of the state it is
 * given in place (graphs have thousands of actions), so only the returned state may be used.
 * Each result costs time in the number of actions it unblocks, not in the size of the graph.
 */
import type { Transition } from "@ha/policy"

type Action = Transition.Action

export interface Plan {
  readonly transition: Transition.Transition
  /** Actions in flight at once (the cluster's batch-limit), at least 1. */
  readonly batchLimit: number
  /** The nodes of the current membership view. */
  readonly members: ReadonlySet<string>
  /** Nodes that left the membership and are not fenced yet → resources recorded active on them. */
  readonly unfenced: ReadonlyMap<string, ReadonlySet<string>>
}

export type ActionState = "waiting" | "running" | "done" | "failed" | "blocked"

export interface Graph {
  /** Transition number: increases with every plan. */
  readonly id: number
  readonly actions: ReadonlyMap<number, Action>
  /** action id → ids that must complete first */
  readonly before: ReadonlyMap<number, ReadonlyArray<number>>
  /** action id → ids waiting for it */
  readonly after: ReadonlyMap<number, ReadonlyArray<number>>
  /** node → id of its fencing action in this graph */
  readonly fencing: ReadonlyMap<string, number>
  readonly states: Map<number, ActionState>
  readonly members: ReadonlySet<string>
  readonly unfenced: ReadonlyMap<string, ReadonlySet<string>>
  /** Nodes whose fencing completed in this graph. */
  readonly fenced: Set<string>
  readonly batchLimit: number
  /** Why the graph is being aborted (empty while it runs normally). */
  readonly abortReasons: Array<string>
  /** Ready actions held back by the batch limit or waiting for a fencing. */
  readonly deferred: Set<number>
  running: number
  done: number
}

export interface State {
  readonly lastId: number
  readonly graph: Graph | undefined
  /** A plan was asked for and has not arrived. */
  readonly scheduling: boolean
  /** Events seen while scheduling: the plan in the making may predate them. */
  readonly stale: ReadonlyArray<string>
}

export const initial: State = { lastId: 0, graph: undefined, scheduling: false, stale: [] }

export type Input =
  | { readonly _tag: "Trigger"; readonly reason: string }
  | { readonly _tag: "Planned"; readonly plan: Plan }
  /** The scheduler refused the CIB (e.g. an unsupported feature): wait for the next trigger. */
  | { readonly _tag: "PlanFailed"; readonly reason: string }
  | {
      readonly _tag: "ActionDone"
      readonly graph: number
      readonly action: number
      readonly ok: boolean
      readonly reason: string
    }

export type Outcome = "complete" | "aborted" | "stalled"

export type Output =
  | { readonly _tag: "Schedule"; readonly reasons: ReadonlyArray<string> }
  | { readonly _tag: "Dispatch"; readonly graph: number; readonly action: Action }
  /** An operation on a fenced node: done by the fencing, nothing to run. */
  | { readonly _tag: "Implied"; readonly graph: number; readonly action: Action }
  | {
      readonly _tag: "Finished"
      readonly graph: number
      readonly outcome: Outcome
      readonly reasons: ReadonlyArray<string>
      readonly done: number
      readonly total: number
    }

export interface Step {
  readonly state: State
  readonly outputs: ReadonlyArray<Output>
}

const startLike = (a: Action) => a.kind === "rsc_op" && (a.task === "start" || a.task === "promote")

const makeGraph = (id: number, plan: Plan): Graph => {
  const { transition } = plan
  const actions = new Map(transition.actions.map((a) => [a.id, a]))
  const before = new Map<number, Array<number>>(transition.actions.map((a) => [a.id, []]))
  const after = new Map<number, Array<number>>(transition.actions.map((a) => [a.id, []]))
  const edges = new Set<string>()
  const order = (first: number, then: number) => {
    const key = `${first}>${then}`
    if (edges.has(key) || !actions.has(first) || !actions.has(then)) return
    edges.add(key)
    before.get(then)!.push(first)
    after.get(first)!.push(then)
  }
  for (const edge of transition.edges) order(edge.before, edge.after)
  // every start of a resource after its stops on other nodes, whatever the policy's edges say
  const stops = new Map<string, Array<Action>>()
  for (const a of transition.actions) {
    if (a.kind === "rsc_op" && a.task === "stop" && a.resource !== undefined)
      stops.set(a.resource, [...(stops.get(a.resource) ?? []), a])
  }
  for (const start of transition.actions) {
    if (start.kind !== "rsc_op" || start.task !== "start" || start.resource === undefined) continue
    for (const stop of stops.get(start.resource) ?? []) if (stop.node !== start.node) order(stop.id, start.id)
  }
  const fencing = new Map<string, number>()
  for (const a of transition.actions)
    if (a.task === "stonith" && a.node !== undefined) fencing.set(a.node, a.id)
  return {
    id,
    actions,
    before,
    after,
    fencing,
    states: new Map(transition.actions.map((a) => [a.id, "waiting" as const])),
    members: plan.members,
    unfenced: plan.unfenced,
    fenced: new Set(),
    batchLimit: Math.max(1, plan.batchLimit),
    abortReasons: [],
    deferred: new Set(),
    running: 0,
    done: 0
  }
}

/** Whether the fencing of `node` in this graph is still to come ("wait"), or will not happen ("block"). */
const fencingPending = (graph: Graph, node: string): "wait" | "block" => {
  const id = graph.fencing.get(node)
  const state = id === undefined ? undefined : graph.states.get(id)
  return state === undefined || state === "failed" || state === "blocked" ? "block" : "wait"
}

/** What keeps a ready action from running: "wait" (a fencing to come), "block" (never in this graph). */
const obstacle = (graph: Graph, action: Action): "wait" | "block" | undefined => {
  const node = action.node
  if (action.kind === "rsc_op" && node !== undefined && !graph.members.has(node) && !graph.fenced.has(node))
    return fencingPending(graph, node)
  if (startLike(action) && action.resource !== undefined) {
    for (const [lost, resources] of graph.unfenced) {
      if (lost === node || graph.fenced.has(lost) || !resources.has(action.resource)) continue
      return fencingPending(graph, lost)
    }
  }
  return undefined
}

/**
 * Moves the graph on from `work` (ids whose predecessors may have changed) and the deferred ones:
 * dispatches what the batch limit allows, and finishes the graph when nothing can move any more.
 */
const pump = (state: State, graph: Graph, work: Array<number>, out: Array<Output>): State => {
  const { states } = graph
  const settle = (id: number, to: ActionState) => {
    states.set(id, to)
    if (to === "done") graph.done++
    for (const next of graph.after.get(id) ?? []) work.push(next)
  }
  if (graph.abortReasons.length === 0) {
    work.push(...graph.deferred)
    graph.deferred.clear()
    // lowest ids first (popped from the end): held-back actions go in the order the plan gave them
    work.sort((a, b) => b - a)
    while (work.length > 0) {
      const id = work.pop()!
      if (states.get(id) !== "waiting") continue
      const action = graph.actions.get(id)!
      const preds = graph.before.get(id) ?? []
      if (preds.some((p) => states.get(p) === "failed" || states.get(p) === "blocked")) {
        settle(id, "blocked")
        continue
      }
      if (!preds.every((p) => states.get(p) === "done")) continue
      if (action.kind === "pseudo_event") {
        settle(id, "done")
        continue
      }
      if (action.kind === "rsc_op" && action.node !== undefined && graph.fenced.has(action.node)) {
        out.push({ _tag: "Implied", graph: graph.id, action })
        settle(id, "done")
        continue
      }
      const why = obstacle(graph, action)
      if (why === "block") {
        settle(id, "blocked")
        continue
      }
      if (why === "wait" || graph.running >= graph.batchLimit) {
        graph.deferred.add(id)
        continue
      }
      states.set(id, "running")
      graph.running++
      out.push({ _tag: "Dispatch", graph: graph.id, action })
    }
  }
  const total = states.size
  const finished = (outcome: Outcome, reasons: ReadonlyArray<string>): State => {
    out.push({ _tag: "Finished", graph: graph.id, outcome, reasons, done: graph.done, total })
    return { ...state, graph: undefined }
  }
  if (graph.abortReasons.length > 0) {
    if (graph.running > 0) return { ...state, graph }
    out.push({ _tag: "Schedule", reasons: graph.abortReasons })
    return { ...finished("aborted", graph.abortReasons), scheduling: true }
  }
  if (graph.done === total) return finished("complete", [])
  if (graph.running === 0) {
    // A fixpoint with nothing in flight: no result can move the graph on.
    const stuck = [...states].filter(([, s]) => s !== "done").map(([id]) => graph.actions.get(id)!.key)
    return finished("stalled", [`cannot run: ${stuck.join(", ")}`])
  }
  return { ...state, graph }
}

const abort = (state: State, reason: string, out: Array<Output>): State => {
  if (state.graph !== undefined) {
    state.graph.abortReasons.push(reason)
    return pump(state, state.graph, [], out)
  }
  if (state.scheduling) return { ...state, stale: [...state.stale, reason] }
  out.push({ _tag: "Schedule", reasons: [reason] })
  return { ...state, scheduling: true }
}

export const step = (state: State, input: Input): Step => {
  const out: Array<Output> = []
  switch (input._tag) {
    case "Trigger":
      return { state: abort(state, input.reason, out), outputs: out }
    case "PlanFailed":
      return { state: { ...state, scheduling: false, stale: [] }, outputs: out }
    case "Planned": {
      if (state.stale.length > 0) {
        out.push({ _tag: "Schedule", reasons: state.stale })
        return { state: { ...state, scheduling: true, stale: [] }, outputs: out }
      }
      const graph = makeGraph(state.lastId + 1, input.plan)
      const work = [...graph.actions.keys()]
      const next = pump({ lastId: graph.id, graph, scheduling: false, stale: [] }, graph, work, out)
      return { state: next, outputs: out }
    }
    case "ActionDone": {
      const graph = state.graph
      if (graph === undefined || graph.id !== input.graph || graph.states.get(input.action) !== "running") {
        return { state, outputs: out }
      }
      const action = graph.actions.get(input.action)!
      graph.running--
      graph.states.set(input.action, input.ok ? "done" : "failed")
      if (input.ok) graph.done++
      if (input.ok && action.task === "stonith" && action.node !== undefined) graph.fenced.add(action.node)
      if (!input.ok) {
        const where = action.node === undefined ? "" : ` on ${action.node}`
        graph.abortReasons.push(`${action.key}${where} failed: ${input.reason}`)
      }
      const work = [...(graph.after.get(input.action) ?? [])]
      return { state: pump(state, graph, work, out), outputs: out }
    }
  }
}

/** Whether the engine has nothing to do until the next trigger. */
export const idle = (state: State): boolean => state.graph === undefined && !state.scheduling
