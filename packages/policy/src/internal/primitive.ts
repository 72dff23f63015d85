/**
 * Actions of one primitive: stops where it runs and must not stay (or failed), a start where it is
 * placed, recurring monitors, and probes (monitor_0) on nodes where its state is unknown. Every action
 * the resource might need exists; those not needed now are optional and may become required through
 * orderings (a restart) or unrunnable (blocked).
 */
import type { ActionGraph, GraphAction } from "./actions.ts"
import type { NodeInfo } from "./nodes.ts"
import type { Resource } from "./resources.ts"

export interface PrimitivePlan {
  readonly resource: Resource
  /** active node indexes now */
  readonly active: ReadonlyArray<number>
  /** node index where it will run, undefined when stopped */
  readonly target: number | undefined
  /** failed on these nodes */
  readonly failed: ReadonlySet<number>
  readonly stops: Map<number, GraphAction>
  readonly start: GraphAction
  readonly monitors: Array<GraphAction>
  readonly probes: Array<GraphAction>
  /** the resource is left alone (unmanaged, maintenance, frozen) */
  readonly frozen: boolean
}

export interface PrimitiveContext {
  readonly graph: ActionGraph
  readonly nodes: ReadonlyArray<NodeInfo>
  /** nodes being fenced: stops there are implied by fencing (pseudo actions) */
  readonly fenced: ReadonlySet<number>
  /** starts cannot run (no quorum, stop-all) */
  readonly startsBlocked: string | undefined
  /** active resources must stop (no quorum with no-quorum-policy=stop) */
  readonly stopAll: string | undefined
  readonly usable: ReadonlyArray<boolean>
}

export const opKey = (rsc: string, task: string, interval: number) => `${rsc}_${task}_${interval}`

export const planPrimitive = (
  ctx: PrimitiveContext,
  r: Resource,
  target: number | undefined,
  known: ReadonlySet<number>,
  noProbe: ReadonlySet<number> | undefined,
  frozen: boolean
): PrimitivePlan => {
  const { graph, nodes } = ctx
  const active: Array<number> = []
  const failed = new Set<number>()
  const byNode = new Map<string, number>()
  nodes.forEach((n, i) => byNode.set(n.name, i))
  for (const h of r.history) {
    const i = byNode.get(h.node)
    if (i === undefined) continue
    if (h.role !== "Stopped") active.push(i)
    if (h.failed) failed.add(i)
  }
  const stops = new Map<number, GraphAction>()
  for (const i of active) {
    const node = nodes[i]!
    const implied = ctx.fenced.has(i)
    const leaving = target !== i || failed.has(i) || ctx.stopAll !== undefined
    const stop = graph.action({
      key: opKey(r.id, "stop", 0),
      task: "stop",
      resource: r.id,
      node: implied ? undefined : node.name,
      kind: implied ? "pseudo_event" : "rsc_op",
      required: !frozen && leaving,
      runnable: implied || (node.online && !node.unclean)
    })
    if (stop.required) stop.requiredBy ??= failed.has(i) ? "failure" : (ctx.stopAll ?? "node availability")
    if (!stop.runnable) stop.blockedBy ??= "node availability"
    stops.set(i, stop)
  }
  const startNode = target !== undefined ? nodes[target]!.name : undefined
  const alreadyThere = target !== undefined && active.includes(target) && !failed.has(target)
  const start = graph.action({
    key: opKey(r.id, "start", 0),
    task: "start",
    resource: r.id,
    node: startNode,
    kind: "rsc_op",
    required: !frozen && target !== undefined && !alreadyThere,
    runnable: !frozen && target !== undefined && ctx.usable[target]! && ctx.startsBlocked === undefined
  })
  if (!start.runnable) start.blockedBy ??= ctx.startsBlocked ?? "node availability"
  // a start needs the resource stopped everywhere it runs
  for (const stop of stops.values()) {
    graph.order(stop, start, { runnableLeft: stop.required })
  }

  const monitors: Array<GraphAction> = []
  if (target !== undefined && !frozen) {
    const history = r.history.find((h) => h.node === startNode)
    for (const op of r.ops) {
      if (op.name !== "monitor" || op.interval <= 0 || !op.enabled) continue
      if (op.role !== undefined && op.role !== "Started") continue
      const recorded = alreadyThere && history?.monitors.has(op.interval)
      const m = graph.action({
        key: opKey(r.id, "monitor", op.interval),
        task: "monitor",
        resource: r.id,
        node: startNode,
        interval: op.interval,
        kind: "rsc_op",
        required: !recorded,
        runnable: start.runnable
      })
      graph.order(start, m, { impliesThen: true, runnableLeft: true })
      monitors.push(m)
    }
  }

  const probes: Array<GraphAction> = []
  nodes.forEach((node, i) => {
    if (known.has(i) || noProbe?.has(i)) return
    if (!node.online || node.unclean || node.pending || node.maintenance) return
    const probe = graph.action({
      key: opKey(r.id, "monitor", 0),
      task: "monitor",
      resource: r.id,
      node: node.name,
      kind: "rsc_op",
      required: true,
      runnable: true
    })
    graph.order(probe, start)
    for (const stop of stops.values()) graph.order(probe, stop)
    probes.push(probe)
  })
  return { resource: r, active, target, failed, stops, start, monitors, probes, frozen }
}
