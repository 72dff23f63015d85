import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope, Stream } from "effect"
import * as fc from "fast-check"
import { Aead, MemoryNetwork, Transport, TransportSettings } from "../src/index.ts"
import * as NodeCrypto from "../src/platform/NodeCrypto.ts"
import { address, advance, key, settle, topology } from "./helpers.ts"

const engines = [
  ["WebCrypto", Aead.layerWebCrypto],
  ["node:crypto", NodeCrypto.layer]
] as const
const text = (s: string) => new TextEncoder().encode(s)
const endpoint = (node: number, link: number) => ({ address: address(node, link), port: 5405 })
const totalDrops = (metrics: Transport.Metrics) =>
  Object.values(metrics.dropped).reduce((sum, n) => sum + (n ?? 0), 0)

const setup = Effect.gen(function* () {
  const network = yield* MemoryNetwork.MemoryNetwork
  const senderScope = yield* Scope.make()
  const a = yield* Transport.make({ topology: topology(1, [2]), key }).pipe(Scope.extend(senderScope))
  const b = yield* Transport.make({ topology: topology(2, [1]), key })
  const received: Array<string> = []
  const events: Array<Transport.TransportEvent> = []
  yield* b.messages.pipe(
    Stream.runForEach((m) =>
      Effect.sync(() => received.push(`${m.from}:${new TextDecoder().decode(m.bytes)}`))
    ),
    Effect.forkScoped
  )
  yield* b.events.pipe(
    Stream.runForEach((e) => Effect.sync(() => events.push(e))),
    Effect.forkScoped
  )
  yield* advance([a, b], "1 second", "25 millis")
  // Capture one genuine data packet from 1 to 2.
  yield* network.record(true)
  yield* a.send(2, text("genuine"))
  yield* settle([a, b])
  yield* network.record(false)
  const captured = (yield* network.recorded).find((r) => r.to.address === address(2, 0) && r.bytes[1] === 3)
  expect(captured).toBeDefined()
  expect(received).toEqual(["1:genuine"])
  return { network, a, b, received, events, senderScope, packet: captured!.bytes }
})

describe.each(engines)("packet authentication and replay protection (%s)", (_name, aead) => {
  const env = Layer.mergeAll(MemoryNetwork.layer(3), TransportSettings.layerDefaults, aead)

  it.scoped("a packet with any single byte altered is dropped and counted", () =>
    Effect.gen(function* () {
      const { network, a, b, received, packet } = yield* setup
      const dropsBefore = totalDrops(yield* b.metrics)
      for (let i = 0; i < packet.length; i++) {
        for (const mask of [0x01, 0x80]) {
          const forged = packet.slice()
          forged[i] = forged[i]! ^ mask
          yield* network.inject(endpoint(1, 0), endpoint(2, 0), forged)
        }
      }
      yield* settle([a, b])
      const metrics = yield* b.metrics
      expect(totalDrops(metrics) - dropsBefore).toBe(packet.length * 2)
      expect(metrics.dropped["auth-failed"]).toBeGreaterThan(0)
      expect(received).toEqual(["1:genuine"])
    }).pipe(Effect.provide(env))
  )

  it.scoped("a replayed packet is dropped as replay", () =>
    Effect.gen(function* () {
      const { network, a, b, received, packet } = yield* setup
      for (let i = 0; i < 3; i++) yield* network.inject(endpoint(1, 0), endpoint(2, 0), packet)
      yield* settle([a, b])
      const metrics = yield* b.metrics
      expect(metrics.dropped.replay).toBe(3)
      expect(metrics.localLinks.find((l) => l.link === 0)?.dropped.replay).toBe(3)
      expect(received).toEqual(["1:genuine"])
    }).pipe(Effect.provide(env))
  )

  it.scoped(
    "truncated, oversized and garbage datagrams are dropped and counted; the transport keeps working",
    () =>
      Effect.gen(function* () {
        const { network, a, b, received, packet } = yield* setup
        yield* network.inject(endpoint(1, 0), endpoint(2, 0), packet.slice(0, 40))
        yield* network.inject(endpoint(1, 0), endpoint(2, 0), new Uint8Array(0))
        yield* network.inject(endpoint(1, 0), endpoint(2, 0), new Uint8Array(36 + 1400 + 16 + 1))
        yield* settle([a, b])
        let metrics = yield* b.metrics
        expect(metrics.dropped.truncated).toBe(2)
        expect(metrics.dropped.oversized).toBe(1)

        const before = totalDrops(metrics)
        const garbage = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 2000 }), {
          seed: 42,
          numRuns: 300
        })
        for (const bytes of garbage) yield* network.inject(endpoint(1, 1), endpoint(2, 1), bytes)
        yield* settle([a, b])
        metrics = yield* b.metrics
        expect(totalDrops(metrics) - before).toBe(garbage.length)

        yield* a.send(2, text("still working"))
        yield* settle([a, b])
        expect(received).toEqual(["1:genuine", "1:still working"])
      }).pipe(Effect.provide(env))
  )

  it.scoped("a packet sealed with another key or for another cluster is dropped", () =>
    Effect.gen(function* () {
      const { a, b } = yield* setup
      const otherKey = key.map((x) => x ^ 0xff)
      const intruderScope = yield* Scope.make()
      // An intruder with the wrong key claims to be node 1 and pings node 2 on link 0.
      const intruder = yield* Transport.make({
        topology: { ...topology(1, [2], 1), links: [{ link: 0, address: "10.9.0.1", port: 5405 }] },
        key: otherKey
      }).pipe(Scope.extend(intruderScope))
      yield* advance([a, b, intruder], "300 millis", "25 millis")
      const metrics = yield* b.metrics
      expect(metrics.dropped["auth-failed"]).toBeGreaterThan(0)
      expect((yield* intruder.status)[0]?.reachable).toBe(false)
      yield* Scope.close(intruderScope, Exit.void)
    }).pipe(Effect.provide(env))
  )

  it.scoped("a restarted sender (new incarnation) is accepted; its old packets are not", () =>
    Effect.gen(function* () {
      const { network, b, received, events, senderScope, packet } = yield* setup
      yield* Scope.close(senderScope, Exit.void)
      const restarted = yield* Transport.make({ topology: topology(1, [2]), key })
      yield* advance([restarted, b], "1 second", "25 millis")
      expect(events).toContainEqual({ _tag: "PeerEvent", peer: 1, state: "restarted" })
      yield* restarted.send(2, text("after restart"))
      yield* network.inject(endpoint(1, 0), endpoint(2, 0), packet)
      yield* settle([restarted, b])
      expect(received).toEqual(["1:genuine", "1:after restart"])
      expect((yield* b.metrics).dropped["stale-incarnation"]).toBe(1)
    }).pipe(Effect.provide(env))
  )
})
