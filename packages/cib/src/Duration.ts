/**
 * Pacemaker time specifications (operation intervals, timeouts, delays) as milliseconds.
 *
 * Two syntaxes, as Pacemaker reads them:
 * - a number with an optional unit, e.g. "20" (seconds), "20s", "500ms", "1m", "2h"; units are
 *   matched case-insensitively by prefix as Pacemaker does: ms/msec, us/usec (rounded down to ms),
 *   s/sec, m/min, h/hr (so "10seconds" and "2minutes" work too).
 *   A fraction is dropped ("1.5s" is 1 s), as Pacemaker's integer parse does.
 * - an ISO 8601 duration starting with "P", e.g. "PT20S", "P1DT2H", also Pacemaker's lenient
 *   "P10S" (time units without the "T"). Years count 365 days, months 30 days.
 */
import { ParseResult, Schema } from "effect"

/** Milliseconds: a non-negative integer. */
export const Millis = Schema.NonNegativeInt.annotations({ identifier: "Millis", description: "milliseconds" })
export type Millis = typeof Millis.Type

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const PLAIN = /^\s*([0-9]+)(?:\.[0-9]*)?\s*([A-Za-z]*)\s*$/
/** Pacemaker matches units by prefix: "ms…", "us…", "s…", "m…", "h…" (so "10seconds" is 10 s). */
const unitMillis = (unit: string): number | undefined => {
  const u = unit.toLowerCase()
  if (u === "") return SECOND
  if (u.startsWith("ms")) return 1
  if (u.startsWith("us")) return 1 / 1000
  switch (u[0]) {
    case "s":
      return SECOND
    case "m":
      return MINUTE
    case "h":
      return HOUR
    default:
      return undefined
  }
}

const ISO_PART = /([0-9]+)([YMWDHS])/gy

const parseIso = (text: string): Millis | undefined => {
  if (text.length < 2 || text[0] !== "P") return undefined
  let ms = 0
  let inTime = false
  let pos = 1
  let parts = 0
  while (pos < text.length) {
    if (text[pos] === "T") {
      if (inTime) return undefined
      inTime = true
      pos++
      continue
    }
    ISO_PART.lastIndex = pos
    const m = ISO_PART.exec(text)
    if (m === null) return undefined
    const n = Number(m[1])
    switch (m[2]) {
      case "Y":
        ms += n * 365 * DAY
        break
      case "M":
        ms += inTime ? n * MINUTE : n * 30 * DAY
        break
      case "W":
        ms += n * 7 * DAY
        break
      case "D":
        ms += n * DAY
        break
      case "H":
        ms += n * HOUR
        break
      case "S":
        ms += n * SECOND
        break
    }
    parts++
    pos = ISO_PART.lastIndex
  }
  return parts === 0 ? undefined : ms
}

/** Parses a Pacemaker time specification to milliseconds; `undefined` if it is not one. */
export const parse = (text: string): Millis | undefined => {
  const iso = text.trim()
  if (iso.startsWith("P")) return parseIso(iso)
  const m = PLAIN.exec(text)
  if (m === null) return undefined
  const factor = unitMillis(m[2] ?? "")
  if (factor === undefined) return undefined
  const ms = Math.floor(Number(m[1]) * factor)
  return Number.isSafeInteger(ms) ? ms : undefined
}

/** Formats milliseconds the way Pacemaker's tools write them: whole seconds as "Ns", else "Nms". */
export const format = (ms: Millis): string => (ms % SECOND === 0 ? `${ms / SECOND}s` : `${ms}ms`)

/** Schema from a Pacemaker time specification to milliseconds (for hand-written input). */
export const MillisFromString = Schema.transformOrFail(Schema.String, Millis, {
  strict: true,
  decode: (text, _, ast) => {
    const ms = parse(text)
    return ms === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, text, `not a time specification: "${text}"`))
      : ParseResult.succeed(ms)
  },
  encode: (ms) => ParseResult.succeed(format(ms))
})
