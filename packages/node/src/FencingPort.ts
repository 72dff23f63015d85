/**
 * The fencer's `ClusterPort` over a membership channel: fencing requests and results are JSON
 * messages in the channel's total order, and the membership is the channel's views by node name.
 */

import type { ClusterPort, Fencer } from "@ha/fencing"
import type { Channel } from "@ha/membership"
import { Effect, Option, Schema, Stream } from "effect"
import type { ClusterNodes } from "./ClusterNodes.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const Message = Schema.parseJson(
  Schema.Struct(
    { _tag: Schema.String },
    {
      key: Schema.String,
      value: Schema.Unknown
    }
  )
)
const decodeMessage = Schema.decodeUnknownOption(Message)

export const make = (
  channel: Channel.ChannelService,
  nodes: ClusterNodes
): ClusterPort.ClusterPort["Type"] => ({
  self: nodes.nameOf(channel.self),
  broadcast: (message) => channel.broadcast(encoder.encode(JSON.stringify(message))),
  events: channel.events.pipe(
    Stream.mapEffect((event) => {
      if (event._tag === "View")
        return Effect.succeed(
          Option.some<ClusterPort.ClusterEvent>({
            _tag: "Membership",
            members: event.view.members.map(nodes.nameOf)
          })
        )
      const text = decoder.decode(event.payload)
      const decoded = decodeMessage(text)
      if (Option.isNone(decoded))
        return Effect.logWarning(
          `fencing: unreadable message from node ${event.sender}: ${text.slice(0, 80)}`
        ).pipe(Effect.as(Option.none()))
      return Effect.succeed(
        Option.some<ClusterPort.ClusterEvent>({
          _tag: "Delivered",
          message: decoded.value as unknown as Fencer.ClusterMessage
        })
      )
    }),
    Stream.filterMap((event) => event)
  )
})
