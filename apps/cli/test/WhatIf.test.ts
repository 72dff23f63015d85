import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { type Cib, XmlCodec } from "@ha/cib"
import { Either } from "effect"
import * as WhatIf from "../src/WhatIf.ts"
import { whatIfsOfArgs } from "./scenarioArgs.ts"

const dir = join(import.meta.dirname, "../testdata/whatif")
const example = Either.getOrThrow(
  XmlCodec.decodeXmlEither(
    readFileSync(join(import.meta.dirname, "../../../examples/pg-drbd/cib.xml"), "utf8")
  )
)

/** Who wrote a record and the CIB version counters differ by tool; everything else must be identical. */
const normalize = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(normalize)
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if (k === "version") continue
      out[k] = k === "crmDebugOrigin" ? "origin" : normalize(v)
    }
    return out
  }
  return value
}

/** The time crm_simulate recorded its injections at (the latest last-rc-change in the result). */
const injectionTime = (cib: Cib.Cib): number =>
  Math.max(
    0,
    ...cib.status.nodes.flatMap(
      (n) => n.lrm?.resources.flatMap((r) => r.ops.map((o) => o.lastRcChange ?? 0)) ?? []
    )
  )

describe("what-ifs agree with crm_simulate -O / crm_attribute on the example", () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".args"))) {
    const name = file.replace(/\.args$/, "")
    it(name, () => {
      const expected = Either.getOrThrow(
        XmlCodec.decodeXmlEither(readFileSync(join(dir, `${name}.xml`), "utf8"))
      )
      const whatIfs = whatIfsOfArgs(readFileSync(join(dir, file), "utf8"))
      const actual = Either.getOrThrow(WhatIf.applyAll(example, whatIfs, injectionTime(expected)))
      expect(normalize(actual)).toEqual(normalize(expected))
    })
  }
})

describe("what-if errors", () => {
  it("an unknown node is named", () => {
    const result = WhatIf.nodeFail(example, "gamma")
    expect(Either.isLeft(result) && result.left.message).toBe(
      '--node-fail: unknown node "gamma" (nodes: alpha, beta)'
    )
  })
  it("an unknown resource is named", () => {
    const op = Either.getOrThrow(WhatIf.parseOpSpec("nosuch_monitor_0@alpha=1"))
    const result = WhatIf.injectOp(example, op, 0)
    expect(Either.isLeft(result) && result.left._tag).toBe("UnknownResourceError")
  })
  it.each([
    "db_monitor@alpha=1",
    "db_monitor_20000@alpha",
    "db_monitor_20000=1",
    "_monitor_0@alpha=1",
    "db_monitor_20000@alpha=x"
  ])("malformed op spec %s", (spec) => {
    const result = WhatIf.parseOpSpec(spec)
    expect(Either.isLeft(result) && result.left._tag).toBe("MalformedWhatIfError")
  })
  it("parses compound tasks and instance numbers", () => {
    expect(Either.getOrThrow(WhatIf.parseOpSpec("vm_migrate_to_0@alpha=1"))).toEqual({
      resource: "vm",
      task: "migrate_to",
      interval: 0,
      node: "alpha",
      rc: 1
    })
    expect(Either.getOrThrow(WhatIf.parseOpSpec("drbd_pg:1_monitor_31000@beta=7")).resource).toBe("drbd_pg:1")
  })
  it("refuses unknown cluster properties", () => {
    expect(Either.isLeft(WhatIf.setProperty(example, "stonith-enable", "false"))).toBe(true)
  })
  it("is pure: the input CIB is unchanged", () => {
    const before = JSON.stringify(example)
    Either.getOrThrow(WhatIf.applyAll(example, [{ _tag: "NodeDown", node: "alpha" }], 1))
    expect(JSON.stringify(example)).toBe(before)
  })
})
