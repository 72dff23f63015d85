/**
 * The seam between the controller and the membership layer (packages/membership, being written):
 * the only things the controller needs are the current view (who is in, with their election
 * credentials, and whether the partition has quorum) and every later view, in order.
 *
 * `layerTest`/`makeMemory` is an in-memory membership for tests and for the in-process cluster:
 * the test sets views by hand (a node joins, is lost, the cluster splits). The daemon will provide
 * `Membership` from packages/membership's views (a small adapter, the `layer` of that package).
 */
import { Context, Effect, Layer, Ref, Stream, SubscriptionRef } from "effect"

export interface Member {
  readonly name: string
  /** The node id (corosync's nodeid): the election's last tie-breaker. */
  readonly id: string
  /** Election priority, higher wins (default 0). */
  readonly priority: number
  /** The member's controller version: the newest one coordinates. */
  readonly version: string
}

export interface View {
  /** Increases with every view change (corosync's ring id). */
  readonly ringId: number
  readonly members: ReadonlyArray<Member>
  readonly quorate: boolean
}

export interface MembershipService {
  readonly current: Effect.Effect<View>
  /** The current view first, then every later view, in order. */
  readonly views: Stream.Stream<View>
}

export class Membership extends Context.Tag("@ha/controller/Membership")<Membership, MembershipService>() {}

export const member = (
  name: string,
  id: string,
  options: Partial<Pick<Member, "priority" | "version">> = {}
): Member => ({
  name,
  id,
  priority: options.priority ?? 0,
  version: options.version ?? "1.0.0"
})

/**
 * Quorum by simple majority of the configured nodes; a two-node cluster keeps quorum with one node
 * (corosync's two_node mode: fencing, not votes, settles who survives).
 */
export const quorate = (members: number, configured: number): boolean =>
  configured === 2 ? members >= 1 : members * 2 > configured

/** An in-memory membership that several nodes can share (each node gets its own partition's view). */
export interface MemoryMembership {
  /** The membership as seen by one node. */
  readonly of: (node: string) => MembershipService
  /**
   * Splits the cluster into partitions (a node in none is alone, as a crashed node would be). Every
   * node gets a new view with a new ring id.
   */
  readonly partition: (groups: ReadonlyArray<ReadonlyArray<string>>) => Effect.Effect<void>
}

export const makeMemory = (nodes: ReadonlyArray<Member>): Effect.Effect<MemoryMembership> =>
  Effect.gen(function* () {
    const ring = yield* Ref.make(1)
    const viewOf = (names: ReadonlyArray<string>, ringId: number): View => {
      const members = nodes.filter((n) => names.includes(n.name))
      return { ringId, members, quorate: quorate(members.length, nodes.length) }
    }
    const refs = new Map<string, SubscriptionRef.SubscriptionRef<View>>()
    const all = nodes.map((n) => n.name)
    for (const node of nodes) refs.set(node.name, yield* SubscriptionRef.make(viewOf(all, 1)))
    const refOf = (node: string) => {
      const ref = refs.get(node)
      if (ref === undefined) throw new Error(`unknown node ${node}`)
      return ref
    }
    return {
      of: (node) => ({ current: SubscriptionRef.get(refOf(node)), views: refOf(node).changes }),
      partition: (groups) =>
        Effect.gen(function* () {
          const ringId = yield* Ref.updateAndGet(ring, (n) => n + 1)
          for (const node of nodes) {
            const group = groups.find((g) => g.includes(node.name)) ?? [node.name]
            yield* SubscriptionRef.set(refOf(node.name), viewOf(group, ringId))
          }
        })
    }
  })

/** A fixed view that never changes (a one-node cluster, or tests of one DC). */
export const layerTest = (view: View): Layer.Layer<Membership> =>
  Layer.succeed(Membership, {
    current: Effect.succeed(view),
    views: Stream.concat(Stream.succeed(view), Stream.never)
  })

/** One node's view of a shared in-memory membership. */
export const layerMemory = (memory: MemoryMembership, node: string): Layer.Layer<Membership> =>
  Layer.succeed(Membership, memory.of(node))
