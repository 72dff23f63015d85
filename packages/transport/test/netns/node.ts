/**
 * One cluster node for test/netns.test.ts, started inside its network namespace as
 * `node --import tsx test/netns/node.ts '<json>'` with `{ topology, key (hex) }`.
 * Writes one JSON line per happening to stdout (`ready`, `event`, `message`, `reached`, `status`) and
 * reads one JSON command per line from stdin (`broadcast`, `status`). Exits when stdin closes, so a
 * node never outlives the test that started it.
 */
import { createInterface } from "node:readline"
import { Effect, Layer, Stream } from "effect"
import { type Topology, Transport, TransportSettings } from "../../src/index.ts"
import * as NodeCrypto from "../../src/platform/NodeCrypto.ts"
import * as NodeUdp from "../../src/platform/NodeUdp.ts"

interface Options {
  readonly topology: Topology.NodeTopology
  readonly key: string
}

type Command = { readonly cmd: "broadcast"; readonly text: string } | { readonly cmd: "status" }

const options: Options = JSON.parse(process.argv[2] ?? "{}")
const key = Uint8Array.from(options.key.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16))
const emit = (line: object) => Effect.sync(() => process.stdout.write(`${JSON.stringify(line)}\n`))

const commands = Stream.fromAsyncIterable(
  createInterface({ input: process.stdin }),
  (error) => new Error(String(error))
).pipe(
  Stream.filter((line) => line.trim() !== ""),
  Stream.map((line): Command => JSON.parse(line))
)

const program = Effect.gen(function* () {
  const transport = yield* Transport.make({ topology: options.topology, key })
  yield* transport.events.pipe(
    Stream.runForEach((event) => emit({ type: "event", at: Date.now(), event })),
    Effect.forkScoped
  )
  yield* transport.messages.pipe(
    Stream.runForEach((m) =>
      emit({ type: "message", from: m.from, text: new TextDecoder().decode(m.bytes) })
    ),
    Effect.forkScoped
  )
  yield* emit({ type: "ready" })
  yield* commands.pipe(
    Stream.runForEach((command) => {
      switch (command.cmd) {
        case "broadcast":
          return Effect.flatMap(transport.broadcast(new TextEncoder().encode(command.text)), (peers) =>
            emit({ type: "reached", text: command.text, peers })
          )
        case "status":
          return Effect.flatMap(transport.status, (status) => emit({ type: "status", status }))
      }
    })
  )
})

Effect.runPromise(
  program.pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(NodeUdp.layer, NodeCrypto.layer, TransportSettings.layerDefaults))
  )
).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)
