/**
 * An in-process cluster for tests and the benchmark: one CIB store (standing for the replicated
 * CIB), an in-memory membership, one executor per node with scripted agents (every ocf agent the
 * CIB names is mapped onto a scripted native agent of the same type), one fencer per node over an
 * in-memory cluster port with a scripted fence agent, and one controller per node. Time is the
 * caller's Clock (TestClock in tests).
 */
import { type Cib, CibReplica, CibStore, XmlCodec } from "@ha/cib"
import { Executor, ScriptedAgent } from "@ha/executor"
import { ClusterPort, FenceAgent, FencerService, FencingConfig, FencingSettings, Native } from "@ha/fencing"
import { Policy } from "@ha/policy"
import { Clock, Context, Effect, Either, Exit, Layer, Ref, Scope, TestClock } from "effect"
import { Controller, ControllerSettings, Membership, NodeExecutors } from "../src/index.ts"

export interface FenceCall {
  readonly executor: string
  readonly target: string
  readonly action: string
  readonly at: number
}

export interface AgentCall extends ScriptedAgent.Call {
  readonly node: string
  readonly type: string
}

/** Agent types named by the CIB's ocf/lsb/systemd/native primitives. */
const agentTypes = (cib: Cib.Cib): ReadonlyArray<string> => {
  const types = new Set<string>()
  const visit = (p: Cib.Primitive) => {
    if (p.class !== "stonith" && p.type !== undefined) types.add(p.type)
  }
  for (const r of cib.configuration.resources) {
    if (r._tag === "Primitive") visit(r)
    if (r._tag === "Group") r.members.forEach(visit)
    if (r._tag === "Clone") {
      if (r.child._tag === "Primitive") visit(r.child)
      else r.child.members.forEach(visit)
    }
  }
  return [...types]
}

const fenceTypes = (cib: Cib.Cib) => [
  ...new Set(FencingConfig.stonithPrimitives(cib).map((p) => p.type ?? ""))
]

const fenceInfo: FenceAgent.AgentInfo = {
  hostParameter: "plug",
  parameters: ["plug", "ip", "username", "password", "lanplus"],
  actions: ["on", "off", "reboot", "status", "monitor", "list", "metadata"]
}

export const loadCib = (path: string, text: string): Effect.Effect<Cib.Cib> =>
  Effect.orDie(XmlCodec.decodeXml(text, { file: path }))

export const makeCluster = (
  cib: Cib.Cib,
  options: { readonly fenceDelayMs?: number; readonly agentDurationMs?: number } = {}
) =>
  Effect.gen(function* () {
    const nodes = cib.configuration.nodes.map((n) => n.uname)
    const storeContext = yield* Layer.build(CibStore.layerTestFrom(cib))
    const store = Context.get(storeContext, CibStore.CibStore)
    const membership = yield* Membership.makeMemory(
      cib.configuration.nodes.map((n) => Membership.member(n.uname, n.id))
    )

    const agents = new Map<string, Map<string, ScriptedAgent.ScriptedAgent>>()
    const executors = new Map<string, Executor.ExecutorService>()
    for (const node of nodes) {
      const byType = new Map<string, ScriptedAgent.ScriptedAgent>()
      for (const type of agentTypes(cib))
        byType.set(type, yield* ScriptedAgent.make(type, options.agentDurationMs ?? 0))
      agents.set(node, byType)
      const context = yield* Layer.build(
        Executor.layerTest(
          [...byType.values()].map((s) => s.agent),
          { nodeName: node }
        )
      )
      executors.set(node, Context.get(context, Executor.Executor))
    }
    const remote = yield* NodeExecutors.makeMemory(executors, {
      mapAgent: (agent) => ({ class: "native", type: agent.type })
    })

    /** Every resource a scripted agent ran on the node goes down, as when a node is powered off. */
    const powerOff = (node: string) =>
      Effect.gen(function* () {
        for (const scripted of agents.get(node)?.values() ?? []) {
          for (const call of yield* scripted.calls) yield* scripted.setState(call.resource, "stopped")
        }
      })

    const fenceCalls = yield* Ref.make<ReadonlyArray<FenceCall>>([])
    const fenceAgent = (executor: string) =>
      fenceTypes(cib).map((name) =>
        Native.make({
          name,
          info: fenceInfo,
          handle: (action, params) =>
            Effect.gen(function* () {
              if (action !== "off" && action !== "reboot") return { code: 0 }
              yield* Effect.sleep(options.fenceDelayMs ?? 1000)
              const target = params.plug ?? "?"
              yield* powerOff(target)
              const at = yield* Clock.currentTimeMillis
              yield* Ref.update(fenceCalls, (all) => [...all, { executor, target, action, at }])
              return { code: 0, output: "Success" }
            })
        })
      )
    const fencing = yield* Effect.orDie(
      FencingConfig.fromCib(cib, new Map(fenceTypes(cib).map((t) => [t, fenceInfo])))
    )
    const port = yield* ClusterPort.makeMemoryCluster(nodes)

    const scopes = new Map<string, Scope.CloseableScope>()
    const controllers = new Map<string, Controller.ControllerService>()
    for (const node of nodes) {
      const scope = yield* Scope.make()
      scopes.set(node, scope)
      const fencer = FencerService.layer(fencing).pipe(
        Layer.provide(
          Layer.mergeAll(
            Layer.succeed(ClusterPort.ClusterPort, port.port(node)),
            FenceAgent.layerAgents(fenceAgent(node)),
            FencingSettings.FencingSettings.layer({ tickMs: 1000 })
          )
        )
      )
      const layer = Controller.layer.pipe(
        Layer.provide(
          Layer.mergeAll(
            ControllerSettings.layer({ nodeName: node }),
            Membership.layerMemory(membership, node),
            Layer.succeed(CibReplica.CibReplica, CibReplica.local(store)),
            NodeExecutors.layerMemory(remote),
            fencer
          )
        )
      )
      const context = yield* Layer.buildWithScope(layer, scope)
      controllers.set(node, Context.get(context, Controller.Controller))
    }

    const alive = yield* Ref.make(new Set(nodes))

    return {
      nodes,
      store,
      agents,
      fenceCalls: Ref.get(fenceCalls),
      controller: (node: string) => controllers.get(node)!,
      /** Every scripted agent call on every node, in time order. */
      calls: Effect.gen(function* () {
        const all: Array<AgentCall> = []
        for (const [node, byType] of agents) {
          for (const [type, scripted] of byType) {
            for (const call of yield* scripted.calls) all.push({ ...call, node, type })
          }
        }
        return all.sort((a, b) => a.at - b.at)
      }),
      /** The node crashes: its controller and fencer stop, it drops out of the membership. */
      crash: (node: string) =>
        Effect.gen(function* () {
          const survivors = [...(yield* Ref.get(alive))].filter((n) => n !== node)
          yield* Ref.set(alive, new Set(survivors))
          yield* remote.setReachable(node, false)
          yield* Scope.close(scopes.get(node)!, Exit.void)
          yield* port.partition([survivors, [node]])
          yield* membership.partition([survivors, [node]])
        }),
      /** The DC as the surviving nodes see it, and whether it has nothing left to do. */
      dcStatus: Effect.gen(function* () {
        for (const node of yield* Ref.get(alive)) {
          const status = yield* controllers.get(node)!.status
          if (status.dc === node) return status
        }
        return undefined
      }),
      close: Effect.forEach([...scopes.values()], (scope) => Scope.close(scope, Exit.void), { discard: true })
    }
  })

export type Cluster = Effect.Effect.Success<ReturnType<typeof makeCluster>>

/** Advances the TestClock in small steps until `done` holds (fails after `maxMs` of cluster time). */
export const until = <E, R>(done: Effect.Effect<boolean, E, R>, maxMs = 600_000, stepMs = 100) =>
  Effect.gen(function* () {
    for (let elapsed = 0; elapsed <= maxMs; elapsed += stepMs) {
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow()
      if (yield* done) return elapsed
      yield* TestClock.adjust(stepMs)
    }
    return yield* Effect.die(new Error(`condition not reached within ${maxMs} ms of cluster time`))
  })

/**
 * The DC is idle after a complete transition, and scheduling the CIB as recorded gives nothing more
 * to do (so every result was recorded in the shape the scheduler reads back).
 */
export const settled = (cluster: Cluster) =>
  Effect.gen(function* () {
    const status = yield* cluster.dcStatus
    if (status === undefined || !status.idle) return false
    const history = yield* cluster.controller(status.self).history
    const last = [...history].reverse().find((e) => e._tag === "TransitionFinished")
    if (last === undefined || last._tag !== "TransitionFinished" || last.outcome !== "complete") return false
    const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const plan = Policy.schedule(yield* cluster.store.query, { now })
    return Either.isRight(plan) && plan.right.actions.every((a) => a.kind === "pseudo_event")
  })
