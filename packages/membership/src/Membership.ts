/**
 * The Membership service: Totem's agreed views and totally ordered broadcast, and votequorum's quorum,
 * over the Transport. The protocol is the pure `Totem.Machine` and `Quorum.Machine`; this module only
 * feeds them received packets, ticks from Effect's Clock and broadcasts, and carries their outputs to
 * the transport and to subscribers.
 */

import type { Datagram } from "@ha/transport"
import { Aead, type MemoryNetwork, Transport, type TransportSettings } from "@ha/transport"
import {
  type Chunk,
  Clock,
  Context,
  Effect,
  Layer,
  Option,
  PubSub,
  Queue,
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

/**
 * What the application sees, in the order the protocol produced it. A view comes with the quorum
 * it gives (computed before the view is published, so nobody sees a new view with the old quorum);
 * a quorum change without a view change (e.g. last_man_standing's window) is a `QuorumChanged`.
 */
export type MembershipEvent =
  | Exclude<Totem.Output, { readonly _tag: "Send" | "Multicast" | "ViewInstalled" }>
  | { readonly _tag: "ViewInstalled"; readonly view: View; readonly quorum: Quorum.Status }
  | { readonly _tag: "QuorumChanged"; readonly quorum: Quorum.Status }

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

/**
 * The largest payload `broadcast` takes: the transport's default `maxMessageSize` (1 MiB) less room
 * for the Totem packet's header.
 */
export const maxPayloadBytes = 1024 * 1024 - 1024

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
  // Broadcasts go through a queue to a driver fiber, which steps them in batches; received packets
  // and ticks are stepped by the fibers that read or make them (a hand-over to another fiber per
  // packet would cost more than the protocol's work). The machines see one batch at a time under
  // this lock, and each batch's outputs go out before the next batch is stepped (a token must not
  // overtake the data sent before it). A subscriber joins under the lock too: it sees the current
  // view and then every later event, none twice or missed.
  const broadcasts = yield* Queue.unbounded<Totem.Input>()
  const lock = yield* Effect.makeSemaphore(1)
  let malformed = 0

  // Events of one batch, published under the lock. A view or quorum change also updates its
  // SubscriptionRef first, so the `views` and `quorum` streams see every change in order.
  type Publication =
    | { readonly _tag: "Events"; readonly events: Array<MembershipEvent> }
    | {
        readonly _tag: "View"
        readonly view: View
        readonly quorum: Quorum.Status
        /** Whether the view changed the quorum (the `quorum` stream sees changes only). */
        readonly quorumChanged: boolean
      }
    | { readonly _tag: "Quorum"; readonly quorum: Quorum.Status }

  const publishAll = (publications: ReadonlyArray<Publication>) =>
    Effect.forEach(
      publications,
      (p): Effect.Effect<unknown> => {
        switch (p._tag) {
          case "Events":
            return PubSub.publishAll(events, p.events)
          case "View":
            return Effect.all([
              p.quorumChanged ? SubscriptionRef.set(quorumRef, p.quorum) : Effect.void,
              SubscriptionRef.set(viewRef, Option.some(p.view)),
              PubSub.publish(events, { _tag: "ViewInstalled", view: p.view, quorum: p.quorum })
            ])
          case "Quorum":
            return Effect.zipRight(
              SubscriptionRef.set(quorumRef, p.quorum),
              PubSub.publish(events, { _tag: "QuorumChanged", quorum: p.quorum })
            )
        }
      },
      { discard: true }
    )

  // Unreachable peers are lost packets: Totem retransmits, or declares the token lost.
  const transmit = (output: Totem.Output): Effect.Effect<unknown> => {
    if (output._tag === "Send") return Effect.ignore(transport.send(output.to, encode(output.packet)))
    if (output._tag === "Multicast") return Effect.ignore(transport.broadcast(encode(output.packet)))
    return Effect.void
  }

  /**
   * Steps the machines through a batch of inputs synchronously, then publishes the batch's events and
   * sends its packets in the order produced. One Effect pipeline per batch rather than per input or
   * message: under load the per-message cost is what limits throughput.
   */
  const run = (batch: Iterable<Totem.Input>) =>
    lock.withPermits(1)(
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const publications: Array<Publication> = []
        const packets: Array<Totem.Output> = []
        let plain: Array<MembershipEvent> = []
        const flush = () => {
          if (plain.length > 0) publications.push({ _tag: "Events", events: plain })
          plain = []
        }
        for (const input of batch) {
          const quorumTick = input._tag === "Tick" ? quorum.step(input) : null
          if (quorumTick !== null) {
            flush()
            publications.push({ _tag: "Quorum", quorum: quorumTick })
          }
          for (const output of totem.step(input)) {
            switch (output._tag) {
              case "Send":
              case "Multicast":
                packets.push(output)
                break
              case "ViewInstalled": {
                flush()
                const changed = quorum.step({ _tag: "View", members: output.view.members, now })
                publications.push({
                  _tag: "View",
                  view: output.view,
                  quorum: changed ?? quorum.status,
                  quorumChanged: changed !== null
                })
                break
              }
              default:
                plain.push(output)
            }
          }
        }
        flush()
        return Effect.zipRight(publishAll(publications), Effect.forEach(packets, transmit, { discard: true }))
      })
    )

  yield* Queue.takeBetween(broadcasts, 1, 4096).pipe(Effect.flatMap(run), Effect.forever, Effect.forkScoped)

  const receive = (messages: Chunk.Chunk<Transport.Message>) => {
    const packets: Array<Totem.Input> = []
    const rejected: Array<string> = []
    for (const message of messages) {
      const packet = decode(message.bytes)
      if (packet._tag === "Right") packets.push({ _tag: "Receive", from: message.from, packet: packet.right })
      else {
        malformed++
        rejected.push(`malformed packet from node ${message.from}: ${packet.left.reason}`)
      }
    }
    return Effect.zipRight(
      Effect.forEach(rejected, (line) => Effect.logDebug(line), { discard: true }),
      packets.length === 0 ? Effect.void : run(packets)
    )
  }

  yield* Effect.forkScoped(Stream.runForEachChunk(transport.messages, receive))
  // A plain sleep loop: the same spacing as Schedule.spaced at half the CPU per tick, which counts at
  // 100 ticks a second on an idle node.
  yield* Clock.currentTimeMillis.pipe(
    Effect.flatMap((now) => run([{ _tag: "Tick", now }])),
    Effect.zipRight(Effect.sleep(settings.tickInterval)),
    Effect.forever,
    Effect.forkScoped
  )

  return Membership.of({
    nodeId: transport.nodeId,
    broadcast: (payload) =>
      // a payload the transport cannot carry in one message would never be delivered, and the
      // ring would stall retransmitting it: refused here, loudly (callers split large data)
      payload.length > maxPayloadBytes
        ? Effect.logError(
            `membership: a broadcast of ${payload.length} bytes was refused (at most ${maxPayloadBytes})`
          )
        : Queue.offer(broadcasts, { _tag: "Broadcast", payload }).pipe(Effect.asVoid),
    events: Stream.unwrapScoped(
      lock.withPermits(1)(
        Effect.gen(function* () {
          const subscription = yield* PubSub.subscribe(events)
          const current = yield* SubscriptionRef.get(viewRef)
          const status = yield* SubscriptionRef.get(quorumRef)
          const first = Option.map(
            current,
            (view): MembershipEvent => ({ _tag: "ViewInstalled", view, quorum: status })
          )
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
