/**
 * Regression guard: every case listed in testdata/conformance-passing.txt (written by
 * `npm run conformance -- --write-baseline`) must still match Pacemaker at summary level.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { runCase } from "../conformance/compare.ts"
import { baselineFile, defaultDir } from "../conformance/paths.ts"
import { haScheduler } from "../conformance/scheduler.ts"

const baseline = readFileSync(baselineFile, "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "")

describe("conformance baseline", () => {
  it("lists cases", () => {
    expect(baseline.length).toBeGreaterThan(0)
  })
  it.each(baseline)("%s still matches Pacemaker's Transition Summary", (name) => {
    const result = runCase(defaultDir, name, haScheduler)
    expect(result.reason ?? "", `${name}: ${result.reason}`).not.toMatch(/^(summary|error|unsupported)/)
    expect(result.summary).toBe(true)
  })
})
