/**
 * Loopback UDP benchmark: two transports in one process, two links each (passive mode).
 * Prints one-way throughput (small and 64 KiB messages), request/response latency and the time to
 * detect a dead link with the default settings; the last line sums them up.
 * Run: npm run bench -w @ha/transport
 */
import * as dgram from "node:dgram"
import { Deferred, Effect, Fiber, Layer, Queue, Schedule, Stream } from "effect"
import { ClusterKey, Datagram, type Topology, Transport, TransportSettings } from "../src/index.ts"
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

/** Node `id` and its peer on `links` loopback links; `ports` holds node 1's ports, then node 2's. */
const topology = (
  id: number,
  peer: number,
  ports: ReadonlyArray<number>,
  links = 2
): Topology.NodeTopology => {
  const endpoint = (n: number, link: number) => ({
    link,
    address: "127.0.0.1",
    port: ports[(n - 1) * links + link]!
  })
  const all = (n: number) => Array.from({ length: links }, (_, link) => endpoint(n, link))
  return {
    clusterName: "bench",
    nodeId: id,
    links: all(id),
    peers: [{ nodeId: peer, links: all(peer) }]
  }
}

const allLinksUp = (t: Transport.Transport["Type"]) =>
  t.status.pipe(
    Effect.flatMap((s) =>
      s[0]?.reachable && s[0].links.every((l) => l.state === "up") ? Effect.void : Effect.fail("not yet")
    ),
    Effect.retry(Schedule.spaced("20 millis"))
  )

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
    const cpuBefore = process.cpuUsage()
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
    const cpu = process.cpuUsage(cpuBefore)
    yield* Fiber.interrupt(reader)
    // CPU time per message (both ends) is what a busy machine cannot distort much.
    return { seconds, delivered, cpuPerMessage: (cpu.user + cpu.system) / Math.max(1, delivered) }
  })

// Sized to finish in well under a minute on a busy 2-core machine.
const SMALL = 10_000
const LARGE = 100
const TRIPS = 1000
const LINKS = 8
const ROUNDS = 3

/**
 * Time from silencing one link (node 2's socket on it) to node 1's `LinkEvent` down, on a pair with 8
 * loopback links: each round cuts every link at a random moment within one ping interval (so the cut
 * falls at every phase of the heartbeat), waits for all to be reported, then restores them.
 */
const detectLinkDown = Effect.gen(function* () {
  const ports = yield* freePorts(2 * LINKS)
  const key = yield* ClusterKey.generateKey()
  const faults = yield* Datagram.DatagramFaults
  const a = yield* Transport.make({ topology: topology(1, 2, ports, LINKS), key })
  const b = yield* Transport.make({ topology: topology(2, 1, ports, LINKS), key })
  const downs = yield* Queue.unbounded<{ link: number; at: number }>()
  yield* a.events.pipe(
    Stream.runForEach((e) =>
      e._tag === "LinkEvent" && e.state === "down"
        ? Queue.offer(downs, { link: e.link, at: performance.now() })
        : Effect.void
    ),
    Effect.forkScoped
  )
  const detection: Array<number> = []
  for (let round = 0; round < ROUNDS; round++) {
    yield* allLinksUp(a)
    yield* allLinksUp(b)
    const cutAt = new Map<number, number>()
    yield* Effect.forEach(
      Array.from({ length: LINKS }, (_, link) => link),
      (link) =>
        Effect.sleep(`${Math.floor(Math.random() * 200)} millis`).pipe(
          Effect.zipRight(faults.cut({ address: "127.0.0.1", port: ports[LINKS + link]! })),
          Effect.zipRight(Effect.sync(() => cutAt.set(link, performance.now())))
        ),
      { concurrency: "unbounded", discard: true }
    )
    for (let reported = 0; reported < LINKS; ) {
      const down = yield* Queue.take(downs)
      const at = cutAt.get(down.link)
      // A link reported down before its cut (a starved process) is no detection sample.
      if (at === undefined || down.at < at) continue
      detection.push(down.at - at)
      reported++
    }
    for (let link = 0; link < LINKS; link++) {
      yield* faults.restore({ address: "127.0.0.1", port: ports[LINKS + link]! })
    }
  }
  return detection.sort((x, y) => x - y)
}).pipe(Effect.scoped, Effect.provide(Datagram.layerFaults.pipe(Layer.provide(NodeUdp.layer))))

const program = Effect.gen(function* () {
  const ports = yield* freePorts(4)
  const key = yield* ClusterKey.generateKey()
  const a = yield* Transport.make({ topology: topology(1, 2, ports), key })
  const b = yield* Transport.make({ topology: topology(2, 1, ports), key })
  yield* allLinksUp(a)
  yield* allLinksUp(b)

  const small = yield* oneWay(a, b, SMALL, 100, 64)
  console.log(
    `one-way 100 B: ${Math.round(small.delivered / small.seconds)} msg/s (${small.delivered}/${SMALL} delivered in ${small.seconds.toFixed(2)} s, ${small.cpuPerMessage.toFixed(0)} µs CPU per message)`
  )
  const large = yield* oneWay(a, b, LARGE, 64 * 1024, 2)
  console.log(
    `one-way 64 KiB: ${Math.round(large.delivered / large.seconds)} msg/s, ${((large.delivered * 64) / 1024 / large.seconds).toFixed(1)} MiB/s (${large.delivered}/${LARGE} delivered)`
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
  for (let i = 0; i < TRIPS; i++) {
    const start = performance.now()
    yield* a.send(2, payload)
    yield* Queue.take(replies).pipe(Effect.timeout("500 millis"), Effect.ignore)
    rtts.push(performance.now() - start)
  }
  rtts.sort((x, y) => x - y)
  console.log(
    `round trip 100 B: median ${percentile(rtts, 50).toFixed(3)} ms, p99 ${percentile(rtts, 99).toFixed(3)} ms (${rtts.length} trips)`
  )
  const metrics = yield* a.metrics
  const link = metrics.peers[0]!.links[0]!
  console.log(`link 0 heartbeat: srtt ${link.srtt?.toFixed(2)} ms, loss ${(link.loss * 100).toFixed(1)} %`)
  const detection = yield* detectLinkDown
  const median = percentile(detection, 50).toFixed(0)
  const p99 = percentile(detection, 99).toFixed(0)
  console.log(
    `link down detected (default settings): median ${median} ms, p99 ${p99} ms (${detection.length} trials)`
  )
  console.log(
    `transport: ${Math.round(small.delivered / small.seconds)} msg/s (100 B, ${small.cpuPerMessage.toFixed(0)} µs CPU each), ${((large.delivered * 64) / 1024 / large.seconds).toFixed(1)} MiB/s (64 KiB), rtt median ${percentile(rtts, 50).toFixed(3)} ms p99 ${percentile(rtts, 99).toFixed(3)} ms; link down detect median ${median} ms, p99 ${p99} ms`
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
