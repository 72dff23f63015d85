/** Bounded reassembly of fragmented messages from one sender. */

interface Partial {
  readonly fragCount: number
  readonly parts: Array<Uint8Array | undefined>
  received: number
  bytes: number
  readonly startedAt: number
}

export type FragmentResult =
  | { readonly _tag: "Complete"; readonly bytes: Uint8Array }
  | { readonly _tag: "Pending" }
  | { readonly _tag: "Rejected"; readonly reason: "malformed" | "message-too-large" }

export interface ReassemblyLimits {
  readonly maxMessageSize: number
  readonly maxBytes: number
  readonly maxPartials: number
  readonly mtu: number
}

export class Reassembly {
  // Insertion order doubles as age order for eviction.
  private readonly partials = new Map<number, Partial>()
  private bytes = 0

  constructor(private readonly limits: ReassemblyLimits) {}

  get pendingMessages(): number {
    return this.partials.size
  }

  get pendingBytes(): number {
    return this.bytes
  }

  /** Adds one fragment; `evicted` receives the number of partial messages pushed out by the bounds. */
  add(
    messageId: number,
    fragIndex: number,
    fragCount: number,
    payload: Uint8Array,
    now: number,
    evicted: (count: number) => void
  ): FragmentResult {
    if (payload.length > this.limits.mtu) return { _tag: "Rejected", reason: "malformed" }
    if ((fragCount - 1) * this.limits.mtu + 1 > this.limits.maxMessageSize) {
      return { _tag: "Rejected", reason: "message-too-large" }
    }
    let partial = this.partials.get(messageId)
    if (partial === undefined) {
      partial = { fragCount, parts: new Array(fragCount), received: 0, bytes: 0, startedAt: now }
      this.partials.set(messageId, partial)
    } else if (partial.fragCount !== fragCount) {
      return { _tag: "Rejected", reason: "malformed" }
    }
    if (partial.parts[fragIndex] === undefined) {
      partial.parts[fragIndex] = payload
      partial.received++
      partial.bytes += payload.length
      this.bytes += payload.length
    }
    if (partial.received === partial.fragCount) {
      this.remove(messageId, partial)
      if (partial.bytes > this.limits.maxMessageSize) return { _tag: "Rejected", reason: "message-too-large" }
      const bytes = new Uint8Array(partial.bytes)
      let offset = 0
      for (const part of partial.parts) {
        if (part === undefined) continue
        bytes.set(part, offset)
        offset += part.length
      }
      return { _tag: "Complete", bytes }
    }
    let count = 0
    for (const [id, oldest] of this.partials) {
      if (this.partials.size <= this.limits.maxPartials && this.bytes <= this.limits.maxBytes) break
      this.remove(id, oldest)
      count++
    }
    if (count > 0) evicted(count)
    return { _tag: "Pending" }
  }

  /** Drops partial messages older than `timeout`; returns how many. */
  expire(now: number, timeout: number): number {
    let count = 0
    for (const [id, partial] of this.partials) {
      if (now - partial.startedAt >= timeout) {
        this.remove(id, partial)
        count++
      }
    }
    return count
  }

  clear(): void {
    this.partials.clear()
    this.bytes = 0
  }

  private remove(id: number, partial: Partial): void {
    this.partials.delete(id)
    this.bytes -= partial.bytes
  }
}
