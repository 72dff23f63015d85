/**
 * Driving nodes on the transport's in-memory network with the TestClock, for the service's tests.
 */
import { MemoryNetwork, type Transport } from "@ha/transport"
import { Duration, Effect, TestClock } from "effect"

interface HasTransport {
  readonly transport: Transport.Transport["Type"]
}

const realTurn = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))

/** Waits until no crypto or socket work is pending: WebCrypto completes in real time. */
const settle = (nodes: ReadonlyArray<HasTransport>) =>
  Effect.gen(function* () {
    const network = yield* MemoryNetwork.MemoryNetwork
    let quiet = 0
    while (quiet < 2) {
      yield* Effect.yieldNow()
      yield* realTurn
      const busy = yield* Effect.forEach(nodes, (n) => n.transport.busy)
      quiet = busy.every((b) => b === 0) && (yield* network.queued) === 0 ? quiet + 1 : 0
    }
  })

/** Moves the TestClock in 50 ms steps (timers due within a step fire in order), settling after each. */
export const advance = (nodes: ReadonlyArray<HasTransport>, millis: number) =>
  Effect.gen(function* () {
    for (let t = 0; t < millis; t += 50) {
      yield* TestClock.adjust(Duration.millis(50))
      yield* settle(nodes)
    }
  })
