import { describe, expect, it } from "@effect/vitest"
import { Election, Membership } from "../src/index.ts"
import { type Case, runDir } from "./datadriven.ts"

/** `view ring=N` with one member per input line: `name id=… priority=… version=…`. */
const viewOf = (c: Case): Membership.View => ({
  ringId: Number(c.args.get("ring") ?? "1"),
  quorate: true,
  members: c.input.map((line) => {
    const [name = "", ...rest] = line.trim().split(/\s+/)
    const attrs = new Map(rest.map((w) => w.split("=") as [string, string]))
    return Membership.member(name, attrs.get("id") ?? name, {
      priority: Number(attrs.get("priority") ?? "0"),
      version: attrs.get("version") ?? "1.0.0"
    })
  })
})

runDir(new URL("../testdata/election/", import.meta.url), () => {
  let state = Election.initial
  return (c) => {
    switch (c.command) {
      case "view": {
        const { state: next, outputs } = Election.step(state, viewOf(c))
        state = next
        const lines = outputs.map((o) =>
          o._tag === "Elected"
            ? `elected ${o.dc} (was ${o.previous ?? "none"})`
            : `no DC (was ${o.previous ?? "none"})`
        )
        return [...lines, `dc: ${state.dc ?? "none"}`].join("\n")
      }
      default:
        throw new Error(`${c.file}:${c.line}: unknown command ${c.command}`)
    }
  }
})

describe("Election.compareVersions", () => {
  it("compares numerically, part by part", () => {
    expect(Election.compareVersions("3.10.0", "3.9.2")).toBeGreaterThan(0)
    expect(Election.compareVersions("3.9", "3.9.0")).toBe(0)
    expect(Election.compareVersions("2.1.0", "10.0.0")).toBeLessThan(0)
  })
})
