/**
 * The simulated runtime: time jumps from timer to timer, frozen nodes' fibers wait, and real-time
 * work (WebCrypto, as the transport does when it starts) never stops the clock for good.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber } from "effect"
import { SimRuntime } from "../src/index.ts"

const digest = Effect.promise(() =>
  crypto.subtle.digest("SHA-256", new TextEncoder().encode("ha-cluster:sim"))
)

describe("SimRuntime", () => {
  it("a node frozen as its real-time work begins freezes once that work is done", async () => {
    const runtime = new SimRuntime.SimRuntime(0)
    const exit = await runtime.run(
      Effect.gen(function* () {
        // a node boots and is frozen at that very instant, before its fiber reached WebCrypto
        runtime.expectExternal()
        runtime.freeze("beta")
        const booting = yield* Effect.locally(
          Effect.fork(
            Effect.gen(function* () {
              yield* digest
              return yield* Clock.currentTimeMillis
            })
          ),
          SimRuntime.currentNode,
          "beta"
        )
        // the clock still moves (parked before its digest, the node would stop it for good)
        yield* Effect.sleep(Duration.seconds(5))
        runtime.thaw("beta")
        return yield* Fiber.join(booting)
      })
    )
    expect(exit._tag).toBe("Success")
    // the boot went no further than its digest while frozen: it resumed when thawed, at 5 s
    if (exit._tag === "Success") expect(exit.value).toBe(5000)
  })

  it("a frozen node's timers fire when it thaws, late", async () => {
    const runtime = new SimRuntime.SimRuntime(0)
    const exit = await runtime.run(
      Effect.gen(function* () {
        const sleeper = yield* Effect.fork(
          Effect.locally(
            Effect.zipRight(Effect.sleep(Duration.seconds(1)), Clock.currentTimeMillis),
            SimRuntime.currentNode,
            "alpha"
          )
        )
        yield* Effect.yieldNow()
        runtime.freeze("alpha")
        yield* Effect.sleep(Duration.seconds(3))
        runtime.thaw("alpha")
        return yield* Fiber.join(sleeper)
      })
    )
    expect(exit._tag).toBe("Success")
    if (exit._tag === "Success") expect(exit.value).toBe(3000)
  })
})
