/**
 * One complete cluster node over any membership: the replicated CIB, the fencer, the executors'
 * reach and the controller, each on its own channel of the membership. The daemon provides the
 * live layers beneath (UDP transport, CIB on disk, real agents); a simulation provides in-memory
 * ones (memory network, memory disk, scripted agents) and runs many nodes in one process.
 *
 * Besides wiring, a node keeps two things in step with the CIB: its `<node>` entries (every
 * configured node is in the configuration, added by whichever node sees it missing) and the
 * fencer's devices, levels and node priorities (reloaded when the CIB's fencing part changes,
 * priorities when the resources active on each node do).
 */
import { type Cib, CibReplica, CibStore, CibStoreSettings, ReplicationChannel } from "@ha/cib"
import { Controller, ControllerSettings, type NodeExecutors, Status } from "@ha/controller"
import { Executor, type ResourceAgent } from "@ha/executor"
import {
  ClusterPort,
  FenceAgent,
  FencerService,
  FencingConfig,
  Priority as FencingPriority,
  FencingSettings
} from "@ha/fencing"
import { Channel, Membership, MembershipSettings } from "@ha/membership"
import { type Datagram, type MemoryNetwork, type Transport, TransportSettings } from "@ha/transport"
import { Duration, Effect, Layer, Schedule, Stream } from "effect"
import * as Channels from "./Channels.ts"
import * as ClusterNodes from "./ClusterNodes.ts"
import * as ControllerMembership from "./ControllerMembership.ts"
import * as FencingPort from "./FencingPort.ts"
import * as RemoteExecutors from "./RemoteExecutors.ts"

export interface Options {
  readonly nodes: ReadonlyArray<ClusterNodes.ClusterNode>
  /** The software version (the DC election prefers the newest). */
  readonly version: string
  readonly controller?: Partial<Omit<ControllerSettings.Settings, "nodeName">>
  /** Rewrites the agents the CIB names onto the executor's agents (simulations). */
  readonly mapAgent?: (agent: ResourceAgent.AgentRef) => ResourceAgent.AgentRef
}

/** What a node offers its API and tests. */
export type Services =
  | Controller.Controller
  | CibReplica.CibReplica
  | FencerService.FencerService
  | NodeExecutors.NodeExecutors

/** What a node needs beneath it. */
export type Requirements =
  | Membership.Membership
  | Executor.Executor
  | CibStore.CibStore
  | CibStoreSettings.CibStoreSettings
  | FenceAgent.AgentRegistry
  | FencingSettings.FencingSettings

/** The configured nodes missing from the CIB's `<nodes>`, added with the membership's ids. */
export const withNodes = (cib: Cib.Cib, nodes: ReadonlyArray<ClusterNodes.ClusterNode>): Cib.Cib => {
  const known = new Set(cib.configuration.nodes.map((n) => n.uname))
  const missing = nodes.filter((n) => !known.has(n.name))
  if (missing.length === 0) return cib
  return {
    ...cib,
    configuration: {
      ...cib.configuration,
      nodes: [
        ...cib.configuration.nodes,
        ...missing.map((n) => ({ id: String(n.id), uname: n.name, instanceAttributes: [], utilization: [] }))
      ]
    }
  }
}

/** The parts of the CIB the fencing configuration is made of (reloading runs agents' meta-data). */
const fencingKey = (cib: Cib.Cib): string =>
  JSON.stringify([
    FencingConfig.stonithPrimitives(cib),
    cib.configuration.fencingTopology,
    cib.configuration.nodes,
    cib.configuration.constraints.filter((c) => c._tag === "Location"),
    cib.configuration.clusterProperties
  ])

/**
 * On joining: adds missing `<node>` entries and clears this node's `shutdown` attribute, left by
 * its last graceful stop (otherwise the scheduler would keep moving everything off it). Retried
 * until there is quorum.
 */
const join = (options: Options, self: string) =>
  Effect.gen(function* () {
    const replica = yield* CibReplica.CibReplica
    yield* replica.awaitSynced
    const joined = (cib: Cib.Cib) => Status.removeAttribute(withNodes(cib, options.nodes), self, "shutdown")
    const cib = yield* replica.query
    if (joined(cib) === cib) return
    yield* replica.update(joined)
    yield* Effect.logInfo("joined the CIB").pipe(
      Effect.annotateLogs({ nodes: options.nodes.map((n) => n.name).join(",") })
    )
  }).pipe(
    Effect.tapError((error) =>
      Effect.logDebug(`cannot add the cluster nodes to the CIB yet: ${error.message}`)
    ),
    Effect.retry(Schedule.spaced(Duration.seconds(1)))
  )

/** Keeps the fencer's configuration that of the CIB; an invalid one is reported and the last good one kept. */
const followFencing = Effect.gen(function* () {
  const replica = yield* CibReplica.CibReplica
  const fencer = yield* FencerService.FencerService
  let last: string | undefined
  const reload = (cib: Cib.Cib) =>
    Effect.suspend(() => {
      const key = fencingKey(cib)
      if (key === last) return Effect.void
      last = key
      return FencingConfig.load(cib).pipe(
        Effect.flatMap(fencer.configure),
        Effect.tap(() => Effect.logDebug("fencing configuration loaded from the CIB")),
        Effect.catchAll((error) =>
          Effect.logWarning(`fencing configuration not loaded, keeping the previous one: ${error.message}`)
        )
      )
    })
  // priority-fencing-delay weighs each node by the resources active on it: kept current too
  let priorities = ""
  const weigh = (cib: Cib.Cib) =>
    Effect.suspend(() => {
      const next = FencingPriority.nodePriorities(cib)
      const key = JSON.stringify(next)
      if (key === priorities) return Effect.void
      priorities = key
      return fencer.setPriorities(next)
    })
  yield* Stream.runForEach(
    Stream.concat(
      Stream.fromEffect(replica.query),
      Stream.map(replica.changes, () => undefined)
    ).pipe(Stream.mapEffect((cib) => (cib === undefined ? replica.query : Effect.succeed(cib)))),
    (cib) => Effect.zipRight(reload(cib), weigh(cib))
  )
})

/** The node over the membership and the layers beneath it. */
export const layer = (options: Options): Layer.Layer<Services, never, Requirements> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const membership = yield* Membership.Membership
      const nodes = ClusterNodes.make(options.nodes)
      const self = nodes.nameOf(membership.nodeId)
      const replica = CibReplica.layer.pipe(
        Layer.provide(
          Layer.succeed(ReplicationChannel.ReplicationChannel, Channel.make(membership, Channels.cib))
        )
      )
      const fencer = FencerService.layer(FencingConfig.empty).pipe(
        Layer.provide(
          Layer.succeed(
            ClusterPort.ClusterPort,
            FencingPort.make(Channel.make(membership, Channels.fencing), nodes)
          )
        )
      )
      const executors = RemoteExecutors.layer(
        Channel.make(membership, Channels.execution),
        nodes,
        options.mapAgent === undefined ? {} : { mapAgent: options.mapAgent }
      )
      const controller = Controller.layer.pipe(
        Layer.provide(
          Layer.mergeAll(
            ControllerSettings.layer({ ...options.controller, nodeName: self }),
            ControllerMembership.layer({ nodes, version: options.version })
          )
        )
      )
      const keepers = Layer.scopedDiscard(
        Effect.all([Effect.forkScoped(join(options, self)), Effect.forkScoped(followFencing)])
      )
      const services = Layer.mergeAll(replica, fencer, executors)
      return Layer.mergeAll(controller, keepers).pipe(Layer.provideMerge(services))
    })
  )

export interface TestOptions {
  readonly cluster: string
  readonly nodes: ReadonlyArray<ClusterNodes.ClusterNode>
  /** This node's id in `nodes`. */
  readonly id: number
  /** The cluster key (32 bytes). */
  readonly key: Uint8Array
  /** This node's resource agents (e.g. scripted agents); every agent the CIB names maps to the one of its type. */
  readonly agents: ReadonlyArray<ResourceAgent.ResourceAgent>
  readonly fenceAgents: ReadonlyArray<FenceAgent.FenceAgent>
}

/**
 * A node over the transport's in-memory network (real Totem membership, one link at
 * `10.0.0.<id>`), an in-memory CIB, the given agents under the native class and the given fence
 * agents. Provides its Membership and Transport too. Several such nodes on one `MemoryNetwork` form a cluster.
 */
export const layerTest = (
  options: TestOptions
): Layer.Layer<
  Services | Membership.Membership | Transport.Transport,
  never,
  MemoryNetwork.MemoryNetwork | Datagram.DatagramNetwork
> => {
  const name = ClusterNodes.make(options.nodes).nameOf(options.id)
  const address = (id: number) => [{ link: 0, address: `10.0.0.${id}`, port: 5405 }]
  const topology = {
    clusterName: options.cluster,
    nodeId: options.id,
    links: address(options.id),
    peers: options.nodes
      .filter((n) => n.id !== options.id)
      .map((n) => ({ nodeId: n.id, links: address(n.id) }))
  }
  const membershipSettings = MembershipSettings.make({ twoNode: options.nodes.length === 2 })
  const beneath = Layer.mergeAll(
    Membership.layerTest({ topology, key: options.key }).pipe(
      Layer.provide(
        Layer.mergeAll(
          TransportSettings.layer(MembershipSettings.transportTimers(membershipSettings)),
          Layer.succeed(MembershipSettings.MembershipSettings, membershipSettings)
        )
      )
    ),
    Executor.layerTest(options.agents, { nodeName: name }),
    CibStore.layerTest,
    CibStoreSettings.layer(),
    FenceAgent.layerAgents(options.fenceAgents),
    FencingSettings.FencingSettings.layer({ tickMs: 500 })
  )
  return layer({
    nodes: options.nodes,
    version: "1.0.0",
    mapAgent: (agent) => ({ class: "native", type: agent.type })
  }).pipe(
    Layer.provideMerge(beneath),
    // a layer that fails to build here is a broken test set-up
    Layer.orDie
  )
}
