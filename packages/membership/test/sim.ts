/**
 * A deterministic network of Totem machines (no Effect, no crypto): packets go through an event queue
 * ordered by delivery time, with loss, reordering, partitions and frozen nodes driven by a seeded PRNG.
 */
import { decode, encode } from "../src/Codec.ts"
import { Machine, type NodeId, type Output, type Packet, type Settings } from "../src/Totem.ts"

export const testSettings: Settings = {
  token: 1000,
  tokenRetransmit: 238,
  tokenHold: 180,
  join: 50,
  consensus: 1200,
  merge: 200,
  maxMessages: 17,
  windowSize: 50,
  failRecvConst: 2500,
  seqnoUnchangedConst: 30,
  packBytes: 1200
}

export interface Faults {
  /** Probability that a packet is lost. */
  loss: number
  /** Probability that a packet gets up to `reorderWindow` ms of extra delay. */
  reorder: number
  reorderWindow: number
  /** One-way delay, ms. */
  delay: number
}

export const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Event {
  readonly at: number
  readonly node: NodeId
  readonly output: Output
}

interface InFlight {
  readonly at: number
  readonly order: number
  readonly from: NodeId
  readonly to: NodeId
  readonly bytes: Uint8Array
}

export class Sim {
  readonly machines = new Map<NodeId, Machine>()
  readonly events: Array<Event> = []
  now = 0
  faults: Faults = { loss: 0, reorder: 0, reorderWindow: 20, delay: 1 }
  /** Node → partition group; nodes in different groups cannot talk. */
  private groups = new Map<NodeId, number>()
  readonly frozen = new Set<NodeId>()
  readonly killed = new Set<NodeId>()
  private queue: Array<InFlight> = []
  private order = 0
  private readonly random: () => number

  constructor(
    ids: ReadonlyArray<NodeId>,
    readonly settings: Settings = testSettings,
    seed = 1,
    readonly tickEvery = 10
  ) {
    this.random = prng(seed)
    for (const id of ids) this.machines.set(id, new Machine(id, settings))
  }

  machine(id: NodeId): Machine {
    const m = this.machines.get(id)
    if (m === undefined) throw new Error(`no node ${id}`)
    return m
  }

  partition(groups: ReadonlyArray<ReadonlyArray<NodeId>>) {
    this.groups = new Map(groups.flatMap((g, i) => g.map((n) => [n, i] as const)))
  }

  heal() {
    this.groups = new Map()
  }

  /** A restarted node: fresh state, same id. */
  restart(id: NodeId) {
    this.killed.delete(id)
    this.machines.set(id, new Machine(id, this.settings))
  }

  private blocked(from: NodeId, to: NodeId) {
    if (this.killed.has(from) || this.killed.has(to)) return true
    const a = this.groups.get(from)
    const b = this.groups.get(to)
    return a !== undefined && b !== undefined && a !== b
  }

  private transmit(from: NodeId, to: NodeId, packet: Packet) {
    if (this.random() < this.faults.loss) return
    const extra =
      this.random() < this.faults.reorder ? Math.floor(this.random() * this.faults.reorderWindow) : 0
    // Packets go through the codec, as on the wire.
    this.queue.push({
      at: this.now + this.faults.delay + extra,
      order: this.order++,
      from,
      to,
      bytes: encode(packet)
    })
  }

  step(id: NodeId, input: Parameters<Machine["step"]>[0]) {
    if (this.killed.has(id) || this.frozen.has(id)) return
    const outputs = this.machine(id).step(input)
    for (const output of outputs) {
      switch (output._tag) {
        case "Send":
          this.transmit(id, output.to, output.packet)
          break
        case "Multicast":
          for (const to of this.machines.keys()) if (to !== id) this.transmit(id, to, output.packet)
          break
        default:
          this.events.push({ at: this.now, node: id, output })
      }
    }
  }

  broadcast(id: NodeId, text: string) {
    this.step(id, { _tag: "Broadcast", payload: new TextEncoder().encode(text) })
  }

  private deliverDue() {
    for (;;) {
      let best = -1
      for (let i = 0; i < this.queue.length; i++) {
        const p = this.queue[i]!
        const b = best < 0 ? undefined : this.queue[best]!
        if (p.at <= this.now && (b === undefined || p.at < b.at || (p.at === b.at && p.order < b.order)))
          best = i
      }
      if (best < 0) return
      const [p] = this.queue.splice(best, 1)
      if (p === undefined || this.blocked(p.from, p.to) || this.frozen.has(p.to)) continue
      const packet = decode(p.bytes)
      if (packet._tag === "Left") throw new Error(`undecodable packet: ${packet.left.reason}`)
      this.step(p.to, { _tag: "Receive", from: p.from, packet: packet.right })
    }
  }

  /** Runs for `millis`: every `tickEvery` ms each live node ticks, then due packets are delivered. */
  run(millis: number) {
    const end = this.now + millis
    while (this.now < end) {
      this.now += 1
      this.deliverDue()
      if (this.now % this.tickEvery === 0) {
        for (const id of this.machines.keys()) this.step(id, { _tag: "Tick", now: this.now })
        this.deliverDue()
      }
    }
  }

  views(id: NodeId) {
    return this.events.filter((e) => e.node === id && e.output._tag === "ViewInstalled")
  }

  currentView(id: NodeId): string {
    const v = this.machine(id).view
    return v === null ? "-" : `${v.id.rep}.${v.id.seq}:[${v.members.join(",")}]`
  }

  delivered(id: NodeId): Array<string> {
    const out: Array<string> = []
    for (const e of this.events) {
      if (e.node === id && e.output._tag === "Delivered") out.push(new TextDecoder().decode(e.output.payload))
    }
    return out
  }
}
