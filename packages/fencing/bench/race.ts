/**
 * Fence race on the pure Fencer machines, with random link-cut and detection timing
 * (bench/raceSimulation.ts): cheap enough for hundreds of runs per configuration. Prints, per
 * configuration, how many runs ended with exactly one survivor; the last line is the recommended
 * configuration (priority-fencing-delay). The same race on real namespace nodes with fence-netns is
 * bench/fenceRace.ts (npm run bench:fence-race).
 * Usage: npm run bench -w @ha/fencing [-- RUNS]
 */
import { race, variants } from "./raceSimulation.ts"

const runs = Math.max(50, Number(process.argv[2] ?? 200))
const started = performance.now()
let last = ""
for (const variant of variants) {
  let one = 0
  let none = 0
  for (let seed = 1; seed <= runs; seed++) {
    const survivors = race(variant, seed)
    if (survivors.length === 1) one++
    if (survivors.length === 0) none++
  }
  console.log(`${variant.name}: ${runs} runs, ${one} exactly one survivor, ${none} both fenced`)
  last = `fence race: ${runs} runs, ${one} exactly one survivor`
}
console.log(
  `(${((performance.now() - started) / (runs * variants.length)).toFixed(1)} ms per simulated race)`
)
console.log(last)
