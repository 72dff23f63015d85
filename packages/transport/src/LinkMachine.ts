/**
 * The transport's protocol logic as a deterministic state machine with no I/O: authenticated frames,
 * ticks carrying the current time and send requests go in; frames to transmit, delivered messages, link
 * and peer events and drop notices come out. Encryption, sockets and timers live at the edges
 * (Transport.ts), which makes every behaviour here replayable from a scenario file.
 *
 * Liveness and freshness: every link pings its peer each `pingInterval`; a pong proves the link works
 * and, because it echoes the pinger's random per-boot incarnation and send time, also proves that the
 * ponging incarnation is alive now. Only an incarnation proven that way is accepted for data, so
 * packets replayed from an earlier boot (of either side) are never delivered.
 */
import { Duration } from "effect"
import { Reassembly } from "./internal/reassembly.ts"
import { ReplayWindow } from "./internal/replayWindow.ts"
import {
  decodePing,
  decodePong,
  encodePing,
  encodePong,
  type Frame,
  type Header,
  PING_SIZE,
  PONG_SIZE
} from "./internal/wire.ts"
import type { NodeTopology } from "./Topology.ts"
import type { LinkMode, TransportSettings } from "./TransportSettings.ts"

export type { Frame, FrameKind, Header } from "./internal/wire.ts"

export const DropReasons = [
  "truncated",
  "oversized",
  "malformed",
  "wrong-cluster",
  "misdirected",
  "unknown-sender",
  "unknown-link",
  "auth-failed",
  "replay",
  "stale-incarnation",
  "unverified-incarnation",
  "stale-pong",
  "message-too-large",
  "reassembly-timeout",
  "reassembly-overflow",
  "receive-buffer-full"
] as const
export type DropReason = (typeof DropReasons)[number]

export type Input =
  /** An authenticated frame that arrived on local link `link`. */
  | { readonly _tag: "Received"; readonly now: number; readonly link: number; readonly frame: Frame }
  /** A datagram the edge rejected before or during decryption (counted here). */
  | {
      readonly _tag: "Rejected"
      readonly now: number
      readonly link?: number
      readonly reason: DropReason
      readonly peer?: number
    }
  | { readonly _tag: "Tick"; readonly now: number }
  | { readonly _tag: "Send"; readonly now: number; readonly to: number; readonly bytes: Uint8Array }
  | { readonly _tag: "Broadcast"; readonly now: number; readonly bytes: Uint8Array }

export type LinkState = "up" | "down"

export type Output =
  | { readonly _tag: "Transmit"; readonly frame: Frame }
  | { readonly _tag: "Deliver"; readonly from: number; readonly bytes: Uint8Array }
  | { readonly _tag: "LinkEvent"; readonly peer: number; readonly link: number; readonly state: LinkState }
  | {
      readonly _tag: "PeerEvent"
      readonly peer: number
      readonly state: "reachable" | "unreachable" | "restarted"
    }
  | { readonly _tag: "Dropped"; readonly link?: number; readonly peer?: number; readonly reason: DropReason }
  | {
      readonly _tag: "Undeliverable"
      readonly to: number
      readonly reason: "unknown-peer" | "unreachable" | "message-too-large"
    }

/** The settings the machine uses, durations in milliseconds. */
export interface MachineSettings {
  readonly pingInterval: number
  readonly linkTimeout: number
  readonly pongsToUp: number
  readonly linkMode: LinkMode
  readonly mtu: number
  readonly maxMessageSize: number
  readonly reassemblyTimeout: number
  readonly maxReassemblyBytes: number
  readonly maxPartialMessages: number
  readonly replayWindow: number
}

export const machineSettings = (settings: TransportSettings["Type"]): MachineSettings => ({
  pingInterval: Duration.toMillis(settings.pingInterval),
  linkTimeout: Duration.toMillis(settings.linkTimeout),
  pongsToUp: settings.pongsToUp,
  linkMode: settings.linkMode,
  mtu: settings.mtu,
  maxMessageSize: settings.maxMessageSize,
  reassemblyTimeout: Duration.toMillis(settings.reassemblyTimeout),
  maxReassemblyBytes: settings.maxReassemblyBytes,
  maxPartialMessages: settings.maxPartialMessages,
  replayWindow: settings.replayWindow
})

export type DropCounts = Partial<Record<DropReason, number>>

export interface LinkMetrics {
  readonly link: number
  readonly state: LinkState
  readonly priority: number
  /** Last measured round trip, ms (undefined before the first pong). */
  readonly rtt: number | undefined
  /** Smoothed round trip (EWMA, 1/8 gain as TCP's SRTT), ms. */
  readonly srtt: number | undefined
  readonly pingsSent: number
  readonly pongsReceived: number
  /** Share of pings not answered so far (cumulative; the ping in flight counts as unanswered). */
  readonly loss: number
  readonly ups: number
  readonly downs: number
  readonly framesSent: number
  readonly framesReceived: number
  readonly bytesSent: number
  readonly bytesReceived: number
}

export interface PeerMetrics {
  readonly nodeId: number
  readonly reachable: boolean
  /** The peer's verified incarnation, hex, if any. */
  readonly incarnation: string | undefined
  readonly links: ReadonlyArray<LinkMetrics>
  readonly messagesSent: number
  readonly messagesDelivered: number
  readonly pendingReassemblyMessages: number
  readonly pendingReassemblyBytes: number
  readonly dropped: DropCounts
}

export interface Metrics {
  readonly nodeId: number
  readonly incarnation: string
  /** Drops per local link (the socket the datagram arrived on), by reason. */
  readonly localLinks: ReadonlyArray<{ readonly link: number; readonly dropped: DropCounts }>
  readonly peers: ReadonlyArray<PeerMetrics>
  /** All drops by reason. */
  readonly dropped: DropCounts
  /** Ticks that came late enough to show this process had been frozen (link judgement was deferred). */
  readonly stalls: number
}

interface LinkData {
  readonly link: number
  readonly priority: number
  state: LinkState
  nextPingAt: number
  lastPongAt: number
  consecutivePongs: number
  rtt: number | undefined
  srtt: number | undefined
  pingsSent: number
  pongsReceived: number
  ups: number
  downs: number
  framesSent: number
  framesReceived: number
  bytesSent: number
  bytesReceived: number
}

interface PeerData {
  readonly nodeId: number
  readonly links: Map<number, LinkData>
  incarnation: bigint | undefined
  window: ReplayWindow
  /** Incarnations this peer has left behind; never accepted again. */
  readonly retired: Array<bigint>
  /** The peer has verified this node's current incarnation (so it accepts our data). */
  acksUs: boolean
  reachable: boolean
  roundRobin: number
  messagesSent: number
  messagesDelivered: number
  readonly reassembly: Reassembly
  readonly dropped: DropCounts
}

const RETIRED_INCARNATIONS = 16

const bump = (counts: DropCounts, reason: DropReason): void => {
  counts[reason] = (counts[reason] ?? 0) + 1
}

const hex = (n: bigint): string => n.toString(16).padStart(16, "0")

export class LinkMachine {
  private nextSeq = 1
  private nextMessageId = 1
  private lastTickAt: number | undefined
  private graceUntil = Number.NEGATIVE_INFINITY
  private stalls = 0
  private readonly peers = new Map<number, PeerData>()
  private readonly localDrops = new Map<number, DropCounts>()
  private readonly totalDrops: DropCounts = {}

  constructor(
    readonly topology: NodeTopology,
    readonly settings: MachineSettings,
    /** Random per boot, never 0. */
    readonly incarnation: bigint,
    readonly clusterHash: number
  ) {
    for (const link of topology.links) this.localDrops.set(link.link, {})
    for (const peer of topology.peers) {
      const links = new Map<number, LinkData>()
      for (const endpoint of [...peer.links].sort((a, b) => a.link - b.link)) {
        const local = topology.links.find((l) => l.link === endpoint.link)
        links.set(endpoint.link, {
          link: endpoint.link,
          priority: local?.priority ?? 0,
          state: "down",
          nextPingAt: 0,
          lastPongAt: Number.NEGATIVE_INFINITY,
          consecutivePongs: 0,
          rtt: undefined,
          srtt: undefined,
          pingsSent: 0,
          pongsReceived: 0,
          ups: 0,
          downs: 0,
          framesSent: 0,
          framesReceived: 0,
          bytesSent: 0,
          bytesReceived: 0
        })
      }
      this.peers.set(peer.nodeId, {
        nodeId: peer.nodeId,
        links,
        incarnation: undefined,
        window: new ReplayWindow(settings.replayWindow),
        retired: [],
        acksUs: false,
        reachable: false,
        roundRobin: 0,
        messagesSent: 0,
        messagesDelivered: 0,
        reassembly: new Reassembly({
          maxMessageSize: settings.maxMessageSize,
          maxBytes: settings.maxReassemblyBytes,
          maxPartials: settings.maxPartialMessages,
          mtu: settings.mtu
        }),
        dropped: {}
      })
    }
  }

  get nodeId(): number {
    return this.topology.nodeId
  }

  step(input: Input): Array<Output> {
    const out: Array<Output> = []
    switch (input._tag) {
      case "Tick":
        this.tick(input.now, out)
        break
      case "Send":
        this.send(input.to, input.bytes, out)
        break
      case "Broadcast":
        for (const peer of this.peers.values()) {
          if (peer.reachable) this.send(peer.nodeId, input.bytes, out)
        }
        break
      case "Rejected":
        this.drop(out, input.reason, input.link, input.peer)
        break
      case "Received":
        this.receive(input.now, input.link, input.frame, out)
        break
    }
    return out
  }

  /**
   * Cheap checks made before decryption (the header is not yet authenticated, so nothing is recorded):
   * returns why the datagram must be dropped, or undefined to go on and decrypt it.
   */
  screen(link: number, header: Header): DropReason | undefined {
    if (header.clusterHash !== this.clusterHash) return "wrong-cluster"
    if (header.destination !== this.topology.nodeId) return "misdirected"
    const peer = this.peers.get(header.sender)
    if (peer === undefined) return "unknown-sender"
    if (header.link !== link || !peer.links.has(link)) return "unknown-link"
    if (header.incarnation === peer.incarnation) return peer.window.fresh(header.seq) ? undefined : "replay"
    if (peer.retired.includes(header.incarnation)) return "stale-incarnation"
    return undefined
  }

  reachablePeers(): Array<number> {
    return [...this.peers.values()].filter((p) => p.reachable).map((p) => p.nodeId)
  }

  metrics(): Metrics {
    return {
      nodeId: this.topology.nodeId,
      incarnation: hex(this.incarnation),
      localLinks: [...this.localDrops].map(([link, dropped]) => ({ link, dropped: { ...dropped } })),
      dropped: { ...this.totalDrops },
      stalls: this.stalls,
      peers: [...this.peers.values()].map((peer) => ({
        nodeId: peer.nodeId,
        reachable: peer.reachable,
        incarnation: peer.incarnation === undefined ? undefined : hex(peer.incarnation),
        messagesSent: peer.messagesSent,
        messagesDelivered: peer.messagesDelivered,
        pendingReassemblyMessages: peer.reassembly.pendingMessages,
        pendingReassemblyBytes: peer.reassembly.pendingBytes,
        dropped: { ...peer.dropped },
        links: [...peer.links.values()].map((l) => ({
          link: l.link,
          state: l.state,
          priority: l.priority,
          rtt: l.rtt,
          srtt: l.srtt,
          pingsSent: l.pingsSent,
          pongsReceived: l.pongsReceived,
          loss: l.pingsSent === 0 ? 0 : 1 - l.pongsReceived / l.pingsSent,
          ups: l.ups,
          downs: l.downs,
          framesSent: l.framesSent,
          framesReceived: l.framesReceived,
          bytesSent: l.bytesSent,
          bytesReceived: l.bytesReceived
        }))
      }))
    }
  }

  private drop(out: Array<Output>, reason: DropReason, link?: number, peer?: number): void {
    bump(this.totalDrops, reason)
    if (link !== undefined) {
      const counts = this.localDrops.get(link)
      if (counts !== undefined) bump(counts, reason)
    }
    const peerData = peer === undefined ? undefined : this.peers.get(peer)
    if (peerData !== undefined) bump(peerData.dropped, reason)
    out.push({
      _tag: "Dropped",
      reason,
      ...(link === undefined ? {} : { link }),
      ...(peerData === undefined ? {} : { peer: peerData.nodeId })
    })
  }

  private frame(
    peer: PeerData,
    link: LinkData,
    kind: Frame["kind"],
    payload: Uint8Array,
    fragment?: { messageId: number; fragIndex: number; fragCount: number }
  ): Output {
    link.framesSent++
    link.bytesSent += payload.length
    return {
      _tag: "Transmit",
      frame: {
        kind,
        link: link.link,
        clusterHash: this.clusterHash,
        sender: this.topology.nodeId,
        destination: peer.nodeId,
        incarnation: this.incarnation,
        seq: this.nextSeq++,
        messageId: fragment?.messageId ?? 0,
        fragIndex: fragment?.fragIndex ?? 0,
        fragCount: fragment?.fragCount ?? 1,
        payload
      }
    }
  }

  private tick(now: number, out: Array<Output>): void {
    // A gap of half a link timeout between ticks means this process was frozen (CPU starvation, GC,
    // SIGSTOP): the silence was ours, and answers may still sit unread in the sockets. Ping at once and
    // judge links again only after one ping interval, instead of declaring every link down.
    if (this.lastTickAt !== undefined && now - this.lastTickAt > this.settings.linkTimeout / 2) {
      this.stalls++
      this.graceUntil = now + this.settings.pingInterval
      for (const peer of this.peers.values()) for (const link of peer.links.values()) link.nextPingAt = now
    }
    this.lastTickAt = now
    const judge = now >= this.graceUntil
    for (const peer of this.peers.values()) {
      for (const link of peer.links.values()) {
        if (judge && link.state === "up" && now - link.lastPongAt > this.settings.linkTimeout) {
          link.state = "down"
          link.downs++
          link.consecutivePongs = 0
          out.push({ _tag: "LinkEvent", peer: peer.nodeId, link: link.link, state: "down" })
        }
        if (now >= link.nextPingAt) {
          link.nextPingAt = now + this.settings.pingInterval
          link.pingsSent++
          const knownIncarnation = peer.incarnation ?? 0n
          out.push(this.frame(peer, link, "ping", encodePing({ sentAt: now, knownIncarnation })))
        }
      }
      const expired = peer.reassembly.expire(now, this.settings.reassemblyTimeout)
      for (let i = 0; i < expired; i++) this.drop(out, "reassembly-timeout", undefined, peer.nodeId)
      this.updateReachability(peer, out)
    }
  }

  private updateReachability(peer: PeerData, out: Array<Output>): void {
    const reachable = peer.acksUs && [...peer.links.values()].some((l) => l.state === "up")
    if (reachable !== peer.reachable) {
      peer.reachable = reachable
      out.push({ _tag: "PeerEvent", peer: peer.nodeId, state: reachable ? "reachable" : "unreachable" })
    }
  }

  private upLinks(peer: PeerData): Array<LinkData> {
    return [...peer.links.values()].filter((l) => l.state === "up")
  }

  /** Passive: highest priority, then lowest link id. Active: round-robin. */
  private chooseLink(peer: PeerData, up: Array<LinkData>): LinkData {
    if (this.settings.linkMode === "active") {
      return up[peer.roundRobin++ % up.length]!
    }
    let best = up[0]!
    for (const link of up) if (link.priority > best.priority) best = link
    return best
  }

  private send(to: number, bytes: Uint8Array, out: Array<Output>): void {
    const peer = this.peers.get(to)
    if (peer === undefined) {
      out.push({ _tag: "Undeliverable", to, reason: "unknown-peer" })
      return
    }
    if (bytes.length > this.settings.maxMessageSize) {
      out.push({ _tag: "Undeliverable", to, reason: "message-too-large" })
      return
    }
    const up = this.upLinks(peer)
    if (!peer.reachable || up.length === 0) {
      out.push({ _tag: "Undeliverable", to, reason: "unreachable" })
      return
    }
    const mtu = this.settings.mtu
    const fragCount = Math.max(1, Math.ceil(bytes.length / mtu))
    const messageId = this.nextMessageId
    this.nextMessageId = this.nextMessageId >= 0xffffffff ? 1 : this.nextMessageId + 1
    peer.messagesSent++
    for (let fragIndex = 0; fragIndex < fragCount; fragIndex++) {
      const payload = bytes.subarray(fragIndex * mtu, Math.min(bytes.length, (fragIndex + 1) * mtu))
      out.push(
        this.frame(peer, this.chooseLink(peer, up), "data", payload, { messageId, fragIndex, fragCount })
      )
    }
  }

  private receive(now: number, linkId: number, frame: Frame, out: Array<Output>): void {
    const screened = this.screen(linkId, frame)
    if (screened !== undefined) {
      this.drop(out, screened, linkId, this.peers.has(frame.sender) ? frame.sender : undefined)
      return
    }
    const peer = this.peers.get(frame.sender)!
    const link = peer.links.get(linkId)!
    const bodySize =
      frame.kind === "ping" ? PING_SIZE : frame.kind === "pong" ? PONG_SIZE : frame.payload.length
    if (frame.payload.length !== bodySize) {
      this.drop(out, "malformed", linkId, peer.nodeId)
      return
    }
    if (frame.incarnation !== peer.incarnation) {
      this.unverified(now, peer, link, frame, out)
      return
    }
    peer.window.mark(frame.seq)
    link.framesReceived++
    link.bytesReceived += frame.payload.length
    switch (frame.kind) {
      case "ping": {
        const ping = decodePing(frame.payload)!
        peer.acksUs = ping.knownIncarnation === this.incarnation
        this.pong(peer, link, frame, ping.sentAt, out)
        break
      }
      case "pong":
        this.acceptPong(now, peer, link, frame, out)
        break
      case "data":
        this.data(now, peer, linkId, frame, out)
        break
    }
    this.updateReachability(peer, out)
  }

  /** A frame from an incarnation not yet proven alive: only pings (answered) and fresh pongs (adopted). */
  private unverified(now: number, peer: PeerData, link: LinkData, frame: Frame, out: Array<Output>): void {
    if (frame.kind === "ping") {
      this.pong(peer, link, frame, decodePing(frame.payload)!.sentAt, out)
      return
    }
    if (frame.kind === "pong" && this.freshPong(now, frame)) {
      const restarted = peer.incarnation !== undefined
      if (peer.incarnation !== undefined) {
        peer.retired.push(peer.incarnation)
        if (peer.retired.length > RETIRED_INCARNATIONS) peer.retired.shift()
      }
      peer.incarnation = frame.incarnation
      peer.window = new ReplayWindow(this.settings.replayWindow)
      peer.reassembly.clear()
      peer.window.mark(frame.seq)
      link.framesReceived++
      link.bytesReceived += frame.payload.length
      if (restarted) out.push({ _tag: "PeerEvent", peer: peer.nodeId, state: "restarted" })
      this.acceptPong(now, peer, link, frame, out)
      this.updateReachability(peer, out)
      return
    }
    this.drop(out, frame.kind === "pong" ? "stale-pong" : "unverified-incarnation", link.link, peer.nodeId)
  }

  private freshPong(now: number, frame: Frame): boolean {
    const pong = decodePong(frame.payload)!
    const age = now - pong.echoSentAt
    return pong.echoIncarnation === this.incarnation && age >= 0 && age <= this.settings.linkTimeout
  }

  private pong(peer: PeerData, link: LinkData, ping: Frame, sentAt: number, out: Array<Output>): void {
    const pong = encodePong({
      echoSentAt: sentAt,
      echoIncarnation: ping.incarnation,
      knownIncarnation: peer.incarnation ?? 0n
    })
    out.push(this.frame(peer, link, "pong", pong))
  }

  private acceptPong(now: number, peer: PeerData, link: LinkData, frame: Frame, out: Array<Output>): void {
    if (!this.freshPong(now, frame)) {
      this.drop(out, "stale-pong", link.link, peer.nodeId)
      return
    }
    const pong = decodePong(frame.payload)!
    peer.acksUs = pong.knownIncarnation === this.incarnation
    const rtt = now - pong.echoSentAt
    link.rtt = rtt
    link.srtt = link.srtt === undefined ? rtt : link.srtt + (rtt - link.srtt) / 8
    link.pongsReceived++
    link.lastPongAt = now
    link.consecutivePongs++
    if (link.state === "down" && link.consecutivePongs >= this.settings.pongsToUp) {
      link.state = "up"
      link.ups++
      out.push({ _tag: "LinkEvent", peer: peer.nodeId, link: link.link, state: "up" })
    }
  }

  private data(now: number, peer: PeerData, linkId: number, frame: Frame, out: Array<Output>): void {
    if (frame.fragCount === 1) {
      if (frame.payload.length > this.settings.maxMessageSize) {
        this.drop(out, "message-too-large", linkId, peer.nodeId)
        return
      }
      peer.messagesDelivered++
      out.push({ _tag: "Deliver", from: peer.nodeId, bytes: frame.payload })
      return
    }
    const result = peer.reassembly.add(
      frame.messageId,
      frame.fragIndex,
      frame.fragCount,
      frame.payload,
      now,
      (count) => {
        for (let i = 0; i < count; i++) this.drop(out, "reassembly-overflow", undefined, peer.nodeId)
      }
    )
    switch (result._tag) {
      case "Complete":
        peer.messagesDelivered++
        out.push({ _tag: "Deliver", from: peer.nodeId, bytes: result.bytes })
        break
      case "Rejected":
        this.drop(out, result.reason, linkId, peer.nodeId)
        break
      case "Pending":
        break
    }
  }
}
