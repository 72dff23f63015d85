/**
 * Random edits anywhere in a CIB's tree (the model is plain data, so diff, patch, digests and
 * checks must cope with any of them, also those that leave an invalid CIB). An edit copies only
 * the path to what it changes, as updates do: the rest is shared with the original.
 */
import type { Cib } from "@ha/cib"
import { FastCheck as fc } from "effect"

export interface Edit {
  /** which child to descend into at each level (modulo the number of children) */
  readonly route: ReadonlyArray<number>
  readonly kind: "remove" | "move" | "copy" | "set" | "addField" | "deleteField" | "reverseFields"
  readonly n: number
}

export const edit: fc.Arbitrary<Edit> = fc.record({
  route: fc.array(fc.nat(), { maxLength: 8 }),
  kind: fc.constantFrom("remove", "move", "copy", "set", "addField", "deleteField", "reverseFields"),
  n: fc.nat(1000)
})

type Json = unknown
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === "object" && v !== null && !Array.isArray(v)
const isContainer = (v: Json) => Array.isArray(v) || isObject(v)

export const applyEdit = (value: Json, e: Edit, depth = 0): Json => {
  const children: Array<string | number> = Array.isArray(value)
    ? value.map((_, i) => i)
    : isObject(value)
      ? Object.keys(value).filter((k) => k !== "version" && isContainer(value[k]))
      : []
  const step = e.route[depth]
  if (step !== undefined && children.length > 0) {
    const child = children[step % children.length] as string | number
    const inner = (value as Record<string | number, Json>)[child]
    if (isContainer(inner)) {
      if (Array.isArray(value)) return value.map((v, i) => (i === child ? applyEdit(v, e, depth + 1) : v))
      return { ...(value as object), [child]: applyEdit(inner, e, depth + 1) }
    }
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return value
    const i = e.n % value.length
    switch (e.kind) {
      case "remove":
        return value.filter((_, j) => j !== i)
      case "move": {
        const rest = value.filter((_, j) => j !== i)
        return [...rest.slice(0, e.n % (rest.length + 1)), value[i], ...rest.slice(e.n % (rest.length + 1))]
      }
      default: {
        const original = value[i]
        const copy =
          isObject(original) && typeof original.id === "string"
            ? { ...original, id: `${original.id}-copy${e.n}` }
            : original
        return [...value.slice(0, i), copy, ...value.slice(i)]
      }
    }
  }
  if (!isObject(value)) return value
  const keys = Object.keys(value).filter((k) => k !== "version")
  const key = keys[e.n % Math.max(1, keys.length)]
  switch (e.kind) {
    case "addField":
      return { ...value, [`x${e.n}`]: `added ${e.n}` }
    case "deleteField": {
      if (key === undefined) return value
      const { [key]: _, ...rest } = value
      return rest
    }
    case "reverseFields":
      return Object.fromEntries(Object.entries(value).reverse())
    default:
      return key === undefined || isContainer(value[key])
        ? { ...value, [`x${e.n}`]: e.n }
        : { ...value, [key]: `changed ${e.n}` }
  }
}

export const mutated = (cib: Cib.Cib, edits: ReadonlyArray<Edit>, bump: number): Cib.Cib => {
  const edited = edits.reduce<Json>((v, e) => applyEdit(v, e), cib) as Cib.Cib
  return { ...edited, version: { ...cib.version, numUpdates: cib.version.numUpdates + bump } }
}
