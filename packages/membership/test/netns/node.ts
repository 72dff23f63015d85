/**
 * One cluster node for test/netns.test.ts, started inside its network namespace as
 * `node --conditions=source --import tsx test/netns/node.ts '<json>'` with `{ topology, key (hex) }`.
 * Writes JSON lines to stdout (`ready`, `view`, `quorum`); exits when stdin closes, so a node never
 * outlives the test that started it.
 */
import { createInterface } from "node:readline"
import { type Topology, Transport, TransportSettings } from "@ha/transport"
import * as NodeCrypto from "@ha/transport/NodeCrypto"
import * as NodeUdp from "@ha/transport/NodeUdp"
import { Effect, Layer, Stream } from "effect"
import { Membership, MembershipSettings } from "../../src/index.ts"

interface Options {
  readonly topology: Topology.NodeTopology
  readonly key: string
}

const options: Options = JSON.parse(process.argv[2] ?? "{}")
const key = Uint8Array.from(options.key.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16))
const emit = (line: object) =>
  Effect.sync(() => process.stdout.write(`${JSON.stringify({ ...line, at: Date.now() })}\n`))

const stdinClosed = Effect.async<void>((resume) => {
  const lines = createInterface({ input: process.stdin })
  lines.on("close", () => resume(Effect.void))
})

const program = Effect.gen(function* () {
  const membership = yield* Membership.Membership
  yield* membership.views.pipe(
    Stream.runForEach((view) => emit({ type: "view", members: view.members })),
    Effect.forkScoped
  )
  yield* membership.quorum.pipe(
    Stream.runForEach((q) => emit({ type: "quorum", quorate: q.quorate, members: q.members })),
    Effect.forkScoped
  )
  yield* emit({ type: "ready" })
  yield* stdinClosed
})

const settings = MembershipSettings.defaults
program
  .pipe(
    Effect.scoped,
    Effect.provide(Membership.layer),
    Effect.provide(Transport.layer({ topology: options.topology, key })),
    Effect.provide(
      Layer.mergeAll(
        NodeUdp.layer,
        NodeCrypto.layer,
        TransportSettings.layer(MembershipSettings.transportTimers(settings)),
        MembershipSettings.layer(settings)
      )
    ),
    Effect.runPromise
  )
  .then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error}\n`)
      process.exit(1)
    }
  )
