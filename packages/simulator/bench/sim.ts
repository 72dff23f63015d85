/**
 * `npm run sim -- --runs K [--seed S] [--duration SECONDS] [--no-shrink]`: K seeds of the seed stack
 * (alternating 3-node and 2-node clusters) under random faults. The last line is
 * `simulation: K runs, V violations`; the exit code is 1 when V > 0.
 */
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { Campaign } from "../src/index.ts"

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    duration: { type: "string", default: "120" },
    "no-shrink": { type: "boolean", default: false }
  }
})
const configXml = readFileSync(new URL("../../../examples/pg-drbd/config.xml", import.meta.url), "utf8")
const summary = await Campaign.run({
  runs: Number(values.runs),
  firstSeed: Number(values.seed),
  durationMs: Number(values.duration) * 1000,
  configXml,
  shrink: !values["no-shrink"],
  cpuMs: () => {
    const used = process.cpuUsage()
    return (used.user + used.system) / 1000
  },
  print: (line) => console.log(line)
})
process.exitCode = summary.violations > 0 ? 1 : 0
