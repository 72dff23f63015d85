import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import { decode, encode } from "../src/Codec.ts"
import { pack } from "../src/internal/pack.ts"
import type { Packet } from "../src/Totem.ts"

const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
const ring = fc.record({ rep: u32, seq: u32 })
const ids = fc.array(u32, { maxLength: 8 })

const packet: fc.Arbitrary<Packet> = fc.oneof(
  // Application data (app, or re-sent application data) carries a pack of messages.
  fc
    .record({
      _tag: fc.constant("Data" as const),
      ring,
      seq: u32,
      sender: u32,
      app: fc.boolean(),
      orig: fc.option(fc.record({ ring, seq: u32, sender: u32, app: fc.boolean() }), { nil: null }),
      messages: fc.array(fc.uint8Array({ maxLength: 32 }), { minLength: 1, maxLength: 4 }),
      raw: fc.uint8Array({ maxLength: 64 })
    })
    .map(
      ({ messages, raw, ...d }): Packet => ({
        ...d,
        payload: d.app || d.orig?.app === true ? pack(messages) : raw
      })
    ),
  fc.record({
    _tag: fc.constant("Token" as const),
    ring,
    tokenSeq: u32,
    seq: u32,
    aru: u32,
    aruAddr: u32,
    rtr: ids,
    fcc: u32,
    retransFlag: fc.boolean(),
    install: fc.boolean()
  }),
  fc.record({ _tag: fc.constant("Join" as const), sender: u32, ringSeq: u32, proc: ids, fail: ids }),
  ids.chain((members) =>
    fc.record({
      _tag: fc.constant("Commit" as const),
      ring,
      members: fc.constant(members),
      entries: fc.tuple(
        ...members.map(() => fc.option(fc.record({ oldRing: ring, aru: u32, high: u32 }), { nil: null }))
      )
    })
  ),
  fc.record({ _tag: fc.constant("MergeDetect" as const), sender: u32, ring }),
  fc.record({ _tag: fc.constant("HoldCancel" as const), ring })
)

describe("Codec", () => {
  it("decode(encode(p)) is p for every packet", () => {
    fc.assert(
      fc.property(packet, (p) => {
        expect(Either.getOrThrow(decode(encode(p)))).toEqual(p)
      })
    )
  })

  it("every truncation of a packet is a DecodeError, never a throw", () => {
    fc.assert(
      fc.property(packet, (p) => {
        const bytes = encode(p)
        for (let n = 0; n < bytes.length; n++) {
          const result = decode(bytes.subarray(0, n))
          expect(Either.isLeft(result) && result.left.reason).toBe("truncated packet")
        }
      }),
      { numRuns: 50 }
    )
  })

  it("trailing bytes, unknown types and garbage are errors naming the offset", () => {
    const bytes = encode({ _tag: "HoldCancel", ring: { rep: 1, seq: 4 } })
    const trailing = decode(new Uint8Array([...bytes, 0]))
    expect(Either.isLeft(trailing) && trailing.left).toMatchObject({
      reason: "1 trailing bytes",
      offset: bytes.length
    })
    const badPack = encode({
      _tag: "Data",
      ring: { rep: 1, seq: 4 },
      seq: 1,
      sender: 1,
      app: true,
      orig: null,
      payload: new Uint8Array([0, 0, 0, 9, 1])
    })
    const bad = decode(badPack)
    expect(Either.isLeft(bad) && bad.left).toMatchObject({ reason: "malformed message pack", offset: 22 })
    const unknown = decode(new Uint8Array([99]))
    expect(Either.isLeft(unknown) && unknown.left.reason).toBe("unknown packet type 99")
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void decode(b)))
  })
})
