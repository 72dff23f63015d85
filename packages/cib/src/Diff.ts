/**
 * Structural diff and patch between two CIBs.
 *
 * A {@link Diff} is plain data (JSON-serializable): the base and target versions, the content
 * digest of the base, and a list of {@link Change}s addressed by paths through the model. Arrays
 * whose elements carry ids (resources at any depth, constraints, nodes, rules, node_states, lrm
 * resources and ops, …) are diffed by id, nvpairs by name within their set; other arrays and
 * scalars are replaced whole. `patch(a, diff(a, b))` gives `b` exactly: equal content, array
 * order and the attribute order of `extra` maps included (the order of a struct's fields carries
 * no meaning and is not recorded).
 *
 * {@link render} turns a diff into lines for people:
 * `+ resource vip (ocf:heartbeat:IPaddr2)`, `~ resource db: param pgdata "/a" → "/b"`,
 * `- constraint loc-1`.
 */
import { Either, Schema } from "effect"
import type { Cib } from "./Cib.ts"
import { Version } from "./Cib.ts"
import { deepEqual, isRecord } from "./internal/structural.ts"
import * as Versions from "./Version.ts"

/** A field name, or `{ key }`: the element with that key in an id-keyed array (or the object with that id). */
export const PathSegment = Schema.Union(Schema.String, Schema.Struct({ key: Schema.String }))
export type PathSegment = typeof PathSegment.Type
export const Path = Schema.Array(PathSegment)
export type Path = typeof Path.Type

/** Insert `value` (whose key is `key`) into the keyed array at `path`, at final position `index`. */
export const Add = Schema.TaggedStruct("Add", {
  path: Path,
  key: Schema.String,
  index: Schema.NonNegativeInt,
  value: Schema.Unknown
})
/** Remove the element with `key` (whose current value is `value`) from the keyed array at `path`. */
export const Remove = Schema.TaggedStruct("Remove", { path: Path, key: Schema.String, value: Schema.Unknown })
/** Replace the value at `path`; an absent `from` / `to` means the field is absent. */
// biome-ignore lint/suspicious/noShadowRestrictedNames: named after its tag; this module says globalThis.Set for the collection
export const Set = Schema.TaggedStruct("Set", {
  path: Path,
  from: Schema.optionalWith(Schema.Unknown, { exact: true }),
  to: Schema.optionalWith(Schema.Unknown, { exact: true })
})
/** Put the kept elements of the keyed array at `path` in the order of `keys` (which may name elements added later). */
export const Reorder = Schema.TaggedStruct("Reorder", { path: Path, keys: Schema.Array(Schema.String) })
/** Put the fields of the `extra` map at `path` in the order of `keys` (the order its XML attributes are written in). */
export const Rekey = Schema.TaggedStruct("Rekey", { path: Path, keys: Schema.Array(Schema.String) })

export const Change = Schema.Union(Add, Remove, Set, Reorder, Rekey)
export type Change = typeof Change.Type

export const Diff = Schema.Struct({
  /** version of the base CIB the diff applies to */
  from: Version,
  /** version of the resulting CIB */
  to: Version,
  /** {@link Versions.digest} of the base */
  baseDigest: Schema.String,
  changes: Schema.Array(Change)
})
export interface Diff extends Schema.Schema.Type<typeof Diff> {}

/** The base CIB's version is not the one the diff was made from. */
export class VersionMismatchError extends Schema.TaggedError<VersionMismatchError>()("VersionMismatchError", {
  expected: Version,
  actual: Version
}) {
  override get message() {
    return `patch expects a CIB at version ${Versions.format(this.expected)}, got ${Versions.format(this.actual)}`
  }
}

/** The base CIB has the right version but not the content the diff was made from. */
export class ContentMismatchError extends Schema.TaggedError<ContentMismatchError>()("ContentMismatchError", {
  expectedDigest: Schema.String,
  actualDigest: Schema.String
}) {
  override get message() {
    return `patch expects a CIB with digest ${this.expectedDigest}, got ${this.actualDigest}`
  }
}

/** A change does not fit the CIB it is applied to (its path or old value is not there). */
export class PatchConflictError extends Schema.TaggedError<PatchConflictError>()("PatchConflictError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `patch conflict at ${this.path}: ${this.reason}`
  }
}

export type PatchError = VersionMismatchError | ContentMismatchError | PatchConflictError

// ---------------------------------------------------------------------------------------------
// Diff

/** The key of an element of the array held in field `field`, or undefined when it has none. */
const elementKey = (field: PathSegment | undefined, element: unknown): string | undefined => {
  if (!isRecord(element)) return undefined
  if (field === "nvpairs") {
    if (typeof element.name === "string") return element.name
    return typeof element.idRef === "string" ? `@${element.idRef}` : undefined
  }
  if (typeof element.id === "string") return element.id
  return typeof element.idRef === "string" ? `@${element.idRef}` : undefined
}

/** Keys of all elements when every element has one and they are unique; else undefined. */
const keysOf = (field: PathSegment | undefined, array: ReadonlyArray<unknown>): Array<string> | undefined => {
  const keys: Array<string> = []
  const seen = new globalThis.Set<string>()
  for (const element of array) {
    const key = elementKey(field, element)
    if (key === undefined || seen.has(key)) return undefined
    seen.add(key)
    keys.push(key)
  }
  return keys
}

/** Objects that are the same entity: same `_tag` and same `id` (when they have them). */
const sameEntity = (a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>) =>
  a._tag === b._tag && a.id === b.id

/**
 * Field order means nothing in the model's structs, but an `extra` map's order is the order its
 * attributes are written back to XML.
 */
const ORDERED_FIELD = "extra"
const orderMatters = (path: ReadonlyArray<PathSegment>) => path[path.length - 1] === ORDERED_FIELD

const diffValue = (a: unknown, b: unknown, path: Array<PathSegment>, out: Array<Change>): void => {
  if (deepEqual(a, b, ORDERED_FIELD, orderMatters(path))) return
  if (Array.isArray(a) && Array.isArray(b)) {
    const field = path[path.length - 1]
    const aKeys = keysOf(field, a)
    const bKeys = keysOf(field, b)
    if (aKeys !== undefined && bKeys !== undefined) {
      diffKeyed(a, aKeys, b, bKeys, path, out)
      return
    }
  } else if (isRecord(a) && isRecord(b) && sameEntity(a, b)) {
    diffRecord(a, b, path, out)
    return
  }
  out.push({ _tag: "Set", path: [...path], from: a, to: b })
}

const diffRecord = (
  a: Readonly<Record<string, unknown>>,
  b: Readonly<Record<string, unknown>>,
  path: Array<PathSegment>,
  out: Array<Change>
) => {
  for (const k of Object.keys(a)) {
    if (!Object.hasOwn(b, k)) out.push({ _tag: "Set", path: [...path, k], from: a[k] })
  }
  for (const k of Object.keys(b)) {
    const next = b[k]
    if (!Object.hasOwn(a, k)) {
      out.push({ _tag: "Set", path: [...path, k], to: next })
      continue
    }
    const prev = a[k]
    // a clone's child is addressed by its id too, so renderings can name it
    if (
      k === "child" &&
      isRecord(prev) &&
      isRecord(next) &&
      sameEntity(prev, next) &&
      typeof next.id === "string"
    ) {
      diffValue(prev, next, [...path, k, { key: next.id }], out)
    } else {
      diffValue(prev, next, [...path, k], out)
    }
  }
  if (!orderMatters(path)) return
  const bOrder = Object.keys(b)
  const naturalOrder = [
    ...Object.keys(a).filter((k) => Object.hasOwn(b, k)),
    ...bOrder.filter((k) => !Object.hasOwn(a, k))
  ]
  if (!naturalOrder.every((k, i) => k === bOrder[i]))
    out.push({ _tag: "Rekey", path: [...path], keys: bOrder })
}

const diffKeyed = (
  a: ReadonlyArray<unknown>,
  aKeys: ReadonlyArray<string>,
  b: ReadonlyArray<unknown>,
  bKeys: ReadonlyArray<string>,
  path: Array<PathSegment>,
  out: Array<Change>
) => {
  const inB = new Map(bKeys.map((k, i) => [k, b[i]]))
  const inA = new globalThis.Set(aKeys)
  aKeys.forEach((key, i) => {
    if (!inB.has(key)) out.push({ _tag: "Remove", path: [...path], key, value: a[i] })
  })
  aKeys.forEach((key, i) => {
    if (inB.has(key)) diffValue(a[i], inB.get(key), [...path, { key }], out)
  })
  const keptA = aKeys.filter((k) => inB.has(k))
  const keptB = bKeys.filter((k) => inA.has(k))
  if (!keptA.every((k, i) => k === keptB[i])) out.push({ _tag: "Reorder", path: [...path], keys: [...bKeys] })
  bKeys.forEach((key, index) => {
    if (!inA.has(key)) out.push({ _tag: "Add", path: [...path], key, index, value: b[index] })
  })
}

/** The CIB with its version blanked in place: versions travel in the diff's `from` and `to`. */
const withoutVersion = (cib: Cib): Record<string, unknown> => ({ ...cib, version: null })

/** The changes that turn `a` into `b`, with `a`'s version and digest to check the base on patch. */
export const diff = (a: Cib, b: Cib): Diff => {
  const changes: Array<Change> = []
  diffValue(withoutVersion(a), withoutVersion(b), [], changes)
  return { from: a.version, to: b.version, baseDigest: Versions.digest(a), changes }
}

/** True when the diff changes nothing but possibly the version. */
export const isEmpty = (d: Diff): boolean => d.changes.length === 0

// ---------------------------------------------------------------------------------------------
// Patch

const formatPath = (path: Path): string =>
  path.map((s) => (typeof s === "string" ? `/${s}` : `[${s.key}]`)).join("") || "/"

class Conflict {
  constructor(
    readonly path: Path,
    readonly reason: string
  ) {}
}

/** Immutably replaces the value at `path` (relative to `value`) by `f(old)`; `f` returning undefined removes a field. */
const update = (
  value: unknown,
  path: Path,
  depth: number,
  f: (old: unknown, present: boolean) => unknown
): unknown => {
  if (depth === path.length) return f(value, true)
  const segment = path[depth] as PathSegment
  if (typeof segment === "string") {
    if (!isRecord(value)) throw new Conflict(path.slice(0, depth + 1), "not an object")
    const present = Object.hasOwn(value, segment)
    const next =
      depth + 1 === path.length ? f(value[segment], present) : update(value[segment], path, depth + 1, f)
    const copy: Record<string, unknown> = { ...value }
    if (next === undefined) delete copy[segment]
    else copy[segment] = next
    return copy
  }
  if (Array.isArray(value)) {
    const field = path[depth - 1]
    const index = value.findIndex((element) => elementKey(field, element) === segment.key)
    if (index < 0) throw new Conflict(path.slice(0, depth + 1), "no element with this key")
    const copy = [...value]
    copy[index] = update(value[index], path, depth + 1, f)
    return copy
  }
  if (isRecord(value) && value.id === segment.key) return update(value, path, depth + 1, f)
  throw new Conflict(path.slice(0, depth + 1), "no object with this id")
}

const keyedArray = (path: Path, old: unknown): ReadonlyArray<unknown> => {
  if (!Array.isArray(old)) throw new Conflict(path, "not an array")
  return old
}

const applyChange = (root: unknown, change: Change): unknown => {
  const field = change.path[change.path.length - 1]
  switch (change._tag) {
    case "Set":
      return update(root, change.path, 0, (old, present) => {
        const hasFrom = Object.hasOwn(change, "from")
        if (present !== hasFrom)
          throw new Conflict(change.path, hasFrom ? "value is missing" : "value is already there")
        if (hasFrom && !deepEqual(old, change.from))
          throw new Conflict(change.path, "value differs from the base")
        return change.to
      })
    case "Remove":
      return update(root, change.path, 0, (old) => {
        const array = keyedArray(change.path, old)
        const index = array.findIndex((e) => elementKey(field, e) === change.key)
        if (index < 0) throw new Conflict([...change.path, { key: change.key }], "no element to remove")
        if (!deepEqual(array[index], change.value))
          throw new Conflict([...change.path, { key: change.key }], "removed element differs from the base")
        return array.filter((_, i) => i !== index)
      })
    case "Add":
      return update(root, change.path, 0, (old) => {
        const array = keyedArray(change.path, old)
        if (array.some((e) => elementKey(field, e) === change.key))
          throw new Conflict([...change.path, { key: change.key }], "element already exists")
        if (change.index > array.length) throw new Conflict(change.path, `cannot insert at ${change.index}`)
        return [...array.slice(0, change.index), change.value, ...array.slice(change.index)]
      })
    case "Reorder":
      return update(root, change.path, 0, (old) => {
        const array = keyedArray(change.path, old)
        const rank = new Map(change.keys.map((k, i) => [k, i]))
        const ranked = array.map((element) => {
          const r = rank.get(elementKey(field, element) ?? "")
          if (r === undefined) throw new Conflict(change.path, "reorder misses an element")
          return [r, element] as const
        })
        return ranked.sort((x, y) => x[0] - y[0]).map(([, element]) => element)
      })
    case "Rekey":
      return update(root, change.path, 0, (old) => {
        if (!isRecord(old)) throw new Conflict(change.path, "not an object")
        const keys = Object.keys(old)
        if (keys.length !== change.keys.length || !change.keys.every((k) => Object.hasOwn(old, k)))
          throw new Conflict(change.path, "fields differ from the expected ones")
        return Object.fromEntries(change.keys.map((k) => [k, old[k]]))
      })
  }
}

/**
 * Applies `d` to `base`. Fails without touching anything when the base has another version
 * ({@link VersionMismatchError}), other content ({@link ContentMismatchError}), or a change does
 * not fit ({@link PatchConflictError}).
 */
export const patch = (base: Cib, d: Diff): Either.Either<Cib, PatchError> => {
  if (!Versions.equals(base.version, d.from))
    return Either.left(new VersionMismatchError({ expected: d.from, actual: base.version }))
  const actualDigest = Versions.digest(base)
  if (actualDigest !== d.baseDigest)
    return Either.left(new ContentMismatchError({ expectedDigest: d.baseDigest, actualDigest }))
  try {
    let content: unknown = withoutVersion(base)
    for (const change of d.changes) content = applyChange(content, change)
    return Either.right({ ...(content as Cib), version: d.to })
  } catch (e) {
    if (e instanceof Conflict)
      return Either.left(new PatchConflictError({ path: formatPath(e.path), reason: e.reason }))
    throw e
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

const show = (value: unknown): string => {
  if (value === undefined) return "(none)"
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  if (Array.isArray(value))
    return value.every((v) => typeof v === "string") ? `[${value.join(", ")}]` : `[${value.length} items]`
  return "{…}"
}

const agentOf = (r: Readonly<Record<string, unknown>>): string =>
  [r.class, r.provider, r.type].filter((p) => typeof p === "string").join(":")

/** A short description of an added entity (shown in parentheses). */
const describe = (value: unknown): string | undefined => {
  if (!isRecord(value)) return undefined
  switch (value._tag) {
    case "Primitive":
    case "Template":
      return typeof value.template === "string" && value.type === undefined
        ? `from template ${value.template}`
        : agentOf(value)
    case "Group":
      return `group of ${(value.members as ReadonlyArray<{ id: string }>).map((m) => m.id).join(", ")}`
    case "Clone": {
      const child = value.child as { id: string }
      const promotable =
        value.legacyMaster === true ||
        (
          value.metaAttributes as ReadonlyArray<{ nvpairs: ReadonlyArray<{ name?: string; value?: string }> }>
        ).some((s) =>
          s.nvpairs.some(
            (p) =>
              p.name === "promotable" &&
              ["true", "yes", "on", "y", "1"].includes((p.value ?? "").toLowerCase())
          )
        )
      return `${promotable ? "promotable clone" : "clone"} of ${child.id}`
    }
    case "Bundle":
      return "bundle"
    case "Location":
      return "location"
    case "Colocation":
      return "colocation"
    case "Order":
      return "order"
    case "Ticket":
      return "ticket"
    default:
      return undefined
  }
}

const NVSET_LABELS: Record<string, string> = {
  instanceAttributes: "param",
  metaAttributes: "meta",
  utilization: "utilization"
}

/** Splits a path into the entity it is about ("resource db") and the part inside it. */
const locate = (path: Path): { entity: string; inside: Path } | undefined => {
  const key = (i: number) => {
    const s = path[i]
    return s !== undefined && typeof s !== "string" ? s.key : undefined
  }
  const [section, field] = path
  if (section === "configuration") {
    const id = key(2)
    switch (field) {
      case "resources":
      case "templates": {
        if (id === undefined) return { entity: field, inside: path.slice(2) }
        let name = id
        let i = 3
        while ((path[i] === "members" || path[i] === "child") && key(i + 1) !== undefined) {
          name = key(i + 1) as string
          i += 2
        }
        return { entity: `${field === "resources" ? "resource" : "template"} ${name}`, inside: path.slice(i) }
      }
      case "constraints":
        return id === undefined
          ? { entity: "constraints", inside: path.slice(2) }
          : { entity: `constraint ${id}`, inside: path.slice(3) }
      case "nodes":
        return id === undefined
          ? { entity: "nodes", inside: path.slice(2) }
          : { entity: `node ${id}`, inside: path.slice(3) }
      case "clusterProperties":
      case "rscDefaults":
      case "opDefaults": {
        const label =
          field === "clusterProperties"
            ? "property"
            : field === "rscDefaults"
              ? "resource default"
              : "operation default"
        const name = key(4)
        if (id !== undefined && path[3] === "nvpairs" && name !== undefined)
          return { entity: `${label} ${name}`, inside: path.slice(5) }
        return {
          entity: id === undefined ? `${label} sets` : `${label} set ${id}`,
          inside: path.slice(id === undefined ? 2 : 3)
        }
      }
      case "fencingTopology":
        return id === undefined
          ? { entity: "fencing topology", inside: path.slice(2) }
          : { entity: `fencing level ${id}`, inside: path.slice(3) }
      case "tags":
        return id === undefined
          ? { entity: "tags", inside: path.slice(2) }
          : { entity: `tag ${id}`, inside: path.slice(3) }
      case "alerts":
        return id === undefined
          ? { entity: "alerts", inside: path.slice(2) }
          : { entity: `alert ${id}`, inside: path.slice(3) }
      default:
        return { entity: typeof field === "string" ? field : "configuration", inside: path.slice(2) }
    }
  }
  if (section === "status") {
    const id = key(2)
    if (field === "nodes" && id !== undefined) return { entity: `node_state ${id}`, inside: path.slice(3) }
    if (field === "tickets" && id !== undefined)
      return { entity: `ticket_state ${id}`, inside: path.slice(3) }
    return { entity: `status ${typeof field === "string" ? field : ""}`.trim(), inside: path.slice(2) }
  }
  return undefined
}

/** Words for a path inside an entity: "param pgdata", "op db-monitor-interval-20s timeout", … */
const detail = (inside: Path): string => {
  const words: Array<string> = []
  for (let i = 0; i < inside.length; i++) {
    const s = inside[i] as PathSegment
    const next = inside[i + 1]
    const afterNext = inside[i + 3]
    if (
      typeof s === "string" &&
      s in NVSET_LABELS &&
      inside[i + 2] === "nvpairs" &&
      afterNext !== undefined &&
      typeof afterNext !== "string"
    ) {
      words.push(`${NVSET_LABELS[s]} ${afterNext.key}`)
      i += 3
      if (inside[i + 1] === "value") i++
    } else if ((s === "transientAttributes" || s === "sets") && typeof next !== "string") {
      // status attributes: transientAttributes/sets[id]/nvpairs[name]
      if (s === "sets" && next !== undefined) i++
    } else if (s === "nvpairs" && next !== undefined && typeof next !== "string") {
      words.push(`attribute ${next.key}`)
      i++
      if (inside[i + 1] === "value") i++
    } else if (
      s === "operations" &&
      inside[i + 1] === "ops" &&
      inside[i + 2] !== undefined &&
      typeof inside[i + 2] !== "string"
    ) {
      words.push(`op ${(inside[i + 2] as { key: string }).key}`)
      i += 2
    } else if (
      s === "lrm" &&
      inside[i + 1] === "resources" &&
      inside[i + 2] !== undefined &&
      typeof inside[i + 2] !== "string"
    ) {
      words.push(`history ${(inside[i + 2] as { key: string }).key}`)
      i += 2
    } else if (typeof s === "string" && s in NVSET_LABELS && next !== undefined && typeof next !== "string") {
      words.push(`${NVSET_LABELS[s]} set ${next.key}`)
      i++
    } else if (typeof s === "string") {
      if (s !== "ops") words.push(s)
    } else {
      const previous = words[words.length - 1]
      words.push(previous === "ops" ? `op ${s.key}` : s.key)
    }
  }
  return words.join(" ")
}

const renderChange = (change: Change): string => {
  const where = locate(change.path)
  const entity = where?.entity ?? (change.path.length === 0 ? "cib" : `cib ${detail(change.path)}`)
  const inside = where === undefined ? [] : where.inside
  const inner = detail(inside)
  const prefix = (sign: string, text: string) =>
    inner === "" ? `${sign} ${text}` : `~ ${entity}: ${sign} ${text}`
  switch (change._tag) {
    case "Add": {
      const target = locate([...change.path, { key: change.key }])
      const innerText = detail([...inside, { key: change.key }])
      const what = describe(change.value)
      const label = target !== undefined && target.inside.length === 0 ? target.entity : innerText
      if (target !== undefined && target.inside.length === 0)
        return `+ ${label}${what !== undefined ? ` (${what})` : valueSuffix(change.value)}`
      return `~ ${entity}: + ${label}${what !== undefined ? ` (${what})` : valueSuffix(change.value)}`
    }
    case "Remove": {
      const target = locate([...change.path, { key: change.key }])
      if (target !== undefined && target.inside.length === 0) return `- ${target.entity}`
      return `~ ${entity}: - ${detail([...inside, { key: change.key }])}`
    }
    case "Set": {
      const text = `${show(change.from)} → ${show(change.to)}`
      if (inner === "")
        return Object.hasOwn(change, "from") && Object.hasOwn(change, "to")
          ? `~ ${entity}: ${text}`
          : `${Object.hasOwn(change, "to") ? "+" : "-"} ${entity}${Object.hasOwn(change, "to") ? valueSuffix(change.to) : ""}`
      return `~ ${entity}: ${inner} ${text}`
    }
    case "Reorder":
      return prefix("~", `order ${change.keys.join(", ")}`).replace(/^~ (.*): ~ /, "~ $1: ")
    case "Rekey":
      return `~ ${entity}${inner === "" ? "" : `: ${inner}`} field order ${change.keys.join(", ")}`
  }
}

/** " = value" for nvpairs and scalars, "" otherwise. */
const valueSuffix = (value: unknown): string => {
  if (isRecord(value) && typeof value.value === "string") return ` = ${JSON.stringify(value.value)}`
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return ` = ${show(value)}`
  return ""
}

/** The diff as lines for people, first the version change (when there is one). Field order changes are not shown. */
export const render = (d: Diff): Array<string> => {
  const lines = d.changes.filter((c) => c._tag !== "Rekey").map(renderChange)
  if (!Versions.equals(d.from, d.to))
    lines.unshift(`~ version ${Versions.format(d.from)} → ${Versions.format(d.to)}`)
  return lines
}
