/**
 * Pacemaker's time specifications for operation `interval`, `timeout` and `start-delay`:
 * a number with an optional unit (`ms`, `msec`, `s`, `sec`, `m`, `min`, `h`, `hr`; bare numbers are
 * seconds) or an ISO 8601 duration such as `PT1M30S`.
 */
import { Option } from "effect"

const unitMs: Record<string, number> = {
  "": 1000,
  ms: 1,
  msec: 1,
  us: 0.001,
  usec: 0.001,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hr: 3_600_000
}

const plain = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i
const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i

/** Parses a time specification into milliseconds; `None` when it is not one. */
export const parseMs = (spec: string): Option.Option<number> => {
  const p = plain.exec(spec)
  if (p !== null) {
    const factor = unitMs[(p[2] ?? "").toLowerCase()]
    return factor === undefined ? Option.none() : Option.some(Math.round(Number(p[1]) * factor))
  }
  const i = iso.exec(spec.trim())
  if (i !== null && spec.trim().length > 1 && !spec.trim().toUpperCase().endsWith("T")) {
    const [, d, h, m, s] = i
    return Option.some(
      Math.round(
        Number(d ?? 0) * 86_400_000 +
          Number(h ?? 0) * 3_600_000 +
          Number(m ?? 0) * 60_000 +
          Number(s ?? 0) * 1000
      )
    )
  }
  return Option.none()
}
