/**
 * `npm run bench` (root: `npm run bench:policy`): plans every CIB in ../shared/bench/cibs, steady and with
 * node1 failed (as `crm_simulate -f node1`), and prints per file and mode
 *   (a) decode + schedule inside this process: median wall time, median CPU time, peak RSS;
 *   (b) the whole `ha plan --cib FILE [--node-fail node1]` process (apps/cli, built): median wall time,
 *       and CPU time (user + system) and peak RSS from /usr/bin/time.
 * Last line: `bench:policy: largest FILE in X ms (cpu C ms; whole process Y ms, cpu Z ms)`.
 * BENCH_RUNS sets the number of runs (default 3; the whole process runs once on files over 2,000
 * resources, to keep the benchmark short).
 */
import { type SpawnSyncOptionsWithStringEncoding, spawnSync } from "node:child_process"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { Cib } from "@ha/cib"
import { Either } from "effect"
import { decodeCib } from "../conformance/scheduler.ts"
import { Policy } from "../src/index.ts"

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, "../../..")
const dir = resolve(root, "../shared/bench/cibs")
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? "3"))
const cli = join(root, "apps/cli/bin/ha.js")
const cliBuilt = existsSync(cli) && existsSync(join(root, "apps/cli/dist/bin.js"))
const gnuTime = existsSync("/usr/bin/time")

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
const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
const resourcesIn = (file: string) => Number(/-(\d+)r\.xml$/.exec(file)?.[1] ?? "0")

/** One `ha plan` process: wall ms, and CPU ms (user + system) and peak RSS MB when /usr/bin/time is there. */
const wholeProcess = (
  args: ReadonlyArray<string>
): { ms: number; cpu: number | undefined; mb: number | undefined } => {
  const t0 = performance.now()
  // the plan printed for the largest files is megabytes long: not kept
  const options: SpawnSyncOptionsWithStringEncoding = {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"]
  }
  const result = gnuTime
    ? spawnSync("/usr/bin/time", ["-f", "%U %S %M", process.execPath, cli, ...args], options)
    : spawnSync(process.execPath, [cli, ...args], options)
  const ms = performance.now() - t0
  if (result.status !== 0) throw new Error(`ha ${args.join(" ")} failed (${result.status}): ${result.stderr}`)
  const [user, system, kb] = gnuTime
    ? (result.stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number)
    : []
  const cpu = user !== undefined && system !== undefined ? (user + system) * 1000 : Number.NaN
  return {
    ms,
    cpu: Number.isFinite(cpu) ? cpu : undefined,
    mb: kb !== undefined && Number.isFinite(kb) ? kb / 1024 : undefined
  }
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".xml"))
  .sort((a, b) => statSync(join(dir, a)).size - statSync(join(dir, b)).size)
let largest = ""
let largestMs = 0
let largestCpu = 0
let largestWhole: number | undefined
let largestWholeCpu: number | undefined
if (!cliBuilt)
  console.log("(whole process not measured: build apps/cli first, `npx turbo run build --filter=@ha/cli...`)")
for (const file of files) {
  const xml = readFileSync(join(dir, file), "utf8")
  for (const mode of ["steady", "node1-fail"] as const) {
    const times: Array<number> = []
    const cpu: Array<number> = []
    let actions = 0
    for (let i = 0; i < runs; i++) {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      let cib = decodeCib(xml, file)
      if (mode === "node1-fail") cib = failNode1(cib)
      const result = Policy.schedule(cib, { now: Policy.nowOf(cib, 0) })
      times.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      cpu.push((c.user + c.system) / 1000)
      sample()
      if (Either.isLeft(result)) throw result.left
      actions = result.right.actions.length
    }
    const ms = median(times)
    let whole = ""
    let wholeMs: number | undefined
    let wholeCpu: number | undefined
    if (cliBuilt) {
      const wholeRuns = resourcesIn(file) > 2000 ? 1 : runs
      const args = [
        "plan",
        "--cib",
        join(dir, file),
        ...(mode === "node1-fail" ? ["--node-fail", "node1"] : [])
      ]
      const measured = Array.from({ length: wholeRuns }, () => wholeProcess(args))
      wholeMs = median(measured.map((m) => m.ms))
      const mb = measured.map((m) => m.mb).filter((m): m is number => m !== undefined)
      const cpus = measured.map((m) => m.cpu).filter((m): m is number => m !== undefined)
      wholeCpu = cpus.length > 0 ? median(cpus) : undefined
      const details = [
        ...(wholeCpu === undefined ? [] : [`cpu ${wholeCpu.toFixed(0)} ms`]),
        ...(mb.length > 0 ? [`peak ${Math.max(...mb).toFixed(0)} MB`] : [])
      ]
      whole = `  whole process ${wholeMs.toFixed(0).padStart(6)} ms${details.length > 0 ? ` (${details.join(", ")})` : ""}`
    }
    console.log(
      `${file.padEnd(20)} ${mode.padEnd(10)} decode+schedule ${ms.toFixed(0).padStart(6)} ms (cpu ${median(cpu).toFixed(0)} ms, ${actions} actions, peak ${(peak / 1048576).toFixed(0)} MB)${whole}`
    )
    if (mode === "steady") {
      largest = file
      largestMs = ms
      largestCpu = median(cpu)
      largestWhole = wholeMs
      largestWholeCpu = wholeCpu
    }
  }
}
const wholeText =
  largestWhole === undefined
    ? "not measured"
    : `${largestWhole.toFixed(0)} ms${largestWholeCpu === undefined ? "" : `, cpu ${largestWholeCpu.toFixed(0)} ms`}`
console.log(
  `bench:policy: largest ${largest} in ${largestMs.toFixed(0)} ms (cpu ${largestCpu.toFixed(0)} ms; whole process ${wholeText})`
)
