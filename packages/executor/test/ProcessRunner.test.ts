import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { ProcessRunner } from "../src/index.ts"

const spec = (command: string): ProcessRunner.ProcessSpec => ({
  command,
  args: [],
  env: {},
  outputCapBytes: 8
})

const scripts = ProcessRunner.layerTest({
  "/quick": () => ({ durationMs: 300, exitCode: 7, stdout: "0123456789abc" }),
  "/hang": () => ({ durationMs: Number.MAX_SAFE_INTEGER, exitCode: 0 }),
  "/stubborn": () => ({ durationMs: Number.MAX_SAFE_INTEGER, exitCode: 0, ignoresTerm: true })
})

describe("ProcessRunner.run (scripted processes, TestClock)", () => {
  it.effect("returns the exit code, run time and capped output of a process that ends in time", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(
        ProcessRunner.run(spec("/quick"), { timeoutMs: 1000, killGraceMs: 100 })
      )
      yield* TestClock.adjust(300)
      const result = yield* Fiber.join(fiber)
      expect(result.termination).toEqual({ _tag: "Exited", code: 7 })
      expect(result.timedOut).toBe(false)
      expect(result.durationMs).toBe(300)
      expect(result.stdout).toEqual({ text: "01234567", droppedBytes: 5 })
    }).pipe(Effect.provide(scripts))
  )

  it.effect("sends SIGTERM at the timeout and is done when the group obeys", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(
        ProcessRunner.run(spec("/hang"), { timeoutMs: 1000, killGraceMs: 500 })
      )
      yield* TestClock.adjust(1000)
      const result = yield* Fiber.join(fiber)
      expect(result).toMatchObject({ timedOut: true, killedWith: "SIGTERM", durationMs: 1000 })
      expect(result.termination).toEqual({ _tag: "Signaled", signal: "SIGTERM" })
    }).pipe(Effect.provide(scripts))
  )

  it.effect("escalates to SIGKILL after the grace period when SIGTERM is ignored", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(
        ProcessRunner.run(spec("/stubborn"), { timeoutMs: 1000, killGraceMs: 500 })
      )
      yield* TestClock.adjust(1000)
      yield* TestClock.adjust(499)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      const result = yield* Fiber.join(fiber)
      expect(result).toMatchObject({ timedOut: true, killedWith: "SIGKILL", durationMs: 1500 })
    }).pipe(Effect.provide(scripts))
  )

  it.effect("fails with a typed error for a program that does not exist", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        ProcessRunner.run(spec("/missing"), { timeoutMs: 1000, killGraceMs: 1 })
      )
      expect(error._tag).toBe("SpawnError")
      expect(error.reason).toBe("NotFound")
    }).pipe(Effect.provide(scripts))
  )
})
