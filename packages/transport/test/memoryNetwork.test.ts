import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Queue, Stream, TestClock } from "effect"
import { Aead, Datagram, MemoryNetwork, Transport, TransportSettings } from "../src/index.ts"
import { address, advance, key, settle, topology } from "./helpers.ts"

const endpoint = (node: number) => ({ address: address(node, 0), port: 5405 })

/** Two raw sockets on a network with `seed`; sends `count` one-byte-numbered datagrams from 1 to 2. */
const exchange = (conditions: Partial<MemoryNetwork.Conditions>, count: number, seed = 7) =>
  Effect.gen(function* () {
    const control = yield* MemoryNetwork.MemoryNetwork
    const network = yield* Datagram.DatagramNetwork
    const one = yield* network.bind(endpoint(1))
    const two = yield* network.bind(endpoint(2))
    yield* control.setConditions(conditions)
    for (let i = 0; i < count; i++) {
      yield* one.send(Uint8Array.of(i >> 8, i & 0xff), endpoint(2))
    }
    yield* TestClock.adjust("1 second")
    const received: Array<number> = []
    while ((yield* control.queued) > 0) {
      for (const datagram of yield* two.receive) received.push((datagram.bytes[0]! << 8) | datagram.bytes[1]!)
    }
    return { received, stats: yield* control.stats }
  }).pipe(Effect.scoped, Effect.provide(MemoryNetwork.layer(seed)))

describe("MemoryNetwork", () => {
  it.scoped("delays delivery on the TestClock, with jitter within bounds", () =>
    Effect.gen(function* () {
      const control = yield* MemoryNetwork.MemoryNetwork
      const network = yield* Datagram.DatagramNetwork
      const one = yield* network.bind(endpoint(1))
      const two = yield* network.bind(endpoint(2))
      yield* control.setConditions({ delay: 100, jitter: 20 })
      for (let i = 0; i < 50; i++) yield* one.send(Uint8Array.of(i), endpoint(2))
      yield* TestClock.adjust("99 millis")
      expect(yield* control.queued).toBe(0)
      yield* TestClock.adjust("21 millis")
      expect(yield* control.queued).toBe(50)
      const batch = yield* two.receive
      expect(batch.map((d) => d.from)).toEqual(Array.from({ length: 50 }, () => endpoint(1)))
    }).pipe(Effect.provide(MemoryNetwork.layer(1)))
  )

  it.effect("loses, duplicates and reorders as configured, the same way for the same seed", () =>
    Effect.gen(function* () {
      const lossy = yield* exchange({ loss: 0.3 }, 1000)
      expect(lossy.stats.lost).toBeGreaterThan(200)
      expect(lossy.stats.lost).toBeLessThan(400)
      expect(lossy.received.length).toBe(1000 - lossy.stats.lost)
      expect((yield* exchange({ loss: 0.3 }, 1000)).received).toEqual(lossy.received)
      expect((yield* exchange({ loss: 0.3 }, 1000, 8)).received).not.toEqual(lossy.received)

      const doubled = yield* exchange({ duplicate: 0.5 }, 1000)
      expect(doubled.stats.duplicated).toBeGreaterThan(400)
      expect(doubled.received.length).toBe(1000 + doubled.stats.duplicated)
      expect(new Set(doubled.received).size).toBe(1000)

      const shuffled = yield* exchange({ reorder: 0.5, reorderWindow: 20, delay: 1 }, 1000)
      expect([...shuffled.received].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i))
      expect(shuffled.received).not.toEqual(Array.from({ length: 1000 }, (_, i) => i))
    })
  )

  it.scoped("partitions block traffic between groups only; heal lifts every fault", () =>
    Effect.gen(function* () {
      const control = yield* MemoryNetwork.MemoryNetwork
      const network = yield* Datagram.DatagramNetwork
      const sockets = yield* Effect.forEach([1, 2, 3], (n) => network.bind(endpoint(n)))
      const [one, two, three] = sockets as [Datagram.DatagramSocket, ...Array<Datagram.DatagramSocket>]
      yield* control.partition([[address(1, 0)], [address(2, 0), address(3, 0)]])
      yield* one.send(Uint8Array.of(1), endpoint(2))
      yield* two!.send(Uint8Array.of(2), endpoint(3))
      yield* three!.send(Uint8Array.of(3), endpoint(1))
      expect(yield* control.queued).toBe(1)
      expect((yield* three!.receive).map((d) => d.bytes[0])).toEqual([2])
      yield* control.heal
      yield* one.send(Uint8Array.of(4), endpoint(2))
      expect((yield* two!.receive).map((d) => d.bytes[0])).toEqual([4])
      expect((yield* control.stats).blocked).toBe(2)
    }).pipe(Effect.provide(MemoryNetwork.layer(1)))
  )
})

describe("the transport over a duplicating, reordering, lossy in-memory network", () => {
  it.scoped("delivers each message at most once, and all of them when nothing is lost", () =>
    Effect.gen(function* () {
      const control = yield* MemoryNetwork.MemoryNetwork
      const a = yield* Transport.make({ topology: topology(1, [2]), key })
      const b = yield* Transport.make({ topology: topology(2, [1]), key })
      const received = yield* Queue.unbounded<string>()
      yield* b.messages.pipe(
        Stream.runForEach((m) => Queue.offer(received, new TextDecoder().decode(m.bytes))),
        Effect.forkScoped
      )
      yield* advance([a, b], "1 second", "25 millis")
      const big = "x".repeat(5000)
      const sendAll = (tag: string) =>
        Effect.gen(function* () {
          for (let i = 0; i < 100; i++) {
            // Under loss a link may be judged down for a moment; such a refusal is not a delivery.
            yield* a
              .send(2, new TextEncoder().encode(i % 25 === 0 ? `${tag}${i}${big}` : `${tag}${i}`))
              .pipe(Effect.catchTag("PeerUnreachable", () => Effect.void))
            yield* advance([a, b], "5 millis", "5 millis")
          }
          yield* advance([a, b], "100 millis")
          return Chunk.toArray(yield* Queue.takeAll(received)).map((m) => m.replace(/x+$/, ""))
        })

      yield* control.setConditions({ duplicate: 0.3, reorder: 0.5, reorderWindow: 30, delay: 2, jitter: 3 })
      const clean = yield* sendAll("d")
      const expected = Array.from({ length: 100 }, (_, i) => `d${i}`)
      expect([...clean].sort()).toEqual([...expected].sort())
      expect(clean).not.toEqual(expected)
      const afterDuplicates = yield* b.metrics
      expect(afterDuplicates.dropped.replay).toBeGreaterThan(20)

      yield* control.setConditions({ loss: 0.1 })
      const lossy = yield* sendAll("l")
      expect(new Set(lossy).size).toBe(lossy.length)
      expect(lossy.every((m) => /^l\d+$/.test(m))).toBe(true)
      expect(lossy.length).toBeLessThan(100)
      expect(lossy.length).toBeGreaterThan(50)
      // Heavy loss for 2 s (≈ 10 pings per link): the per-link metrics show unanswered pings.
      yield* control.setConditions({ loss: 0.5 })
      yield* advance([a, b], "2 seconds", "25 millis")
      for (const link of (yield* a.metrics).peers[0]!.links) expect(link.loss).toBeGreaterThan(0)
      yield* settle([a, b])
    }).pipe(
      Effect.provide(
        Layer.mergeAll(MemoryNetwork.layer(11), TransportSettings.layerDefaults, Aead.layerWebCrypto)
      )
    )
  )
})
