import { describe, expect, it } from "@effect/vitest"
import type { Cib } from "@ha/cib"
import { evaluate, parseIsoDate } from "../src/internal/rules.ts"

const attrs = new Map([
  ["#uname", "n1"],
  ["site", "a"],
  ["weight", "10"],
  ["version", "2.10.1"]
])
const expr = (
  attribute: string,
  operation: string,
  value?: string,
  type?: string
): Cib.AttributeExpression => ({
  _tag: "Expression",
  id: `${attribute}-${operation}`,
  attribute,
  operation,
  ...(value !== undefined ? { value } : {}),
  ...(type !== undefined ? { type } : {})
})
const rule = (expressions: ReadonlyArray<Cib.RuleExpression>, booleanOp?: string): Cib.Rule => ({
  _tag: "Rule",
  id: "r",
  ...(booleanOp !== undefined ? { booleanOp } : {}),
  expressions
})
const at = (now: number) => ({ attributes: attrs, now })

describe("rules", () => {
  it("compares node attributes as strings, numbers and versions", () => {
    expect(evaluate(rule([expr("site", "eq", "a")]), at(0))).toBe(true)
    expect(evaluate(rule([expr("site", "ne", "a")]), at(0))).toBe(false)
    expect(evaluate(rule([expr("weight", "gt", "9", "integer")]), at(0))).toBe(true)
    // as strings "10" < "9"
    expect(evaluate(rule([expr("weight", "gt", "9", "string")]), at(0))).toBe(false)
    expect(evaluate(rule([expr("version", "gt", "2.9", "version")]), at(0))).toBe(true)
    expect(evaluate(rule([expr("missing", "not_defined")]), at(0))).toBe(true)
    expect(evaluate(rule([expr("site", "defined")]), at(0))).toBe(true)
  })

  it("combines expressions with and/or", () => {
    const both = [expr("site", "eq", "a"), expr("#uname", "eq", "n2")]
    expect(evaluate(rule(both), at(0))).toBe(false)
    expect(evaluate(rule(both, "or"), at(0))).toBe(true)
  })

  it("evaluates date ranges and date specs against now", () => {
    const start = parseIsoDate("2020-01-01")!
    expect(start).toBe(Date.UTC(2020, 0, 1) / 1000)
    const inRange: Cib.DateExpression = {
      _tag: "DateExpression",
      id: "d",
      operation: "in_range",
      start: "2020-01-01",
      duration: { days: "2" }
    }
    expect(evaluate(rule([inRange]), at(start + 86400))).toBe(true)
    expect(evaluate(rule([inRange]), at(start + 3 * 86400))).toBe(false)
    const workHours: Cib.DateExpression = {
      _tag: "DateExpression",
      id: "w",
      operation: "date_spec",
      dateSpec: { hours: "9-16", weekdays: "1-5" }
    }
    // 2020-01-01 was a Wednesday
    expect(evaluate(rule([workHours]), at(start + 10 * 3600))).toBe(true)
    expect(evaluate(rule([workHours]), at(start + 20 * 3600))).toBe(false)
    expect(evaluate(rule([workHours]), at(start + 3 * 86400 + 10 * 3600))).toBe(false)
  })
})
