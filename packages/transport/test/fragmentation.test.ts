import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { type Frame, Harness } from "./harness.ts"

const connected = (overrides: ConstructorParameters<typeof Harness>[1] = {}) => {
  const harness = new Harness([1, 2], overrides)
  harness.run(1000)
  expect(harness.machine(1).reachablePeers()).toEqual([2])
  return harness
}

const bytesOf = (size: number, seed: number) =>
  Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff)

const dataFrames = (harness: Harness, from: number, to: number, bytes: Uint8Array): Array<Frame> => {
  const outputs = harness.machine(from).step({ _tag: "Send", now: harness.now, to, bytes })
  return outputs.flatMap((o) => (o._tag === "Transmit" ? [o.frame] : []))
}

describe("fragmentation and reassembly", () => {
  it("delivers messages of any size exactly once whatever the order and duplication of fragments", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40_000 }),
        fc.integer({ min: 64, max: 1500 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
        fc.array(fc.boolean(), { maxLength: 64 }),
        (size, mtu, order, duplicate) => {
          const harness = connected({ mtu })
          const message = bytesOf(size, size)
          const frames = dataFrames(harness, 1, 2, message)
          expect(frames.length).toBe(Math.max(1, Math.ceil(size / mtu)))
          expect(frames.every((f) => f.payload.length <= mtu)).toBe(true)
          const keyed = frames.map((frame, i) => ({ frame, key: order[i % order.length]! + i / 1000 }))
          const shuffled = keyed.sort((x, y) => x.key - y.key).map((k) => k.frame)
          const withDuplicates = shuffled.flatMap((f, i) => (duplicate[i] ? [f, f] : [f]))
          const before = harness.delivered.length
          harness.deliver(withDuplicates)
          const delivered = harness.delivered.slice(before)
          expect(delivered.length).toBe(1)
          expect(delivered[0]!.bytes).toEqual(message)
          expect(harness.machine(2).metrics().dropped.replay ?? 0).toBe(
            duplicate.slice(0, frames.length).filter(Boolean).length
          )
          expect(harness.machine(2).metrics().peers[0]!.pendingReassemblyBytes).toBe(0)
        }
      ),
      { numRuns: 40, seed: 5 }
    )
  }, 60_000)

  it("drops a message with a lost fragment after the reassembly timeout", () => {
    const harness = connected({ mtu: 100, reassemblyTimeout: 2000 })
    const frames = dataFrames(harness, 1, 2, bytesOf(1000, 1))
    harness.deliver(frames.filter((f) => f.fragIndex !== 4))
    let peer = harness.machine(2).metrics().peers[0]!
    expect(peer.pendingReassemblyMessages).toBe(1)
    expect(peer.pendingReassemblyBytes).toBe(900)
    harness.run(1900)
    expect(harness.machine(2).metrics().peers[0]!.pendingReassemblyMessages).toBe(1)
    harness.run(200)
    peer = harness.machine(2).metrics().peers[0]!
    expect(peer.pendingReassemblyMessages).toBe(0)
    expect(peer.pendingReassemblyBytes).toBe(0)
    expect(peer.dropped["reassembly-timeout"]).toBe(1)
    expect(harness.delivered.filter((d) => d.to === 2)).toEqual([])
  })

  it("bounds the memory held by partial messages", () => {
    const maxReassemblyBytes = 20_000
    const maxPartialMessages = 8
    const harness = connected({ mtu: 1000, maxReassemblyBytes, maxPartialMessages })
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 2001, max: 12_000 }), { minLength: 1, maxLength: 30 }),
        (sizes) => {
          for (const size of sizes) {
            const frames = dataFrames(harness, 1, 2, bytesOf(size, 3))
            harness.deliver(frames.slice(0, -1))
            const peer = harness.machine(2).metrics().peers[0]!
            expect(peer.pendingReassemblyBytes).toBeLessThanOrEqual(maxReassemblyBytes)
            expect(peer.pendingReassemblyMessages).toBeLessThanOrEqual(maxPartialMessages)
          }
        }
      ),
      { numRuns: 20, seed: 9 }
    )
    expect(harness.machine(2).metrics().peers[0]!.dropped["reassembly-overflow"]).toBeGreaterThan(0)
  })

  it("refuses to send or reassemble messages above maxMessageSize", () => {
    const harness = connected({ mtu: 100, maxMessageSize: 1000 })
    expect(
      harness.machine(1).step({ _tag: "Send", now: harness.now, to: 2, bytes: new Uint8Array(1001) })
    ).toEqual([{ _tag: "Undeliverable", to: 2, reason: "message-too-large" }])
    // A sender that claims 50 fragments of 100 bytes (5000 bytes) is refused on the first fragment.
    const [frame] = dataFrames(harness, 1, 2, new Uint8Array(150))
    harness.deliver([{ ...frame!, fragCount: 50 }])
    expect(harness.machine(2).metrics().peers[0]!.dropped["message-too-large"]).toBe(1)
    expect(harness.machine(2).metrics().peers[0]!.pendingReassemblyMessages).toBe(0)
  })
})
