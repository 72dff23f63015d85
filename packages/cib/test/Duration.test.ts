import { describe, expect, it } from "@effect/vitest"
import { Duration } from "@ha/cib"
import { FastCheck as fc, Schema } from "effect"

describe("Duration.parse", () => {
  it("reads plain numbers as seconds", () => {
    expect(Duration.parse("20")).toBe(20_000)
    expect(Duration.parse("0")).toBe(0)
    expect(Duration.parse(" 15 ")).toBe(15_000)
  })
  it("reads every unit Pacemaker knows, case-insensitively", () => {
    const cases: Array<[string, number]> = [
      ["20s", 20_000],
      ["20sec", 20_000],
      ["20 s", 20_000],
      ["500ms", 500],
      ["500msec", 500],
      ["1500us", 1],
      ["1500usec", 1],
      ["1m", 60_000],
      ["2min", 120_000],
      ["1h", 3_600_000],
      ["2hr", 7_200_000],
      ["10S", 10_000],
      ["3MS", 3],
      ["10seconds", 10_000],
      ["2minutes", 120_000]
    ]
    for (const [text, ms] of cases) expect(Duration.parse(text), text).toBe(ms)
  })
  it("drops a fraction as Pacemaker's integer parse does", () => {
    expect(Duration.parse("1.5s")).toBe(1_000)
  })
  it("reads ISO 8601 durations, also Pacemaker's lenient form without T", () => {
    expect(Duration.parse("PT20S")).toBe(20_000)
    expect(Duration.parse("PT1M30S")).toBe(90_000)
    expect(Duration.parse("P1DT2H")).toBe(26 * 3_600_000)
    expect(Duration.parse("P1W")).toBe(7 * 24 * 3_600_000)
    expect(Duration.parse("P1M")).toBe(30 * 24 * 3_600_000)
    expect(Duration.parse("P10S")).toBe(10_000)
  })
  it("rejects what is not a time specification", () => {
    for (const text of ["", "bad", "-5", "10 parsecs", "P", "PT", "P1X", "PT1.5S", "s"])
      expect(Duration.parse(text), text).toBeUndefined()
  })
  it("formats milliseconds so that they parse back", () => {
    expect(Duration.format(20_000)).toBe("20s")
    expect(Duration.format(1_500)).toBe("1500ms")
    fc.assert(fc.property(fc.nat({ max: 10 ** 12 }), (ms) => Duration.parse(Duration.format(ms)) === ms))
  })
  it("agrees between unit and ISO forms", () => {
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), (n) => {
        const s = Duration.parse(`${n}s`)
        return s === n * 1000 && Duration.parse(`PT${n}S`) === s && Duration.parse(String(n)) === s
      })
    )
  })
  it("has a Schema from the text form", () => {
    expect(Schema.decodeUnknownSync(Duration.MillisFromString)("1m")).toBe(60_000)
    expect(() => Schema.decodeUnknownSync(Duration.MillisFromString)("soon")).toThrow(/soon/)
  })
})
