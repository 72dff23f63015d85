/**
 * The Membership service: Totem's agreed views and totally ordered broadcast, and votequorum's quorum,
 * over the Transport. The protocol is the pure `Totem.Machine` and `Quorum.Machine`; this module only
 * feeds them received packets, ticks from Effect's Clock and broadcasts, and carries their outputs to
 * the transport and to subscribers.
 */

import type { Datagram } from "@ha/transport"
import { Aead, type MemoryNetwork, Transport, type TransportSettings } from "@ha/transport"
import {
  Clock,
  Context,
  Effect,
  Layer,
  Option,
  PubSub,
  Queue,
  Schedule,
  type Scope,
  Stream,
  SubscriptionRef
} from "effect"
import { decode, encode } from "./Codec.ts"
import {
  MembershipSettings,
  type MembershipSettingsError,
  quorumOptions,
  totemSettings,
  validate
} from "./MembershipSettings.ts"
import * as Quorum from "./Quorum.ts"
import * as Totem from "./Totem.ts"

export type View = Totem.View

/** What the application sees, in the order the protocol produced it. */
export type MembershipEvent = Exclude<Totem.Output, { readonly _tag: "Send" | "Multicast" }>

export class Membership extends Context.Tag("@ha/membership/Membership")<
  Membership,
  {
    readonly nodeId: number
    /** Queues a message for totally ordered delivery to every member of the view (itself included). */
    readonly broadcast: (payload: Uint8Array) => Effect.Effect<void>
    /**
     * The current view (if any), then views, transitional configurations, delivered messages and token
     * losses in protocol order. A replicated state machine applies `Delivered` payloads in order.
     */
    readonly events: Stream.Stream<MembershipEvent>
    /** The current agreed view (if one is installed), then every later view. */
    readonly views: Stream.Stream<View>
    readonly currentView: Effect.Effect<Option.Option<View>>
    /** The current quorum status, then every change. */
    readonly quorum: Stream.Stream<Quorum.Status>
    readonly currentQuorum: Effect.Effect<Quorum.Status>
    /** Packets received that were not valid Totem packets (the transport authenticated their sender). */
    readonly malformed: Effect.Effect<number>
  }
>() {}

/** Runs the protocol for the lifetime of the scope, over the Transport in context. */
export const make: Effect.Effect<
  Membership["Type"],
  MembershipSettingsError,
  Scope.Scope | Transport.Transport | MembershipSettings
> = Effect.gen(function* () {
  const settings = yield* MembershipSettings
  yield* validate(settings)
  const transport = yield* Transport.Transport
  const peers = (yield* transport.status).map((p) => p.nodeId)
  const totem = new Totem.Machine(transport.nodeId, totemSettings(settings))
  const quorum = new Quorum.Machine(quorumOptions(settings, [transport.nodeId, ...peers]))
  const viewRef = yield* SubscriptionRef.make<Option.Option<View>>(Option.none())
  const quorumRef = yield* SubscriptionRef.make(quorum.status)
  const events = yield* PubSub.unbounded<MembershipEvent>()
  // Every input goes through one queue to one driver fiber: the machine sees them one at a time and
  // their outputs go out in order (a token must not overtake the data sent before it).
  const inputs = yield* Queue.unbounded<Totem.Input>()
  // Held while one step's events are published, and while a subscriber joins: so a new subscriber
  // sees the current view and then every later event, none twice or missed.
  const publishing = yield* Effect.makeSemaphore(1)
  let malformed = 0

  const publish = (outputs: ReadonlyArray<Totem.Output>, now: number) =>
    Effect.forEach(
      outputs,
      (output): Effect.Effect<void> => {
        switch (output._tag) {
          case "Send":
          case "Multicast":
            return Effect.void
          case "ViewInstalled": {
            const status = quorum.step({ _tag: "View", members: output.view.members, now })
            return Effect.all([
              SubscriptionRef.set(viewRef, Option.some(output.view)),
              PubSub.publish(events, output),
              status === null ? Effect.void : SubscriptionRef.set(quorumRef, status)
            ])
          }
          default:
            return PubSub.publish(events, output)
        }
      },
      { discard: true }
    )

  const transmit = (outputs: ReadonlyArray<Totem.Output>) =>
    Effect.forEach(
      outputs,
      (output): Effect.Effect<unknown> => {
        // Unreachable peers are lost packets: Totem retransmits, or declares the token lost.
        if (output._tag === "Send") return Effect.ignore(transport.send(output.to, encode(output.packet)))
        if (output._tag === "Multicast") return Effect.ignore(transport.broadcast(encode(output.packet)))
        return Effect.void
      },
      { discard: true }
    )

  const step = (input: Totem.Input) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const quorumTick = input._tag === "Tick" ? quorum.step(input) : null
      const outputs = totem.step(input)
      return Effect.zipRight(
        publishing.withPermits(1)(
          Effect.zipRight(
            quorumTick === null ? Effect.void : SubscriptionRef.set(quorumRef, quorumTick),
            publish(outputs, now)
          )
        ),
        transmit(outputs)
      )
    })

  yield* Queue.takeBetween(inputs, 1, 4096).pipe(
    Effect.flatMap((batch) => Effect.forEach(batch, step, { discard: true })),
    Effect.forever,
    Effect.forkScoped
  )

  const receive = (message: Transport.Message) => {
    const packet = decode(message.bytes)
    if (packet._tag === "Left") {
      malformed++
      return Effect.logDebug(`malformed packet from node ${message.from}: ${packet.left.reason}`)
    }
    return Queue.offer(inputs, { _tag: "Receive", from: message.from, packet: packet.right })
  }

  yield* Effect.forkScoped(Stream.runForEach(transport.messages, receive))
  yield* Clock.currentTimeMillis.pipe(
    Effect.flatMap((now) => Queue.offer(inputs, { _tag: "Tick", now })),
    Effect.repeat(Schedule.spaced(settings.tickInterval)),
    Effect.forkScoped
  )

  return Membership.of({
    nodeId: transport.nodeId,
    broadcast: (payload) => Queue.offer(inputs, { _tag: "Broadcast", payload }),
    events: Stream.unwrapScoped(
      publishing.withPermits(1)(
        Effect.gen(function* () {
          const subscription = yield* PubSub.subscribe(events)
          const current = yield* SubscriptionRef.get(viewRef)
          const first = Option.map(current, (view): MembershipEvent => ({ _tag: "ViewInstalled", view }))
          return Stream.concat(Stream.fromIterable(Option.toArray(first)), Stream.fromQueue(subscription))
        })
      )
    ),
    views: viewRef.changes.pipe(Stream.filterMap((v) => v)),
    currentView: SubscriptionRef.get(viewRef),
    quorum: quorumRef.changes,
    currentQuorum: SubscriptionRef.get(quorumRef),
    malformed: Effect.sync(() => malformed)
  })
})

/** Membership over the Transport in context (the live one over UDP, or any other). */
export const layer: Layer.Layer<
  Membership,
  MembershipSettingsError,
  Transport.Transport | MembershipSettings
> = Layer.scoped(Membership, make)

/**
 * Membership and its Transport on the in-memory network shared by the test's nodes (both are
 * returned, so tests can wait for the transport to be idle before moving the TestClock).
 */
export const layerTest = (
  options: Transport.TransportOptions
): Layer.Layer<
  Membership | Transport.Transport,
  MembershipSettingsError | Datagram.DatagramError | TransportSettings.TransportSettingsError,
  | MembershipSettings
  | MemoryNetwork.MemoryNetwork
  | Datagram.DatagramNetwork
  | TransportSettings.TransportSettings
> => layer.pipe(Layer.provideMerge(Transport.layerTest(options)), Layer.provide(Aead.layerWebCrypto))
