/**
 * One cluster node for bench/membership.ts: Membership over the real Transport (UDP on loopback,
 * AES-GCM), reporting views, token losses and deliveries as JSON lines on stdout; commands on stdin.
 * Usage: node.ts <nodeId> <basePort> <nodes>
 */
import { createInterface } from "node:readline"
import { Transport, TransportSettings } from "@ha/transport"
import * as NodeCrypto from "@ha/transport/NodeCrypto"
import * as NodeUdp from "@ha/transport/NodeUdp"
import { Effect, Layer, Stream } from "effect"
import { Membership, MembershipSettings } from "../src/index.ts"

const [nodeId, basePort, count] = process.argv.slice(2).map(Number) as [number, number, number]
const ids = Array.from({ length: count }, (_, i) => i + 1)
const endpoint = (id: number) => ({ link: 0, address: "127.0.0.1", port: basePort + id })
const topology = {
  clusterName: "bench",
  nodeId,
  links: [endpoint(nodeId)],
  peers: ids.filter((p) => p !== nodeId).map((p) => ({ nodeId: p, links: [endpoint(p)] }))
}
const key = new Uint8Array(32).fill(7)
const now = () => performance.timeOrigin + performance.now()
const emit = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, t: now() })}\n`)

const BURST = 1
const PING = 2

const program = Effect.gen(function* () {
  const membership = yield* Membership.Membership
  let burst = 0
  let burstTarget = Number.POSITIVE_INFINITY
  let burstCpu = process.cpuUsage()
  const latencies: Array<number> = []
  let latencyTarget = Number.POSITIVE_INFINITY
  yield* membership.events.pipe(
    Stream.runForEach((e) =>
      Effect.sync(() => {
        switch (e._tag) {
          case "ViewInstalled":
            return emit({ e: "view", members: e.view.members })
          case "TokenLost":
            return emit({ e: "lost" })
          case "Delivered": {
            const kind = e.payload[0]
            if (kind === BURST && ++burst === burstTarget) {
              const cpu = process.cpuUsage(burstCpu)
              emit({ e: "burst", n: burst, cpu: (cpu.user + cpu.system) / 1000 })
            }
            if (kind === PING) {
              latencies.push(now() - new DataView(e.payload.buffer, e.payload.byteOffset).getFloat64(1))
              if (latencies.length === latencyTarget) emit({ e: "latency", values: latencies })
            }
          }
        }
      })
    ),
    Effect.forkScoped
  )
  const lines = Stream.async<string>((emit) => {
    const rl = createInterface({ input: process.stdin })
    rl.on("line", (line) => void emit.single(line))
    rl.on("close", () => void emit.end())
  })
  yield* lines.pipe(
    Stream.runForEach((line) => {
      const [cmd, arg = "0"] = line.split(" ")
      const n = Number(arg)
      if (cmd === "expect-burst")
        return Effect.sync(() => {
          burstTarget = n
          burstCpu = process.cpuUsage()
        })
      if (cmd === "expect-latency")
        return Effect.sync(() => {
          latencyTarget = n
        })
      if (cmd === "burst") {
        const payload = new Uint8Array(64)
        payload[0] = BURST
        return Effect.forEach(Array.from({ length: n }), () => membership.broadcast(payload), {
          discard: true
        })
      }
      if (cmd === "ping") {
        return Effect.gen(function* () {
          for (let i = 0; i < n; i++) {
            const payload = new Uint8Array(16)
            payload[0] = PING
            new DataView(payload.buffer).setFloat64(1, now())
            yield* membership.broadcast(payload)
            yield* Effect.sleep("5 millis")
          }
        })
      }
      return Effect.void
    })
  )
})

const settings = MembershipSettings.make(
  process.env.WINDOW === undefined
    ? {}
    : { maxMessages: Number(process.env.WINDOW), windowSize: 3 * Number(process.env.WINDOW) }
)
program
  .pipe(
    Effect.scoped,
    Effect.provide(Membership.layer),
    Effect.provide(Transport.layer({ topology, key })),
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
    (e) => {
      process.stderr.write(`${e}\n`)
      process.exit(1)
    }
  )
