/**
 * One node's cluster layers built from its configuration file: the transport over its links (UDP, the
 * cluster key) and the membership over it, with two_node quorum for a two-node cluster as Corosync
 * sets it. The controller, CIB store, executor and fencer join here as they are wired in.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { Membership, MembershipSettings } from "@ha/membership"
import { ClusterKey, type Datagram, Topology, Transport, TransportSettings } from "@ha/transport"
import * as NodeCrypto from "@ha/transport/NodeCrypto"
import * as NodeUdp from "@ha/transport/NodeUdp"
import { Effect, Layer, Schema } from "effect"
import type { DaemonConfig } from "./DaemonConfig.ts"

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
export const layer = (
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
