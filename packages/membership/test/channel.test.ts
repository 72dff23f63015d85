/**
 * Channels over one membership, on the transport's in-memory network driven by the TestClock: each
 * channel sees only its own messages, every channel sees the same views with their quorum, and a
 * channel's messages come in the membership's agreed order.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryNetwork, Transport, TransportSettings } from "@ha/transport"
import { Context, Effect, Layer, Stream } from "effect"
import { Channel, Membership, MembershipSettings } from "../src/index.ts"
import { advance } from "./inMemory.ts"

const key = new Uint8Array(32).map((_, i) => (i * 31 + 5) & 0xff)
const address = (id: number) => `10.1.0.${id}`

const topology = (id: number, ids: ReadonlyArray<number>) => ({
  clusterName: "channel-test",
  nodeId: id,
  links: [{ link: 0, address: address(id), port: 5405 }],
  peers: ids
    .filter((p) => p !== id)
    .map((nodeId) => ({ nodeId, links: [{ link: 0, address: address(nodeId), port: 5405 }] }))
})

const env = () => {
  const settings = MembershipSettings.make()
  return Layer.mergeAll(
    MemoryNetwork.layer(11),
    TransportSettings.layer(MembershipSettings.transportTimers(settings)),
    Layer.succeed(MembershipSettings.MembershipSettings, settings)
  )
}

const CHANNELS = [3, 200] as const
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

interface Node {
  readonly id: number
  readonly transport: Transport.Transport["Type"]
  readonly channels: ReadonlyArray<Channel.ChannelService>
  /** Per channel: views as `id:members:quorate`, and messages as `sender:text`. */
  readonly views: ReadonlyArray<Array<string>>
  readonly messages: ReadonlyArray<Array<string>>
  /** Every message the membership delivered, as `channel/sender:text`, in its order. */
  readonly delivered: Array<string>
}

const start = (ids: ReadonlyArray<number>) =>
  Effect.forEach(ids, (id) =>
    Effect.gen(function* () {
      const context = yield* Layer.build(Membership.layerTest({ topology: topology(id, ids), key }))
      const membership = Context.get(context, Membership.Membership)
      const channels = CHANNELS.map((n) => Channel.make(membership, n))
      const node: Node = {
        id,
        transport: Context.get(context, Transport.Transport),
        channels,
        views: channels.map(() => []),
        messages: channels.map(() => []),
        delivered: []
      }
      for (const [i, channel] of channels.entries()) {
        yield* channel.events.pipe(
          Stream.runForEach((e) =>
            Effect.sync(() => {
              if (e._tag === "View")
                node.views[i]!.push(`${e.view.id}:${e.view.members.join(",")}:${e.view.quorate}`)
              else node.messages[i]!.push(`${e.sender}:${text(e.payload)}`)
            })
          ),
          Effect.forkScoped
        )
      }
      yield* membership.events.pipe(
        Stream.runForEach((e) =>
          Effect.sync(() => {
            if (e._tag === "Delivered")
              node.delivered.push(`${e.payload[0]}/${e.sender}:${text(e.payload.subarray(1))}`)
          })
        ),
        Effect.forkScoped
      )
      return node
    })
  )

describe("Channel", () => {
  it.scoped(
    "two channels on one membership: own messages only, the same views with quorum, the membership's order",
    () =>
      Effect.gen(function* () {
        const network = yield* MemoryNetwork.MemoryNetwork
        const nodes = yield* start([1, 2, 3])
        yield* advance(nodes, 2000)

        // Every node sends on both channels, interleaved.
        for (let i = 0; i < 4; i++)
          for (const n of nodes)
            for (const [c, channel] of n.channels.entries())
              yield* channel.broadcast(new TextEncoder().encode(`c${CHANNELS[c]}-n${n.id}-${i}`))
        yield* advance(nodes, 500)

        for (const n of nodes) {
          for (const [c, channel] of n.channels.entries()) {
            expect(channel.self).toBe(n.id)
            const own = n.messages[c]!
            // Only this channel's messages, all of them.
            expect(own).toHaveLength(12)
            for (const m of own) expect(m).toMatch(new RegExp(`^\\d:c${CHANNELS[c]}-n\\d-\\d$`))
            // In the order the membership delivered them.
            const order = n.delivered
              .filter((d) => d.startsWith(`${CHANNELS[c]}/`))
              .map((d) => d.slice(d.indexOf("/") + 1))
            expect(own).toEqual(order)
            // Each message names its real sender.
            for (const m of own) expect(m.split(":")[0]).toBe(m.match(/-n(\d)-/)?.[1])
          }
          // Both channels saw the same views, the last of all three nodes and quorate.
          expect(n.views[0]).toEqual(n.views[1])
          expect(n.views[0]!.at(-1)).toMatch(/^\d+:1,2,3:true$/)
          // Every node ordered each channel the same way.
          expect(n.messages).toEqual(nodes[0]!.messages)
        }

        // Node 3 cut off: channels on 1 and 2 see a quorate view without it, node 3's an inquorate one.
        yield* network.cut(address(3))
        yield* advance(nodes, 2500)
        for (const n of nodes) expect(n.views[0]).toEqual(n.views[1])
        expect(nodes[0]!.views[0]!.at(-1)).toMatch(/^\d+:1,2:true$/)
        expect(nodes[1]!.views[0]!.at(-1)).toEqual(nodes[0]!.views[0]!.at(-1))
        expect(nodes[2]!.views[0]!.at(-1)).toMatch(/^\d+:3:false$/)

        // A message sent in the two-node view reaches only its members, on its channel only.
        yield* nodes[1]!.channels[1]!.broadcast(new TextEncoder().encode("after-split"))
        yield* advance(nodes, 300)
        for (const n of nodes.slice(0, 2)) {
          expect(n.messages[1]!.at(-1)).toBe("2:after-split")
          expect(n.messages[0]).toHaveLength(12)
        }
        expect(nodes[2]!.messages[1]).toHaveLength(12)
      }).pipe(Effect.provide(env())),
    60_000
  )

  it.effect("refuses a channel number that is not a byte", () =>
    Effect.gen(function* () {
      const membership = {} as Membership.Membership["Type"]
      for (const n of [-1, 256, 1.5]) expect(() => Channel.make(membership, n)).toThrow(RangeError)
    })
  )
})
