/**
 * Replicated CIB store benchmark: 3 node processes on loopback UDP (bench/udpChannel.ts), each
 * with its store on a real directory (fsync, group commit), each running concurrent clients that
 * record resource operations in their node's status through the DC. Prints per-node figures and,
 * last, `cib-store: N commits/s, commit median X ms, p99 Y ms` (latency: from `update` to the
 * commit applied and on this node's disk).
 *
 * Environment: BENCH_SECONDS (default 5), BENCH_CLIENTS per node (default 8), BENCH_PORT (default
 * 47100), BENCH_DURABLE=0 to return before the local disk write, BENCH_PROFILE=DIR to write the node
 * processes' CPU profiles there.
 */
import { spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Fiber } from "effect"
import { Cib, CibReplica, CibStore } from "../src/index.ts"
import * as NodeStorage from "../src/platform/NodeStorage.ts"
import * as UdpChannel from "./udpChannel.ts"

const NODES = [1, 2, 3]
const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const clients = Number(process.env.BENCH_CLIENTS ?? 8)
const basePort = Number(process.env.BENCH_PORT ?? 47100)
const durable = process.env.BENCH_DURABLE !== "0"

interface Report {
  readonly node: number
  readonly commits: number
  readonly failures: number
  readonly latencies: ReadonlyArray<number>
  /** CPU time (user + system) the node process spent in the measured window, ms */
  readonly cpu: number
}

const primitive = (id: string): Cib.Primitive => ({
  _tag: "Primitive",
  id,
  class: "ocf",
  provider: "heartbeat",
  type: "Dummy",
  instanceAttributes: [],
  metaAttributes: [],
  utilization: []
})

/** Three nodes and twenty resources, a small production-like CIB. */
const benchCib: Cib.Cib = {
  ...Cib.empty,
  validateWith: "pacemaker-3.9",
  configuration: {
    ...Cib.empty.configuration,
    nodes: NODES.map((n) => ({ id: String(n), uname: `node${n}`, instanceAttributes: [], utilization: [] })),
    resources: Array.from({ length: 20 }, (_, i) => primitive(`rsc${i}`))
  },
  status: {
    ...Cib.empty.status,
    nodes: NODES.map((n) => ({
      id: String(n),
      uname: `node${n}`,
      inCcm: "true",
      crmd: "online",
      extra: {},
      lrm: { id: String(n), extra: {}, resources: [] }
    }))
  }
}

/** `cib` with client `client` of node `node` recording its `n`th monitor of `rsc<client>`. */
const recordOperation = (cib: Cib.Cib, node: number, client: number, n: number): Cib.Cib => {
  const rsc = `rsc${client}`
  const entry: Cib.LrmResource = {
    id: rsc,
    class: "ocf",
    provider: "heartbeat",
    type: "Dummy",
    ops: [
      {
        id: `${rsc}_monitor_${10_000 + client}`,
        operation: "monitor",
        interval: 10_000 + client,
        rcCode: 0,
        opStatus: 0,
        callId: n,
        extra: {}
      }
    ]
  }
  return {
    ...cib,
    status: {
      ...cib.status,
      nodes: cib.status.nodes.map((state) => {
        if (state.id !== String(node) || state.lrm === undefined) return state
        // in place, so that concurrent clients' patches touch different elements
        const resources = state.lrm.resources.some((r) => r.id === rsc)
          ? state.lrm.resources.map((r) => (r.id === rsc ? entry : r))
          : [...state.lrm.resources, entry]
        return { ...state, lrm: { ...state.lrm, resources } }
      })
    }
  }
}

const runNode = (node: number, directory: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const storage = yield* NodeStorage.make(directory)
      const store = yield* CibStore.make(storage, { backups: 10, initial: benchCib })
      const channel = yield* UdpChannel.make(node, NODES, basePort)
      const replica = yield* CibReplica.make(store, channel, { requestTimeout: 5_000, conflictRetries: 20 })
      yield* replica.awaitSynced
      const latencies: Array<number> = []
      let failures = 0
      const warmupEnd = performance.now() + 1_000
      const end = warmupEnd + seconds * 1_000
      const client = (c: number) =>
        Effect.gen(function* () {
          for (let n = 1; performance.now() < end; n++) {
            const start = performance.now()
            const result = yield* Effect.either(
              replica.update((cib) => recordOperation(cib, node, c, n), { durable })
            )
            const done = performance.now()
            if (start < warmupEnd) continue
            if (result._tag === "Left") failures++
            else latencies.push(done - start)
          }
        })
      let cpuStart: NodeJS.CpuUsage | undefined
      const cpuTimer = setTimeout(() => {
        cpuStart = process.cpuUsage()
      }, warmupEnd - performance.now())
      const fibers = yield* Effect.forEach(
        Array.from({ length: clients }, (_, c) => c),
        (c) => Effect.fork(client(c))
      )
      yield* Fiber.joinAll(fibers)
      clearTimeout(cpuTimer)
      const used = process.cpuUsage(cpuStart)
      const cpu = (used.user + used.system) / 1000
      // stay up a little so that the others' last updates find their DC
      yield* Effect.sleep("1500 millis")
      const report: Report = { node, commits: latencies.length, failures, latencies, cpu }
      process.stdout.write(`${JSON.stringify(report)}\n`)
    })
  )

const runChild = (node: number, directory: string) =>
  new Promise<Report>((resolve, reject) => {
    const profile =
      process.env.BENCH_PROFILE === undefined
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    const child = spawn(
      process.execPath,
      [...profile, "--import", "tsx", import.meta.filename, "node", String(node), directory],
      {
        stdio: ["ignore", "pipe", "inherit"]
      }
    )
    let out = ""
    child.stdout.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d)
    })
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (code !== 0 || line === undefined) reject(new Error(`node ${node} exited with ${code}: ${out}`))
      else resolve(JSON.parse(line) as Report)
    })
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN

const main = async () => {
  const root = await mkdtemp(join(tmpdir(), "ha-cib-bench-"))
  try {
    const reports = await Promise.all(NODES.map((n) => runChild(n, join(root, `node${n}`))))
    const all = reports.flatMap((r) => r.latencies).sort((a, b) => a - b)
    for (const r of reports) {
      const sorted = [...r.latencies].sort((a, b) => a - b)
      console.log(
        `node ${r.node}${r.node === Math.min(...NODES) ? " (DC)" : ""}: ${r.commits} commits, ${r.failures} failures, median ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, CPU ${(r.cpu / Math.max(1, all.length)).toFixed(2)} ms per cluster commit`
      )
    }
    const failures = reports.reduce((n, r) => n + r.failures, 0)
    console.log(
      `${NODES.length} nodes, ${clients} clients per node, ${seconds} s measured, ${failures} failed updates, ${durable ? "durable" : "in-memory"} commits; machine: ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)}`
    )
    console.log(
      `cib-store: ${Math.round(all.length / seconds)} commits/s, commit median ${percentile(all, 50).toFixed(2)} ms, p99 ${percentile(all, 99).toFixed(2)} ms`
    )
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

if (process.argv[2] === "node") {
  Effect.runPromise(runNode(Number(process.argv[3]), process.argv[4] as string)).then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${e}\n`)
      process.exit(1)
    }
  )
} else {
  main().catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
