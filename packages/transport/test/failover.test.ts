import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, Stream, TestClock } from "effect"
import { Aead, MemoryNetwork, Transport, TransportSettings } from "../src/index.ts"
import { address, advance, key, settle, topology } from "./helpers.ts"

const env = (mode: TransportSettings.LinkMode, seed = 1) =>
  Layer.mergeAll(MemoryNetwork.layer(seed), TransportSettings.layer({ linkMode: mode }), Aead.layerWebCrypto)

const encode = (n: number) => new TextEncoder().encode(`m${n}`)
const decode = (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes).slice(1))

interface Logged {
  readonly at: number
  readonly event: Transport.TransportEvent
}

/** Two nodes (1 sends, 2 receives) with collectors for node 1's events and node 2's messages. */
const pair = (priorities: ReadonlyArray<number> = []) =>
  Effect.gen(function* () {
    const a = yield* Transport.make({ topology: topology(1, [2], 2, priorities), key })
    const b = yield* Transport.make({ topology: topology(2, [1], 2, priorities), key })
    const events: Array<Logged> = []
    const received: Array<number> = []
    yield* a.events.pipe(
      Stream.runForEach((event) =>
        Effect.map(Clock.currentTimeMillis, (at) => void events.push({ at, event }))
      ),
      Effect.forkScoped
    )
    yield* b.messages.pipe(
      Stream.runForEach((m) => Effect.sync(() => received.push(decode(m.bytes)))),
      Effect.forkScoped
    )
    yield* advance([a, b], "1 second")
    const network = yield* MemoryNetwork.MemoryNetwork
    return { a, b, events, received, network }
  })

/** Sends one numbered message every 10 ms for `millis`, recording when each was accepted. */
const sendFor = (
  transports: ReadonlyArray<Transport.Transport["Type"]>,
  sender: Transport.Transport["Type"],
  millis: number,
  sent: Array<{ n: number; at: number }>,
  refused: Array<number>
) =>
  Effect.gen(function* () {
    for (let i = 0; i < millis / 10; i++) {
      const n = sent.length + refused.length
      const at = yield* Clock.currentTimeMillis
      const accepted = yield* sender.send(2, encode(n)).pipe(
        Effect.as(true),
        Effect.catchTag("PeerUnreachable", () => Effect.succeed(false))
      )
      if (accepted) sent.push({ n, at })
      else refused.push(n)
      yield* TestClock.adjust("10 millis")
      yield* settle(transports)
    }
  })

describe("link failover on the in-memory network (TestClock)", () => {
  it.scoped("passive mode: uses the highest-priority link, fails over on a cut and back on restore", () =>
    Effect.gen(function* () {
      const { a, b, events, received, network } = yield* pair([5, 10])
      expect((yield* a.status)[0]).toMatchObject({
        reachable: true,
        links: [{ state: "up" }, { state: "up" }]
      })

      const sent: Array<{ n: number; at: number }> = []
      const refused: Array<number> = []
      yield* sendFor([a, b], a, 200, sent, refused)
      const before = yield* a.metrics
      // Link 1 has the higher priority: all data went there.
      expect(received.length).toBe(20)

      const cutAt = yield* Clock.currentTimeMillis
      yield* network.cut(address(2, 1))
      yield* sendFor([a, b], a, 1500, sent, refused)
      const down = events.find((e) => e.event._tag === "LinkEvent" && e.event.state === "down")
      expect(down?.event).toEqual({ _tag: "LinkEvent", peer: 2, link: 1, state: "down" })
      const detection = down!.at - cutAt
      expect(detection).toBeGreaterThan(0)
      expect(detection).toBeLessThanOrEqual(800 + 50)
      expect(refused).toEqual([])
      // Only messages sent on the dead link before it was declared down may be lost.
      const delivered = new Set(received)
      const lost = sent.filter((s) => !delivered.has(s.n))
      expect(lost.length).toBeGreaterThan(0)
      expect(lost.every((s) => s.at >= cutAt && s.at <= down!.at)).toBe(true)
      expect(sent.filter((s) => s.at > down!.at).every((s) => delivered.has(s.n))).toBe(true)

      const afterCut = yield* a.metrics
      expect(afterCut.peers[0]!.links[1]).toMatchObject({ state: "down", downs: 1 })
      expect(afterCut.peers[0]!.links[0]!.framesSent - before.peers[0]!.links[0]!.framesSent).toBeGreaterThan(
        (afterCut.peers[0]!.links[0]!.pingsSent - before.peers[0]!.links[0]!.pingsSent) * 2
      )

      yield* network.restore(address(2, 1))
      yield* advance([a, b], "1 second")
      expect(events.filter((e) => e.event._tag === "LinkEvent").map((e) => e.event)).toEqual([
        { _tag: "LinkEvent", peer: 2, link: 0, state: "up" },
        { _tag: "LinkEvent", peer: 2, link: 1, state: "up" },
        { _tag: "LinkEvent", peer: 2, link: 1, state: "down" },
        { _tag: "LinkEvent", peer: 2, link: 1, state: "up" }
      ])
      const restored = yield* a.metrics
      const countBefore = received.length
      yield* sendFor([a, b], a, 100, sent, refused)
      const final = yield* a.metrics
      // Back on link 1: link 0 carries only heartbeats again.
      const link0Data =
        final.peers[0]!.links[0]!.framesSent -
        restored.peers[0]!.links[0]!.framesSent -
        2 * (final.peers[0]!.links[0]!.pingsSent - restored.peers[0]!.links[0]!.pingsSent)
      expect(link0Data).toBeLessThanOrEqual(1)
      expect(received.length - countBefore).toBe(10)
    }).pipe(Effect.provide(env("passive")))
  )

  it.scoped("active mode: round-robin over both links, no loss after detection", () =>
    Effect.gen(function* () {
      const { a, b, events, received, network } = yield* pair()
      const sent: Array<{ n: number; at: number }> = []
      const refused: Array<number> = []
      yield* sendFor([a, b], a, 200, sent, refused)
      const links = (yield* a.metrics).peers[0]!.links
      // Both links carried data (frames beyond ping + pong on each).
      for (const l of links) expect(l.framesSent).toBeGreaterThan(2 * l.pingsSent + 5)
      const cutAt = yield* Clock.currentTimeMillis
      yield* network.cut(address(1, 0))
      yield* sendFor([a, b], a, 1200, sent, refused)
      const down = events.find((e) => e.event._tag === "LinkEvent" && e.event.state === "down")!
      expect(down.event).toMatchObject({ link: 0 })
      expect(down.at - cutAt).toBeLessThanOrEqual(850)
      const delivered = new Set(received)
      const lost = sent.filter((s) => !delivered.has(s.n))
      expect(lost.length).toBeGreaterThan(0)
      expect(lost.every((s) => s.at >= cutAt && s.at <= down.at)).toBe(true)
    }).pipe(Effect.provide(env("active")))
  )

  it.scoped("cutting every link makes the peer unreachable; restoring brings it back", () =>
    Effect.gen(function* () {
      const { a, b, events, received, network } = yield* pair()
      const cutAt = yield* Clock.currentTimeMillis
      yield* network.partition([
        [address(1, 0), address(1, 1)],
        [address(2, 0), address(2, 1)]
      ])
      yield* advance([a, b], "1 second")
      const unreachable = events.find((e) => e.event._tag === "PeerEvent" && e.event.state === "unreachable")
      expect(unreachable?.event).toEqual({ _tag: "PeerEvent", peer: 2, state: "unreachable" })
      expect(unreachable!.at - cutAt).toBeLessThanOrEqual(850)
      const error = yield* Effect.flip(a.send(2, encode(1)))
      expect(error._tag).toBe("PeerUnreachable")
      expect(yield* a.broadcast(encode(2))).toEqual([])

      yield* network.heal
      yield* advance([a, b], "1 second")
      expect(events.filter((e) => e.event._tag === "PeerEvent").map((e) => e.event)).toEqual([
        { _tag: "PeerEvent", peer: 2, state: "reachable" },
        { _tag: "PeerEvent", peer: 2, state: "unreachable" },
        { _tag: "PeerEvent", peer: 2, state: "reachable" }
      ])
      expect(yield* a.broadcast(encode(3))).toEqual([2])
      yield* settle([a, b])
      expect(received).toEqual([3])
    }).pipe(Effect.provide(env("passive")))
  )
})

describe("Transport.layerTest", () => {
  it.scoped("provides the Transport service on the shared in-memory network", () =>
    Effect.gen(function* () {
      const other = yield* Transport.make({ topology: topology(2, [1]), key })
      const self = yield* Transport.Transport
      const got = yield* other.messages.pipe(Stream.take(1), Stream.runCollect, Effect.fork)
      yield* advance([self, other], "1 second", "25 millis")
      expect(yield* self.broadcast(encode(42))).toEqual([2])
      yield* settle([self, other])
      const [message] = yield* got.await.pipe(Effect.flatten)
      expect(message?.from).toBe(1)
      expect(decode(message!.bytes)).toBe(42)
    }).pipe(
      Effect.provide(Transport.layerTest({ topology: topology(1, [2]), key })),
      Effect.provide(env("passive"))
    )
  )
})
