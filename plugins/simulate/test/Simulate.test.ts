import { describe, expect, it } from "@effect/vitest"
import { Testing } from "@ha/cli"
import plugin from "../src/index.ts"

const plugins = Testing.withPlugin(plugin, "@ha/plugin-simulate")

/** `ha ARGS…` in-process with this plugin loaded; what it printed and its exit code. */
const ha = (...args: Array<string>) => Testing.run(args, plugins)

describe("ha simulate", () => {
  it("runs one seed of the seed stack and prints its report", async () => {
    const ran = await ha("simulate", "--seed", "5", "--nodes", "2", "--duration", "10", "--faults", "Crash")
    // 0 without a violation, 1 with one: either way the report says how to replay it
    expect([0, 1]).toContain(ran.code)
    expect(ran.stdout).toMatch(/^seed 5, 2 nodes: (no violation|VIOLATION )/m)
    expect(ran.stdout).toMatch(/^replay: ha simulate --seed 5 --nodes 2$/m)
    expect(ran.stdout).toMatch(/^\d+ s simulated in [\d.]+ s, \d+ fencings, \d+ agent actions$/m)
  }, 240_000)

  it("an unknown fault kind is a usage error naming the kinds", async () => {
    const ran = await ha("simulate", "--faults", "Crash,Meteor")
    expect(ran.code).toBe(2)
    expect(ran.stderr).toMatch(/^ha: --faults: unknown kind Meteor \(kinds: Crash, Freeze, /)
  })
})
