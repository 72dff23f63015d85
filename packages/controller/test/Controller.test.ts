import { describe, expect, it } from "@effect/vitest"
import { Cib, CibReplica } from "@ha/cib"
import { ScriptedAgent } from "@ha/executor"
import { Effect, Layer } from "effect"
import { Controller, Status } from "../src/index.ts"
import { until } from "./cluster.ts"

const nvset = (id: string, pairs: Record<string, string>): Cib.NvSet => ({
  id,
  rules: [],
  nvpairs: Object.entries(pairs).map(([name, value]) => ({ id: `${id}-${name}`, name, value }))
})

/** One node, stonith off, one scripted resource with a 10 s monitor and a 60 s failure-timeout. */
const oneNode: Cib.Cib = {
  ...Cib.empty,
  configuration: {
    ...Cib.empty.configuration,
    clusterProperties: [nvset("options", { "stonith-enabled": "false", "cluster-recheck-interval": "0" })],
    nodes: [{ id: "1", uname: "solo", instanceAttributes: [], utilization: [] }],
    resources: [
      {
        _tag: "Primitive",
        id: "svc",
        class: "native",
        type: "Scripted",
        instanceAttributes: [],
        metaAttributes: [nvset("svc-meta", { "failure-timeout": "60s" })],
        utilization: [],
        operations: {
          ops: [
            {
              id: "svc-monitor-10s",
              name: "monitor",
              interval: 10_000,
              instanceAttributes: [],
              metaAttributes: []
            }
          ]
        }
      }
    ]
  }
}

const history = Effect.flatMap(Controller.Controller, (c) => c.history)
const finishedComplete = Effect.map(history, (h) => {
  const last = [...h].reverse().find((e) => e._tag === "TransitionFinished")
  return last?._tag === "TransitionFinished" && last.outcome === "complete"
})
const running = Effect.flatMap(CibReplica.CibReplica, (s) => s.query).pipe(
  Effect.map((cib) => Status.activeResources(cib, "solo").has("svc"))
)

describe("Controller.layerTest (one node)", () => {
  it.scoped("a failed start bans the node until failure-timeout, then the recheck timer restarts it", () =>
    Effect.gen(function* () {
      const scripted = yield* ScriptedAgent.make("Scripted")
      yield* scripted.script("start", { durationMs: 0, rc: 1, exitReason: "cannot start" })
      const context = yield* Layer.build(Controller.layerTest(oneNode, { agents: [scripted.agent] }))
      const run = <A, E>(effect: Effect.Effect<A, E, Controller.Controller | CibReplica.CibReplica>) =>
        Effect.provide(effect, context)

      yield* until(run(Effect.map(history, (h) => h.some((e) => e._tag === "FailureCounted"))))
      yield* until(run(finishedComplete))
      const cib = yield* run(Effect.flatMap(CibReplica.CibReplica, (s) => s.query))
      expect(Status.attribute(cib, "solo", "fail-count-svc#start_0")).toBe("INFINITY")
      expect(yield* run(running)).toBe(false)
      yield* scripted.script("start", undefined)

      // nothing changes until the failure expires: then the timer replans and the start succeeds
      const waited = yield* until(run(running), 120_000, 1000)
      expect(waited).toBeGreaterThanOrEqual(55_000)
      expect(waited).toBeLessThanOrEqual(65_000)
      const reasons = (yield* run(history)).flatMap((e) => (e._tag === "TransitionStarted" ? e.reasons : []))
      expect(reasons).toContain("recheck timer")
      const status = yield* run(Effect.flatMap(Controller.Controller, (c) => c.status))
      expect(status).toMatchObject({ self: "solo", dc: "solo" })
    })
  )
})
