/**
 * Compact binary encoding of Totem packets: one type byte, then big-endian u32 fields. A data packet
 * carries 23 bytes of header (plus 17 for recovery traffic) before its payload.
 */
import { Either, Schema } from "effect"
import { malformedAt } from "./internal/pack.ts"
import type { CommitEntry, Data, Packet, RingId } from "./internal/packets.ts"

export class DecodeError extends Schema.TaggedError<DecodeError>()("DecodeError", {
  reason: Schema.String,
  offset: Schema.Number
}) {}

enum Kind {
  Data = 1,
  Token = 2,
  Join = 3,
  Commit = 4,
  MergeDetect = 5,
  HoldCancel = 6
}

class Writer {
  private buf: Uint8Array
  private view: DataView
  length = 0
  /** `capacity`: the expected size, so a data packet is written without growing the buffer. */
  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity)
    this.view = new DataView(this.buf.buffer)
  }
  private ensure(n: number) {
    if (this.length + n <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n))
    next.set(this.buf)
    this.buf = next
    this.view = new DataView(next.buffer)
  }
  u8(x: number) {
    this.ensure(1)
    this.view.setUint8(this.length++, x)
  }
  u32(x: number) {
    this.ensure(4)
    this.view.setUint32(this.length, x)
    this.length += 4
  }
  ring(r: RingId) {
    this.u32(r.rep)
    this.u32(r.seq)
  }
  ids(xs: ReadonlyArray<number>) {
    this.u32(xs.length)
    for (const x of xs) this.u32(x)
  }
  bytes(b: Uint8Array) {
    this.u32(b.length)
    this.ensure(b.length)
    this.buf.set(b, this.length)
    this.length += b.length
  }
  done(): Uint8Array {
    return this.length === this.buf.length ? this.buf : this.buf.subarray(0, this.length)
  }
}

class Underflow {
  constructor(readonly offset: number) {}
}

class Reader {
  private readonly view: DataView
  offset = 0
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  private need(n: number) {
    if (this.offset + n > this.buf.length) throw new Underflow(this.offset)
  }
  u8(): number {
    this.need(1)
    return this.view.getUint8(this.offset++)
  }
  u32(): number {
    this.need(4)
    const x = this.view.getUint32(this.offset)
    this.offset += 4
    return x
  }
  ring(): RingId {
    return { rep: this.u32(), seq: this.u32() }
  }
  ids(): Array<number> {
    const n = this.u32()
    this.need(n * 4)
    return Array.from({ length: n }, () => this.u32())
  }
  bytes(): Uint8Array {
    const n = this.u32()
    this.need(n)
    const b = this.buf.slice(this.offset, this.offset + n)
    this.offset += n
    return b
  }
}

export const encode = (p: Packet): Uint8Array => {
  const w = new Writer(p._tag === "Data" ? p.payload.length + 64 : 64)
  switch (p._tag) {
    case "Data":
      w.u8(Kind.Data)
      w.ring(p.ring)
      w.u32(p.seq)
      w.u32(p.sender)
      w.u8((p.app ? 1 : 0) | (p.orig !== null ? 2 : 0) | (p.orig?.app === true ? 4 : 0))
      if (p.orig !== null) {
        w.ring(p.orig.ring)
        w.u32(p.orig.seq)
        w.u32(p.orig.sender)
      }
      w.bytes(p.payload)
      break
    case "Token":
      w.u8(Kind.Token)
      w.ring(p.ring)
      w.u32(p.tokenSeq)
      w.u32(p.seq)
      w.u32(p.aru)
      w.u32(p.aruAddr)
      w.u32(p.fcc)
      w.u8((p.retransFlag ? 1 : 0) | (p.install ? 2 : 0))
      w.ids(p.rtr)
      break
    case "Join":
      w.u8(Kind.Join)
      w.u32(p.sender)
      w.u32(p.ringSeq)
      w.ids(p.proc)
      w.ids(p.fail)
      break
    case "Commit":
      w.u8(Kind.Commit)
      w.ring(p.ring)
      w.ids(p.members)
      for (const e of p.entries) {
        w.u8(e === null ? 0 : 1)
        if (e !== null) {
          w.ring(e.oldRing)
          w.u32(e.aru)
          w.u32(e.high)
        }
      }
      break
    case "MergeDetect":
      w.u8(Kind.MergeDetect)
      w.u32(p.sender)
      w.ring(p.ring)
      break
    case "HoldCancel":
      w.u8(Kind.HoldCancel)
      w.ring(p.ring)
      break
  }
  return w.done()
}

const read = (r: Reader): Packet => {
  const kind = r.u8()
  switch (kind) {
    case Kind.Data: {
      const ring = r.ring()
      const seq = r.u32()
      const sender = r.u32()
      const flags = r.u8()
      const orig =
        (flags & 2) !== 0 ? { ring: r.ring(), seq: r.u32(), sender: r.u32(), app: (flags & 4) !== 0 } : null
      const payloadAt = r.offset
      const d: Data = { _tag: "Data", ring, seq, sender, app: (flags & 1) !== 0, orig, payload: r.bytes() }
      // Application data is a pack of messages; check it here so the protocol never sees a bad one.
      if (d.app || d.orig?.app === true) {
        const bad = malformedAt(d.payload)
        if (bad >= 0) throw new DecodeError({ reason: "malformed message pack", offset: payloadAt + 4 + bad })
      }
      return d
    }
    case Kind.Token: {
      const ring = r.ring()
      const tokenSeq = r.u32()
      const seq = r.u32()
      const aru = r.u32()
      const aruAddr = r.u32()
      const fcc = r.u32()
      const flags = r.u8()
      const rtr = r.ids()
      return {
        _tag: "Token",
        ring,
        tokenSeq,
        seq,
        aru,
        aruAddr,
        fcc,
        retransFlag: (flags & 1) !== 0,
        install: (flags & 2) !== 0,
        rtr
      }
    }
    case Kind.Join:
      return { _tag: "Join", sender: r.u32(), ringSeq: r.u32(), proc: r.ids(), fail: r.ids() }
    case Kind.Commit: {
      const ring = r.ring()
      const members = r.ids()
      const entries: Array<CommitEntry | null> = members.map(() =>
        r.u8() === 0 ? null : { oldRing: r.ring(), aru: r.u32(), high: r.u32() }
      )
      return { _tag: "Commit", ring, members, entries }
    }
    case Kind.MergeDetect:
      return { _tag: "MergeDetect", sender: r.u32(), ring: r.ring() }
    case Kind.HoldCancel:
      return { _tag: "HoldCancel", ring: r.ring() }
    default:
      throw new DecodeError({ reason: `unknown packet type ${kind}`, offset: 0 })
  }
}

/** Decodes one packet; truncated, over-long or unknown input is a DecodeError naming the offset. */
export const decode = (bytes: Uint8Array): Either.Either<Packet, DecodeError> => {
  const r = new Reader(bytes)
  try {
    const packet = read(r)
    if (r.offset !== bytes.length) {
      return Either.left(
        new DecodeError({ reason: `${bytes.length - r.offset} trailing bytes`, offset: r.offset })
      )
    }
    return Either.right(packet)
  } catch (e) {
    if (e instanceof Underflow)
      return Either.left(new DecodeError({ reason: "truncated packet", offset: e.offset }))
    if (e instanceof DecodeError) return Either.left(e)
    throw e
  }
}
