/** IPsec-style sliding anti-replay window (RFC 4303 §3.4.3) over sequence numbers starting at 1. */
export class ReplayWindow {
  private highest = 0
  private readonly bits: Uint32Array

  constructor(readonly size: number) {
    this.bits = new Uint32Array(size / 32)
  }

  /** True when `seq` is new and inside the window; does not record it. */
  fresh(seq: number): boolean {
    if (seq <= 0) return false
    if (seq > this.highest) return true
    if (this.highest - seq >= this.size) return false
    return !this.has(seq)
  }

  /** Records `seq` (call only after `fresh(seq)` and after the packet is authenticated). */
  mark(seq: number): void {
    if (seq > this.highest) {
      if (seq - this.highest >= this.size) this.bits.fill(0)
      else for (let s = this.highest + 1; s < seq; s++) this.clear(s)
      this.highest = seq
    }
    const slot = seq % this.size
    this.bits[slot >>> 5] = (this.bits[slot >>> 5] ?? 0) | (1 << (slot & 31))
  }

  private has(seq: number): boolean {
    const slot = seq % this.size
    return ((this.bits[slot >>> 5] ?? 0) & (1 << (slot & 31))) !== 0
  }

  private clear(seq: number): void {
    const slot = seq % this.size
    this.bits[slot >>> 5] = (this.bits[slot >>> 5] ?? 0) & ~(1 << (slot & 31))
  }
}
