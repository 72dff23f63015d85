/**
 * Loopback UDP benchmark: two transports in one process, two links each (passive mode).
 * Prints one-way throughput (small and 64 KiB messages) and request/response latency.
 * Run: npm run bench -w @ha/transport
 */
import * as dgram from "node:dgram"
import { Deferred, Effect, Fiber, Layer, Queue, Schedule, Stream } from "effect"
import { ClusterKey, type Topology, Transport, TransportSettings } from "../src/index.ts"
import * as NodeCrypto from "../src/platform/NodeCrypto.ts"
import * as NodeUdp from "../src/platform/NodeUdp.ts"

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

const topology = (id: number, peer: number, ports: ReadonlyArray<number>): Topology.NodeTopology => {
  const endpoint = (n: number, link: number) => ({
    link,
    address: "127.0.0.1",
    port: ports[(n - 1) * 2 + link]!
  })
  return {
    clusterName: "bench",
    nodeId: id,
    links: [endpoint(id, 0), endpoint(id, 1)],
    peers: [{ nodeId: peer, links: [endpoint(peer, 0), endpoint(peer, 1)] }]
  }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN

/** Sends `count` messages of `size` bytes in windows of `window`, waiting for each window to arrive. */
const oneWay = (
  a: Transport.Transport["Type"],
  b: Transport.Transport["Type"],
  count: number,
  size: number,
  window: number
) =>
  Effect.gen(function* () {
    let delivered = 0
    let target = 0
    let arrived = yield* Deferred.make<void>()
    const reader = yield* b.messages.pipe(
      Stream.runForEach(() => {
        delivered++
        return delivered >= target ? Deferred.succeed(arrived, undefined) : Effect.void
      }),
      Effect.fork
    )
    const payload = new Uint8Array(size).fill(7)
    const start = performance.now()
    for (let sent = 0; sent < count; sent += window) {
      const batch = Math.min(window, count - sent)
      arrived = yield* Deferred.make<void>()
      target = sent + batch
      for (let i = 0; i < batch; i++) yield* a.send(2, payload)
      // A datagram lost under load ends the wait for its window after 200 ms.
      if (delivered < target) yield* Deferred.await(arrived).pipe(Effect.timeout("200 millis"), Effect.ignore)
    }
    const seconds = (performance.now() - start) / 1000
    yield* Fiber.interrupt(reader)
    return { seconds, delivered }
  })

const program = Effect.gen(function* () {
  const ports = yield* freePorts(4)
  const key = yield* ClusterKey.generateKey()
  const a = yield* Transport.make({ topology: topology(1, 2, ports), key })
  const b = yield* Transport.make({ topology: topology(2, 1, ports), key })
  yield* a.status.pipe(
    Effect.flatMap((s) => (s[0]?.reachable ? Effect.void : Effect.fail("not yet"))),
    Effect.retry(Schedule.spaced("20 millis"))
  )
  yield* b.status.pipe(
    Effect.flatMap((s) => (s[0]?.reachable ? Effect.void : Effect.fail("not yet"))),
    Effect.retry(Schedule.spaced("20 millis"))
  )

  const small = yield* oneWay(a, b, 30_000, 100, 64)
  console.log(
    `one-way 100 B: ${Math.round(small.delivered / small.seconds)} msg/s (${small.delivered}/30000 delivered in ${small.seconds.toFixed(2)} s)`
  )
  const large = yield* oneWay(a, b, 400, 64 * 1024, 2)
  console.log(
    `one-way 64 KiB: ${Math.round(large.delivered / large.seconds)} msg/s, ${((large.delivered * 64) / 1024 / large.seconds).toFixed(1)} MiB/s (${large.delivered}/400 delivered)`
  )

  // Request/response latency: b echoes every message back to a.
  yield* b.messages.pipe(
    Stream.runForEach((m) => b.send(m.from, m.bytes).pipe(Effect.ignore)),
    Effect.fork
  )
  const replies = yield* Queue.unbounded<void>()
  yield* a.messages.pipe(
    Stream.runForEach(() => Queue.offer(replies, undefined)),
    Effect.fork
  )
  const rtts: Array<number> = []
  const payload = new Uint8Array(100)
  for (let i = 0; i < 3000; i++) {
    const start = performance.now()
    yield* a.send(2, payload)
    const done = yield* Deferred.make<void>()
    yield* Queue.take(replies).pipe(
      Effect.timeout("500 millis"),
      Effect.ignore,
      Effect.zipRight(Deferred.succeed(done, undefined))
    )
    rtts.push(performance.now() - start)
  }
  rtts.sort((x, y) => x - y)
  console.log(
    `round trip 100 B: median ${percentile(rtts, 50).toFixed(3)} ms, p99 ${percentile(rtts, 99).toFixed(3)} ms (${rtts.length} trips)`
  )
  const metrics = yield* a.metrics
  const link = metrics.peers[0]!.links[0]!
  console.log(`link 0 heartbeat: srtt ${link.srtt?.toFixed(2)} ms, loss ${(link.loss * 100).toFixed(1)} %`)
  console.log(
    `transport: ${Math.round(small.delivered / small.seconds)} msg/s (100 B), ${((large.delivered * 64) / 1024 / large.seconds).toFixed(1)} MiB/s (64 KiB), rtt median ${percentile(rtts, 50).toFixed(3)} ms p99 ${percentile(rtts, 99).toFixed(3)} ms`
  )
})

Effect.runPromise(
  program.pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(NodeUdp.layer, TransportSettings.layerDefaults, NodeCrypto.layer))
  )
).catch((error) => {
  console.error(error)
  process.exit(1)
})
