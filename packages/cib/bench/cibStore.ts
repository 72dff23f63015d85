/**
 * Replicated CIB store benchmark: 3 node processes, each a real cluster node's stack on loopback
 * UDP (the transport with its AES-GCM, Totem membership and votequorum from @ha/membership, the
 * replicated store on channel 1 of the membership, as the daemon wires them), each store on a real
 * directory (fsync, group commit), each node running concurrent clients that record resource
 * operations in their node's status through the DC. Prints per-node figures and, last,
 * `cib-store: N commits/s, commit median X ms, p99 Y ms` (latency: from `update` to the commit
 * applied and on this node's disk).
 *
 * Environment: BENCH_SECONDS (default 5), BENCH_CLIENTS per node (default 8), BENCH_PORT (default
 * random in 48000–48999), BENCH_DURABLE=0 to return before the local disk write, BENCH_PROFILE=DIR
 * to write each node's CPU profile of the measured window there (`node<N>.cpuprofile`), BENCH_CIB=FILE
 * to start from that CIB (e.g. `../shared/bench/cibs/cib-4n-1000r.xml`) instead of the built-in one
 * (three nodes, twenty resources).
 */
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { Session } from "node:inspector"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { Channel, Membership, MembershipSettings } from "@ha/membership"
import { Transport, TransportSettings } from "@ha/transport"
import * as NodeCrypto from "@ha/transport/NodeCrypto"
import * as NodeUdp from "@ha/transport/NodeUdp"
import { Effect, Either, Fiber, Layer } from "effect"
import { Cib, CibReplica, CibStore, XmlCodec } from "../src/index.ts"
import * as NodeStorage from "../src/platform/NodeStorage.ts"

const NODES = [1, 2, 3]
const seconds = Number(process.env.BENCH_SECONDS ?? 5)
const clients = Number(process.env.BENCH_CLIENTS ?? 8)
const durable = process.env.BENCH_DURABLE !== "0"
/** The replicated CIB's channel of the membership (as the daemon numbers it). */
const CIB_CHANNEL = 1

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

/** `cib` with client `client` of node `node` recording its `n`th monitor of `bench-rsc<client>`. */
const recordOperation = (cib: Cib.Cib, node: number, client: number, n: number): Cib.Cib => {
  const rsc = `bench-rsc${client}`
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
      // the node's own node_state: the one at its position (the CIB's node ids need not be ours)
      nodes: cib.status.nodes.map((state, i) => {
        if (i !== node - 1) return state
        const lrm = state.lrm ?? { extra: {}, resources: [] }
        // in place, so that concurrent clients' patches touch different elements
        const resources = lrm.resources.some((r) => r.id === rsc)
          ? lrm.resources.map((r) => (r.id === rsc ? entry : r))
          : [...lrm.resources, entry]
        return { ...state, lrm: { ...lrm, resources } }
      })
    }
  }
}

/** The CIB the nodes start from: BENCH_CIB's file, else {@link benchCib}. */
const initialCib = (): Cib.Cib => {
  const file = process.env.BENCH_CIB
  if (file === undefined) return benchCib
  const cib = Either.getOrThrow(XmlCodec.decodeXmlEither(readFileSync(file, "utf8"), { file }))
  if (cib.status.nodes.length < NODES.length)
    throw new Error(
      `${file}: the benchmark needs ${NODES.length} node_states, it has ${cib.status.nodes.length}`
    )
  return cib
}

/** One node's transport and membership on loopback, as the daemon builds them from its configuration. */
const clusterLayer = (node: number, basePort: number) => {
  const endpoint = (id: number) => ({ link: 0, address: "127.0.0.1", port: basePort + id })
  const topology = {
    clusterName: "cib-bench",
    nodeId: node,
    links: [endpoint(node)],
    peers: NODES.filter((p) => p !== node).map((p) => ({ nodeId: p, links: [endpoint(p)] }))
  }
  const settings = MembershipSettings.make({})
  return Membership.layer.pipe(
    Layer.provideMerge(Transport.layer({ topology, key: new Uint8Array(32).fill(7) })),
    Layer.provide(
      Layer.mergeAll(
        NodeUdp.layer,
        NodeCrypto.layer,
        TransportSettings.layer(MembershipSettings.transportTimers(settings)),
        MembershipSettings.layer(settings)
      )
    )
  )
}

/** Starts the CPU profiler; the effect it returns stops it and writes the profile to `file`. */
const startProfile = (file: string) =>
  Effect.async<Effect.Effect<void>>((resume) => {
    const session = new Session()
    session.connect()
    session.post("Profiler.enable", () =>
      session.post("Profiler.start", () =>
        resume(
          Effect.succeed(
            Effect.async<void>((done) => {
              session.post("Profiler.stop", (_, result) => {
                void writeFile(file, JSON.stringify(result.profile)).then(() => done(Effect.void))
              })
            })
          )
        )
      )
    )
  })

/**
 * Resolves when the parent writes a line on stdin (all nodes are in sync: start measuring); the
 * node exits if the parent goes away first.
 */
const startSignal = Effect.async<void>((resume) => {
  const lines = createInterface({ input: process.stdin })
  let started = false
  lines.once("line", () => {
    started = true
    lines.close()
    resume(Effect.void)
  })
  lines.once("close", () => {
    if (!started) process.exit(2)
  })
})

const runNode = (node: number, directory: string, basePort: number) =>
  Effect.gen(function* () {
    const storage = yield* NodeStorage.make(directory)
    const store = yield* CibStore.make(storage, { backups: 10, initial: initialCib() })
    const membership = yield* Membership.Membership
    const replica = yield* CibReplica.make(store, Channel.make(membership, CIB_CHANNEL), {
      requestTimeout: 5_000,
      conflictRetries: 20
    })
    // in sync in the view of all three nodes
    for (;;) {
      const status = yield* replica.status
      if (status.synced && status.view?.members.length === NODES.length) break
      yield* Effect.sleep("20 millis")
    }
    process.stdout.write("ready\n")
    yield* startSignal
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
          if (result._tag === "Left") {
            failures++
            if (failures <= 3) process.stderr.write(`node ${node}: ${result.left.message}\n`)
          } else latencies.push(done - start)
        }
      })
    const fibers = yield* Effect.forEach(
      Array.from({ length: clients }, (_, c) => c),
      (c) => Effect.fork(client(c))
    )
    yield* Effect.sleep(warmupEnd - performance.now())
    const cpuStart = process.cpuUsage()
    const profileDirectory = process.env.BENCH_PROFILE
    const stopProfile =
      profileDirectory === undefined
        ? Effect.void
        : yield* startProfile(join(profileDirectory, `node${node}.cpuprofile`))
    yield* Fiber.joinAll(fibers)
    const used = process.cpuUsage(cpuStart)
    yield* stopProfile
    const cpu = (used.user + used.system) / 1000
    // stay up a little so that the others' last updates find their DC
    yield* Effect.sleep("1500 millis")
    const report: Report = { node, commits: latencies.length, failures, latencies, cpu }
    process.stdout.write(`${JSON.stringify(report)}\n`)
  }).pipe(Effect.scoped, Effect.provide(clusterLayer(node, basePort)))

interface Child {
  readonly ready: Promise<void>
  readonly report: Promise<Report>
  readonly start: () => void
  readonly kill: () => void
}

const spawnNode = (node: number, directory: string, basePort: number): Child => {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      import.meta.filename,
      "node",
      String(node),
      directory,
      String(basePort)
    ],
    { stdio: ["pipe", "pipe", "inherit"] }
  )
  const lines: Array<string> = []
  let onLine = () => {}
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line)
    onLine()
  })
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
  const ready = new Promise<void>((resolve, reject) => {
    onLine = () => {
      if (lines.includes("ready")) resolve()
    }
    void exited.then((code) => reject(new Error(`node ${node} exited with ${code} before it was in sync`)))
  })
  const report = exited.then((code) => {
    const line = lines.find((l) => l.startsWith("{"))
    if (code !== 0 || line === undefined)
      throw new Error(`node ${node} exited with ${code}: ${lines.join("\n")}`)
    return JSON.parse(line) as Report
  })
  return { ready, report, start: () => child.stdin.end("go\n"), kill: () => child.kill() }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN

const main = async () => {
  const root = await mkdtemp(join(tmpdir(), "ha-cib-bench-"))
  try {
    const basePort = Number(process.env.BENCH_PORT ?? 48_000 + Math.floor(Math.random() * 1_000))
    const children = NODES.map((n) => spawnNode(n, join(root, `node${n}`), basePort))
    const timeout = new Promise<never>((_, reject) => {
      // generous: each process compiles the sources with tsx, then the membership forms
      setTimeout(() => reject(new Error("the nodes were not in sync within 120 s")), 120_000).unref()
    })
    const reports = await Promise.race([Promise.all(children.map((c) => c.ready)), timeout])
      .then(() => {
        for (const c of children) c.start()
        return Promise.all(children.map((c) => c.report))
      })
      .catch((e: unknown) => {
        for (const c of children) c.kill()
        throw e
      })
    const all = reports.flatMap((r) => r.latencies).sort((a, b) => a - b)
    for (const r of reports) {
      const sorted = [...r.latencies].sort((a, b) => a - b)
      console.log(
        `node ${r.node}${r.node === Math.min(...NODES) ? " (DC)" : ""}: ${r.commits} commits, ${r.failures} failures, median ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, CPU ${(r.cpu / Math.max(1, all.length)).toFixed(2)} ms per cluster commit`
      )
    }
    const failures = reports.reduce((n, r) => n + r.failures, 0)
    console.log(
      `${NODES.length} nodes over loopback UDP (transport, membership), ${process.env.BENCH_CIB ?? "20-resource CIB"}, ${clients} clients per node, ${seconds} s measured, ${failures} failed updates, ${durable ? "durable" : "in-memory"} commits; machine: ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)}`
    )
    console.log(
      `cib-store: ${Math.round(all.length / seconds)} commits/s, commit median ${percentile(all, 50).toFixed(2)} ms, p99 ${percentile(all, 99).toFixed(2)} ms`
    )
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

if (process.argv[2] === "node") {
  Effect.runPromise(
    runNode(Number(process.argv[3]), process.argv[4] as string, Number(process.argv[5]))
  ).then(
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
