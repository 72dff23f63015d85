import { readFileSync } from "node:fs"
import { Simulation } from "../src/index.ts"
const configXml = readFileSync("/work/main/examples/pg-drbd/config.xml", "utf8")
const [mutation, nodes, kinds, seed] = process.argv.slice(2)
const r = await Simulation.run({ seed: Number(seed), nodes: Number(nodes) as 2 | 3, durationMs: 40000, configXml, mutation: mutation === "none" ? undefined : mutation as any, kinds: kinds.split(",") as any, meanGapMs: 8000 })
console.log(mutation, seed, r.violations.slice(0, 2), r.schedule.length, r.simulatedMs, r.wallMs)
console.log(r.trace.filter(l => !l.includes("monitor succeeded")).slice(-Number(process.env.LINES ?? 25)).join("\n"))
