/**
 * Rule evaluation (Pacemaker Explained, "Rules"): node attribute expressions, date expressions and
 * nested rules, combined with and/or. Rules are evaluated against one node's attributes and `now`.
 */
import type { Cib } from "@ha/cib"

export interface RuleContext {
  /** node attributes, including the built-ins #uname, #id, #kind */
  readonly attributes: ReadonlyMap<string, string>
  /** seconds since the epoch */
  readonly now: number
  /** resource meta / instance attributes for value-source="meta"/"param" */
  readonly meta?: ReadonlyMap<string, string>
  readonly params?: ReadonlyMap<string, string>
  /** the resource agent, for rsc_expression in rsc_defaults rules */
  readonly resource?: { readonly class?: string; readonly provider?: string; readonly type?: string }
  /** rules by id, to resolve id-ref */
  readonly rulesById?: ReadonlyMap<string, Cib.Rule>
}

const compareNumbers = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0)

/** Compares dotted versions (`3.0.14`) part by part, as numbers. */
export const compareVersions = (a: string, b: string): number => {
  const pa = a.split(".").map(Number)
  const pb = b.split(".").map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const c = compareNumbers(pa[i] ?? 0, pb[i] ?? 0)
    if (c !== 0) return c
  }
  return 0
}

const evalAttribute = (e: Cib.AttributeExpression, ctx: RuleContext): boolean => {
  const actual = ctx.attributes.get(e.attribute)
  if (e.operation === "defined") return actual !== undefined
  if (e.operation === "not_defined") return actual === undefined
  let expected = e.value
  if (e.valueSource === "meta" && expected !== undefined) expected = ctx.meta?.get(expected)
  else if (e.valueSource === "param" && expected !== undefined) expected = ctx.params?.get(expected)
  if (actual === undefined || expected === undefined) return e.operation === "ne" && actual !== expected
  const type =
    e.type ?? (/^-?\d+(\.\d+)?$/.test(actual) && /^-?\d+(\.\d+)?$/.test(expected) ? "number" : "string")
  let c: number
  if (type === "integer" || type === "number") {
    const a = Number(actual)
    const b = Number(expected)
    if (Number.isNaN(a) || Number.isNaN(b)) c = actual.localeCompare(expected)
    else c = compareNumbers(a, b)
  } else if (type === "version") c = compareVersions(actual, expected)
  else c = actual < expected ? -1 : actual > expected ? 1 : 0
  switch (e.operation) {
    case "eq":
      return c === 0
    case "ne":
      return c !== 0
    case "lt":
      return c < 0
    case "lte":
      return c <= 0
    case "gt":
      return c > 0
    case "gte":
      return c >= 0
    default:
      return false
  }
}

/** Parses an ISO 8601 date ("2005-01-01", "2005-01-01 12:00:00Z", "2005-001") into seconds (UTC). */
export const parseIsoDate = (text: string): number | undefined => {
  const t = text.trim().replace(" ", "T")
  const ordinal = /^(\d{4})-(\d{3})(.*)$/.exec(t)
  if (ordinal) {
    const base = Date.UTC(Number(ordinal[1]), 0, 1) / 1000
    const rest = parseIsoDate(`1970-01-01${ordinal[3]}`) ?? 0
    return base + (Number(ordinal[2]) - 1) * 86400 + rest
  }
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(t) || !t.includes("T") ? t : `${t}Z`)
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000)
}

const addDuration = (start: number, d: Cib.DateDuration): number => {
  const date = new Date(start * 1000)
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s))
  date.setUTCFullYear(date.getUTCFullYear() + n(d.years))
  date.setUTCMonth(date.getUTCMonth() + n(d.months))
  return (
    date.getTime() / 1000 +
    n(d.weeks) * 604800 +
    n(d.days) * 86400 +
    n(d.hours) * 3600 +
    n(d.minutes) * 60 +
    n(d.seconds)
  )
}

/** Does `value` fall in a date_spec range list like "9-16" or "1,3,5"? */
const inRange = (spec: string | undefined, value: number): boolean => {
  if (spec === undefined) return true
  return spec.split(",").some((part) => {
    const [lo, hi] = part.split("-")
    const low = Number(lo)
    const high =
      hi === undefined || hi === "" ? (part.endsWith("-") ? Number.POSITIVE_INFINITY : low) : Number(hi)
    return value >= low && value <= high
  })
}

const evalDateSpec = (spec: Cib.DateSpec, now: number): boolean => {
  const d = new Date(now * 1000)
  const startOfYear = Date.UTC(d.getUTCFullYear(), 0, 1)
  const yearday = Math.floor((d.getTime() - startOfYear) / 86400000) + 1
  const weekday = d.getUTCDay() === 0 ? 7 : d.getUTCDay()
  // ISO week number and week-year
  const thursday = new Date(d.getTime())
  thursday.setUTCDate(d.getUTCDate() + 4 - weekday)
  const weekyear = thursday.getUTCFullYear()
  const week = Math.floor((thursday.getTime() - Date.UTC(weekyear, 0, 1)) / 604800000) + 1
  return (
    inRange(spec.years, d.getUTCFullYear()) &&
    inRange(spec.months, d.getUTCMonth() + 1) &&
    inRange(spec.monthdays, d.getUTCDate()) &&
    inRange(spec.hours, d.getUTCHours()) &&
    inRange(spec.minutes, d.getUTCMinutes()) &&
    inRange(spec.seconds, d.getUTCSeconds()) &&
    inRange(spec.yeardays, yearday) &&
    inRange(spec.weekdays, weekday) &&
    inRange(spec.weeks, week) &&
    inRange(spec.weekyears, weekyear)
  )
}

const evalDate = (e: Cib.DateExpression, now: number): boolean => {
  const start = e.start === undefined ? undefined : parseIsoDate(e.start)
  let end = e.end === undefined ? undefined : parseIsoDate(e.end)
  switch (e.operation) {
    case "gt":
      return start !== undefined && now > start
    case "lt":
      return end !== undefined && now < end
    case "date_spec":
      return e.dateSpec === undefined ? false : evalDateSpec(e.dateSpec, now)
    default: {
      if (end === undefined && start !== undefined && e.duration !== undefined)
        end = addDuration(start, e.duration)
      return (start === undefined || now >= start) && (end === undefined || now <= end)
    }
  }
}

/**
 * Evaluates a rule. rsc_expression matches the context's resource agent (and nothing without one);
 * op_expression only matters in op_defaults, which the scheduler does not read per operation: false.
 */
export const evaluate = (rule: Cib.Rule, ctx: RuleContext): boolean => {
  const target = rule.idRef !== undefined ? (ctx.rulesById?.get(rule.idRef) ?? rule) : rule
  const results = target.expressions.map((e): boolean => {
    switch (e._tag) {
      case "Expression":
        return evalAttribute(e, ctx)
      case "DateExpression":
        return evalDate(e, ctx.now)
      case "Rule":
        return evaluate(e, ctx)
      case "ResourceExpression": {
        const r = ctx.resource
        if (r === undefined) return false
        return (
          (e.class === undefined || e.class === r.class) &&
          (e.provider === undefined || e.provider === r.provider) &&
          (e.type === undefined || e.type === r.type)
        )
      }
      default:
        return false
    }
  })
  if (results.length === 0) return true
  return target.booleanOp === "or" ? results.some((r) => r) : results.every((r) => r)
}

/** Collects every rule with an id, for id-ref resolution. */
export const indexRules = (rules: Iterable<Cib.Rule>, into: Map<string, Cib.Rule>): void => {
  for (const r of rules) {
    if (r.id !== undefined && r.idRef === undefined) into.set(r.id, r)
    for (const e of r.expressions) if (e._tag === "Rule") indexRules([e], into)
  }
}

/** The name/value pairs of nvsets in effect (sets without rules, or whose rules hold), first set wins. */
export const resolveNvSets = (
  sets: ReadonlyArray<Cib.NvSet>,
  ctx: RuleContext,
  into: Map<string, string> = new Map()
): Map<string, string> => {
  const ordered = [...sets].sort((a, b) => (b.score ?? 0) - (a.score ?? 0))
  for (const set of ordered) {
    if (set.rules.length > 0 && !set.rules.every((r) => evaluate(r, ctx))) continue
    for (const p of set.nvpairs) {
      if (p.name !== undefined && p.value !== undefined && !into.has(p.name)) into.set(p.name, p.value)
    }
  }
  return into
}
