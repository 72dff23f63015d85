/**
 * `ha plan` on the largest CIB in ../shared/bench (by file size): the whole command, as a user runs it
 * (a fresh `node bin/ha.js plan --cib FILE` process: start-up, reading, decoding, scheduling, printing),
 * steady and with node1 failing, and the same in-process (warm) for comparison. Needs `npm run build`.
 * The whole process's CPU time (user + system) comes from /usr/bin/time when it is installed.
 * Prints one line per figure; `--runs N` (default 3) sets the repetitions, the median is reported.
 */
import { execFile } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Either } from "effect"
import * as Input from "../src/Input.ts"
import { painter } from "../src/internal/text.ts"
import * as Plan from "../src/Plan.ts"
import type * as WhatIf from "../src/WhatIf.ts"

const run = promisify(execFile)
const here = import.meta.dirname
const benchDir = join(here, "../../../../shared/bench/cibs")
const bin = join(here, "../bin/ha.js")
const runsAt = process.argv.indexOf("--runs")
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3

const largest = readdirSync(benchDir)
  .filter((f) => f.endsWith(".xml"))
  .map((f) => ({ file: join(benchDir, f), size: statSync(join(benchDir, f)).size }))
  .sort((a, b) => b.size - a.size)[0]
if (!largest) throw new Error(`no CIB in ${benchDir}`)
if (!existsSync(join(here, "../dist/bin.js")))
  throw new Error("dist/bin.js is missing: run npm run build first")

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/** CPU seconds (user + system) of this process since `since`. */
const cpu = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1e6
}

/** Reading and decoding, then what-ifs + scheduling + status, then rendering: CPU seconds of each (warm). */
const inProcess = async (file: string, whatIfs: ReadonlyArray<WhatIf.WhatIf>) => {
  const start = performance.now()
  let mark = process.cpuUsage()
  const loaded = await Effect.runPromise(Input.load(file).pipe(Effect.provide(NodeContext.layer)))
  const decode = cpu(mark)
  mark = process.cpuUsage()
  const plan = Either.getOrThrow(
    Plan.make({ cib: loaded.cib, source: file, whatIfs, now: Math.floor(Date.now() / 1000) })
  )
  const schedule = cpu(mark)
  mark = process.cpuUsage()
  Plan.render(plan, painter(false), { scores: false })
  return { wall: performance.now() - start, decode, schedule, render: cpu(mark) }
}

// GNU time reports the child's CPU time (user + system, all its threads: the garbage collector's too)
const gnuTime = existsSync("/usr/bin/time")

const wholeProcess = async (args: Array<string>) => {
  const start = performance.now()
  const command = gnuTime ? ["/usr/bin/time", "-f", "%U %S", process.execPath] : [process.execPath]
  const { stdout, stderr } = await run(command[0] as string, [...command.slice(1), bin, ...args], {
    maxBuffer: 1 << 28,
    env: { ...process.env, HA_NO_PLUGINS: "1" }
  })
  const elapsed = performance.now() - start
  const [user, system] = (stderr.trim().split("\n").at(-1) ?? "").split(" ").map(Number)
  const cpu = gnuTime && user !== undefined && system !== undefined ? user + system : Number.NaN
  return { elapsed, cpu, decisions: /Plan: (\d+) decision/.exec(stdout)?.[1] ?? "0" }
}

const name = largest.file.split("/").pop()
// Wall times depend on what else the machine runs: print its load next to them.
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${cpus().length} cores`
)
const modes: Array<[string, Array<string>, Array<WhatIf.WhatIf>]> = [
  ["steady", [], []],
  ["node1-fail", ["--node-fail", "node1"], [{ _tag: "NodeFail", node: "node1" }]]
]
for (const [mode, extra, whatIfs] of modes) {
  const args = ["plan", "--cib", largest.file, ...extra]
  const whole: Array<number> = []
  const wholeCpu: Array<number> = []
  let decisions = "0"
  for (let i = 0; i < runs; i++) {
    const r = await wholeProcess(args)
    whole.push(r.elapsed)
    wholeCpu.push(r.cpu)
    decisions = r.decisions
  }
  const cpuText = gnuTime ? `, CPU ${median(wholeCpu).toFixed(2)} s user+sys` : ""
  const warm: Array<Awaited<ReturnType<typeof inProcess>>> = []
  for (let i = 0; i < runs; i++) warm.push(await inProcess(largest.file, whatIfs))
  const byWall = [...warm].sort((a, b) => a.wall - b.wall)[
    Math.floor(warm.length / 2)
  ] as (typeof warm)[number]
  console.log(
    `ha plan ${name} ${mode}: ${(median(whole) / 1000).toFixed(2)} s whole process${cpuText} (node bin/ha.js, median of ${runs}); ` +
      `in-process ${(byWall.wall / 1000).toFixed(2)} s wall, CPU: decode ${byWall.decode.toFixed(2)} s, ` +
      `schedule ${byWall.schedule.toFixed(2)} s, render ${byWall.render.toFixed(2)} s; ${decisions} decisions`
  )
}
