import { sha256OfText } from "./sha256.ts"

const scalar = (value: unknown): string => JSON.stringify(value) ?? "null"

/**
 * Canonical JSON of plain model data: object keys sorted, arrays in order, no whitespace. Two
 * models are structurally equal exactly when their canonical forms are equal.
 */
export const canonicalJson = (value: unknown): string =>
  value === null || typeof value !== "object" ? scalar(value) : canonicalForm(value, canonicalJson)

/** An object's or array's canonical form, each element or field value written by `part`. */
const canonicalForm = (value: object, part: (value: unknown) => string): string => {
  if (Array.isArray(value)) return `[${value.map(part).join(",")}]`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${part(record[k])}`).join(",")}}`
}

/** Longest canonical form kept inline in its parent's summary rather than replaced by its hash. */
const INLINE = 64

/** Each object's representation in its parent's summary, computed once (model values are never mutated). */
const representations = new WeakMap<object, string>()

const representation = (value: unknown): string => {
  if (value === null || typeof value !== "object") return scalar(value)
  const known = representations.get(value)
  if (known !== undefined) return known
  const text = summaryOf(value)
  const computed = text.length <= INLINE ? text : `#${sha256OfText(text)}`
  representations.set(value, computed)
  return computed
}

const summaryOf = (value: object): string => canonicalForm(value, representation)

/**
 * A canonical form of `value` that stands for its whole content, Merkle style: like
 * {@link canonicalJson}, but a nested object or array whose own form is longer than {@link INLINE}
 * characters appears as `#` and the SHA-256 of that form. Equal contents have equal summaries and
 * different contents different ones (short of a SHA-256 collision: a `#` cannot start a JSON value,
 * so a hash never reads as inline data). Each nested object's part is computed once, so a value that
 * shares most of its objects with an earlier one (an update copies only the path to what it
 * changed) is summarized in time proportional to that path, not to the whole value.
 */
export const canonicalSummary = (value: unknown): string =>
  value === null || typeof value !== "object" ? scalar(value) : summaryOf(value)
