/**
 * One node of the fence race benchmark (bench/fenceRace.ts), run inside a namespace node. It
 * heartbeats its peer over both rings (UDP), and when it has heard nothing on either ring for
 * `lossMs` it is alone in its partition and asks its fencer to fence the peer. The fencer uses
 * the fence-netns agent, which reaches the power switch of bench/fenceRace.ts over a filesystem
 * unix socket (so it still works with both rings cut, like a management network).
 * The heartbeat is a stand-in for packages/membership, enough for a two-node split: each node's
 * broadcasts reach only itself, as they would in the partition.
 * Usage (by boot-race-node.sh): raceNode.ts SELF RACE_JSON
 */
import { createSocket } from "node:dgram"
import { readFileSync, writeFileSync } from "node:fs"
import { Cib } from "@ha/cib"
import { Clock, Context, Duration, Effect, Layer, Queue, Stream } from "effect"
import {
  ClusterPort,
  FenceAgent,
  FenceNetns,
  FencerService,
  FencingConfig,
  FencingSettings
} from "../src/index.ts"
import { NetnsPower } from "../src/platform/node.ts"

/** What bench/fenceRace.ts writes for each run. */
export interface RaceNodeSettings {
  readonly nodes: Readonly<Record<string, { readonly rings: readonly [string, string] }>>
  readonly udpPort: number
  readonly heartbeatMs: number
  readonly lossMs: number
  readonly powerSocket: string
  readonly readyFile: Readonly<Record<string, string>>
  /** Instance attributes of the device that fences each node. */
  readonly deviceAttributes: Readonly<Record<string, Readonly<Record<string, string>>>>
  readonly properties: Readonly<Record<string, string>>
  readonly priorities: Readonly<Record<string, number>>
}

const log = (event: Record<string, unknown>) =>
  Effect.flatMap(Clock.currentTimeMillis, (at) =>
    Effect.sync(() => console.log(JSON.stringify({ at, ...event })))
  )

const cibOf = (settings: RaceNodeSettings): Cib.Cib => {
  const nv = (pairs: Readonly<Record<string, string>>): Cib.NvSet => ({
    rules: [],
    nvpairs: Object.entries(pairs).map(([name, value]) => ({ name, value }))
  })
  const names = Object.keys(settings.nodes)
  return {
    ...Cib.empty,
    configuration: {
      ...Cib.empty.configuration,
      nodes: names.map((uname, i) => ({ id: String(i + 1), uname, instanceAttributes: [], utilization: [] })),
      resources: names.map(
        (node): Cib.Primitive => ({
          _tag: "Primitive",
          id: `fence-${node}`,
          class: "stonith",
          type: FenceNetns.name,
          instanceAttributes: [nv({ pcmk_host_list: node, ...settings.deviceAttributes[node] })],
          metaAttributes: [],
          utilization: []
        })
      ),
      clusterProperties: [nv({ "stonith-action": "off", ...settings.properties })]
    }
  }
}

const main = (self: string, settings: RaceNodeSettings) =>
  Effect.scoped(
    Effect.gen(function* () {
      const peer = Object.keys(settings.nodes).find((node) => node !== self)!
      const power = yield* Effect.provide(
        FenceNetns.NodePower,
        NetnsPower.layerRemote({
          socketPath: settings.powerSocket,
          nodes: Object.keys(settings.nodes),
          requester: self
        })
      )
      const registry = FenceAgent.layerAgents([FenceNetns.make(power)])
      const config = yield* FencingConfig.load(cibOf(settings)).pipe(Effect.provide(registry))

      const events = yield* Queue.unbounded<ClusterPort.ClusterEvent>()
      yield* Queue.offer(events, { _tag: "Membership", members: [self] })
      const port: ClusterPort.ClusterPort["Type"] = {
        self,
        broadcast: (message) => Queue.offer(events, { _tag: "Delivered", message }),
        events: Stream.fromQueue(events)
      }
      const context = yield* Layer.build(
        FencerService.layer(config).pipe(
          Layer.provide(
            Layer.mergeAll(
              Layer.succeed(ClusterPort.ClusterPort, port),
              registry,
              FencingSettings.FencingSettings.layer()
            )
          )
        )
      )
      const fencer = Context.get(context, FencerService.FencerService)
      yield* fencer.setPriorities(settings.priorities)

      // Heartbeats on both rings; `heard[ring]` is when the peer was last heard there.
      const heard: Array<number | undefined> = [undefined, undefined]
      const own = settings.nodes[self]!.rings
      const theirs = settings.nodes[peer]!.rings
      const sockets = own.map((address, ring) => {
        const socket = createSocket("udp4")
        socket.on("message", (data) => {
          if (data.toString() === peer) heard[ring] = Date.now()
        })
        socket.on("error", () => {})
        socket.bind(settings.udpPort, address)
        return socket
      })
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const socket of sockets) socket.close()
        })
      )
      const beat = Effect.sync(() => {
        // Sending into a cut link fails or is dropped; either is what a cut link does.
        sockets.forEach((socket, ring) => {
          socket.send(self, settings.udpPort, theirs[ring], () => {})
        })
      })
      yield* Effect.forkScoped(
        beat.pipe(Effect.zipRight(Effect.sleep(Duration.millis(settings.heartbeatMs))), Effect.forever)
      )

      let member = false
      let ready = false
      while (true) {
        yield* Effect.sleep(Duration.millis(Math.min(50, settings.heartbeatMs)))
        const now = yield* Clock.currentTimeMillis
        if (!ready && heard.every((at) => at !== undefined)) {
          ready = true
          member = true
          yield* Queue.offer(events, { _tag: "Membership", members: [self, peer] })
          writeFileSync(settings.readyFile[self]!, "")
          yield* log({ event: "ready" })
        }
        const last = Math.max(...heard.map((at) => at ?? 0))
        if (member && now - last > settings.lossMs) {
          member = false
          yield* Queue.offer(events, { _tag: "Membership", members: [self] })
          yield* log({ event: "lost", peer })
          yield* Effect.forkScoped(
            fencer.fence(peer).pipe(
              Effect.flatMap((done) =>
                log({ event: "fenced", target: peer, executor: done.executor, devices: done.devices })
              ),
              Effect.catchAll((error) => log({ event: "fence-failed", target: peer, reason: error.message }))
            )
          )
        }
      }
    })
  )

const [self, settingsFile] = process.argv.slice(2)
if (self === undefined || settingsFile === undefined) {
  console.error("usage: raceNode.ts SELF RACE_JSON")
  process.exit(2)
}
const settings = JSON.parse(readFileSync(settingsFile, "utf8")) as RaceNodeSettings
Effect.runPromise(main(self, settings)).catch((error) => {
  console.error(String(error))
  process.exit(1)
})
