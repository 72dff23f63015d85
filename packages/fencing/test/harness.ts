/**
 * A cluster of fencer services over the in-memory ClusterPort, with scripted native agents whose
 * every call is recorded. Time is the TestClock's.
 */
import type { Cib } from "@ha/cib"
import { Clock, Context, Effect, Layer, Random, Ref } from "effect"
import {
  ClusterPort,
  FenceAgent,
  FencerService,
  FencingConfig,
  FencingSettings,
  Native
} from "../src/index.ts"

export interface Call {
  readonly node: string
  readonly device: string
  readonly action: string
  readonly target: string | undefined
  readonly at: number
}

/** What a scripted device does on its n-th fence call (0-based): answer with a code after some time, or hang. */
export type Behaviour = (call: number) => { readonly code: number; readonly afterMs: number } | "hang"

export const scriptedInfo: FenceAgent.AgentInfo = {
  hostParameter: "plug",
  parameters: ["plug", "behaviour"],
  actions: ["on", "off", "reboot", "status", "monitor", "list", "metadata"]
}

export const makeCluster = (
  cib: Cib.Cib,
  nodes: ReadonlyArray<string>,
  behaviours: Record<string, Behaviour>
) =>
  Effect.gen(function* () {
    const calls = yield* Ref.make<ReadonlyArray<Call>>([])
    const counts = new Map<string, number>()
    const agentFor = (node: string) =>
      Native.make({
        name: "fence-scripted",
        info: scriptedInfo,
        handle: (action, params) =>
          Effect.gen(function* () {
            const device = params.device ?? "?"
            const at = yield* Clock.currentTimeMillis
            yield* Ref.update(calls, (list) => [...list, { node, device, action, target: params.plug, at }])
            // A device whose `monitor_fails_on` names this node fails its monitor here.
            if (action === "monitor")
              return (params.monitor_fails_on ?? "").split(" ").includes(node)
                ? { code: 1, output: "Failed: cannot reach the device" }
                : { code: 0 }
            if (action === "status") return { code: 0 }
            // The outlets a dynamic-list device reports: its `ports` parameter.
            if (action === "list")
              return {
                code: 0,
                output: (params.ports ?? "")
                  .split(" ")
                  .map((p) => `${p},${p}\n`)
                  .join("")
              }
            const n = counts.get(device) ?? 0
            counts.set(device, n + 1)
            const behaviour = (behaviours[device] ?? (() => ({ code: 0, afterMs: 100 })))(n)
            if (behaviour === "hang") return yield* Effect.never
            yield* Effect.sleep(behaviour.afterMs)
            return {
              code: behaviour.code,
              output: behaviour.code === 0 ? "Success" : "Failed: device said no"
            }
          })
      })
    const registry = FenceAgent.registryOf([agentFor("")])
    const config = yield* FencingConfig.fromCib(cib, new Map([["fence-scripted", scriptedInfo]]))
    const cluster = yield* ClusterPort.makeMemoryCluster(nodes)
    const services = new Map<string, FencerService.FencerService["Type"]>()
    for (const node of nodes) {
      const layer = FencerService.layer(config).pipe(
        Layer.provide(
          Layer.mergeAll(
            Layer.succeed(ClusterPort.ClusterPort, cluster.port(node)),
            Layer.succeed(FenceAgent.AgentRegistry, FenceAgent.registryOf([agentFor(node)], registry)),
            FencingSettings.FencingSettings.layer({ tickMs: 100, watchdogGraceMs: 1000 })
          )
        )
      )
      const context = yield* Layer.build(layer).pipe(Effect.withRandom(Random.make(`seed-${node}`)))
      services.set(node, Context.get(context, FencerService.FencerService))
    }
    return { cluster, calls, fencer: (node: string) => services.get(node)!, config }
  })
