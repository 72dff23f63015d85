import * as dgram from "node:dgram"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Schedule, Stream } from "effect"
import type { Topology } from "../src/index.ts"
import { Aead, Datagram, Transport, TransportSettings } from "../src/index.ts"
import * as NodeCrypto from "../src/platform/NodeCrypto.ts"
import * as NodeUdp from "../src/platform/NodeUdp.ts"
import { key } from "./helpers.ts"

/** Ports the system hands out free right now (a tiny race with other processes is acceptable here). */
const freePorts = (count: number) =>
  Effect.promise(async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<dgram.Socket>((resolve) => {
            const socket = dgram.createSocket("udp4")
            socket.bind(0, "127.0.0.1", () => resolve(socket))
          })
      )
    )
    const ports = sockets.map((s) => s.address().port)
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    return ports
  })

const node = (id: number, peer: number, ports: Map<string, number>): Topology.NodeTopology => {
  const endpoint = (n: number, link: number) => ({
    link,
    address: "127.0.0.1",
    port: ports.get(`${n}/${link}`)!
  })
  return {
    clusterName: "udp-test",
    nodeId: id,
    links: [endpoint(id, 0), endpoint(id, 1)],
    peers: [{ nodeId: peer, links: [endpoint(peer, 0), endpoint(peer, 1)] }]
  }
}

const env = Layer.mergeAll(
  Datagram.layerFaults.pipe(Layer.provide(NodeUdp.layer)),
  TransportSettings.layerDefaults
)

const waitFor = <A>(what: string, check: Effect.Effect<A | undefined>) =>
  check.pipe(
    Effect.flatMap((a) => (a === undefined ? Effect.fail(`waiting for ${what}`) : Effect.succeed(a))),
    Effect.retry(Schedule.spaced("25 millis")),
    Effect.timeoutFail({
      duration: "10 seconds",
      onTimeout: () => new Error(`timed out waiting for ${what}`)
    })
  )

const text = (s: string) => new TextEncoder().encode(s)

describe("real UDP on 127.0.0.1 (two transports, two links each)", () => {
  it.live(
    "exchanges messages, fails over when one link's socket goes silent, and recovers",
    () =>
      Effect.gen(function* () {
        const [p1, p2, p3, p4] = yield* freePorts(4)
        const ports = new Map([
          ["1/0", p1!],
          ["1/1", p2!],
          ["2/0", p3!],
          ["2/1", p4!]
        ])
        const faults = yield* Datagram.DatagramFaults
        // Node 1 seals with node:crypto, node 2 with WebCrypto: the two engines interoperate.
        const a = yield* Transport.make({ topology: node(1, 2, ports), key }).pipe(
          Effect.provide(NodeCrypto.layer)
        )
        const b = yield* Transport.make({ topology: node(2, 1, ports), key }).pipe(
          Effect.provide(Aead.layerWebCrypto)
        )
        const bothUp = (t: Transport.Transport["Type"]) =>
          Effect.map(t.status, (s) =>
            s[0]?.reachable && s[0].links.every((l) => l.state === "up") ? true : undefined
          )
        yield* waitFor("both links up on node 1", bothUp(a))
        yield* waitFor("both links up on node 2", bothUp(b))

        const receive = (t: Transport.Transport["Type"], count: number) =>
          t.messages.pipe(
            Stream.take(count),
            Stream.map((m) => `${m.from}:${new TextDecoder().decode(m.bytes)}`),
            Stream.runCollect,
            Effect.map(Chunk.toArray),
            Effect.timeoutFail({
              duration: "10 seconds",
              onTimeout: () => new Error("messages did not arrive")
            }),
            Effect.fork
          )
        const atB = yield* receive(b, 20)
        const atA = yield* receive(a, 20)
        for (let i = 0; i < 20; i++) {
          yield* a.send(2, text(`a${i}`))
          yield* b.send(1, text(`b${i}`))
        }
        expect(yield* atB.await.pipe(Effect.flatten)).toEqual(Array.from({ length: 20 }, (_, i) => `1:a${i}`))
        expect(yield* atA.await.pipe(Effect.flatten)).toEqual(Array.from({ length: 20 }, (_, i) => `2:b${i}`))
        // A message larger than the MTU crosses real UDP in fragments.
        const big = Uint8Array.from({ length: 100_000 }, (_, i) => i & 0xff)
        const bigAtB = yield* b.messages.pipe(Stream.take(1), Stream.runCollect, Effect.fork)
        yield* a.send(2, big)
        expect(Chunk.toArray(yield* bigAtB.await.pipe(Effect.flatten))[0]?.bytes).toEqual(big)

        // Passive mode prefers link 0 (equal priorities): silence node 2's link-0 socket.
        const downEvent = yield* a.events.pipe(
          Stream.filter((e) => e._tag === "LinkEvent" && e.state === "down"),
          Stream.take(1),
          Stream.runCollect,
          Effect.fork
        )
        yield* Effect.yieldNow()
        yield* faults.cut({ address: "127.0.0.1", port: p3! })
        expect(Chunk.toArray(yield* downEvent.await.pipe(Effect.flatten))).toEqual([
          { _tag: "LinkEvent", peer: 2, link: 0, state: "down" }
        ])
        const link1Before = (yield* a.metrics).peers[0]!.links[1]!.framesSent
        const afterCut = yield* receive(b, 20)
        for (let i = 0; i < 20; i++) yield* a.send(2, text(`c${i}`))
        expect(yield* afterCut.await.pipe(Effect.flatten)).toEqual(
          Array.from({ length: 20 }, (_, i) => `1:c${i}`)
        )
        expect((yield* a.metrics).peers[0]!.links[1]!.framesSent - link1Before).toBeGreaterThanOrEqual(20)

        yield* faults.restore({ address: "127.0.0.1", port: p3! })
        yield* waitFor("link 0 back up", bothUp(a))
        const metrics = yield* a.metrics
        expect(metrics.peers[0]!.links[0]).toMatchObject({ state: "up", ups: 2, downs: 1 })
        expect(metrics.peers[0]!.links[0]!.rtt).toBeGreaterThanOrEqual(0)
      }).pipe(Effect.scoped, Effect.provide(env)),
    30_000
  )
})
