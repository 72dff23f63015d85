/**
 * The store checks, digests and writes an update's new CIB only where it differs from the current
 * one. These properties hold that to the full computations: the same digest and XML as for a copy
 * sharing nothing, the same check result (value, field order, or refusal) as the full check.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Cib, Version, XmlCodec } from "@ha/cib"
import { Either, FastCheck as fc } from "effect"
import { canonicalJson } from "../src/internal/canonical.ts"
import { validate, validateChange } from "../src/internal/store/validate.ts"
import { corpusDir, readText, xmlFiles } from "./corpus.ts"
import { applyEdit, type Edit, edit, mutated } from "./randomEdits.ts"

const loaded = new Map<string, Cib.Cib | undefined>()

/** A corpus CIB as the store holds it (checked, in the schema's field order); none if it does not check. */
const checkedCib = (name: string): Cib.Cib | undefined => {
  if (!loaded.has(name)) {
    const decoded = XmlCodec.decodeXmlEither(readText(corpusDir, name), { file: name })
    loaded.set(name, Either.isRight(decoded) ? Either.getOrUndefined(validate(decoded.right)) : undefined)
  }
  return loaded.get(name)
}

// corpus CIBs with resource history, where status updates land
const withHistory = xmlFiles(corpusDir)
  .filter((name) => /<lrm_rsc_op /.test(readText(corpusDir, name)))
  .slice(0, 60)
  .filter((name) => checkedCib(name) !== undefined)
const load = (name: string) => checkedCib(name) as Cib.Cib

/** A corpus CIB's name and 1 to `maxEdits` random edits. */
const corpusEdits = (maxEdits: number) =>
  [fc.constantFrom(...withHistory), fc.array(edit, { minLength: 1, maxLength: maxEdits })] as const

/** Edits inside the status section only (the path the store checks piecewise). */
const statusEdited = (cib: Cib.Cib, edits: ReadonlyArray<Edit>): unknown => ({
  ...cib,
  status: edits.reduce<unknown>((status, e) => applyEdit(status, e), cib.status)
})

/** A copy of `value` that shares no object with it (so nothing is remembered about it). */
const unshared = <A>(value: A): A => JSON.parse(JSON.stringify(value)) as A

const contentOf = (cib: Cib.Cib) => canonicalJson({ ...cib, version: null })

const PROPERTY_TIMEOUT = 120_000

describe("incremental digest", () => {
  it(
    "gives an edited CIB that shares objects with a digested one the digest of a copy sharing none",
    () => {
      fc.assert(
        fc.property(...corpusEdits(8), fc.boolean(), (name, edits, inStatus) => {
          const a = load(name)
          const digestA = Version.digest(a)
          const b = (inStatus ? statusEdited(a, edits) : mutated(a, edits, 1)) as Cib.Cib
          const digestB = Version.digest(b)
          expect(digestB).toBe(Version.digest(unshared(b)))
          expect(digestB === digestA).toBe(contentOf(a) === contentOf(b))
        }),
        { numRuns: 150 }
      )
    },
    PROPERTY_TIMEOUT
  )
})

describe("incremental XML encoding", () => {
  it(
    "writes a CIB that shares objects with one written before as it writes a copy sharing none",
    () => {
      let checked = 0
      fc.assert(
        fc.property(...corpusEdits(4), (name, edits) => {
          const before = load(name)
          XmlCodec.encodeXml(before)
          const after = validateChange(before, statusEdited(before, edits))
          if (Either.isLeft(after)) return
          checked++
          expect(XmlCodec.encodeXml(after.right)).toBe(XmlCodec.encodeXml(unshared(after.right)))
        }),
        { numRuns: 150 }
      )
      expect(checked).toBeGreaterThan(0)
    },
    PROPERTY_TIMEOUT
  )
})

describe("checking an update where it differs", () => {
  it(
    "gives what the full check gives: the same CIB in the same field order, or the same refusal",
    () => {
      let refusals = 0
      fc.assert(
        fc.property(...corpusEdits(6), fc.boolean(), (name, edits, inStatus) => {
          const before = load(name)
          const candidate = inStatus ? statusEdited(before, edits) : mutated(before, edits, 0)
          const incremental = validateChange(before, candidate)
          const full = validate(candidate)
          if (Either.isLeft(full)) refusals++
          expect(Either.isRight(incremental)).toBe(Either.isRight(full))
          if (Either.isRight(incremental) && Either.isRight(full))
            expect(JSON.stringify(incremental.right)).toBe(JSON.stringify(full.right))
          else expect(incremental).toEqual(full)
        }),
        { numRuns: 200 }
      )
      // random edits break the schema often: both outcomes were compared
      expect(refusals).toBeGreaterThan(0)
    },
    PROPERTY_TIMEOUT
  )

  it("refuses a field that is there but undefined, as the full check does", () => {
    const before = load(withHistory[0] as string)
    const [first, ...others] = before.status.nodes
    const candidate = {
      ...before,
      status: { ...before.status, nodes: [{ ...first, lrm: undefined }, ...others] }
    }
    const incremental = validateChange(before, candidate)
    expect(Either.isLeft(incremental)).toBe(true)
    expect(incremental).toEqual(validate(candidate))
  })

  it("keeps the objects an update did not change, so the next digest and diff skip them", () => {
    const before = load(withHistory[0] as string)
    const [first, ...others] = before.status.nodes
    if (first === undefined) throw new Error("the CIB has no node_state")
    const changed = { ...first, crmd: first.crmd === "online" ? "offline" : "online" }
    const candidate = { ...before, status: { ...before.status, nodes: [changed, ...others] } }
    const checked = Either.getOrThrow(validateChange(before, candidate))
    expect(checked.configuration).toBe(before.configuration)
    expect(checked.status.nodes[0]?.crmd).toBe(changed.crmd)
    expect(checked.status.nodes.slice(1).every((node, i) => node === others[i])).toBe(true)
    // the changed node_state's resource history is kept too, resource by resource
    const resources = checked.status.nodes[0]?.lrm?.resources ?? []
    expect(resources.length).toBeGreaterThan(0)
    expect(resources.every((resource, i) => resource === first.lrm?.resources[i])).toBe(true)
  })
})
