/**
 * Channels: several independent users of one membership (the replicated CIB, the fencer, the
 * executors' requests), each with its own totally ordered broadcast, as Corosync's CPG gives each
 * Pacemaker daemon its group. A channel's payloads carry one leading byte, its number; each channel
 * sees the views (with their quorum) and only its own messages, in the membership's order.
 */
import { type Effect, Option, Stream } from "effect"
import type { Membership } from "./Membership.ts"

export interface ChannelView {
  /** The ring's sequence number: agreed by the members, and increasing with every view. */
  readonly id: number
  /** Node ids, ascending. */
  readonly members: ReadonlyArray<number>
  readonly quorate: boolean
}

export type ChannelEvent =
  | { readonly _tag: "View"; readonly view: ChannelView }
  | { readonly _tag: "Message"; readonly sender: number; readonly payload: Uint8Array }

export interface ChannelService {
  readonly self: number
  /**
   * The current view first (if any), then views and this channel's messages in agreed order. A view's
   * quorum is the one computed when it was installed: a change between views (last_man_standing's
   * window) reaches channels with the next view, so that every member sees the same views.
   */
  readonly events: Stream.Stream<ChannelEvent>
  /** Delivered to every member of the view, this node included, in the same order for all. */
  readonly broadcast: (payload: Uint8Array) => Effect.Effect<void>
}

/** Channel `channel` (0–255) of the membership. */
export const make = (membership: Membership["Type"], channel: number): ChannelService => {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255)
    throw new RangeError(`channel ${channel} is not a byte`)
  return {
    self: membership.nodeId,
    broadcast: (payload) => {
      const framed = new Uint8Array(payload.length + 1)
      framed[0] = channel
      framed.set(payload, 1)
      return membership.broadcast(framed)
    },
    events: membership.events.pipe(
      Stream.filterMap((event): Option.Option<ChannelEvent> => {
        switch (event._tag) {
          case "ViewInstalled": {
            const members = [...event.view.members].sort((a, b) => a - b)
            const view = { id: event.view.id.seq, members, quorate: event.quorum.quorate }
            return Option.some({ _tag: "View", view })
          }
          case "Delivered":
            if (event.payload.length === 0 || event.payload[0] !== channel) return Option.none()
            return Option.some({ _tag: "Message", sender: event.sender, payload: event.payload.subarray(1) })
          default:
            return Option.none()
        }
      })
    )
  }
}
