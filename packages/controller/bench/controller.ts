/**
 * Figures of the controller: the pure engine's throughput on a large graph, and the in-process
 * seed cluster (pg-drbd on two nodes, scripted agents, TestClock) from start to settled, through a
 * monitor failure and through a node loss, in wall-clock time and CIB commits.
 *
 *   npm run bench -w @ha/controller
 */
import { readFileSync } from "node:fs"
import type { Transition } from "@ha/policy"
import { Clock, Effect, Fiber, Logger, LogLevel, Ref, Stream, TestContext } from "effect"
import { Engine } from "../src/index.ts"
import { type Cluster, loadCib, makeCluster, settled, until } from "../test/cluster.ts"

/** `width` independent chains of `depth` actions each, joined by one pseudo event. */
const graph = (width: number, depth: number): Transition.Transition => {
  const actions: Array<Transition.Action> = []
  const edges: Array<Transition.Edge> = []
  let id = 0
  const done = {
    id: width * depth,
    key: "all_running_0",
    task: "running",
    resource: "all",
    node: undefined,
    interval: 0,
    kind: "pseudo_event" as const
  }
  for (let w = 0; w < width; w++) {
    for (let d = 0; d < depth; d++) {
      actions.push({
        id,
        key: `r${w}_${d}_start_0`,
        task: "start",
        resource: `r${w}_${d}`,
        node: `n${w % 16}`,
        interval: 0,
        kind: "rsc_op"
      })
      if (d > 0) edges.push({ before: id - 1, after: id })
      else if (w > 0) edges.push({ before: id - depth, after: id })
      id++
    }
    edges.push({ before: id - 1, after: done.id })
  }
  actions.push(done)
  return { placements: [], actions, edges, scores: new Map(), summary: [] }
}

const engineBench = (width: number, depth: number, batchLimit: number) => {
  const transition = graph(width, depth)
  const started = performance.now()
  let { state, outputs } = Engine.step(Engine.initial, { _tag: "Trigger", reason: "bench" })
  ;({ state, outputs } = Engine.step(state, {
    _tag: "Planned",
    plan: {
      transition,
      batchLimit,
      members: new Set(Array.from({ length: 16 }, (_, i) => `n${i}`)),
      unfenced: new Map()
    }
  }))
  const queue = outputs.filter((o) => o._tag === "Dispatch")
  let completed = 0
  while (queue.length > 0) {
    const next = queue.shift()!
    if (next._tag !== "Dispatch") continue
    ;({ state, outputs } = Engine.step(state, {
      _tag: "ActionDone",
      graph: next.graph,
      action: next.action.id,
      ok: true,
      reason: "ok"
    }))
    completed++
    for (const o of outputs) if (o._tag === "Dispatch") queue.push(o)
  }
  const ms = performance.now() - started
  console.log(
    `engine: ${transition.actions.length} actions (${width}×${depth}, batch-limit ${batchLimit}): ${completed} dispatched in ${ms.toFixed(0)} ms, ${Math.round((completed / ms) * 1000)} actions/s`
  )
}

const seed = Effect.gen(function* () {
  const path = new URL("../../../examples/pg-drbd/config.xml", import.meta.url)
  return yield* loadCib("examples/pg-drbd/config.xml", readFileSync(path, "utf8"))
})

/** Counts CIB commits and the DC's dispatched actions during `effect`. */
const measure = <E, R>(cluster: Cluster, name: string, effect: Effect.Effect<unknown, E, R>) =>
  Effect.gen(function* () {
    const commits = yield* Ref.make(0)
    const counter = yield* Effect.forkScoped(
      Stream.runForEach(cluster.store.changes, () => Ref.update(commits, (n) => n + 1))
    )
    const dispatched = Effect.gen(function* () {
      let n = 0
      for (const node of cluster.nodes) {
        n += (yield* cluster.controller(node).history).filter((e) => e._tag === "Dispatched").length
      }
      return n
    })
    const actionsBefore = yield* dispatched
    const wall = performance.now()
    const clock = yield* Clock.currentTimeMillis
    yield* effect
    const ms = performance.now() - wall
    const actions = (yield* dispatched) - actionsBefore
    yield* Fiber.interrupt(counter)
    console.log(
      `cluster: ${name}: ${ms.toFixed(0)} ms wall, ${(yield* Clock.currentTimeMillis) - clock} ms cluster time, ${actions} actions, ${yield* Ref.get(commits)} CIB commits`
    )
  })

/** With the live clock: scripted agents take no time, so this is the DC's own cost (CIB commits included). */
const liveStart = Effect.gen(function* () {
  const cib = yield* seed
  const wall = performance.now()
  const cluster = yield* makeCluster(cib)
  const built = performance.now() - wall
  while (!(yield* settled(cluster))) yield* Effect.sleep(2)
  const ms = performance.now() - wall - built
  const history = yield* cluster.controller("alpha").history
  const actions = history.filter((e) => e._tag === "Dispatched").length
  const transitions = history.filter((e) => e._tag === "TransitionFinished").length
  const cib2 = yield* cluster.store.query
  console.log(
    `cluster: start pg-drbd stack to settled (live clock): ${ms.toFixed(0)} ms wall after ${built.toFixed(0)} ms setup, ${actions} actions in ${transitions} transitions, ${(ms / actions).toFixed(1)} ms/action, CIB at ${cib2.version.epoch}.${cib2.version.numUpdates}`
  )
})

/** Under TestClock: how long failures take to be noticed and repaired, in cluster time. */
const failures = Effect.gen(function* () {
  const cluster = yield* makeCluster(yield* seed)
  yield* until(settled(cluster))
  yield* measure(
    cluster,
    "vip monitor failure (10 s monitor) to recovered and settled",
    Effect.gen(function* () {
      yield* cluster.agents.get("alpha")!.get("IPaddr2")!.setState("vip", "stopped")
      const from = (yield* cluster.controller("alpha").history).length
      yield* until(
        Effect.map(cluster.controller("alpha").history, (h) =>
          h.slice(from).some((e) => e._tag === "FailureCounted")
        )
      )
      yield* until(settled(cluster))
    })
  )
  yield* measure(
    cluster,
    "DC lost to fenced (1 s fence agent), recovered on the survivor and settled",
    Effect.gen(function* () {
      yield* cluster.crash("alpha")
      yield* until(settled(cluster))
    })
  )
})

engineBench(100, 100, 30)
engineBench(1000, 10, 1000)
await Effect.runPromise(liveStart.pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning)))
await Effect.runPromise(
  failures.pipe(
    Effect.scoped,
    Effect.provide(TestContext.TestContext),
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )
)
