/**
 * Who this node is and how it reaches its peers: node id, its links (one UDP socket each) and, per peer,
 * the address of that peer's end of each link. Link `n` of every node forms one network (like Corosync's
 * ring n / knet link n).
 */
import { Effect, ParseResult, Schema } from "effect"

export const MAX_LINKS = 8

export const NodeId = Schema.Int.pipe(Schema.between(1, 65535))
export type NodeId = typeof NodeId.Type

export const LinkId = Schema.Int.pipe(Schema.between(0, MAX_LINKS - 1))

export const LinkEndpoint = Schema.Struct({
  /** Link number 0..7; the same number names the same network on every node. */
  link: LinkId,
  /** IPv4 or IPv6 address, e.g. "10.0.0.1". */
  address: Schema.NonEmptyTrimmedString,
  /** UDP port, 1..65535 (0 in local links asks the system for a free port, for tests). */
  port: Schema.Int.pipe(Schema.between(0, 65535)),
  /** Passive mode uses the up link with the highest priority. Default 0. */
  priority: Schema.optional(Schema.Int)
})
export type LinkEndpoint = typeof LinkEndpoint.Type

export const Peer = Schema.Struct({
  nodeId: NodeId,
  links: Schema.Array(LinkEndpoint).pipe(Schema.minItems(1), Schema.maxItems(MAX_LINKS))
})
export type Peer = typeof Peer.Type

const uniqueBy =
  <A>(key: (a: A) => number, what: string) =>
  (items: ReadonlyArray<A>) => {
    const seen = new Set<number>()
    for (const item of items) {
      const k = key(item)
      if (seen.has(k)) return `duplicate ${what} ${k}`
      seen.add(k)
    }
    return true
  }

export const NodeTopology = Schema.Struct({
  /** Cluster name; its hash is carried in every packet so that two clusters on one network ignore each other. */
  clusterName: Schema.NonEmptyTrimmedString,
  nodeId: NodeId,
  links: Schema.Array(LinkEndpoint).pipe(
    Schema.minItems(1),
    Schema.maxItems(MAX_LINKS),
    Schema.filter(uniqueBy((l: LinkEndpoint) => l.link, "link"))
  ),
  peers: Schema.Array(Peer).pipe(Schema.filter(uniqueBy((p: Peer) => p.nodeId, "peer nodeId")))
}).pipe(
  Schema.filter((topology) => {
    const local = new Set(topology.links.map((l) => l.link))
    for (const peer of topology.peers) {
      if (peer.nodeId === topology.nodeId) return `peer ${peer.nodeId} is this node itself`
      const dup = uniqueBy((l: LinkEndpoint) => l.link, "link")(peer.links)
      if (dup !== true) return `peer ${peer.nodeId}: ${dup}`
      for (const l of peer.links) {
        if (!local.has(l.link)) return `peer ${peer.nodeId} has link ${l.link}, which this node does not have`
        if (l.port === 0) return `peer ${peer.nodeId} link ${l.link}: port must be set`
      }
    }
    return true
  })
)
export type NodeTopology = typeof NodeTopology.Type

export class TopologyError extends Schema.TaggedError<TopologyError>()("TopologyError", {
  source: Schema.String,
  message: Schema.String
}) {}

/** Decodes a topology from untyped input (e.g. parsed JSON), naming the source and the failing field. */
export const decode = (input: unknown, source = "<topology>"): Effect.Effect<NodeTopology, TopologyError> =>
  Schema.decodeUnknown(NodeTopology)(input, { errors: "all" }).pipe(
    Effect.mapError(
      (error) =>
        new TopologyError({
          source,
          message: `${source}: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
        })
    )
  )
