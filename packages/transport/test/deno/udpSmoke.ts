/**
 * Deno smoke run of the transport over Deno.listenDatagram with WebCrypto: two nodes, two links each on
 * 127.0.0.1, exchange messages. Run by test/deno.test.ts as
 * `deno run --unstable-net --allow-net test/deno/udpSmoke.ts PORT1 PORT2 PORT3 PORT4`.
 * Prints one JSON line with what happened.
 */
import { Chunk, Effect, Layer, Schedule, Stream } from "effect"
import type { Topology } from "../../src/index.ts"
import { Aead, Transport, TransportSettings } from "../../src/index.ts"
import * as DenoUdp from "../../src/platform/DenoUdp.ts"

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

const program = Effect.gen(function* () {
  const a = yield* Transport.make({ topology: node(1, 2), key })
  const b = yield* Transport.make({ topology: node(2, 1), key })
  yield* a.status.pipe(
    Effect.flatMap((s) => (s[0]?.reachable ? Effect.void : Effect.fail("not reachable yet"))),
    Effect.retry(Schedule.spaced("20 millis")),
    Effect.timeout("10 seconds")
  )
  const received = yield* b.messages.pipe(Stream.take(10), Stream.runCollect, Effect.fork)
  for (let i = 0; i < 9; i++) yield* a.send(2, new TextEncoder().encode(`hello ${i}`))
  yield* a.send(2, new Uint8Array(5000).fill(1))
  const messages = Chunk.toArray(yield* received.await.pipe(Effect.flatten, Effect.timeout("10 seconds")))
  const status = yield* a.status
  return {
    runtime: "deno",
    texts: messages.slice(0, 9).map((m) => new TextDecoder().decode(m.bytes)),
    largeSize: messages[9]?.bytes.length,
    links: status[0]?.links.map((l) => l.state)
  }
})

const result = await Effect.runPromise(
  program.pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(DenoUdp.layer, TransportSettings.layerDefaults, Aead.layerWebCrypto))
  )
)
console.log(JSON.stringify(result))
