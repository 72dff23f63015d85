/**
 * Deno smoke run of the transport with WebCrypto: two nodes, two links each, exchange messages over
 * Deno.listenDatagram on 127.0.0.1, then over the in-memory network (the package without any I/O).
 * Run by test/deno.test.ts as
 * `deno run --unstable-net --allow-net --allow-read --allow-env test/deno/udpSmoke.ts PORT1 PORT2 PORT3 PORT4`.
 * Prints one JSON line with what happened.
 */
import { Chunk, Effect, Layer, Schedule, Stream } from "effect"
import type { Topology } from "../../src/index.ts"
import { Aead, MemoryNetwork, Transport, TransportSettings } from "../../src/index.ts"
import * as DenoUdp from "../../src/platform/DenoUdp.ts"
import { topology } from "../helpers.ts"

declare const Deno: { args: ReadonlyArray<string> }
const ports = Deno.args.map(Number)

const node = (id: number, peer: number): Topology.NodeTopology => {
  const endpoint = (n: number, link: number) => ({
    link,
    address: "127.0.0.1",
    port: ports[(n - 1) * 2 + link]!
  })
  return {
    clusterName: "deno",
    nodeId: id,
    links: [endpoint(id, 0), endpoint(id, 1)],
    peers: [{ nodeId: peer, links: [endpoint(peer, 0), endpoint(peer, 1)] }]
  }
}

const key = new Uint8Array(32).fill(9)

/** Two transports exchange nine small messages and one fragmented one over whatever network is provided. */
const exchange = (first: Topology.NodeTopology, second: Topology.NodeTopology) =>
  Effect.gen(function* () {
    const a = yield* Transport.make({ topology: first, key })
    const b = yield* Transport.make({ topology: second, key })
    // Both links up on both sides before the exchange, so the reported link states are settled.
    const allUp = (t: Transport.Transport["Type"]) =>
      t.status.pipe(
        Effect.flatMap((s) =>
          s[0]?.reachable && s[0].links.every((l) => l.state === "up")
            ? Effect.void
            : Effect.fail("links not up yet")
        ),
        Effect.retry(Schedule.spaced("20 millis")),
        Effect.timeout("20 seconds")
      )
    yield* allUp(a)
    yield* allUp(b)
    const received = yield* b.messages.pipe(Stream.take(10), Stream.runCollect, Effect.fork)
    for (let i = 0; i < 9; i++) yield* a.send(2, new TextEncoder().encode(`hello ${i}`))
    yield* a.send(2, new Uint8Array(5000).fill(1))
    const messages = Chunk.toArray(yield* received.await.pipe(Effect.flatten, Effect.timeout("20 seconds")))
    const status = yield* a.status
    return {
      texts: messages.slice(0, 9).map((m) => new TextDecoder().decode(m.bytes)),
      largeSize: messages[9]?.bytes.length,
      links: status[0]?.links.map((l) => l.state)
    }
  }).pipe(Effect.scoped)

const settings = Layer.mergeAll(TransportSettings.layerDefaults, Aead.layerWebCrypto)
const udp = await Effect.runPromise(
  exchange(node(1, 2), node(2, 1)).pipe(Effect.provide(Layer.mergeAll(DenoUdp.layer, settings)))
)
// The pure parts alone: the same exchange on the in-memory network (live clock, no sockets).
const memory = await Effect.runPromise(
  exchange(topology(1, [2]), topology(2, [1])).pipe(
    Effect.provide(Layer.mergeAll(MemoryNetwork.layer(1), settings))
  )
)
console.log(JSON.stringify({ runtime: "deno", udp, memory }))
