/**
 * A cluster of complete nodes (@ha/node) in one process, each with the API methods a daemon serves:
 * real Totem membership over the transport's in-memory network, in-memory CIB stores, scripted
 * resource agents (every agent the CIB names runs as the scripted agent of its type) and a fence
 * agent that records what it was asked. For tests of the API and of `ha`'s cluster commands.
 */
import { ScriptedAgent } from "@ha/executor"
import { type FenceAgent, Native } from "@ha/fencing"
import { Node } from "@ha/node"
import { MemoryNetwork } from "@ha/transport"
import { Effect, Either, Layer, Ref, type Scope } from "effect"
import * as Api from "./Api.ts"
import * as DaemonConfig from "./DaemonConfig.ts"
import * as Methods from "./Methods.ts"

export interface Options {
  readonly cluster: string
  /** Node names; their ids are their positions from 1. */
  readonly nodes: ReadonlyArray<string>
  /** The agent types the CIB will use (e.g. `IPaddr2` for ocf:heartbeat:IPaddr2). */
  readonly agentTypes: ReadonlyArray<string>
  /** How long each scripted action takes (default 20 ms). */
  readonly actionMs?: number
  /** The nodes started (default: all); the others stay down from the start. */
  readonly running?: ReadonlyArray<string>
}

export interface TestNode {
  readonly name: string
  readonly methods: Api.Methods<never>
  /** One request, as a line from `ha` would be answered. */
  readonly call: (method: string, params?: unknown) => Effect.Effect<Api.Response>
  readonly agents: ReadonlyMap<string, ScriptedAgent.ScriptedAgent>
}

export interface TestCluster {
  /** The running nodes, in the order of `Options.nodes`. */
  readonly nodes: ReadonlyArray<TestNode>
  /** The targets the fence agent was asked to power off or reboot, in order. */
  readonly fenced: Ref.Ref<ReadonlyArray<string>>
}

const fenceInfo: FenceAgent.AgentInfo = {
  hostParameter: "plug",
  parameters: ["plug", "ip", "username", "password"],
  actions: ["on", "off", "reboot", "status", "monitor", "list", "metadata"]
}

/** The recording fence agent, as `stonith:fence_ipmilan` (its only effect is the record). */
const fenceAgent = (fenced: Ref.Ref<ReadonlyArray<string>>) =>
  Native.make({
    name: "fence_ipmilan",
    info: fenceInfo,
    handle: (action, params) =>
      action === "off" || action === "reboot"
        ? Effect.as(
            Ref.update(fenced, (all) => [...all, params.plug ?? "?"]),
            { code: 0, output: "Success" }
          )
        : Effect.succeed({ code: 0 })
  })

/** Starts the cluster; it runs until the scope closes. */
export const make = (options: Options): Effect.Effect<TestCluster, never, Scope.Scope> =>
  Effect.gen(function* () {
    const fenced = yield* Ref.make<ReadonlyArray<string>>([])
    const key = new Uint8Array(32).map((_, i) => (i * 13 + 7) & 0xff)
    const members = options.nodes.map((name, index) => ({ name, id: index + 1 }))
    const configText = [
      `cluster:\n  name: ${options.cluster}\n  nodes:`,
      ...members.map((m) => `    - name: ${m.name}\n      addresses: [10.0.0.${m.id}]`)
    ].join("\n")
    const network = yield* Layer.build(MemoryNetwork.layer(members.length + 1))
    const start = (name: string, id: number) =>
      Effect.gen(function* () {
        const agents = yield* Effect.forEach(options.agentTypes, (type) =>
          ScriptedAgent.make(type, options.actionMs ?? 20)
        )
        const node = Node.layerTest({
          cluster: options.cluster,
          nodes: members,
          id,
          key,
          agents: agents.map((a) => a.agent),
          fenceAgents: [fenceAgent(fenced)]
        }).pipe(Layer.provide(Layer.succeedContext(network)))
        const context = yield* Layer.build(node).pipe(Effect.orDie)
        const config = Either.getOrThrow(DaemonConfig.parse(`${configText}\nnode: ${name}\n`, "test", name))
        const methods = yield* Methods.make(config).pipe(Effect.provide(context))
        let requests = 0
        const testNode: TestNode = {
          name,
          methods,
          call: (method, params) =>
            Api.answer(
              methods,
              JSON.stringify({ id: ++requests, method, ...(params === undefined ? {} : { params }) })
            ),
          agents: new Map(agents.map((a, i) => [options.agentTypes[i]!, a]))
        }
        return testNode
      })
    const running = options.running ?? options.nodes
    const nodes = yield* Effect.forEach(
      members.filter((m) => running.includes(m.name)),
      (m) => start(m.name, m.id)
    )
    return { nodes, fenced }
  }).pipe(Effect.orDie)
