/**
 * Pacemaker scores: integers clamped to ±INFINITY (1,000,000).
 *
 * Parsing follows Pacemaker's rules for well-formed input: "INFINITY" / "+INFINITY" / "-INFINITY"
 * (case-insensitive) and decimal integers, clamped to ±INFINITY. Pacemaker silently accepts
 * malformed text (it keeps a leading integer prefix or falls back to 0); ha rejects it instead so
 * typos surface as errors.
 */
import { ParseResult, Schema } from "effect"

export const INFINITY = 1_000_000

/** A score: an integer in [-INFINITY, INFINITY]. */
export const Score = Schema.Int.pipe(Schema.between(-INFINITY, INFINITY)).annotations({
  identifier: "Score",
  description: "Pacemaker score: an integer clamped to ±1000000 (INFINITY)"
})
export type Score = typeof Score.Type

/** Clamps any number (integer expected) into the score range. */
export const clamp = (n: number): Score => Math.min(INFINITY, Math.max(-INFINITY, n))

const INTEGER = /^[+-]?[0-9]+$/

/** Parses a score as Pacemaker does; `undefined` for text that is not a score. */
export const parse = (text: string): Score | undefined => {
  const t = text.trim()
  if (INTEGER.test(t)) {
    const n = Number(t)
    return clamp(n === 0 ? 0 : n)
  }
  switch (t.toUpperCase()) {
    case "INFINITY":
    case "+INFINITY":
      return INFINITY
    case "-INFINITY":
      return -INFINITY
    default:
      return undefined
  }
}

/** Formats a score the way Pacemaker writes it: "INFINITY", "-INFINITY" or the integer. */
export const format = (score: Score): string =>
  score >= INFINITY ? "INFINITY" : score <= -INFINITY ? "-INFINITY" : String(score)

/**
 * Adds two scores as Pacemaker does: -INFINITY wins over everything (also over +INFINITY),
 * then +INFINITY wins, otherwise the sum is clamped.
 */
export const add = (a: Score, b: Score): Score => {
  if (a <= -INFINITY || b <= -INFINITY) return -INFINITY
  if (a >= INFINITY || b >= INFINITY) return INFINITY
  return clamp(a + b)
}

/** Adds many scores left to right with {@link add}; the empty sum is 0. */
export const sum = (scores: Iterable<Score>): Score => {
  let total = 0
  for (const s of scores) total = add(total, s)
  return total
}

/** Schema from Pacemaker's text form to a Score (for hand-written input). */
export const ScoreFromString = Schema.transformOrFail(Schema.String, Score, {
  strict: true,
  decode: (text, _, ast) => {
    const score = parse(text)
    return score === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, text, `not a score: "${text}"`))
      : ParseResult.succeed(score)
  },
  encode: (score) => ParseResult.succeed(format(score))
})
