/**
 * The simulator's own proof: runs replay exactly from their seed, the seed stack keeps every
 * invariant under random faults and converges, and each deliberately broken variant is caught.
 * Seeds run here: 4 random-fault runs (2 three-node, 2 two-node), 1 replay, 3 mutations and one
 * shrink; `npm run sim -- --runs K` runs many more.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { Campaign, Shrink, Simulation } from "../src/index.ts"

const configXml = readFileSync(new URL("../../../examples/pg-drbd/config.xml", import.meta.url), "utf8")

const base = { configXml, durationMs: 40_000, meanGapMs: 8_000 } as const

describe("simulation", () => {
  it("replays a run exactly from its seed", async () => {
    const options: Simulation.Options = { ...base, seed: 11, nodes: 2, durationMs: 20_000 }
    const first = await Simulation.run(options)
    const second = await Simulation.run(options)
    expect(first.schedule.length).toBeGreaterThan(0)
    expect(second.trace).toEqual(first.trace)
    expect(second.simulatedMs).toBe(first.simulatedMs)
  }, 120_000)

  it("keeps every invariant under random faults and converges (2- and 3-node clusters)", async () => {
    const lines: Array<string> = []
    const summary = await Campaign.run({
      runs: 4,
      firstSeed: 100,
      durationMs: 60_000,
      configXml,
      shrink: false,
      print: (line) => lines.push(line)
    })
    expect(lines.at(-1)).toBe("simulation: 4 runs, 0 violations")
    expect(summary.failedSeeds).toEqual([])
    // the runs did inject faults and the cluster had to fence
    expect(lines.join("\n")).toMatch(/faults injected: .*Crash [1-9]/)
  }, 240_000)
})

describe("mutations are caught", () => {
  it("fencing skipped (the device confirms without powering off): split brain", async () => {
    const result = await Simulation.run({
      ...base,
      seed: 1,
      nodes: 2,
      kinds: ["Isolate"],
      mutation: "fencing-skipped"
    })
    expect(result.violations.map((v) => v.invariant)).toEqual(expect.arrayContaining(["promoted-max"]))
    expect(Simulation.report(result)).toMatch(/^seed 1, 2 nodes: VIOLATION promoted-max: promote drbd_pg on /)
    // the same seed with working fencing is safe: the mutation made the difference
    const sound = await Simulation.run({ ...base, seed: 1, nodes: 2, kinds: ["Isolate"] })
    expect(sound.violations).toEqual([])

    // the shrinker keeps a schedule that still fails and is no longer
    const shrunk = await Shrink.shrink(
      { ...base, seed: 1, nodes: 2, kinds: ["Isolate"], mutation: "fencing-skipped" },
      result,
      4
    )
    expect(shrunk.schedule.length).toBeGreaterThan(0)
    expect(shrunk.schedule.length).toBeLessThanOrEqual(result.schedule.length)
    expect(shrunk.result.violations[0]?.invariant).toBe("promoted-max")
  }, 240_000)

  it("ordering ignored (the group and its constraints dropped): db starts where fs is not", async () => {
    const result = await Simulation.run({ ...base, seed: 1, nodes: 2, mutation: "ordering-ignored" })
    const invariants = result.violations.map((v) => v.invariant)
    expect(invariants).toContain("order")
    expect(invariants).toContain("colocation")
  }, 120_000)

  it("quorum ignored (the membership always reports quorum): a minority fences", async () => {
    const result = await Simulation.run({
      ...base,
      seed: 2,
      nodes: 3,
      kinds: ["Isolate"],
      mutation: "quorum-ignored"
    })
    expect(result.violations[0]?.invariant).toBe("quorum")
    expect(result.violations[0]?.message).toMatch(/without quorum/)
  }, 120_000)
})
