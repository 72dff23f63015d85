/**
 * One node's cluster layers built from its configuration file: the transport over its links (UDP, the
 * cluster key), the membership over it (two_node quorum for a two-node cluster, as Corosync sets it),
 * and the node itself (@ha/node: replicated CIB, fencer, executors' reach, controller) over the live
 * layers of this machine: the CIB on disk in the state directory, real resource and fence agents.
 */
import { fileURLToPath } from "node:url"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { CibStore, CibStoreSettings } from "@ha/cib"
import * as NodeStorage from "@ha/cib/NodeStorage"
import { AgentRegistry, Executor, ExecutorSettings } from "@ha/executor"
import * as ForkServer from "@ha/executor/fork-server"
import { FenceAgents, FencingSettings } from "@ha/fencing"
import { NodeAgentProcess } from "@ha/fencing/node"
import { Membership, MembershipSettings } from "@ha/membership"
import { Node } from "@ha/node"
import { ClusterKey, type Datagram, Topology, Transport, TransportSettings } from "@ha/transport"
import * as NodeCrypto from "@ha/transport/NodeCrypto"
import * as NodeUdp from "@ha/transport/NodeUdp"
import { Effect, Layer, Schema } from "effect"
import { apiSocket, type DaemonConfig } from "./DaemonConfig.ts"

export class NodeSetupError extends Schema.TaggedError<NodeSetupError>()("NodeSetupError", {
  message: Schema.String
}) {}

/** Node ids: each node's `id`, or its position in the list from 1. */
export const nodeIds = (config: DaemonConfig) =>
  new Map(config.cluster.nodes.map((node, index) => [node.name, node.id ?? index + 1]))

/** The transport's view of the configuration: this node's links and every peer's. */
export const topology = (config: DaemonConfig, file: string) => {
  const ids = nodeIds(config)
  const links = (addresses: ReadonlyArray<string>) =>
    addresses.map((address, link) => ({ link, address, port: config.port }))
  const self = config.cluster.nodes.find((node) => node.name === config.node)!
  return Topology.decode(
    {
      clusterName: config.cluster.name,
      nodeId: ids.get(self.name)!,
      links: links(self.addresses),
      peers: config.cluster.nodes
        .filter((node) => node.name !== self.name)
        .map((node) => ({ nodeId: ids.get(node.name)!, links: links(node.addresses) }))
    },
    file
  ).pipe(Effect.mapError((error) => new NodeSetupError({ message: error.message })))
}

/** Transport and membership for this node, live (UDP, the key file on disk). */
export const layerMembership = (
  config: DaemonConfig,
  file: string
): Layer.Layer<
  Membership.Membership | Transport.Transport,
  | NodeSetupError
  | Datagram.DatagramError
  | TransportSettings.TransportSettingsError
  | MembershipSettings.MembershipSettingsError
> =>
  Layer.unwrapEffect(
    Effect.gen(function* () {
      const keyFile = yield* ClusterKey.KeyFile
      const key = yield* keyFile
        .read(config.keyFile)
        .pipe(Effect.mapError((error) => new NodeSetupError({ message: error.message })))
      const membership = MembershipSettings.make({ twoNode: config.cluster.nodes.length === 2 })
      // a link must be declared down well before the token is lost, or losing one of two links
      // would change the membership
      const links = TransportSettings.layer(MembershipSettings.transportTimers(membership))
      const transport = Transport.layer({ topology: yield* topology(config, file), key }).pipe(
        Layer.provide(Layer.mergeAll(NodeUdp.layer, NodeCrypto.layer, links))
      )
      return Membership.layer.pipe(
        Layer.provideMerge(transport),
        Layer.provide(Layer.succeed(MembershipSettings.MembershipSettings, membership))
      )
    }).pipe(Effect.provide(ClusterKey.layer), Effect.provide(NodeFileSystem.layer))
  )

/** The cluster commands agents call (crm_attribute, crm_master, crm_node), beside src/ and dist/. */
const agentCommands = fileURLToPath(new URL("../libexec", import.meta.url))

/** The version of ha this daemon runs (the DC election prefers the newest). */
export const version = "0.1.0"

/** The node's services over this machine: the CIB in `stateDir/cib`, agents' state in `runDir/rsctmp`. */
export const layerNode = (
  config: DaemonConfig
): Layer.Layer<Node.Services, NodeSetupError, Membership.Membership> => {
  const ids = nodeIds(config)
  const nodes = config.cluster.nodes.map((node) => ({ name: node.name, id: ids.get(node.name)! }))
  const cibSettings = CibStoreSettings.layer({ directory: `${config.stateDir}/cib` })
  const cib = CibStore.layer.pipe(
    Layer.provide(NodeStorage.layer),
    Layer.provideMerge(cibSettings),
    // a CIB directory that cannot be read or holds no valid CIB stops the node: nothing is overwritten
    Layer.mapError(
      (error) => new NodeSetupError({ message: `CIB in ${config.stateDir}/cib: ${error.message}` })
    )
  )
  const executor = Executor.layer.pipe(
    Layer.provide(AgentRegistry.layer()),
    Layer.provide(
      ExecutorSettings.layer({
        nodeName: config.node,
        resourceTmpDir: `${config.runDir}/rsctmp`,
        // agents' crm_attribute/crm_master/crm_node are ha's (libexec/), talking to this daemon
        environment: {
          ...config.agentEnvironment,
          HA_SBIN_DIR: agentCommands,
          HA_API_SOCKET: apiSocket(config).path,
          HA_NODE_NAME: config.node
        }
      })
    ),
    // agents are forked by a small perl helper: spawning from this large process would cost
    // each monitor a copy of its page tables (see packages/executor's README)
    Layer.provide(Layer.mergeAll(ForkServer.layer, NodeFileSystem.layer))
  )
  const fencing = Layer.mergeAll(
    FenceAgents.layerRegistry().pipe(Layer.provide(NodeAgentProcess.layer)),
    FencingSettings.FencingSettings.layer()
  )
  return Node.layer({ nodes, version }).pipe(Layer.provide(Layer.mergeAll(cib, executor, fencing)))
}

/** Everything a node runs: transport, membership and the node's services. */
export const layer = (
  config: DaemonConfig,
  file: string
): Layer.Layer<
  Node.Services | Membership.Membership | Transport.Transport,
  | NodeSetupError
  | Datagram.DatagramError
  | TransportSettings.TransportSettingsError
  | MembershipSettings.MembershipSettingsError
> => layerNode(config).pipe(Layer.provideMerge(layerMembership(config, file)))
