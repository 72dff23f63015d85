/**
 * The Transport service: authenticated, encrypted messages between cluster nodes over one to eight
 * redundant UDP links per peer, with heartbeats, failover, fragmentation and replay protection.
 * The protocol logic is `LinkMachine`; this module only feeds it datagrams, time and send requests and
 * carries its outputs to sockets, subscribers and the caller.
 */
import {
  Chunk,
  Clock,
  Context,
  Effect,
  Layer,
  PubSub,
  Queue,
  Random,
  Schema,
  type Scope,
  Stream
} from "effect"
import { type Aead, clusterHash, makeCipher } from "./Aead.ts"
import { type Datagram, type DatagramError, DatagramNetwork, type DatagramSocket } from "./Datagram.ts"
import { decodeHeader } from "./internal/wire.ts"
import {
  type DropReason,
  type Frame,
  LinkMachine,
  type LinkState,
  type Metrics,
  machineSettings,
  type Output
} from "./LinkMachine.ts"
import { MemoryNetwork } from "./MemoryNetwork.ts"
import type { NodeTopology } from "./Topology.ts"
import { TransportSettings, type TransportSettingsError, validate } from "./TransportSettings.ts"

export type { DropReason, LinkState, Metrics } from "./LinkMachine.ts"

export interface Message {
  readonly from: number
  readonly bytes: Uint8Array
}

export type TransportEvent =
  | { readonly _tag: "LinkEvent"; readonly peer: number; readonly link: number; readonly state: LinkState }
  /** `restarted`: the peer came back with a new incarnation (its earlier state is gone). */
  | {
      readonly _tag: "PeerEvent"
      readonly peer: number
      readonly state: "reachable" | "unreachable" | "restarted"
    }

export interface PeerStatus {
  readonly nodeId: number
  readonly reachable: boolean
  readonly links: ReadonlyArray<{
    readonly link: number
    readonly state: LinkState
    readonly rtt: number | undefined
  }>
}

export class UnknownPeer extends Schema.TaggedError<UnknownPeer>()("UnknownPeer", { nodeId: Schema.Number }) {
  override get message() {
    return `node ${this.nodeId} is not a configured peer`
  }
}

export class PeerUnreachable extends Schema.TaggedError<PeerUnreachable>()("PeerUnreachable", {
  nodeId: Schema.Number
}) {
  override get message() {
    return `node ${this.nodeId} has no link up`
  }
}

export class MessageTooLarge extends Schema.TaggedError<MessageTooLarge>()("MessageTooLarge", {
  size: Schema.Number,
  max: Schema.Number
}) {
  override get message() {
    return `message of ${this.size} bytes exceeds maxMessageSize ${this.max}`
  }
}

export type SendError = UnknownPeer | PeerUnreachable | MessageTooLarge

export interface TransportOptions {
  readonly topology: NodeTopology
  /** The shared cluster key (see ClusterKey). */
  readonly key: Uint8Array
}

export class Transport extends Context.Tag("@ha/transport/Transport")<
  Transport,
  {
    readonly nodeId: number
    /** Sends one message to one peer over its current link(s); fails at once if no link is up. */
    readonly send: (to: number, bytes: Uint8Array) => Effect.Effect<void, SendError>
    /** Sends to every reachable peer; returns the peers the message went to. */
    readonly broadcast: (bytes: Uint8Array) => Effect.Effect<ReadonlyArray<number>, MessageTooLarge>
    /** Messages received from peers, in arrival order (single consumer). */
    readonly messages: Stream.Stream<Message>
    /** Link and peer events from the moment the stream starts. */
    readonly events: Stream.Stream<TransportEvent>
    readonly status: Effect.Effect<ReadonlyArray<PeerStatus>>
    readonly metrics: Effect.Effect<Metrics>
    /**
     * Number of datagrams being decrypted or encrypted and sent right now. Tests on the in-memory
     * network wait for 0 before moving the TestClock, because WebCrypto work completes in real time.
     */
    readonly busy: Effect.Effect<number>
  }
>() {}

const randomIncarnation = Effect.gen(function* () {
  const high = yield* Random.nextIntBetween(0, 0x1_0000_0000)
  const low = yield* Random.nextIntBetween(1, 0x1_0000_0000)
  return (BigInt(high) << 32n) | BigInt(low)
})

/** Builds a transport for the lifetime of the scope (several may share one network in a test). */
export const make = (
  options: TransportOptions
): Effect.Effect<
  Transport["Type"],
  DatagramError | TransportSettingsError,
  Scope.Scope | DatagramNetwork | TransportSettings | Aead
> =>
  Effect.gen(function* () {
    const settings = yield* TransportSettings
    yield* validate(settings)
    const network = yield* DatagramNetwork
    const { topology } = options
    const cipher = yield* makeCipher(options.key)
    const hash = yield* clusterHash(topology.clusterName)
    const machine = new LinkMachine(topology, machineSettings(settings), yield* randomIncarnation, hash)
    // Runs of received messages, each handed to the consumer as one chunk (one wake-up per run);
    // `buffered` messages at most `receiveBuffer`, counted down as the consumer takes them.
    const messages = yield* Queue.unbounded<Chunk.Chunk<Message>>()
    let buffered = 0
    const events = yield* PubSub.unbounded<TransportEvent>()
    const peerEndpoints = new Map(
      topology.peers.map(
        (peer) => [peer.nodeId, new Map(peer.links.map((l) => [l.link, l] as const))] as const
      )
    )
    let busy = 0
    const tracked = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.suspend(() => {
        busy++
        return Effect.ensuring(
          effect,
          Effect.sync(() => busy--)
        )
      })
    const sockets = new Map<number, DatagramSocket>()
    for (const link of topology.links) {
      sockets.set(link.link, yield* network.bind({ address: link.address, port: link.port }))
    }

    // Monotonic milliseconds (Effect's nanosecond clock is performance.now-based): a wall-clock step
    // must not take links down or make pongs look stale.
    const step = (input: (now: number) => Parameters<LinkMachine["step"]>[0]) =>
      Effect.map(Clock.currentTimeNanos, (nanos) => machine.step(input(Number(nanos / 1_000_000n))))

    const transmit = (frame: Frame): Effect.Effect<void> => {
      const socket = sockets.get(frame.link)
      const to = peerEndpoints.get(frame.destination)?.get(frame.link)
      if (socket === undefined || to === undefined) return Effect.void
      // UDP is best effort: a failed send is a lost packet, which heartbeats detect.
      const datagram = cipher.sealNow(frame)
      if (datagram !== null) return Effect.ignore(socket.send(datagram, to))
      return cipher.seal(frame).pipe(
        Effect.flatMap((sealed) => socket.send(sealed, to)),
        Effect.ignore,
        tracked
      )
    }

    /** Hands received messages to the consumer at once; a full buffer drops them (and counts it). */
    const deliverAll = (delivered: ReadonlyArray<Message>): Effect.Effect<void> =>
      Effect.suspend(() => {
        const accepted = Math.max(0, Math.min(delivered.length, settings.receiveBuffer - buffered))
        const rejected = delivered.length - accepted
        if (accepted > 0) {
          buffered += accepted
          messages.unsafeOffer(
            Chunk.unsafeFromArray(accepted === delivered.length ? delivered : delivered.slice(0, accepted))
          )
        }
        if (rejected === 0) return Effect.void
        return step((now) => ({ _tag: "Rejected", now, reason: "receive-buffer-full" })).pipe(
          Effect.replicateEffect(rejected, { discard: true })
        )
      })

    /** Carries out the machine's outputs in order, with one hand-over per run of delivered messages. */
    const perform = (outputs: ReadonlyArray<Output>): Effect.Effect<void> => {
      const effects: Array<Effect.Effect<void>> = []
      let delivered: Array<Message> = []
      const flush = () => {
        if (delivered.length > 0) effects.push(deliverAll(delivered))
        delivered = []
      }
      for (const output of outputs) {
        switch (output._tag) {
          case "Transmit":
            effects.push(transmit(output.frame))
            break
          case "Deliver":
            delivered.push({ from: output.from, bytes: output.bytes })
            break
          case "LinkEvent":
          case "PeerEvent":
            flush()
            effects.push(PubSub.publish(events, output))
            break
          case "Dropped":
          case "Undeliverable":
            break
        }
      }
      flush()
      return effects.length === 1 ? effects[0]! : Effect.all(effects, { discard: true })
    }

    const reject = (link: number, reason: DropReason) =>
      Effect.flatMap(
        step((now) => ({ _tag: "Rejected", now, link, reason })),
        perform
      )

    /** One datagram, decrypted through the Aead's Effect (e.g. WebCrypto's promise). */
    const handle = (link: number, datagram: Datagram) =>
      Effect.gen(function* () {
        const header = decodeHeader(datagram.bytes, settings.mtu)
        if (typeof header === "string") return yield* reject(link, header)
        const screened = machine.screen(link, header)
        if (screened !== undefined) return yield* reject(link, screened)
        const payload = yield* cipher.open(header, datagram.bytes)
        if (payload === undefined) return yield* reject(link, "auth-failed")
        yield* Effect.flatMap(
          step((now) => ({ _tag: "Received", now, link, frame: { ...header, payload } })),
          perform
        )
      })

    /**
     * A batch of datagrams stepped through the machine synchronously while the cipher can open them
     * synchronously, their outputs performed together; from the first that needs the Effect path on,
     * one at a time and in order.
     */
    const handleBatch = (link: number, batch: ReadonlyArray<Datagram>) =>
      Effect.flatMap(Clock.currentTimeNanos, (nanos) => {
        const now = Number(nanos / 1_000_000n)
        const outputs: Array<Output> = []
        const add = (more: ReadonlyArray<Output>) => {
          for (const output of more) outputs.push(output)
        }
        for (let i = 0; i < batch.length; i++) {
          const bytes = batch[i]!.bytes
          const header = decodeHeader(bytes, settings.mtu)
          if (typeof header === "string") {
            add(machine.step({ _tag: "Rejected", now, link, reason: header }))
            continue
          }
          const screened = machine.screen(link, header)
          if (screened !== undefined) {
            add(machine.step({ _tag: "Rejected", now, link, reason: screened }))
            continue
          }
          const payload = cipher.openNow(header, bytes)
          if (payload === null) {
            return Effect.zipRight(
              perform(outputs),
              Effect.forEach(batch.slice(i), (datagram) => handle(link, datagram), { discard: true })
            )
          }
          if (payload === undefined) add(machine.step({ _tag: "Rejected", now, link, reason: "auth-failed" }))
          else add(machine.step({ _tag: "Received", now, link, frame: { ...header, payload } }))
        }
        return perform(outputs)
      })

    const receiveLoop = (link: number, socket: DatagramSocket) =>
      Effect.flatMap(socket.receive, (batch) => tracked(handleBatch(link, batch))).pipe(Effect.forever)

    for (const [link, socket] of sockets) yield* Effect.forkScoped(receiveLoop(link, socket))
    // A plain sleep loop: the spacing of Schedule.spaced at half the CPU per tick.
    yield* Effect.flatMap(
      step((now) => ({ _tag: "Tick", now })),
      perform
    ).pipe(Effect.zipRight(Effect.sleep(settings.tickInterval)), Effect.forever, Effect.forkScoped)

    const send = (to: number, bytes: Uint8Array) =>
      Effect.gen(function* () {
        const outputs = yield* step((now) => ({ _tag: "Send", now, to, bytes }))
        for (const output of outputs) {
          if (output._tag !== "Undeliverable") continue
          switch (output.reason) {
            case "unknown-peer":
              return yield* Effect.fail(new UnknownPeer({ nodeId: to }))
            case "unreachable":
              return yield* Effect.fail(new PeerUnreachable({ nodeId: to }))
            case "message-too-large":
              return yield* Effect.fail(
                new MessageTooLarge({ size: bytes.length, max: settings.maxMessageSize })
              )
          }
        }
        yield* perform(outputs)
      })

    const broadcast = (bytes: Uint8Array) =>
      Effect.gen(function* () {
        if (bytes.length > settings.maxMessageSize) {
          return yield* Effect.fail(new MessageTooLarge({ size: bytes.length, max: settings.maxMessageSize }))
        }
        const outputs = yield* step((now) => ({ _tag: "Broadcast", now, bytes }))
        yield* perform(outputs)
        const reached = new Set<number>()
        for (const output of outputs) if (output._tag === "Transmit") reached.add(output.frame.destination)
        return [...reached]
      })

    const metrics = Effect.sync(() => machine.metrics())

    return Transport.of({
      nodeId: topology.nodeId,
      send,
      broadcast,
      messages: Stream.fromChunkQueue(messages).pipe(
        Stream.mapChunks((chunk) => {
          buffered -= chunk.length
          return chunk
        })
      ),
      events: Stream.fromPubSub(events),
      metrics,
      busy: Effect.sync(() => busy),
      status: Effect.map(metrics, (m) =>
        m.peers.map((peer) => ({
          nodeId: peer.nodeId,
          reachable: peer.reachable,
          links: peer.links.map((l) => ({ link: l.link, state: l.state, rtt: l.rtt }))
        }))
      )
    })
  })

/** The live transport over whatever DatagramNetwork is provided (NodeUdp, DenoUdp). */
export const layer = (
  options: TransportOptions
): Layer.Layer<
  Transport,
  DatagramError | TransportSettingsError,
  DatagramNetwork | TransportSettings | Aead
> => Layer.scoped(Transport, make(options))

/** A transport on an in-memory network shared with the other nodes of the test. */
export const layerTest = (
  options: TransportOptions
): Layer.Layer<
  Transport,
  DatagramError | TransportSettingsError,
  MemoryNetwork | DatagramNetwork | TransportSettings | Aead
> => Layer.scoped(Transport, Effect.zipLeft(make(options), MemoryNetwork))
