/**
 * `npm run bench` (root: `npm run bench:policy`): decode + schedule every CIB in ../shared/bench/cibs,
 * steady and with node1 failed (as `crm_simulate -f node1`), printing medians and peak RSS.
 * Last line: `bench:policy: largest FILE in X ms (whole process Y ms)`.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { Cib } from "@ha/cib"
import { Either } from "effect"
import { decodeCib } from "../conformance/scheduler.ts"
import { Policy } from "../src/index.ts"

const here = dirname(fileURLToPath(import.meta.url))
const dir = resolve(here, "../../..", "../shared/bench/cibs")
const runs = Number(process.env.BENCH_RUNS ?? "3")

/** node1 lost: out of the membership while expected up, so it must be fenced. */
const failNode1 = (cib: Cib.Cib): Cib.Cib => ({
  ...cib,
  status: {
    ...cib.status,
    nodes: cib.status.nodes.map((s) =>
      s.uname === "node1" || s.id === "node1" ? { ...s, inCcm: "false", crmd: "offline", join: "down" } : s
    )
  }
})

let peak = 0
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss)
}
const median = (xs: Array<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".xml"))
  .sort((a, b) => statSync(join(dir, a)).size - statSync(join(dir, b)).size)
let largest = ""
let largestMs = 0
for (const file of files) {
  const xml = readFileSync(join(dir, file), "utf8")
  for (const mode of ["steady", "node1-fail"] as const) {
    const times: Array<number> = []
    let actions = 0
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now()
      let cib = decodeCib(xml, file)
      if (mode === "node1-fail") cib = failNode1(cib)
      const result = Policy.schedule(cib, { now: Policy.nowOf(cib, 0) })
      times.push(performance.now() - t0)
      sample()
      if (Either.isLeft(result)) throw result.left
      actions = result.right.actions.length
    }
    const ms = median(times)
    console.log(
      `${file.padEnd(22)} ${mode.padEnd(10)} decode+schedule ${ms.toFixed(1).padStart(9)} ms  (${actions} actions, peak ${(peak / 1048576).toFixed(0)} MB)`
    )
    if (mode === "steady") {
      largest = file
      largestMs = ms
    }
  }
}
console.log(
  `bench:policy: largest ${largest} in ${largestMs.toFixed(0)} ms (whole process not measured here)`
)
