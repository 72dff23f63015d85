import { describe, expect, it } from "@effect/vitest"
import { Score } from "@ha/cib"
import { Either, FastCheck as fc, Schema } from "effect"

const score = fc.oneof(
  fc.integer({ min: -Score.INFINITY, max: Score.INFINITY }),
  fc.constantFrom(Score.INFINITY, -Score.INFINITY, 0)
)

describe("Score.parse", () => {
  it("reads INFINITY in its three spellings, case-insensitively", () => {
    expect(Score.parse("INFINITY")).toBe(1_000_000)
    expect(Score.parse("+INFINITY")).toBe(1_000_000)
    expect(Score.parse("-INFINITY")).toBe(-1_000_000)
    expect(Score.parse("infinity")).toBe(1_000_000)
    expect(Score.parse("-Infinity")).toBe(-1_000_000)
  })
  it("reads integers and clamps them to ±INFINITY", () => {
    expect(Score.parse("100")).toBe(100)
    expect(Score.parse("-5000")).toBe(-5000)
    expect(Score.parse("+7")).toBe(7)
    expect(Score.parse("-0")).toBe(0)
    expect(Score.parse("1000001")).toBe(Score.INFINITY)
    expect(Score.parse("-99999999999999999999")).toBe(-Score.INFINITY)
  })
  it("rejects what is not a score", () => {
    for (const text of ["", "abc", "1.5", "10abc", "INF", "++1", "1e3"])
      expect(Score.parse(text)).toBeUndefined()
  })
  it("formats as Pacemaker writes and parses back", () => {
    expect(Score.format(Score.INFINITY)).toBe("INFINITY")
    expect(Score.format(-Score.INFINITY)).toBe("-INFINITY")
    expect(Score.format(-20)).toBe("-20")
    fc.assert(fc.property(score, (s) => Score.parse(Score.format(s)) === s))
  })
  it("has a Schema from the text form", () => {
    expect(Schema.decodeUnknownSync(Score.ScoreFromString)("-INFINITY")).toBe(-Score.INFINITY)
    expect(Either.isLeft(Schema.decodeUnknownEither(Score.ScoreFromString)("lots"))).toBe(true)
    expect(Schema.encodeSync(Score.ScoreFromString)(Score.INFINITY)).toBe("INFINITY")
  })
})

describe("Score.add", () => {
  it("lets -INFINITY win over +INFINITY, as Pacemaker does", () => {
    expect(Score.add(-Score.INFINITY, Score.INFINITY)).toBe(-Score.INFINITY)
    expect(Score.add(Score.INFINITY, -Score.INFINITY)).toBe(-Score.INFINITY)
    expect(Score.add(Score.INFINITY, -999_999)).toBe(Score.INFINITY)
    expect(Score.add(600_000, 600_000)).toBe(Score.INFINITY)
    expect(Score.add(-600_000, -600_000)).toBe(-Score.INFINITY)
    expect(Score.add(5, -7)).toBe(-2)
  })
  it("is commutative, stays in range, and -INFINITY absorbs", () => {
    fc.assert(
      fc.property(score, score, (a, b) => {
        const sum = Score.add(a, b)
        return (
          sum === Score.add(b, a) &&
          sum >= -Score.INFINITY &&
          sum <= Score.INFINITY &&
          Score.add(a, -Score.INFINITY) === -Score.INFINITY
        )
      })
    )
  })
  it("is plain addition when nothing reaches INFINITY", () => {
    const small = fc.integer({ min: -400_000, max: 400_000 })
    fc.assert(fc.property(small, small, (a, b) => Score.add(a, b) === a + b))
  })
  it("sums many scores", () => {
    expect(Score.sum([])).toBe(0)
    expect(Score.sum([1, 2, 3])).toBe(6)
    expect(Score.sum([Score.INFINITY, 5, -Score.INFINITY, Score.INFINITY])).toBe(-Score.INFINITY)
  })
})
