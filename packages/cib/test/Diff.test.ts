import { describe, expect, it } from "@effect/vitest"
import { type Cib, Diff, Version, XmlCodec } from "@ha/cib"
import { Either, FastCheck as fc, Schema } from "effect"
import { sha256OfText } from "../src/internal/sha256.ts"
import { corpusDir, readText, xmlFiles } from "./corpus.ts"
import { edit, mutated } from "./randomEdits.ts"

const decode = (text: string, file: string) => Either.getOrThrow(XmlCodec.decodeXmlEither(text, { file }))
const example = decode(readText(new URL("../../../examples/pg-drbd/", import.meta.url), "cib.xml"), "cib.xml")

/** `patch(a, diff(a, b))` must be `b` exactly: same content and the same field and element order. */
const expectPatchGives = (a: Cib.Cib, b: Cib.Cib) => {
  const d = Diff.diff(a, b)
  const patched = Diff.patch(a, d)
  if (Either.isLeft(patched))
    throw new Error(`${patched.left.message}\n${JSON.stringify(d.changes).slice(0, 2000)}`)
  expectSame(patched.right, b)
  // a diff is plain data: it survives JSON and its Schema
  const wire = Schema.decodeUnknownSync(Diff.Diff)(JSON.parse(JSON.stringify(d)))
  expectSame(Either.getOrThrow(Diff.patch(a, wire)), b)
}

/**
 * The model as text in which only meaningful order shows: struct fields sorted, arrays and the
 * attribute order of `extra` maps as they are.
 */
const meaningful = (value: unknown, key?: string): string => {
  if (Array.isArray(value)) return `[${value.map((v) => meaningful(v)).join(",")}]`
  if (typeof value !== "object" || value === null) return JSON.stringify(value)
  const entries = Object.entries(value)
  if (key !== "extra") entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${meaningful(v, k)}`).join(",")}}`
}

/** Equal in content and meaningful order (shows where they differ, not both whole CIBs). */
const expectSame = (actual: unknown, expected: unknown) => {
  const [x, y] = [meaningful(actual), meaningful(expected)]
  if (x === y) return
  let i = 0
  while (x[i] === y[i]) i++
  expect(x.slice(Math.max(0, i - 200), i + 200)).toBe(y.slice(Math.max(0, i - 200), i + 200))
}

// property runs take a few seconds, more under Deno on a loaded 2-core machine
const PROPERTY_TIMEOUT = 120_000

describe("Diff: patch(a, diff(a, b)) is b", () => {
  it("for random edits of the example cluster", { timeout: PROPERTY_TIMEOUT }, () => {
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 12 }), fc.nat(3), (edits, bump) =>
        expectPatchGives(example, mutated(example, edits, bump))
      ),
      { numRuns: 300 }
    )
  })

  const corpus = xmlFiles(corpusDir)
  it("for random edits of corpus CIBs", { timeout: PROPERTY_TIMEOUT }, () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...corpus),
        fc.array(edit, { minLength: 1, maxLength: 12 }),
        (name, edits) => {
          const a = decode(readText(corpusDir, name), name)
          expectPatchGives(a, mutated(a, edits, 1))
        }
      ),
      { numRuns: 150 }
    )
  })

  it("between two unrelated corpus CIBs (shared ids, different everything else)", {
    timeout: PROPERTY_TIMEOUT
  }, () => {
    fc.assert(
      fc.property(fc.constantFrom(...corpus), fc.constantFrom(...corpus), (x, y) =>
        expectPatchGives(decode(readText(corpusDir, x), x), decode(readText(corpusDir, y), y))
      ),
      { numRuns: 60 }
    )
  })

  it("when only the attribute order of an extra map differs, and not for a struct's field order", () => {
    const withExtra = { ...example, extra: { "remote-tls-port": "9999", "remote-clear-port": "9998" } }
    const swapped = { ...example, extra: { "remote-clear-port": "9998", "remote-tls-port": "9999" } }
    expect(Diff.diff(withExtra, swapped).changes).toEqual([
      { _tag: "Rekey", path: ["extra"], keys: ["remote-clear-port", "remote-tls-port"] }
    ])
    expectPatchGives(withExtra, swapped)
    expect(XmlCodec.encodeXml(Either.getOrThrow(Diff.patch(withExtra, Diff.diff(withExtra, swapped))))).toBe(
      XmlCodec.encodeXml(swapped)
    )
    const reordered = Object.fromEntries(Object.entries(example).reverse()) as unknown as Cib.Cib
    expect(Diff.isEmpty(Diff.diff(example, reordered))).toBe(true)
  })
})

describe("Diff: what it records", () => {
  const withVipAt = (ip: string): Cib.Cib => {
    const text = readText(new URL("../../../examples/pg-drbd/", import.meta.url), "cib.xml")
    return decode(text.replace(/(name="ip" value=")192\.0\.2\.100"/, `$1${ip}"`), "cib.xml")
  }

  it("is empty between equal CIBs, and patching with it changes only the version", () => {
    const d = Diff.diff(example, example)
    expect(Diff.isEmpty(d)).toBe(true)
    expect(Diff.render(d)).toEqual([])
    const later = { ...example, version: Version.bumpNumUpdates(example.version) }
    expect(Diff.render(Diff.diff(example, later))).toEqual(["~ version 0.1.33 → 0.1.34"])
  })

  it("addresses changes by id and renders them for people", () => {
    const moved = withVipAt("192.0.2.200")
    expect(moved).not.toEqual(example)
    const d = Diff.diff(example, moved)
    expect(d.changes).toHaveLength(1)
    expect(Diff.render(d)).toEqual(['~ resource vip: param ip "192.0.2.100" → "192.0.2.200"'])
  })

  it("renders added and removed resources and constraints", () => {
    const { configuration } = example
    const dummy: Cib.Primitive = {
      _tag: "Primitive",
      id: "extra",
      class: "ocf",
      provider: "heartbeat",
      type: "Dummy",
      instanceAttributes: [],
      metaAttributes: [],
      utilization: []
    }
    const target: Cib.Cib = {
      ...example,
      configuration: {
        ...configuration,
        resources: [...configuration.resources, dummy],
        constraints: configuration.constraints.slice(1)
      }
    }
    const removed = configuration.constraints[0]?.id
    expect(Diff.render(Diff.diff(example, target))).toEqual([
      "+ resource extra (ocf:heartbeat:Dummy)",
      `- constraint ${removed}`
    ])
  })

  it("refuses a base at another version, with other content, or where a change does not fit", () => {
    const moved = withVipAt("192.0.2.200")
    const d = Diff.diff(example, moved)
    const older = { ...example, version: { ...example.version, epoch: 0 } }
    expect(Either.getLeft(Diff.patch(older, d)).pipe((e) => e._tag === "Some" && e.value._tag)).toBe(
      "VersionMismatchError"
    )
    const other = withVipAt("192.0.2.7")
    expect(Either.getLeft(Diff.patch(other, d)).pipe((e) => e._tag === "Some" && e.value._tag)).toBe(
      "ContentMismatchError"
    )
    // same digest check passed (diff made against the other base), but the recorded old value is not there
    const forged = { ...Diff.diff(other, moved), baseDigest: Version.digest(example) }
    const conflict = Either.getLeft(Diff.patch(example, forged))
    expect(conflict.pipe((e) => e._tag === "Some" && e.value._tag)).toBe("PatchConflictError")
    expect(conflict.pipe((e) => e._tag === "Some" && e.value.message)).toMatch(/value differs from the base/)
  })
})

describe("Version", () => {
  const v = (adminEpoch: number, epoch: number, numUpdates: number) => ({ adminEpoch, epoch, numUpdates })

  it("compares admin_epoch, then epoch, then num_updates, as Pacemaker does", () => {
    expect(Version.compare(v(0, 5, 1), v(0, 5, 1))).toBe(0)
    expect(Version.compare(v(0, 5, 9), v(0, 6, 0))).toBe(-1)
    expect(Version.compare(v(1, 0, 0), v(0, 99, 99))).toBe(1)
    expect(Version.compare(v(0, 5, 2), v(0, 5, 1))).toBe(1)
    expect(Version.format(v(1, 2, 3))).toBe("1.2.3")
    expect(Version.max(v(0, 1, 0), v(0, 0, 7))).toEqual(v(0, 1, 0))
  })

  it("is a total order consistent with the bumps", () => {
    const version = fc.record({ adminEpoch: fc.nat(3), epoch: fc.nat(3), numUpdates: fc.nat(3) })
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        expect(Version.compare(a, b)).toBe(-Version.compare(b, a) || 0)
        if (Version.compare(a, b) <= 0 && Version.compare(b, c) <= 0)
          expect(Version.compare(a, c)).toBeLessThanOrEqual(0)
        expect(Version.compare(Version.bumpNumUpdates(a), a)).toBe(1)
        expect(Version.compare(Version.bumpEpoch(a), a)).toBe(1)
        expect(Version.compare(Version.bumpAdminEpoch(a), a)).toBe(1)
        expect(Version.bumpEpoch(a).numUpdates).toBe(0)
      })
    )
  })

  it("digests with SHA-256 (FIPS 180-4 test vectors)", () => {
    expect(sha256OfText("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    expect(sha256OfText("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(sha256OfText("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    )
    expect(sha256OfText("é☺")).toBe(sha256OfText("\u00e9\u263a"))
  })

  it("digests content, not counters", () => {
    const later = Version.withStatus(example, example.status)
    expect(later.version).toEqual(v(0, 1, 34))
    expect(Version.digest(later)).toBe(Version.digest(example))
    expect(Version.digest(example)).toMatch(/^[0-9a-f]{64}$/)
    expect(Version.digest(withoutFirstResource(example))).not.toBe(Version.digest(example))
    // field order does not matter to the digest
    const reordered = Object.fromEntries(Object.entries(example).reverse()) as unknown as Cib.Cib
    expect(Version.digest(reordered)).toBe(Version.digest(example))
  })
})

const withoutFirstResource = (cib: Cib.Cib): Cib.Cib => ({
  ...cib,
  configuration: { ...cib.configuration, resources: cib.configuration.resources.slice(1) }
})
