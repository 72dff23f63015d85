/**
 * Several nodes' {@link ReplicationChannel}s in one process, for tests: a perfect ordered broadcast
 * with views, partitions and nodes going down and up. Delivery is immediate and in one global
 * order (each node's events go through its own queue, read by its own fiber), which gives the
 * virtual synchrony the channel promises. Quorum defaults to a strict majority of all the group's
 * nodes; pass another rule to model e.g. a two-node cluster or quorum being ignored.
 */
import { Effect, Queue, type Scope, Stream } from "effect"
import type { Event, NodeId, ReplicationChannelService, View } from "./ReplicationChannel.ts"

export interface Options {
  /** Whether `members` (out of `all`) have quorum. Default: more than half of `all`. */
  readonly quorum?: (members: ReadonlyArray<NodeId>, all: ReadonlyArray<NodeId>) => boolean
  /**
   * Largest broadcast delivered, in bytes, as a transport limits one message: a larger one is
   * lost (and counted in {@link MemoryGroup.dropped}). The channels tell their users this limit
   * (`ReplicationChannelService.maxPayload`). Default: no limit.
   */
  readonly maxPayload?: number
}

export const majority = (members: ReadonlyArray<NodeId>, all: ReadonlyArray<NodeId>): boolean =>
  members.length * 2 > all.length

const sameMembers = (a: ReadonlyArray<NodeId>, b: ReadonlyArray<NodeId>) =>
  a.length === b.length && a.every((x, i) => x === b[i])

export class MemoryGroup {
  private readonly quorum: NonNullable<Options["quorum"]>
  private readonly maxPayload: number
  /** Broadcasts lost for being larger than `maxPayload`. */
  dropped = 0
  private readonly attached = new Map<NodeId, Queue.Queue<Event>>()
  private readonly views = new Map<NodeId, View>()
  /** which side of the current partition each node is on (all 0 when healed) */
  private side = new Map<NodeId, number>()
  private nextView = 1

  constructor(
    readonly nodes: ReadonlyArray<NodeId>,
    options: Options = {}
  ) {
    this.quorum = options.quorum ?? majority
    this.maxPayload = options.maxPayload ?? Number.POSITIVE_INFINITY
  }

  /**
   * Node `self` comes up: its channel, whose events start with the view it joins. The node goes
   * down when the scope closes (the others then install a view without it).
   */
  channel(self: NodeId): Effect.Effect<ReplicationChannelService, never, Scope.Scope> {
    return Effect.acquireRelease(
      Effect.gen(this, function* () {
        if (!this.nodes.includes(self)) return yield* Effect.dieMessage(`node ${self} is not in the group`)
        if (this.attached.has(self)) return yield* Effect.dieMessage(`node ${self} is already up`)
        const queue = yield* Queue.unbounded<Event>()
        this.attached.set(self, queue)
        this.views.delete(self)
        this.installViews()
        const channel: ReplicationChannelService = {
          self,
          events: Stream.fromQueue(queue),
          broadcast: (payload: Uint8Array) => Effect.sync(() => this.broadcast(self, payload))
        }
        return Number.isFinite(this.maxPayload) ? { ...channel, maxPayload: this.maxPayload } : channel
      }),
      () =>
        Effect.sync(() => {
          this.attached.delete(self)
          this.views.delete(self)
          this.installViews()
        })
    )
  }

  /** Splits the group: nodes in the same list see each other, nodes not listed are alone. */
  partition(...sides: ReadonlyArray<ReadonlyArray<NodeId>>): Effect.Effect<void> {
    return Effect.sync(() => {
      this.side = new Map()
      sides.forEach((members, i) => {
        for (const node of members) this.side.set(node, i + 1)
      })
      this.installViews()
    })
  }

  /** Ends any partition. */
  heal(): Effect.Effect<void> {
    return this.partition(this.nodes)
  }

  /** The view node `node` is in, if it is up. */
  viewOf(node: NodeId): View | undefined {
    return this.views.get(node)
  }

  private sideOf(node: NodeId): number {
    // a node not named in a partition is alone: its own negative side
    return this.side.size === 0 ? 0 : (this.side.get(node) ?? -node - 1)
  }

  /** Installs a new view on every side whose up members differ from what they were. */
  private installViews(): void {
    const sides = new Map<number, Array<NodeId>>()
    for (const node of [...this.attached.keys()].sort((a, b) => a - b)) {
      const key = this.sideOf(node)
      sides.set(key, [...(sides.get(key) ?? []), node])
    }
    for (const members of sides.values()) {
      if (members.every((m) => sameMembers(this.views.get(m)?.members ?? [], members))) continue
      const view: View = { id: this.nextView++, members, quorate: this.quorum(members, this.nodes) }
      for (const m of members) {
        this.views.set(m, view)
        this.enqueue(m, { _tag: "View", view })
      }
    }
  }

  private broadcast(sender: NodeId, payload: Uint8Array): void {
    const view = this.views.get(sender)
    if (view === undefined || !this.attached.has(sender)) return
    if (payload.length > this.maxPayload) {
      this.dropped++
      return
    }
    const copy = payload.slice()
    for (const member of view.members) this.enqueue(member, { _tag: "Message", sender, payload: copy })
  }

  private enqueue(node: NodeId, event: Event): void {
    const queue = this.attached.get(node)
    if (queue !== undefined) Queue.unsafeOffer(queue, event)
  }
}

/** A group of `nodes` (see {@link MemoryGroup}). */
export const make = (nodes: ReadonlyArray<NodeId>, options: Options = {}): MemoryGroup =>
  new MemoryGroup(nodes, options)
