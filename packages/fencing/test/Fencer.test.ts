import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, TestClock } from "effect"
import { FencerService, FencingConfig, Manual } from "../src/index.ts"
import { cibOf, level, monitored, stonith } from "./cib.ts"
import { makeCluster, scriptedInfo } from "./harness.ts"

const nodes = ["n1", "n2", "n3"]
const device = (id: string, attrs: Record<string, string> = {}) =>
  stonith(id, "fence-scripted", { device: id, pcmk_host_list: "n1 n2 n3", ...attrs })

/** Lets the fencers run while time passes in small steps (ticks are 100 ms). */
const advance = (ms: number) =>
  Effect.gen(function* () {
    for (let t = 0; t < ms; t += 100) yield* TestClock.adjust("100 millis")
  })

describe("fencer", () => {
  it.scoped("falls back to the next topology level when level 1 fails", () =>
    Effect.gen(function* () {
      const cib = cibOf({
        nodes,
        resources: [device("ipmi"), device("pdu-a"), device("pdu-b")],
        levels: [level("l1", 1, "n3", ["ipmi"]), level("l2", 2, "n3", ["pdu-a", "pdu-b"])],
        properties: { "stonith-action": "off" }
      })
      const { fencer, calls } = yield* makeCluster(cib, nodes, { ipmi: () => ({ code: 1, afterMs: 200 }) })
      const fiber = yield* Effect.fork(fencer("n2").fence("n3"))
      yield* advance(3000)
      const result = yield* Fiber.join(fiber)
      expect(result.devices).toEqual(["pdu-a", "pdu-b"])
      expect(result.executor).toBe("n1")
      const fenceCalls = (yield* calls).filter((c) => c.action === "off")
      // ipmi: the first try plus pcmk_off_retries (2), then both devices of level 2.
      expect(fenceCalls.map((c) => c.device)).toEqual(["ipmi", "ipmi", "ipmi", "pdu-a", "pdu-b"])
      expect(fenceCalls.every((c) => c.node === "n1" && c.target === "n3")).toBe(true)
      for (const node of nodes) {
        const history = yield* fencer(node).history("n3")
        expect(history.map((e) => e.state)).toEqual(["succeeded"])
        expect(yield* fencer(node).status("n3")).toMatchObject({ _tag: "Fenced", manual: false })
      }
    })
  )

  it.scoped("a fencer configured without devices fences once the CIB's devices are configured", () =>
    Effect.gen(function* () {
      const { fencer, calls } = yield* makeCluster(cibOf({ nodes, resources: [] }), nodes, {})
      const refused = yield* Effect.fork(fencer("n1").fence("n3"))
      yield* advance(1000)
      expect(Exit.isFailure(yield* Fiber.await(refused))).toBe(true)
      const withDevice = cibOf({ nodes, resources: [device("ipmi")] })
      const config = yield* FencingConfig.fromCib(withDevice, new Map([["fence-scripted", scriptedInfo]]))
      for (const node of nodes) yield* fencer(node).configure(config)
      const fiber = yield* Effect.fork(fencer("n1").fence("n3", { action: "off" }))
      yield* advance(2000)
      expect((yield* Fiber.join(fiber)).devices).toEqual(["ipmi"])
      expect((yield* calls).map((c) => `${c.device}:${c.action}:${c.target}`)).toEqual(["ipmi:off:n3"])
    })
  )

  it.scoped("a reboot over a level of two devices turns all off, then all on", () =>
    Effect.gen(function* () {
      const cib = cibOf({
        nodes,
        resources: [device("psu-1"), device("psu-2")],
        levels: [level("l1", 1, "n3", ["psu-1", "psu-2"])]
      })
      const { fencer, calls } = yield* makeCluster(cib, nodes, {})
      const fiber = yield* Effect.fork(fencer("n1").fence("n3"))
      yield* advance(2000)
      yield* Fiber.join(fiber)
      expect((yield* calls).map((c) => `${c.device}:${c.action}`)).toEqual([
        "psu-1:off",
        "psu-2:off",
        "psu-1:on",
        "psu-2:on"
      ])
    })
  )

  it.scoped("merges concurrent requests for one target into one operation, executed once cluster-wide", () =>
    Effect.gen(function* () {
      const cib = cibOf({
        nodes,
        resources: [device("pdu")],
        properties: { "stonith-action": "off" },
        // n1 cannot reach the device: the executor must be another node.
        constraints: [
          {
            _tag: "Location",
            id: "ban",
            rsc: "pdu",
            node: "n1",
            score: -1_000_000,
            resourceSets: [],
            rules: []
          }
        ]
      })
      const { fencer, calls } = yield* makeCluster(cib, nodes, { pdu: () => ({ code: 0, afterMs: 2000 }) })
      const first = yield* Effect.fork(fencer("n1").fence("n3"))
      const second = yield* Effect.fork(fencer("n2").fence("n3"))
      yield* advance(500)
      const third = yield* Effect.fork(fencer("n1").fence("n3"))
      yield* advance(3000)
      const results = [yield* Fiber.join(first), yield* Fiber.join(second), yield* Fiber.join(third)]
      expect(results.map((r) => r.executor)).toEqual(["n2", "n2", "n2"])
      const fenceCalls = (yield* calls).filter((c) => c.action === "off")
      expect(fenceCalls).toMatchObject([{ node: "n2", device: "pdu", action: "off", target: "n3" }])
      expect(fenceCalls).toHaveLength(1)
      for (const node of nodes) {
        const history = yield* fencer(node).history()
        expect(history).toHaveLength(1)
        expect(history[0]).toMatchObject({
          target: "n3",
          state: "succeeded",
          executor: "n2",
          origins: ["n1", "n2"]
        })
      }
    })
  )

  it.scoped("a fence timeout is a failure, retried; the target is never safe meanwhile", () =>
    Effect.gen(function* () {
      const cib = cibOf({
        nodes,
        resources: [device("slow", { pcmk_off_timeout: "2s", pcmk_off_retries: "0" })],
        properties: { "stonith-action": "off", "stonith-max-attempts": "3" }
      })
      const { fencer } = yield* makeCluster(cib, nodes, {
        slow: (n) => (n < 2 ? "hang" : { code: 0, afterMs: 500 })
      })
      const requested = 0
      const fiber = yield* Effect.fork(fencer("n2").fence("n3"))
      yield* advance(2500)
      const afterFirst = yield* fencer("n2").history("n3")
      expect(afterFirst.map((e) => e.state)).toEqual(["failed"])
      expect(afterFirst[0]!.reason).toContain("timed out")
      expect(yield* fencer("n2").status("n3")).toMatchObject({ _tag: "Fencing", round: 2 })
      for (const node of nodes) expect(yield* fencer(node).isSafelyDown("n3", requested)).toBe(false)
      expect(fiber.unsafePoll()).toBeNull()
      yield* advance(1700)
      expect((yield* fencer("n3").history("n3")).map((e) => e.state)).toEqual(["failed", "failed"])
      expect(yield* fencer("n1").isSafelyDown("n3", requested)).toBe(false)
      yield* advance(1000)
      const result = yield* Fiber.join(fiber)
      expect(result.manual).toBe(false)
      expect((yield* fencer("n1").history("n3")).map((e) => e.state)).toEqual([
        "failed",
        "failed",
        "succeeded"
      ])
      expect(yield* fencer("n1").isSafelyDown("n3", requested)).toBe(true)
    })
  )

  it.scoped("when every attempt times out, the request fails and the target stays unsafe", () =>
    Effect.gen(function* () {
      const cib = cibOf({
        nodes,
        resources: [device("dead", { pcmk_off_timeout: "1s", pcmk_off_retries: "1" })],
        properties: { "stonith-action": "off", "stonith-max-attempts": "2" }
      })
      const { fencer } = yield* makeCluster(cib, nodes, { dead: () => "hang" })
      const fiber = yield* Effect.fork(fencer("n1").fence("n2"))
      yield* advance(6000)
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit)).toBe(true)
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("FenceFailedError")
      expect(error.attempts).toBe(2)
      expect(error.message).toContain("timed out")
      expect(yield* fencer("n3").status("n2")).toMatchObject({ _tag: "FenceFailed" })
      expect(yield* fencer("n3").isSafelyDown("n2", 0)).toBe(false)
    })
  )

  it.scoped("a target no device can fence fails at once with the reason", () =>
    Effect.gen(function* () {
      const cib = cibOf({ nodes, resources: [device("pdu")] })
      const { fencer, calls } = yield* makeCluster(cib, nodes, {})
      const fiber = yield* Effect.fork(fencer("n1").fence("n9"))
      yield* advance(200)
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error.reason).toContain("can run a device that fences n9")
      expect(error.attempts).toBe(1)
      expect(yield* calls).toEqual([])
      expect(yield* fencer("n2").history("n9")).toHaveLength(1)
    })
  )

  it.scoped("manual confirmation ends a pending request and is recorded as such", () =>
    Effect.gen(function* () {
      const cib = cibOf({ nodes, resources: [device("dead")], properties: { "stonith-action": "off" } })
      const { fencer } = yield* makeCluster(cib, nodes, { dead: () => "hang" })
      const fiber = yield* Effect.fork(fencer("n1").fence("n3"))
      yield* advance(1000)
      expect(yield* fencer("n2").isSafelyDown("n3", 0)).toBe(false)
      yield* Manual.confirm("n3").pipe(Effect.provideService(FencerService.FencerService, fencer("n2")))
      yield* advance(200)
      const result = yield* Fiber.join(fiber)
      expect(result.manual).toBe(true)
      expect(yield* fencer("n1").status("n3")).toMatchObject({ _tag: "Fenced", manual: true })
      const lines = Manual.formatHistory(yield* fencer("n1").history("n3"))
      expect(lines).toContain("off of n3: confirmed (asked by n2")
      expect(Manual.confirmWarning("n3")).toContain("n3 is down WITHOUT fencing it")
    })
  )

  it.scoped("a dynamic-list device is asked for its list once, and fences only what it lists", () =>
    Effect.gen(function* () {
      const cib = cibOf({
        nodes,
        resources: [
          stonith("pdu", "fence-scripted", { device: "pdu", pcmk_host_check: "dynamic-list", ports: "n3" })
        ],
        properties: { "stonith-action": "off", "stonith-max-attempts": "1" }
      })
      const { fencer, calls } = yield* makeCluster(cib, nodes, {})
      const fenced = yield* Effect.fork(fencer("n2").fence("n3"))
      yield* advance(1000)
      expect((yield* Fiber.join(fenced)).devices).toEqual(["pdu"])
      const refused = yield* Effect.fork(fencer("n2").fence("n2"))
      yield* advance(1000)
      const error = yield* Effect.flip(Fiber.join(refused))
      expect(error.reason).toContain("n2 is not in the device's list output")
      expect((yield* calls).map((c) => `${c.node}:${c.action}:${c.target ?? "-"}`)).toEqual([
        "n1:list:-",
        "n1:off:n3"
      ])
    })
  )

  it.scoped("pcmk_action_limit bounds the actions running at once on a device", () =>
    Effect.gen(function* () {
      const twoTargets = (limit: string) =>
        Effect.gen(function* () {
          const cib = cibOf({
            nodes: ["n1", "n2", "n3", "n4"],
            resources: [
              stonith("pdu", "fence-scripted", {
                device: "pdu",
                pcmk_host_list: "n3 n4",
                pcmk_action_limit: limit
              })
            ],
            properties: { "stonith-action": "off" }
          })
          const { fencer, calls } = yield* makeCluster(cib, ["n1", "n2", "n3", "n4"], {
            pdu: () => ({ code: 0, afterMs: 1000 })
          })
          const a = yield* Effect.fork(fencer("n1").fence("n3"))
          const b = yield* Effect.fork(fencer("n1").fence("n4"))
          yield* advance(3000)
          yield* Fiber.join(a)
          yield* Fiber.join(b)
          return (yield* calls).map((c) => c.at)
        })
      const [first, second] = yield* twoTargets("1")
      expect(second! - first!).toBeGreaterThanOrEqual(1000)
      const parallel = yield* twoTargets("2")
      expect(parallel[1]! - parallel[0]!).toBeLessThan(1000)
    })
  )

  it.scoped("when the executor leaves the membership, another member takes the operation over", () =>
    Effect.gen(function* () {
      const cib = cibOf({ nodes, resources: [device("pdu")], properties: { "stonith-action": "off" } })
      const { fencer, calls, cluster } = yield* makeCluster(cib, nodes, {
        pdu: (n) => (n === 0 ? "hang" : { code: 0, afterMs: 200 })
      })
      const fiber = yield* Effect.fork(fencer("n2").fence("n3"))
      yield* advance(500)
      expect(yield* fencer("n2").status("n3")).toMatchObject({ _tag: "Fencing", executor: "n1", round: 1 })
      yield* cluster.partition([["n2", "n3"], ["n1"]])
      yield* advance(1000)
      const result = yield* Fiber.join(fiber)
      expect(result.executor).toBe("n2")
      expect((yield* calls).map((c) => `${c.node}:${c.action}:${c.target}`)).toEqual([
        "n1:off:n3",
        "n2:off:n3"
      ])
      expect((yield* fencer("n3").history("n3")).map((e) => [e.state, e.executor, e.round])).toEqual([
        ["succeeded", "n2", 2]
      ])
    })
  )

  it.scoped(
    "monitors devices on every node that may run them; a failing node is passed over as executor",
    () =>
      Effect.gen(function* () {
        const cib = cibOf({
          nodes,
          resources: [monitored(device("pdu", { monitor_fails_on: "n1" }), 10_000, 5_000)],
          properties: { "stonith-action": "off" },
          constraints: [
            {
              _tag: "Location",
              id: "ban",
              rsc: "pdu",
              node: "n3",
              score: -1_000_000,
              resourceSets: [],
              rules: []
            }
          ]
        })
        const { fencer, calls } = yield* makeCluster(cib, nodes, {})
        yield* advance(200)
        const monitorCalls = () =>
          Effect.map(calls, (list) =>
            list
              .filter((c) => c.action === "monitor")
              .map((c) => c.node)
              .sort()
          )
        // The first monitor runs at once on n1 and n2; n3 may not run the device.
        expect(yield* monitorCalls()).toEqual(["n1", "n2"])
        for (const node of nodes) {
          const health = (yield* fencer(node).deviceHealth).pdu ?? {}
          expect(health.n1).toMatchObject({ ok: false })
          expect(health.n1?.reason).toContain("monitor failed: exit code 1")
          expect(health.n2).toMatchObject({ ok: true })
          expect(health.n3).toBeUndefined()
        }
        yield* advance(10_000)
        expect(yield* monitorCalls()).toEqual(["n1", "n1", "n2", "n2"])
        // n1 comes first by name, but its device fails its monitor: n2 executes.
        const fiber = yield* Effect.fork(fencer("n3").fence("n1"))
        yield* advance(500)
        expect((yield* Fiber.join(fiber)).executor).toBe("n2")
        const second = yield* Effect.fork(fencer("n3").fence("n3"))
        yield* advance(500)
        expect((yield* Fiber.join(second)).executor).toBe("n2")
      })
  )

  it.scoped(
    "priority-fencing-delay holds back fencing the most important node, only in a partition without majority",
    () =>
      Effect.gen(function* () {
        const cib = cibOf({
          nodes,
          resources: [device("pdu")],
          properties: { "stonith-action": "off", "priority-fencing-delay": "5s" }
        })
        const { fencer, calls, cluster } = yield* makeCluster(cib, nodes, {})
        for (const node of nodes) yield* fencer(node).setPriorities({ n3: 10, n1: 1 })
        const offAt = () =>
          Effect.map(calls, (list) => list.filter((c) => c.action === "off").map((c) => c.at))
        // n1 and n2 have the majority: no delay.
        yield* cluster.partition([["n1", "n2"], ["n3"]])
        yield* advance(100)
        const start = yield* TestClock.currentTimeMillis
        const majority = yield* Effect.fork(fencer("n1").fence("n3"))
        yield* advance(1000)
        yield* Fiber.join(majority)
        expect((yield* offAt())[0]! - start).toBeLessThan(1000)
        // Alone, n1 waits 5 s before fencing n3, which runs the more important resources…
        yield* cluster.partition([["n1"], ["n2"], ["n3"]])
        yield* advance(100)
        const alone = yield* TestClock.currentTimeMillis
        const delayed = yield* Effect.fork(fencer("n1").fence("n3"))
        yield* advance(4500)
        expect(yield* offAt()).toHaveLength(1)
        yield* advance(1500)
        yield* Fiber.join(delayed)
        expect((yield* offAt())[1]! - alone).toBeGreaterThanOrEqual(5000)
        // …but not before fencing n2, nor when an administrator asks.
        const other = yield* Effect.fork(fencer("n1").fence("n2"))
        yield* advance(1000)
        yield* Fiber.join(other)
        const manual = yield* Effect.fork(
          Manual.fence("n3").pipe(Effect.provideService(FencerService.FencerService, fencer("n1")))
        )
        yield* advance(1000)
        yield* Fiber.join(manual)
        expect(yield* offAt()).toHaveLength(4)
      })
  )
})
