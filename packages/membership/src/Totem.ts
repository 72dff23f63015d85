/**
 * The Totem single-ring ordering and membership protocol (Amir, Moser, Melliar-Smith, Agarwal,
 * Ciarfella, ACM TOCS 13(4), 1995) as a pure state machine, following Corosync's totemsrp where the
 * paper leaves details open. No I/O and no clock reads: inputs are ticks (carrying the time in ms),
 * received packets and application broadcasts; outputs are packets to send and events.
 */

import { pack } from "./internal/pack.ts"
import {
  type CommitEntry,
  type Data,
  dataIsApp,
  type Packet,
  type RingId,
  ringEquals,
  type TokenPacket
} from "./internal/packets.ts"
import { deliver, RingLog } from "./internal/ringLog.ts"

export * from "./internal/packets.ts"

export type NodeId = number

/** Protocol timing and flow-control constants, in milliseconds and message counts. */
export interface Settings {
  /** Token loss timeout: no token for this long and the ring is declared broken. */
  readonly token: number
  /** Resend the last token sent if the ring shows no progress for this long. */
  readonly tokenRetransmit: number
  /** How long an idle representative may hold the token before passing it on. */
  readonly tokenHold: number
  /** Interval between join messages while gathering. */
  readonly join: number
  /** Time to reach agreement on a membership before failing the silent nodes (≥ 1.2 × token). */
  readonly consensus: number
  /** Interval at which a ring's representative announces its ring, so partitions find each other. */
  readonly merge: number
  /** Messages (new plus retransmitted) one node may send per token visit. */
  readonly maxMessages: number
  /** Messages the whole ring may send per token rotation (flow control window). */
  readonly windowSize: number
  /** Token rotations during which a node's aru may stay stuck before it is declared failed. */
  readonly failRecvConst: number
  /** Idle token rotations before the representative starts holding the token. */
  readonly seqnoUnchangedConst: number
  /** Bytes of queued messages packed into one data packet (a larger message travels alone). */
  readonly packBytes: number
}

export interface View {
  readonly id: RingId
  readonly members: ReadonlyArray<NodeId>
}

export type Input =
  | { readonly _tag: "Tick"; readonly now: number }
  | { readonly _tag: "Receive"; readonly from: NodeId; readonly packet: Packet }
  | { readonly _tag: "Broadcast"; readonly payload: Uint8Array }

export type Output =
  | { readonly _tag: "Send"; readonly to: NodeId; readonly packet: Packet }
  | { readonly _tag: "Multicast"; readonly packet: Packet }
  | { readonly _tag: "ViewInstalled"; readonly view: View }
  /** Members of the new view that come from the same previous view (EVS transitional configuration). */
  | {
      readonly _tag: "TransitionalView"
      readonly from: RingId
      readonly to: RingId
      readonly members: ReadonlyArray<NodeId>
    }
  | {
      readonly _tag: "Delivered"
      readonly view: RingId
      /** True when delivered in the transitional configuration (after a hole left by a failed node). */
      readonly transitional: boolean
      readonly sender: NodeId
      readonly seq: number
      /** Position among the messages packed into packet `seq`: (seq, index) is the total order. */
      readonly index: number
      readonly payload: Uint8Array
    }
  | { readonly _tag: "TokenLost"; readonly ring: RingId }

export type State = "gather" | "commit" | "recovery" | "operational"

interface Attempt {
  readonly log: RingLog
  trans: ReadonlyArray<NodeId>
  retransQueue: Array<Data>
  tokenOriginated: boolean
}

const sortedIds = (ids: Iterable<NodeId>): Array<NodeId> => [...new Set(ids)].sort((a, b) => a - b)
const sameIds = (a: ReadonlyArray<NodeId>, b: ReadonlyArray<NodeId>) =>
  a.length === b.length && a.every((x, i) => x === b[i])
const isSubset = (a: ReadonlySet<NodeId>, b: ReadonlySet<NodeId>) => [...a].every((x) => b.has(x))
const sameSet = (a: ReadonlySet<NodeId>, b: ReadonlySet<NodeId>) => a.size === b.size && isSubset(a, b)

/** Retransmission requests carried by one token are capped so the token stays small. */
const maxRetransmitRequests = 256

/**
 * One node's protocol instance. Deterministic: the same inputs give the same outputs. It mutates
 * itself (a ring moves thousands of messages per second; copying the message store per step would
 * dominate), but never touches the world: the caller performs the returned sends.
 */
export class Machine {
  state: State = "gather"
  /** The installed (operational) ring, or the last one while a new ring is being formed. */
  installed: RingLog
  private attempt: Attempt | null = null
  private maxRingSeq = 0
  private started = false
  private now = 0
  private out: Array<Output> = []
  /** Messages waiting for the token: a queue read from `pendingHead` (shift() would be O(n) per message). */
  private pending: Array<Uint8Array> = []
  private pendingHead = 0
  private readonly selfQueue: Array<Packet> = []
  // gather
  private proc = new Set<NodeId>()
  private fail = new Set<NodeId>()
  private consensus = new Set<NodeId>()
  private joinDeadline = 0
  private consensusDeadline = 0
  private lastAbandoned: RingId | null = null
  // token handling
  private tokenLossDeadline = 0
  private retransmitDeadline: number | null = null
  private lastSent: { readonly to: NodeId; readonly packet: Packet } | null = null
  private lastTokenSeq = -1
  private lastVisitAru = 0
  private lastVisitSeq = -1
  private failToRecv = 0
  private seqUnchanged = 0
  private myLastSent = 0
  private quietRotations = 0
  private repLastSeq = -1
  private holding: TokenPacket | null = null
  private holdDeadline = 0
  private holdCancelSent = false
  private mergeDeadline = 0

  constructor(
    readonly me: NodeId,
    readonly settings: Settings
  ) {
    this.installed = new RingLog({ rep: me, seq: 0 }, [me])
  }

  get view(): View | null {
    return this.state === "operational" && this.installed.ring.seq > 0
      ? { id: this.installed.ring, members: this.installed.members }
      : null
  }

  get pendingCount(): number {
    return this.pending.length - this.pendingHead
  }

  step(input: Input): Array<Output> {
    this.out = []
    switch (input._tag) {
      case "Tick":
        this.tick(input.now)
        break
      case "Receive":
        if (this.started) this.receive(input.packet)
        break
      case "Broadcast":
        this.broadcast(input.payload)
        break
    }
    return this.out
  }

  private tick(now: number) {
    this.now = now
    if (!this.started) {
      this.started = true
      this.enterGather([], [])
      return
    }
    if (this.state !== "gather" && now >= this.tokenLossDeadline) {
      this.out.push({ _tag: "TokenLost", ring: this.activeLog().ring })
      if (this.attempt !== null) this.lastAbandoned = this.attempt.log.ring
      this.enterGather([], [])
      return
    }
    if (this.state === "gather") {
      if (now >= this.consensusDeadline) this.consensusTimeout()
      else if (now >= this.joinDeadline) {
        this.sendJoin()
        this.checkConsensus()
      }
    } else if (this.retransmitDeadline !== null && now >= this.retransmitDeadline && this.lastSent) {
      this.out.push({ _tag: "Send", to: this.lastSent.to, packet: this.lastSent.packet })
      this.retransmitDeadline = now + this.settings.tokenRetransmit
    }
    if (this.holding !== null && now >= this.holdDeadline) this.releaseHeld()
    if (this.state === "operational" && this.isRep() && now >= this.mergeDeadline) {
      this.out.push({
        _tag: "Multicast",
        packet: { _tag: "MergeDetect", sender: this.me, ring: this.installed.ring }
      })
      this.mergeDeadline = now + this.settings.merge
    }
    const queued = this.selfQueue.splice(0)
    for (const packet of queued) this.receive(packet)
  }

  private broadcast(payload: Uint8Array) {
    this.pending.push(payload)
    if (this.holding !== null) this.releaseHeld()
    else if (
      this.state === "operational" &&
      this.seqUnchanged >= this.settings.seqnoUnchangedConst &&
      !this.holdCancelSent
    ) {
      this.holdCancelSent = true
      this.out.push({ _tag: "Multicast", packet: { _tag: "HoldCancel", ring: this.installed.ring } })
    }
  }

  private receive(packet: Packet) {
    switch (packet._tag) {
      case "Join":
        return this.onJoin(packet)
      case "Commit":
        return this.onCommit(packet)
      case "Token":
        return this.onToken(packet)
      case "Data":
        return this.onData(packet)
      case "MergeDetect":
        return this.onMergeDetect(packet.sender, packet.ring)
      case "HoldCancel":
        if (this.holding !== null && ringEquals(this.holding.ring, packet.ring)) this.releaseHeld()
        return
    }
  }

  private send(to: NodeId, packet: Packet) {
    if (to === this.me) this.selfQueue.push(packet)
    else this.out.push({ _tag: "Send", to, packet })
  }

  private isRep() {
    return this.installed.members[0] === this.me
  }

  private activeLog(): RingLog {
    return this.attempt !== null ? this.attempt.log : this.installed
  }

  // ---- membership: gather ----

  private enterGather(extraProc: ReadonlyArray<NodeId>, extraFail: ReadonlyArray<NodeId>) {
    this.state = "gather"
    this.proc = new Set([
      this.me,
      ...this.installed.members,
      ...(this.attempt?.log.members ?? []),
      ...extraProc
    ])
    // Failures found in this attempt stay failed until a ring is installed (as in Corosync): forgetting
    // them when a commit attempt times out lets unsynchronised consensus timeouts livelock the gather.
    for (const n of extraFail) if (n !== this.me) this.fail.add(n)
    this.attempt = null
    this.holding = null
    this.lastSent = null
    this.retransmitDeadline = null
    this.restartGatherRound()
  }

  private restartGatherRound() {
    this.consensus = new Set([this.me])
    this.sendJoin()
    this.consensusDeadline = this.now + this.settings.consensus
  }

  private sendJoin() {
    this.out.push({
      _tag: "Multicast",
      packet: {
        _tag: "Join",
        sender: this.me,
        ringSeq: Math.max(this.maxRingSeq, this.installed.ring.seq),
        proc: sortedIds(this.proc),
        fail: sortedIds(this.fail)
      }
    })
    this.joinDeadline = this.now + this.settings.join
  }

  /** A join from a member of a ring we installed after the sender's join was sent is stale. */
  private isStaleJoin(sender: NodeId, ringSeq: number) {
    return this.installed.members.includes(sender) && ringSeq < this.installed.ring.seq
  }

  private onJoin(join: Extract<Packet, { _tag: "Join" }>) {
    if (join.sender === this.me || this.isStaleJoin(join.sender, join.ringSeq)) return
    this.maxRingSeq = Math.max(this.maxRingSeq, join.ringSeq)
    // A join sent before its sender took part in the ring we are forming is stale too.
    const attempt = this.attempt
    if (attempt?.log.members.includes(join.sender) && join.ringSeq < attempt.log.ring.seq) return
    if (this.state !== "gather") {
      // A node that believes we failed will install a ring without us; merge detection brings the
      // two rings together afterwards. Re-forming ours for it would only churn views.
      if (join.fail.includes(this.me)) return
      // While forming a ring without a node we found failed, its joins wait until the ring is up.
      if (this.fail.has(join.sender)) return
      // A newer join means someone is re-forming the membership: join the round.
      this.enterGather([join.sender], [])
    }
    this.mergeJoin(join)
  }

  private mergeJoin(join: Extract<Packet, { _tag: "Join" }>) {
    if (this.fail.has(join.sender)) return
    if (join.fail.includes(this.me)) {
      // The sender believes we failed: we cannot agree with it this round. The consensus timer keeps
      // running, or a sender that keeps sending such joins would hold this gather open forever.
      this.fail.add(join.sender)
      this.consensus = new Set([this.me])
      this.sendJoin()
      this.checkConsensus()
      return
    }
    const theirProc = new Set([...join.proc, join.sender])
    const theirFail = new Set(join.fail)
    if (sameSet(theirProc, this.proc) && sameSet(theirFail, this.fail)) {
      this.consensus.add(join.sender)
      this.checkConsensus()
      return
    }
    if (isSubset(theirProc, this.proc) && isSubset(theirFail, this.fail)) return
    for (const n of theirProc) this.proc.add(n)
    for (const n of theirFail) if (n !== this.me) this.fail.add(n)
    this.restartGatherRound()
    this.checkConsensus()
  }

  private alive(): Array<NodeId> {
    return sortedIds([...this.proc].filter((n) => !this.fail.has(n)))
  }

  private checkConsensus() {
    if (this.state !== "gather") return
    const alive = this.alive()
    if (alive[0] === this.me && alive.every((n) => this.consensus.has(n))) this.formRing(alive)
  }

  private consensusTimeout() {
    const alive = this.alive()
    // Nodes that did not agree in time are declared failed (Corosync: memb_state_consensus_timeout_expired).
    if (!alive.every((n) => this.consensus.has(n))) {
      for (const n of alive) if (!this.consensus.has(n)) this.fail.add(n)
    }
    this.restartGatherRound()
    this.checkConsensus()
  }

  private onMergeDetect(sender: NodeId, ring: RingId) {
    if (sender === this.me) return
    if (this.state === "operational") {
      if (
        !ringEquals(ring, this.installed.ring) &&
        (!this.installed.members.includes(sender) || ring.seq > this.installed.ring.seq)
      ) {
        this.enterGather([sender], [])
      }
    } else if (this.state === "gather" && !this.proc.has(sender) && !this.fail.has(sender)) {
      this.proc.add(sender)
      this.restartGatherRound()
    }
  }

  // ---- membership: commit token ----

  private myEntry(): CommitEntry {
    return { oldRing: this.installed.ring, aru: this.installed.aru, high: this.installed.high }
  }

  private formRing(members: Array<NodeId>) {
    const ring: RingId = { rep: this.me, seq: Math.max(this.maxRingSeq, this.installed.ring.seq) + 4 }
    this.maxRingSeq = ring.seq
    const entries: Array<CommitEntry | null> = members.map(() => null)
    entries[0] = this.myEntry()
    this.enterCommit(ring, members)
    this.forward(members, { _tag: "Commit", ring, members, entries })
  }

  private enterCommit(ring: RingId, members: ReadonlyArray<NodeId>) {
    this.state = "commit"
    this.attempt = { log: new RingLog(ring, members), trans: [], retransQueue: [], tokenOriginated: false }
    this.tokenLossDeadline = this.now + this.settings.token
    this.resetTokenCounters()
  }

  private resetTokenCounters() {
    this.lastTokenSeq = -1
    this.lastVisitAru = 0
    this.lastVisitSeq = -1
    this.failToRecv = 0
    this.seqUnchanged = 0
    this.myLastSent = 0
    this.quietRotations = 0
    this.repLastSeq = -1
    this.holding = null
    this.holdCancelSent = false
  }

  private forward(members: ReadonlyArray<NodeId>, packet: Packet) {
    const next = members[(members.indexOf(this.me) + 1) % members.length] ?? this.me
    this.send(next, packet)
    if (next === this.me) {
      this.lastSent = null
      this.retransmitDeadline = null
    } else {
      this.lastSent = { to: next, packet }
      this.retransmitDeadline = this.now + this.settings.tokenRetransmit
    }
  }

  private onCommit(commit: Extract<Packet, { _tag: "Commit" }>) {
    const index = commit.members.indexOf(this.me)
    if (index < 0) return
    const attempt = this.attempt
    if (this.state === "gather") {
      if (commit.ring.seq <= this.installed.ring.seq || commit.entries[index] !== null) return
      if (this.lastAbandoned !== null && ringEquals(this.lastAbandoned, commit.ring)) return
      if (!sameIds(this.alive(), commit.members)) return
      this.maxRingSeq = Math.max(this.maxRingSeq, commit.ring.seq)
      const entries = [...commit.entries]
      entries[index] = this.myEntry()
      this.enterCommit(commit.ring, commit.members)
      this.forward(commit.members, { ...commit, entries })
    } else if (this.state === "commit" && attempt !== null && ringEquals(commit.ring, attempt.log.ring)) {
      if (commit.entries.some((e) => e === null)) return
      this.enterRecovery(attempt, commit.members, commit.entries as ReadonlyArray<CommitEntry>)
      this.forward(commit.members, commit)
    } else if (this.state === "recovery" && attempt !== null && ringEquals(commit.ring, attempt.log.ring)) {
      if (commit.members[0] !== this.me || attempt.tokenOriginated) return
      attempt.tokenOriginated = true
      this.lastSent = null
      this.retransmitDeadline = null
      this.lastTokenSeq = 0
      this.processToken({
        _tag: "Token",
        ring: attempt.log.ring,
        tokenSeq: 0,
        seq: 0,
        aru: 0,
        aruAddr: 0,
        rtr: [],
        fcc: 0,
        retransFlag: false,
        install: false
      })
    }
  }

  private enterRecovery(
    attempt: Attempt,
    members: ReadonlyArray<NodeId>,
    entries: ReadonlyArray<CommitEntry>
  ) {
    this.state = "recovery"
    const old = this.installed
    const fromMyRing = members.flatMap((m, i) => {
      const entry = entries[i]
      return entry !== undefined && ringEquals(entry.oldRing, old.ring) ? [{ m, entry }] : []
    })
    attempt.trans = fromMyRing.map((x) => x.m)
    const lowAru = Math.min(...fromMyRing.map((x) => x.entry.aru))
    const high = Math.max(...fromMyRing.map((x) => x.entry.high))
    // Every survivor of the old ring re-sends what it holds above the lowest aru, so that all of them
    // end recovery with the same set of old-ring messages (the basis of virtual synchrony).
    attempt.retransQueue = []
    for (let seq = lowAru + 1; seq <= high; seq++) {
      const d = old.store.get(seq)
      if (d === undefined) continue
      attempt.retransQueue.push({
        _tag: "Data",
        ring: attempt.log.ring,
        seq: 0,
        sender: this.me,
        app: false,
        orig: { ring: old.ring, seq, sender: d.sender, app: d.app },
        payload: d.payload
      })
    }
    this.tokenLossDeadline = this.now + this.settings.token
    this.resetTokenCounters()
  }

  private install(attempt: Attempt) {
    const old = this.installed
    const viewed = old.ring.seq > 0
    old.deliverContiguous(this.out)
    if (viewed) {
      this.out.push({
        _tag: "TransitionalView",
        from: old.ring,
        to: attempt.log.ring,
        members: attempt.trans
      })
      for (const d of old.remainingAfterHole()) {
        if (dataIsApp(d) && attempt.trans.includes(d.sender)) deliver(this.out, old.ring, d, true)
      }
    }
    this.installed = attempt.log
    this.attempt = null
    this.state = "operational"
    this.lastAbandoned = null
    this.proc = new Set(attempt.log.members)
    this.fail = new Set()
    this.mergeDeadline = this.now + this.settings.merge
    this.out.push({ _tag: "ViewInstalled", view: { id: attempt.log.ring, members: attempt.log.members } })
    this.installed.deliverContiguous(this.out)
  }

  // ---- ordering: token and data ----

  private onToken(token: TokenPacket) {
    const log = this.activeLog()
    if (!(this.state === "operational" || this.state === "recovery") || !ringEquals(token.ring, log.ring))
      return
    if (token.tokenSeq <= this.lastTokenSeq) return
    this.lastTokenSeq = token.tokenSeq
    this.tokenLossDeadline = this.now + this.settings.token
    this.lastSent = null
    this.retransmitDeadline = null
    const idle =
      this.state === "operational" &&
      this.isRep() &&
      this.seqUnchanged >= this.settings.seqnoUnchangedConst &&
      this.pendingCount === 0 &&
      token.rtr.length === 0
    if (idle) {
      this.holding = token
      this.holdDeadline = this.now + this.settings.tokenHold
      return
    }
    this.processToken(token)
  }

  private releaseHeld() {
    const token = this.holding
    this.holding = null
    if (token !== null) this.processToken(token)
  }

  private processToken(received: TokenPacket) {
    const t = { ...received, rtr: [...received.rtr] }
    let attempt = this.attempt
    if (this.state === "recovery" && attempt !== null) {
      if (t.install) {
        this.install(attempt)
        attempt = null
      } else if (attempt.log.members[0] === this.me) {
        const quiet = !t.retransFlag && t.aru === t.seq && t.rtr.length === 0 && t.seq === this.repLastSeq
        this.quietRotations = quiet ? this.quietRotations + 1 : 0
        this.repLastSeq = t.seq
        t.retransFlag = false
        if (this.quietRotations >= 2 && attempt.retransQueue.length === 0) {
          // Two quiet rotations: every member holds every recovery message. Install, and tell the others.
          this.install(attempt)
          attempt = null
          t.install = true
        }
      }
    }
    const log = this.activeLog()
    const { maxMessages, windowSize } = this.settings
    // Answer retransmission requests.
    let sent = 0
    const stillMissing: Array<number> = []
    for (const seq of t.rtr) {
      const d = log.store.get(seq)
      if (d !== undefined && sent < maxMessages) {
        this.out.push({ _tag: "Multicast", packet: d })
        sent++
      } else stillMissing.push(seq)
    }
    const requested = new Set(stillMissing)
    for (let seq = log.aru + 1; seq <= t.seq && requested.size < maxRetransmitRequests; seq++) {
      if (!log.store.has(seq) && !requested.has(seq)) {
        requested.add(seq)
        stillMissing.push(seq)
      }
    }
    t.rtr = stillMissing
    // Send new messages within the flow-control window.
    const fcc = Math.max(0, t.fcc - this.myLastSent)
    const allowed = Math.max(0, Math.min(maxMessages, windowSize - fcc) - sent)
    let fresh = 0
    while (fresh < allowed) {
      let d: Data
      if (attempt !== null) {
        const next = attempt.retransQueue.shift()
        if (next === undefined) break
        d = { ...next, seq: t.seq + 1 }
      } else {
        const messages = this.takePending()
        if (messages.length === 0) break
        d = {
          _tag: "Data",
          ring: log.ring,
          seq: t.seq + 1,
          sender: this.me,
          app: true,
          orig: null,
          payload: pack(messages)
        }
      }
      t.seq++
      log.add(d)
      this.out.push({ _tag: "Multicast", packet: d })
      fresh++
    }
    if (attempt === null) log.deliverContiguous(this.out)
    else if (attempt.retransQueue.length > 0) t.retransFlag = true
    t.fcc = fcc + sent + fresh
    this.myLastSent = sent + fresh
    // Totem's all-received-up-to rule.
    const previousAru = this.lastVisitAru
    if (log.aru < t.aru || t.aruAddr === this.me || t.aruAddr === 0) {
      t.aru = log.aru
      t.aruAddr = t.aru === t.seq ? 0 : this.me
    }
    // Messages at or below the aru seen on two consecutive visits are held by every member.
    log.discardUpTo(Math.min(previousAru, t.aru))
    // fail_recv_const: a member that cannot receive keeps the aru stuck; leave it out.
    if (t.aruAddr !== 0 && t.aruAddr !== this.me && t.aru === previousAru && t.seq > t.aru) this.failToRecv++
    else this.failToRecv = 0
    this.lastVisitAru = t.aru
    if (this.failToRecv >= this.settings.failRecvConst) {
      this.enterGather([], [t.aruAddr])
      return
    }
    if (t.seq === this.lastVisitSeq && sent + fresh === 0) this.seqUnchanged++
    else {
      this.seqUnchanged = 0
      this.holdCancelSent = false
    }
    this.lastVisitSeq = t.seq
    this.forward(log.members, { ...t, tokenSeq: t.tokenSeq + 1 })
  }

  /** Queued messages for one data packet: as many as fit in packBytes, and at least one. */
  private takePending(): Array<Uint8Array> {
    const taken: Array<Uint8Array> = []
    let size = 0
    for (;;) {
      const next = this.pending[this.pendingHead]
      if (next === undefined || (taken.length > 0 && size + 4 + next.length > this.settings.packBytes)) break
      taken.push(next)
      this.pendingHead++
      size += 4 + next.length
    }
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead)
      this.pendingHead = 0
    }
    return taken
  }

  private onData(d: Data) {
    const attempt = this.attempt
    if (ringEquals(d.ring, this.installed.ring)) {
      // Old-ring messages are frozen once a commit token is filled in; recovery brings the rest.
      if (this.state === "commit" || this.state === "recovery") return
      this.installed.add(d)
      if (this.state === "operational") {
        this.installed.deliverContiguous(this.out)
        const last = this.lastSent?.packet
        if (last?._tag === "Token" && d.seq > last.seq) {
          this.retransmitDeadline = null
          this.lastSent = null
        }
      }
    } else if (attempt !== null && ringEquals(d.ring, attempt.log.ring)) {
      attempt.log.add(d)
      const orig = d.orig
      if (orig !== null && ringEquals(orig.ring, this.installed.ring)) {
        this.installed.addRecovered({
          _tag: "Data",
          ring: orig.ring,
          seq: orig.seq,
          sender: orig.sender,
          app: orig.app,
          orig: null,
          payload: d.payload
        })
      }
    } else if (this.state === "operational" && !this.installed.members.includes(d.sender)) {
      this.enterGather([d.sender], [])
    }
  }
}
