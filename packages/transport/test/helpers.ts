import { Duration, Effect, TestClock } from "effect"
import type { Topology } from "../src/index.ts"
import { MemoryNetwork } from "../src/MemoryNetwork.ts"
import type { Transport } from "../src/Transport.ts"

export const key = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff)

/** Address of node `id` on link `link` in the in-memory tests: one /24 per link. */
export const address = (id: number, link: number) => `10.0.${link}.${id}`

export const topology = (
  id: number,
  peers: ReadonlyArray<number>,
  links = 2,
  priorities: ReadonlyArray<number> = []
): Topology.NodeTopology => ({
  clusterName: "test",
  nodeId: id,
  links: Array.from({ length: links }, (_, link) => ({
    link,
    address: address(id, link),
    port: 5405,
    priority: priorities[link] ?? 0
  })),
  peers: peers.map((peer) => ({
    nodeId: peer,
    links: Array.from({ length: links }, (_, link) => ({ link, address: address(peer, link), port: 5405 }))
  }))
})

const realTurn = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 0)))

/**
 * Waits until no transport is doing crypto or socket work and no datagram waits in a queue: WebCrypto
 * completes in real time, so the TestClock may only move once everything due now has happened.
 */
export const settle = (transports: ReadonlyArray<Transport["Type"]>) =>
  Effect.gen(function* () {
    const network = yield* MemoryNetwork
    let quiet = 0
    while (quiet < 2) {
      yield* Effect.yieldNow()
      yield* realTurn
      const busy = yield* Effect.forEach(transports, (t) => t.busy)
      const queued = yield* network.queued
      quiet = busy.every((n) => n === 0) && queued === 0 ? quiet + 1 : 0
    }
  })

/** Moves the TestClock forward by `total` in steps of `step`, settling after each. */
export const advance = (
  transports: ReadonlyArray<Transport["Type"]>,
  total: Duration.DurationInput,
  step: Duration.DurationInput = "10 millis"
) =>
  Effect.gen(function* () {
    const steps = Math.ceil(Duration.toMillis(total) / Duration.toMillis(step))
    for (let i = 0; i < steps; i++) {
      yield* TestClock.adjust(step)
      yield* settle(transports)
    }
  })
