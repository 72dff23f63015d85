import { unpack } from "./pack.ts"
import type { Data, RingId } from "./packets.ts"

export type DeliveredEvent = {
  readonly _tag: "Delivered"
  readonly view: RingId
  readonly transitional: boolean
  readonly sender: number
  readonly seq: number
  /** Position of the message among those packed into packet `seq`. */
  readonly index: number
  readonly payload: Uint8Array
}

/** Delivers the application messages packed in `d` (the codec has checked the packing). */
export const deliver = (out: Array<unknown>, view: RingId, d: Data, transitional: boolean): void => {
  const messages = unpack(d.payload)
  if (!Array.isArray(messages)) return
  messages.forEach((payload, index) => {
    const event: DeliveredEvent = {
      _tag: "Delivered",
      view,
      transitional,
      sender: d.sender,
      seq: d.seq,
      index,
      payload
    }
    out.push(event)
  })
}

/** The messages of one ring as seen by one node: store, aru, highest seen, delivered-up-to. */
export class RingLog {
  readonly store = new Map<number, Data>()
  aru = 0
  high = 0
  delivered = 0
  private discarded = 0

  constructor(
    readonly ring: RingId,
    readonly members: ReadonlyArray<number>
  ) {}

  add(d: Data): boolean {
    if (d.seq <= this.aru || this.store.has(d.seq)) return false
    this.store.set(d.seq, d)
    if (d.seq > this.high) this.high = d.seq
    while (this.store.has(this.aru + 1)) this.aru++
    return true
  }

  /** Adds an old-ring message received through recovery, unless it was delivered already. */
  addRecovered(d: Data): void {
    if (d.seq > this.delivered) this.add(d)
  }

  /** Delivers, in order, every message up to the first hole. */
  deliverContiguous(out: Array<unknown>): void {
    while (this.delivered < this.aru) {
      this.delivered++
      const d = this.store.get(this.delivered)
      if (d?.app === true) deliver(out, this.ring, d, false)
    }
  }

  /** Messages past the first hole, in sequence order. */
  remainingAfterHole(): Array<Data> {
    return [...this.store.values()].filter((d) => d.seq > this.delivered).sort((a, b) => a.seq - b.seq)
  }

  /** Forgets messages every member holds (and this node delivered). */
  discardUpTo(seq: number): void {
    const limit = Math.min(seq, this.delivered)
    for (let s = this.discarded + 1; s <= limit; s++) this.store.delete(s)
    if (limit > this.discarded) this.discarded = limit
  }
}
