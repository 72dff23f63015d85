import { readFileSync } from "node:fs"
import { Simulation } from "../src/index.ts"
const configXml = readFileSync("/work/main/examples/pg-drbd/config.xml", "utf8")
const r = await Simulation.run({ seed: Number(process.argv[2] ?? 1), nodes: Number(process.argv[3] ?? 2) as 2 | 3, durationMs: Number(process.argv[4] ?? 0), configXml, schedule: process.argv[5] === "none" ? [] : undefined })
console.log(r.trace.slice(-Number(process.argv[6] ?? 60)).join("\n"))
console.log(r.violations, r.simulatedMs, r.wallMs, r.fencings, r.agentActions, r.timersFired, r.tasksRun)
console.log("cpu", process.cpuUsage().user / 1e6)
