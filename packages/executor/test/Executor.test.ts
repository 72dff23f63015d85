import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Queue, TestClock } from "effect"
import { ExecStatus, Ocf } from "../src/ExitCode.ts"
import { Executor, type OperationRecord, ScriptedAgent } from "../src/index.ts"

const ref = { class: "native", type: "Scripted" } as const

const setup = (settings: { maxConcurrentOperations?: number } = {}) =>
  Effect.gen(function* () {
    const scripted = yield* ScriptedAgent.make("Scripted", 100)
    const context = yield* Effect.context<never>()
    return { scripted, context, layer: Executor.layerTest([scripted.agent], settings) }
  })

const drain = (queue: Queue.Dequeue<OperationRecord.OperationRecord>) =>
  Queue.takeAll(queue).pipe(Effect.map(Chunk.toReadonlyArray))

describe("Executor (scripted agents, TestClock)", () => {
  it.scoped("runs operations of one resource one after another and of different resources in parallel", () =>
    Effect.gen(function* () {
      const { scripted, layer } = yield* setup()
      yield* Effect.gen(function* () {
        const executor = yield* Executor.Executor
        const ops = yield* Effect.forkAll(
          [
            executor.execute({ resource: "a", agent: ref, operation: "start" }),
            executor.execute({ resource: "a", agent: ref, operation: "monitor" }),
            executor.execute({ resource: "b", agent: ref, operation: "start" })
          ],
          { discard: false }
        )
        yield* TestClock.adjust(100)
        yield* TestClock.adjust(100)
        const [startA, monitorA, startB] = yield* Fiber.join(ops)
        expect([startA!.rcCode, monitorA!.rcCode, startB!.rcCode]).toEqual([Ocf.ok, Ocf.ok, Ocf.ok])
        expect(startA!.queueTime).toBe(0)
        expect(startB!.queueTime).toBe(0)
        expect(monitorA!.queueTime).toBe(100)
        const calls = yield* scripted.calls
        expect(calls.map((c) => [c.resource, c.action, c.at])).toEqual([
          ["a", "start", 0],
          ["b", "start", 0],
          ["a", "monitor", 100]
        ])
        expect([startA!.callId, monitorA!.callId, startB!.callId].sort()).toEqual([1, 2, 3])
      }).pipe(Effect.provide(layer))
    })
  )

  it.scoped("limits the operations running at once on the node", () =>
    Effect.gen(function* () {
      const { scripted, layer } = yield* setup({ maxConcurrentOperations: 2 })
      yield* Effect.gen(function* () {
        const executor = yield* Executor.Executor
        const fiber = yield* Effect.forkAll(
          ["r1", "r2", "r3", "r4", "r5"].map((resource) =>
            executor.execute({ resource, agent: ref, operation: "start" })
          )
        )
        for (let i = 0; i < 3; i++) yield* TestClock.adjust(100)
        const records = yield* Fiber.join(fiber)
        expect((yield* scripted.calls).map((c) => c.at)).toEqual([0, 0, 100, 100, 200])
        expect(records.map((r) => r.queueTime)).toEqual([0, 0, 100, 100, 200])
      }).pipe(Effect.provide(layer))
    })
  )

  it.scoped("reports a timed-out operation with op-status 2 and rc 1", () =>
    Effect.gen(function* () {
      const { scripted, layer } = yield* setup()
      yield* scripted.script("start", { durationMs: Number.POSITIVE_INFINITY })
      yield* Effect.gen(function* () {
        const executor = yield* Executor.Executor
        const fiber = yield* Effect.fork(
          executor.execute({ resource: "a", agent: ref, operation: "start", timeoutMs: 5000 })
        )
        yield* TestClock.adjust(5000)
        const record = yield* Fiber.join(fiber)
        expect(record).toMatchObject({ opStatus: ExecStatus.timeout, rcCode: Ocf.error, execTime: 5000 })
        expect(record.exitReason).toContain("timed out after 5000 ms")
      }).pipe(Effect.provide(layer))
    })
  )

  it.scoped("runs recurring monitors for the current role and reports the first result and rc changes", () =>
    Effect.gen(function* () {
      const { scripted, layer } = yield* setup()
      yield* Effect.gen(function* () {
        const executor = yield* Executor.Executor
        const records = yield* executor.subscribe
        yield* executor.define({
          resource: "db",
          agent: ref,
          params: { state: "x" },
          monitors: [
            { intervalMs: 10_000, role: "Unpromoted" },
            { intervalMs: 5_000, role: "Promoted" }
          ]
        })
        const start = yield* Effect.fork(executor.execute({ resource: "db", agent: ref, operation: "start" }))
        yield* TestClock.adjust(100)
        yield* Fiber.join(start)
        yield* TestClock.adjust(100) // first monitor
        yield* TestClock.adjust(30_000) // two more (at 10200 and 20300: the interval runs from the end of the last)
        let seen = yield* drain(records)
        expect(seen.map((r) => [r.operation, r.interval, r.rcCode])).toEqual([
          ["start", 0, 0],
          ["monitor", 10_000, 0]
        ])
        const unpromotedRuns = (yield* scripted.calls).filter((c) => c.action === "monitor").length
        expect(unpromotedRuns).toBe(3)

        // The resource fails: the next monitor reports rc 7 once.
        yield* scripted.setState("db", "stopped")
        yield* TestClock.adjust(20_000)
        seen = yield* drain(records)
        expect(seen.map((r) => [r.operation, r.interval, r.rcCode])).toEqual([
          ["monitor", 10_000, Ocf.notRunning]
        ])
        expect(seen[0]!.lastRcChange).toBeGreaterThan(0)

        // Promotion: the Unpromoted monitor stops, the Promoted one starts and reports rc 8.
        yield* scripted.setState("db", "started")
        const promote = yield* Effect.fork(
          executor.execute({ resource: "db", agent: ref, operation: "promote" })
        )
        yield* TestClock.adjust(100)
        yield* Fiber.join(promote)
        expect(yield* executor.role("db")).toBe("Promoted")
        yield* TestClock.adjust(100)
        yield* TestClock.adjust(10_000)
        seen = yield* drain(records)
        expect(seen.map((r) => [r.operation, r.interval, r.rcCode])).toEqual([
          ["promote", 0, 0],
          ["monitor", 5_000, Ocf.runningPromoted]
        ])
        const promotedCalls = (yield* scripted.calls).filter(
          (c) => c.action === "monitor" && c.intervalMs === 5_000
        )
        expect(promotedCalls.map((c) => c.at)).toEqual([50_300, 55_400])

        // Stop cancels every monitor of the resource.
        const stop = yield* Effect.fork(executor.execute({ resource: "db", agent: ref, operation: "stop" }))
        yield* TestClock.adjust(200)
        yield* Fiber.join(stop)
        const before = (yield* scripted.calls).length
        yield* TestClock.adjust(60_000)
        expect((yield* scripted.calls).length).toBe(before)
        expect(yield* executor.role("db")).toBe("Stopped")
        const history = yield* executor.history
        // The cancelled monitors leave the history, as Pacemaker's controller deletes their entries.
        expect(history.map((r) => r.id)).toEqual(["db_start_0", "db_promote_0", "db_stop_0"])
        expect(history.map((r) => r.callId)).toEqual([1, history[1]!.callId, history[2]!.callId])
        expect(history[2]!.callId).toBeGreaterThan(history[1]!.callId)
      }).pipe(Effect.provide(layer))
    })
  )

  it.scoped("turns an unknown agent into a 'not installed' record", () =>
    Effect.gen(function* () {
      const { layer } = yield* setup()
      yield* Effect.gen(function* () {
        const executor = yield* Executor.Executor
        const record = yield* executor.execute({
          resource: "x",
          agent: { class: "native", type: "Nope" },
          operation: "start"
        })
        expect(record).toMatchObject({ rcCode: Ocf.notInstalled, opStatus: ExecStatus.notInstalled })
        expect(record.exitReason).toContain("native:Nope")
      }).pipe(Effect.provide(layer))
    })
  )
})
