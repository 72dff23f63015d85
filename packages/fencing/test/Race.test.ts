import { describe, expect, it } from "@effect/vitest"
import { race, variants } from "../bench/raceSimulation.ts"

const byName = (prefix: string) => variants.find((v) => v.name.startsWith(prefix))!
const seeds = Array.from({ length: 50 }, (_, i) => i + 1)

describe("two-node fence race with both links cut (pure machines)", () => {
  it("without delays both nodes often shoot each other", () => {
    const outcomes = seeds.map((seed) => race(byName("no delays"), seed))
    expect(outcomes.some((survivors) => survivors.length === 0)).toBe(true)
  })

  it("priority-fencing-delay: the node running the important resources survives, every time", () => {
    for (const seed of seeds) expect(race(byName("priority-fencing-delay"), seed)).toEqual(["n1"])
  })

  it("pcmk_delay_base on the device fencing n1: n1 survives, every time", () => {
    for (const seed of seeds) expect(race(byName("pcmk_delay_base"), seed)).toEqual(["n1"])
  })

  it("the random delays come from the seeded generator: a seed always gives the same race", () => {
    const random = byName("pcmk_delay_max")
    const first = seeds.map((seed) => race(random, seed).join(","))
    expect(seeds.map((seed) => race(random, seed).join(","))).toEqual(first)
    expect(new Set(first).size).toBeGreaterThan(1)
  })
})
