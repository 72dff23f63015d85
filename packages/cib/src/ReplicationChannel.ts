/**
 * What the replicated CIB needs from the membership layer, and nothing more: agreed views and a
 * totally ordered broadcast with virtual synchrony, as Corosync's CPG gives Pacemaker. The store
 * owns this small interface so that it can be built and tested before `@ha/membership` is done;
 * wiring to the real membership (Totem views and deliveries, votequorum's quorate flag) is a thin
 * adapter that turns its `ViewInstalled` / `Delivered` outputs into {@link Event}s.
 *
 * What an implementation must guarantee (Totem's extended virtual synchrony gives all of it):
 * - every member of a view receives the view's event, then the messages broadcast in that view,
 *   all members in the same order, each message at most once;
 * - a node receives its own broadcasts too, in their place in that order;
 * - members that go together from one view to the next receive the same messages before the next
 *   view's event (a message of an old view is never delivered after a new view's event).
 */
import { Context, type Effect, type Stream } from "effect"

/** A cluster node, as the membership numbers it; the CIB knows it as the `<node>` whose id is `String(nodeId)`. */
export type NodeId = number

export interface View {
  /** Increases with every view a node installs. */
  readonly id: number
  /** Members, ascending. */
  readonly members: ReadonlyArray<NodeId>
  /** Whether the membership's quorum rules give this view quorum. */
  readonly quorate: boolean
}

export type Event =
  | { readonly _tag: "View"; readonly view: View }
  | { readonly _tag: "Message"; readonly sender: NodeId; readonly payload: Uint8Array }

export interface ReplicationChannelService {
  readonly self: NodeId
  /** The node's events in agreed order, starting with its current view. One consumer. */
  readonly events: Stream.Stream<Event>
  /** Broadcasts to the members of the current view (fire and forget: delivery comes through `events`). */
  readonly broadcast: (payload: Uint8Array) => Effect.Effect<void>
  /**
   * Largest payload one broadcast may carry, in bytes; the replication sends larger ones (a whole
   * copy of a large CIB) in fragments. Default 256 KiB, well under the transport's 1 MiB.
   */
  readonly maxPayload?: number
}

export class ReplicationChannel extends Context.Tag("@ha/cib/ReplicationChannel")<
  ReplicationChannel,
  ReplicationChannelService
>() {}
