import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { ReplayWindow } from "../src/internal/replayWindow.ts"

describe("ReplayWindow", () => {
  it("accepts each sequence number once, and only within the window (model check)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 400 }), (seqs) => {
        const window = new ReplayWindow(64)
        const seen = new Set<number>()
        let highest = 0
        for (const seq of seqs) {
          const expected = !seen.has(seq) && (seq > highest || highest - seq < 64)
          expect(window.fresh(seq)).toBe(expected)
          if (expected) {
            window.mark(seq)
            seen.add(seq)
            highest = Math.max(highest, seq)
          }
        }
      }),
      { numRuns: 300, seed: 11 }
    )
  })
})
