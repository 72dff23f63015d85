/**
 * `npm run bench:failover`: the users' worst moment, measured. The node running the database loses
 * power; the time until the client's first successful `SELECT 1` through the floating IP, split into
 * detection (the survivor's new membership), fencing (the power switch turned the victim off) and start
 * (the database answers again); when the floating IP answered pings again is printed too. Repeated on
 * alternating nodes; median and p99 per stack.
 *
 * Stacks: ha (real ha-daemons) and real Pacemaker 2.1 + Corosync 3, both running the same group
 * (Filesystem on the lab's disk → IPaddr2 → pgsql, HaCluster.agentParams) at their default timeouts,
 * on the same namespace lab (src/Lab.ts), timed by the same probes.
 * Options: --trials N (default 10), --stacks ha,pacemaker (default both), --logs DIR (keep each
 * trial's cluster logs).
 */
import { spawn } from "node:child_process"
import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import * as HaCluster from "../src/HaCluster.ts"
import * as Lab from "../src/Lab.ts"
import * as PowerSwitch from "../src/PowerSwitch.ts"
import * as Pacemaker from "./pacemaker.ts"

const option = (name: string) => {
  const index = process.argv.indexOf(name)
  return index < 0 ? undefined : process.argv[index + 1]
}
const trials = Number(option("--trials")) || 10
const stacks = (option("--stacks") ?? "ha,pacemaker").split(",")
/** Keep every trial's Corosync and Pacemaker logs here. */
const logs = option("--logs")

interface Trial {
  readonly victim: string
  /** When the floating IP answered pings again (the SELECT comes after the database). */
  readonly ipMs: number
  readonly detectionMs: number | undefined
  readonly fencedMs: number | undefined
  readonly answeredMs: number
}

/** Pings the floating IP from the client every 20 ms; returns the reply times (epoch ms). */
const probe = (lab: Lab.Lab) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const replies: Array<number> = []
      const child = spawn("ip", [
        "netns",
        "exec",
        lab.client,
        "ping",
        "-D",
        "-n",
        "-i",
        "0.02",
        "-W",
        "1",
        lab.floatingIp
      ])
      child.stdout.setEncoding("utf8")
      child.stdout.on("data", (chunk: string) => {
        for (const [, seconds] of chunk.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm))
          replies.push(Number(seconds) * 1000)
      })
      return { replies, child }
    }),
    ({ child }) => Effect.sync(() => child.kill("SIGKILL"))
  ).pipe(Effect.map(({ replies }) => replies))

/**
 * `SELECT 1` through the floating IP from the client, again and again (a shell loop inside the client
 * namespace, 20 ms apart, so the timing is not that of spawning from here); returns when the first
 * one answered (epoch ms). Started once the address answers pings: until then a connection attempt
 * would wait for ARP, for libpq's minimum connect timeout of 2 s.
 */
const firstSelect = (lab: Lab.Lab) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const loop = `until PGCONNECT_TIMEOUT=2 ${HaCluster.agentParams(lab).db.psql} -h ${lab.floatingIp} -U postgres -w -Atc "select 1" >/dev/null 2>&1; do sleep 0.02; done; date +%s.%N`
      const child = spawn("ip", ["netns", "exec", lab.client, "sh", "-c", loop], { detached: true })
      const answered = new Promise<number>((resolve) => {
        let out = ""
        child.stdout.setEncoding("utf8")
        child.stdout.on("data", (chunk: string) => {
          out += chunk
          if (out.endsWith("\n")) resolve(Number(out.trim()) * 1000)
        })
      })
      return { child, answered }
    }),
    ({ child }) =>
      Effect.sync(() => {
        try {
          process.kill(-child.pid!, "SIGKILL")
        } catch {
          // the loop has ended
        }
      })
  ).pipe(
    Effect.flatMap(({ answered }) => Effect.promise(() => answered)),
    Effect.timeoutFail({
      duration: "120 seconds",
      onTimeout: () => new Lab.LabError({ command: ["psql"], reason: "no SELECT answered (120 s)" })
    }),
    Effect.scoped
  )

const quantile = (values: ReadonlyArray<number>, q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}
const seconds = (ms: number | undefined) => (ms === undefined ? "?" : (ms / 1000).toFixed(2))

/** Waits until SELECT answers through the floating IP (before a failure). */
const selectAnswers = (lab: Lab.Lab) =>
  HaCluster.until(
    "SELECT answers before the failure",
    Effect.map(HaCluster.select(lab), (ok) => (ok ? true : undefined)),
    "120 seconds"
  )

const measurePacemaker = Effect.gen(function* () {
  const lab = yield* Lab.make({ prefix: "hfo", nodes: 2, diskMiB: 128, privateDirs: Pacemaker.privateDirs })
  const power = yield* PowerSwitch.serve(lab, `${lab.root}/power.sock`, (node) => Pacemaker.start(lab, node))
  yield* Pacemaker.configure(lab)
  const [first] = lab.nodes.map((n) => n.name)
  yield* HaCluster.prepareDisk(lab, first!)
  for (const n of lab.nodes) yield* Pacemaker.start(lab, n.name)
  yield* Pacemaker.waitOnline(lab, first!)
  yield* Pacemaker.load(lab, power.path)
  yield* Pacemaker.settle(lab, first!)
  const results: Array<Trial> = []
  for (let trial = 1; trial <= trials; trial++) {
    const holders = yield* lab.addressHeldBy(lab.floatingIp)
    if (holders.length !== 1) {
      return yield* new Lab.LabError({
        command: ["trial"],
        reason: `floating IP held by [${holders.join(", ")}]`
      })
    }
    const victim = holders[0]!
    const survivor = lab.nodes.find((n) => n.name !== victim)!.name
    yield* selectAnswers(lab)
    const { t0, firstReply } = yield* probeDuring(lab, victim)
    const answered = yield* firstSelect(lab)
    const fenced = (yield* power.history).find((e) => e.node === victim && e.action === "off" && e.at > t0)
    const membership = yield* Pacemaker.membershipChangeAt(lab, survivor, t0)
    const result: Trial = {
      victim,
      ipMs: firstReply - t0,
      detectionMs: membership === undefined ? undefined : membership - t0,
      fencedMs: fenced === undefined ? undefined : fenced.at - t0,
      answeredMs: answered - t0
    }
    results.push(result)
    console.log(
      `pacemaker trial ${trial}: ${victim} off → membership ${seconds(result.detectionMs)} s, fenced ${seconds(result.fencedMs)} s, IP ${seconds(result.ipMs)} s, SELECT ${seconds(result.answeredMs)} s`
    )
    if (logs !== undefined) {
      for (const n of lab.nodes)
        cpSync(n.privatePath("/var/log"), join(logs, `trial${trial}`, n.name), { recursive: true })
    }
    // the victim boots back into the cluster; with stickiness the address stays on the survivor
    yield* lab.powerOn(victim)
    yield* Pacemaker.start(lab, victim)
    yield* Pacemaker.waitOnline(lab, survivor)
    yield* Pacemaker.settle(lab, survivor)
  }
  return results
}).pipe(Effect.scoped)

/** The survivor's first "membership view" log line after `since` (epoch ms), from its daemon log. */
const haMembershipAt = (lab: Lab.Lab, survivor: string, since: number) => {
  const log = readFileSync(HaCluster.daemonLog(lab, survivor), "utf8")
  for (const [, stamp] of log.matchAll(/^timestamp=(\S+) .*message="membership view"/gm)) {
    const at = Date.parse(stamp!)
    if (at >= since) return at
  }
  return undefined
}

const measureHa = Effect.gen(function* () {
  const lab = yield* Lab.make({ prefix: "hfh", nodes: 2, diskMiB: 128 })
  const power = yield* PowerSwitch.serve(lab, `${lab.root}/power.sock`)
  yield* HaCluster.configure(lab)
  const [first] = lab.nodes.map((n) => n.name)
  yield* HaCluster.prepareDisk(lab, first!)
  for (const n of lab.nodes) yield* HaCluster.start(lab, n.name)
  yield* HaCluster.formed(lab, first!)
  // ha's defaults; a fenced node stays off until the benchmark boots it again
  yield* HaCluster.apply(lab, first!, HaCluster.stack(lab, { powerSocket: power.path, preferred: first! }))
  yield* HaCluster.until(
    "the stack running",
    Effect.map(HaCluster.status(lab, first!), (s) => HaCluster.stackOn(s))
  )
  const results: Array<Trial> = []
  for (let trial = 1; trial <= trials; trial++) {
    const holders = yield* lab.addressHeldBy(lab.floatingIp)
    if (holders.length !== 1)
      return yield* new Lab.LabError({
        command: ["trial"],
        reason: `floating IP held by [${holders.join(", ")}]`
      })
    const victim = holders[0]!
    const survivor = lab.nodes.find((n) => n.name !== victim)!.name
    yield* selectAnswers(lab)
    const { t0, firstReply } = yield* probeDuring(lab, victim)
    // the address answers before the database does (group order)
    const answered = yield* firstSelect(lab)
    const fenced = (yield* power.history).find((e) => e.node === victim && e.action === "off" && e.at > t0)
    const membership = haMembershipAt(lab, survivor, t0)
    // when the survivor's starts completed, from its DC log (the database's start may still be
    // polling when it already answers)
    const log = Effect.map(
      HaCluster.call<{
        readonly entries: ReadonlyArray<{ readonly at: number; readonly kind: string; readonly text: string }>
      }>(lab, survivor, "log", { limit: 10_000 }),
      ({ entries }) =>
        (resource: string) =>
          entries.find(
            (e) =>
              e.at > t0 &&
              e.kind === "Completed" &&
              e.text.includes(`: ${resource}_start_0 on ${survivor} done`)
          )?.at
    )
    const startedAt = yield* HaCluster.until(
      "the database's start completed",
      Effect.map(log, (find) => (find("db") === undefined ? undefined : find))
    )
    const starts = ["fs", "vip", "db"].map((resource) => {
      const at = startedAt(resource)
      return `${resource} ${seconds(at === undefined ? undefined : at - t0)}`
    })
    const result: Trial = {
      victim,
      ipMs: firstReply - t0,
      detectionMs: membership === undefined ? undefined : membership - t0,
      fencedMs: fenced === undefined ? undefined : fenced.at - t0,
      answeredMs: answered - t0
    }
    results.push(result)
    console.log(
      `ha trial ${trial}: ${victim} off → membership ${seconds(result.detectionMs)} s, fenced ${seconds(result.fencedMs)} s, started ${starts.join(" / ")} s, IP ${seconds(result.ipMs)} s, SELECT ${seconds(result.answeredMs)} s`
    )
    if (logs !== undefined)
      for (const n of lab.nodes)
        cpSync(HaCluster.daemonLog(lab, n.name), join(logs, `ha-trial${trial}`, `${n.name}.log`))
    // the victim boots back with an empty state directory: a node that comes back with its old CIB
    // fences itself (see README, "Known daemon bugs"); with stickiness the stack stays on the survivor
    rmSync(join(lab.node(victim).dir, "state"), { recursive: true, force: true })
    mkdirSync(join(lab.node(victim).dir, "state"))
    yield* lab.powerOn(victim)
    yield* HaCluster.start(lab, victim)
    yield* HaCluster.formed(lab, survivor)
    yield* HaCluster.until(
      "the stack running on the survivor",
      Effect.map(HaCluster.status(lab, survivor), (s) =>
        HaCluster.stackOn(s) === survivor ? true : undefined
      )
    )
  }
  return results
}).pipe(Effect.scoped)

/** Powers the victim off with the probe running; returns T0 and the first reply after it. */
const probeDuring = (lab: Lab.Lab, victim: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const replies = yield* probe(lab)
      yield* Effect.sleep("500 millis")
      if (replies.length === 0)
        return yield* new Lab.LabError({ command: ["ping"], reason: "no replies before the failure" })
      yield* lab.powerOff(victim)
      // the failure is complete once the links are down and the node is dead: replies before are old
      const t0 = Date.now()
      const firstReply = yield* waitReply(replies, t0)
      return { t0, firstReply }
    })
  )

const waitReply = (replies: ReadonlyArray<number>, t0: number) =>
  Effect.gen(function* () {
    for (let waited = 0; waited < 120_000; waited += 20) {
      const after = replies.find((at) => at > t0)
      if (after !== undefined) return after
      yield* Effect.sleep("20 millis")
    }
    return yield* new Lab.LabError({
      command: ["ping"],
      reason: "the floating IP never answered again (120 s)"
    })
  })

const summary = (name: string, results: ReadonlyArray<Trial>) => {
  const answered = results.map((t) => t.answeredMs)
  const detection = results.flatMap((t) => (t.detectionMs === undefined ? [] : [t.detectionMs]))
  const fencing = results.flatMap((t) =>
    t.fencedMs === undefined || t.detectionMs === undefined ? [] : [t.fencedMs - t.detectionMs]
  )
  const starting = results.flatMap((t) => (t.fencedMs === undefined ? [] : [t.answeredMs - t.fencedMs]))
  const ip = results.map((t) => t.ipMs)
  console.log(
    `${name}: ${results.length} trials; SELECT answered median ${median(answered)} s, p99 ${seconds(quantile(answered, 0.99))} s; detection median ${median(detection)} s, fencing ${median(fencing)} s, start ${median(starting)} s; floating IP answered median ${median(ip)} s`
  )
  return { median: median(answered), p99: seconds(quantile(answered, 0.99)) }
}
const median = (values: ReadonlyArray<number>) => (values.length === 0 ? "?" : seconds(quantile(values, 0.5)))

const program = Effect.gen(function* () {
  const ha = stacks.includes("ha") ? summary("ha", yield* measureHa) : undefined
  const pacemaker = stacks.includes("pacemaker") ? summary("pacemaker", yield* measurePacemaker) : undefined
  console.log(
    `failover: ha ${ha === undefined ? "n/a (not measured)" : `median ${ha.median} s, p99 ${ha.p99} s`}; pacemaker ${pacemaker === undefined ? "n/a (not measured)" : `median ${pacemaker.median} s`}`
  )
})

Effect.runPromise(program).catch((error) => {
  console.error(String(error))
  process.exit(1)
})
