// Executor benchmark: per-operation overhead over the agent's own run time, and how many 1 s
// recurring monitors one node sustains under 5% of one core (this process plus its agents).
import { spawn } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as ForkServer from "../src/ForkServer.ts"
import { AgentRegistry, Executor, ExecutorSettings, type ProcessRunner } from "../src/index.ts"
import * as NodeProcessRunner from "../src/NodeProcessRunner.ts"

const ocfRoot = new URL("../testdata/ocf", import.meta.url).pathname
const trivial = { class: "ocf", provider: "hatest", type: "Trivial" } as const
const agentPath = `${ocfRoot}/resource.d/hatest/Trivial`

const layerWith = (runner: Layer.Layer<ProcessRunner.ProcessRunner>) =>
  Executor.layer.pipe(
    Layer.provideMerge(AgentRegistry.layer()),
    Layer.provideMerge(
      Layer.mergeAll(
        ExecutorSettings.layer({ ocfRoot, maxConcurrentOperations: 64 }),
        runner,
        NodeFileSystem.layer
      )
    )
  )

const nowMs = () => performance.now()
const quantile = (values: ReadonlyArray<number>, q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** The agent's own run time: the same program spawned directly, from fork to exit. */
const rawRun = () =>
  new Promise<number>((resolve) => {
    const started = nowMs()
    const child = spawn(agentPath, ["monitor"], { stdio: "ignore", env: { PATH: "/usr/bin:/bin" } })
    child.once("exit", () => resolve(nowMs() - started))
  })

const clockTicks = 100 // USER_HZ on Linux
/** utime, stime, cutime, cstime of a process in seconds (after "pid (comm) ", indexes 11 to 14). */
const statTimes = (pid: number | "self") => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return [11, 12, 13, 14].map((i) => Number(fields[i]) / clockTicks) as [number, number, number, number]
  } catch {
    return [0, 0, 0, 0] as const // exited meanwhile
  }
}

/**
 * CPU seconds used so far by this process, its reaped children, and its living children with what
 * they reaped (the fork server reaps the agents it runs).
 */
const cpuSeconds = () => {
  const own = process.cpuUsage()
  const [, , reapedUser, reapedSystem] = statTimes("self")
  const living = readdirSync("/proc/self/task")
    .flatMap((task) => readFileSync(`/proc/self/task/${task}/children`, "utf8").split(" ").filter(Boolean))
    .map((pid) => statTimes(Number(pid)).reduce((a, b) => a + b, 0))
    .reduce((a, b) => a + b, 0)
  return (own.user + own.system) / 1e6 + reapedUser + reapedSystem + living
}

const measureRunner = (name: string) =>
  Effect.gen(function* () {
    const executor = yield* Executor.Executor

    // 1. Overhead: interleave direct spawns and executor operations of the same trivial agent.
    const raw: Array<number> = []
    const viaExecutor: Array<number> = []
    for (let i = 0; i < 30; i++) {
      yield* Effect.promise(rawRun)
      yield* executor.execute({ resource: "warm", agent: trivial, operation: "monitor" })
    }
    for (let i = 0; i < 300; i++) {
      raw.push(yield* Effect.promise(rawRun))
      const started = nowMs()
      yield* executor.execute({ resource: `r${i % 10}`, agent: trivial, operation: "monitor" })
      viaExecutor.push(nowMs() - started)
    }
    const own = quantile(raw, 0.5)
    const overheads = viaExecutor.map((t) => t - own)
    const median = quantile(overheads, 0.5)
    const p99 = quantile(overheads, 0.99)
    console.log(
      `agent's own run time (direct spawn to exit): median ${own.toFixed(2)} ms; via executor: median ${quantile(viaExecutor, 0.5).toFixed(2)} ms, p99 ${quantile(viaExecutor, 0.99).toFixed(2)} ms`
    )

    // 2. CPU per recurring monitor at 1 s: run N monitors for a window and measure all CPU used.
    const measure = (count: number, seconds: number) =>
      Effect.gen(function* () {
        for (let i = 0; i < count; i++) {
          yield* executor.define({
            resource: `m${i}`,
            agent: trivial,
            params: {},
            monitors: [{ intervalMs: 1000 }]
          })
          yield* executor.execute({ resource: `m${i}`, agent: trivial, operation: "start" })
        }
        yield* Effect.sleep(1000) // let the monitors spread out
        const cpu0 = cpuSeconds()
        const t0 = nowMs()
        yield* Effect.sleep(seconds * 1000)
        const share = (cpuSeconds() - cpu0) / ((nowMs() - t0) / 1000)
        for (let i = 0; i < count; i++) yield* executor.forget(`m${i}`)
        console.log(`${count} monitors at 1 s: ${(share * 100).toFixed(2)}% of one core`)
        return share
      })
    const idle = yield* measure(0, 3)
    const probe = 20
    const perMonitor = Math.max(1e-6, ((yield* measure(probe, 5)) - idle) / probe)
    let sustained = Math.max(1, Math.floor((0.05 - idle) / perMonitor))
    let share = yield* measure(sustained, 5)
    while (share > 0.05 && sustained > 1) {
      sustained = Math.max(1, Math.floor(sustained * 0.8))
      share = yield* measure(sustained, 5)
    }
    console.log(
      `per monitor: ${(perMonitor * 1000).toFixed(2)} ms CPU per second; idle executor ${(idle * 100).toFixed(2)}%`
    )
    console.log(
      `${name}: overhead median ${median.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; ${share <= 0.05 ? sustained : 0} monitors at 1 s under 5% core`
    )
    return { median, p99, monitors: share <= 0.05 ? sustained : 0 }
  })

const program = Effect.gen(function* () {
  yield* measureRunner("node:child_process").pipe(Effect.provide(layerWith(NodeProcessRunner.layer)))
  const server = yield* measureRunner("fork server").pipe(Effect.provide(layerWith(ForkServer.layer)))
  console.log(
    `executor: overhead median ${server.median.toFixed(1)} ms, p99 ${server.p99.toFixed(1)} ms; ${server.monitors} monitors at 1 s under 5% core`
  )
})

Effect.runPromise(program.pipe(Effect.scoped)).catch((error) => {
  console.error(error)
  process.exit(1)
})
