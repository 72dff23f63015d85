/**
 * Structural helpers over plain model data (objects, arrays, strings, numbers, booleans).
 */

export const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Deep structural equality. Object key order does not matter, except in objects held by a field
 * named `orderedField` (e.g. "extra", whose order is the XML attribute order).
 */
export const deepEqual = (a: unknown, b: unknown, orderedField?: string, ordered = false): boolean => {
  if (a === b) return true
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i], orderedField)) return false
    return true
  }
  if (isRecord(a)) {
    if (!isRecord(b)) return false
    const keys = Object.keys(a)
    const bKeys = Object.keys(b)
    if (keys.length !== bKeys.length) return false
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string
      if (ordered && bKeys[i] !== k) return false
      if (!Object.hasOwn(b, k) || !deepEqual(a[k], b[k], orderedField, k === orderedField)) return false
    }
    return true
  }
  return false
}

/** The path (e.g. `resources[2].members[0].id`) of the first difference, or undefined. */
export const firstDifference = (a: unknown, b: unknown, path = ""): string | undefined => {
  if (a === b) return undefined
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
    return undefined
  }
  if (isRecord(a) && isRecord(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], path === "" ? k : `${path}.${k}`)
      if (d !== undefined) return d
    }
    return undefined
  }
  return path === "" ? "(root)" : path
}
