/**
 * `npm run bench:failover`: the users' worst moment, measured. The node holding the floating IP loses
 * power; the time until the client's first successful probe through the floating IP, split into
 * detection (the survivor's new membership), fencing (the power switch turned the victim off) and start
 * (the address answers again). Repeated on alternating nodes; median and p99 per stack.
 *
 * Stacks: ha (needs apps/daemon, not built yet: reported as n/a) and real Pacemaker 2.1 + Corosync 3,
 * both at their default timeouts, on the same namespace lab (src/Lab.ts).
 * Options: --trials N (default 10), --logs DIR (keep each trial's cluster logs).
 */
import { spawn } from "node:child_process"
import { cpSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import * as Lab from "../src/Lab.ts"
import * as PowerSwitch from "../src/PowerSwitch.ts"
import * as Pacemaker from "./pacemaker.ts"

const option = (name: string) => {
  const index = process.argv.indexOf(name)
  return index < 0 ? undefined : process.argv[index + 1]
}
const trials = Number(option("--trials")) || 10
/** Keep every trial's Corosync and Pacemaker logs here. */
const logs = option("--logs")

interface Trial {
  readonly victim: string
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

const quantile = (values: ReadonlyArray<number>, q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}
const seconds = (ms: number | undefined) => (ms === undefined ? "?" : (ms / 1000).toFixed(2))

const measurePacemaker = Effect.gen(function* () {
  const lab = yield* Lab.make({ prefix: "hfo", nodes: 2, privateDirs: Pacemaker.privateDirs })
  const power = yield* PowerSwitch.serve(lab, `${lab.root}/power.sock`, (node) => Pacemaker.start(lab, node))
  yield* Pacemaker.configure(lab)
  for (const n of lab.nodes) yield* Pacemaker.start(lab, n.name)
  yield* Pacemaker.waitOnline(lab, lab.nodes[0]!.name)
  yield* Pacemaker.load(lab, power.path)
  yield* Pacemaker.settle(lab, lab.nodes[0]!.name)
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
    const { t0, firstReply } = yield* probeDuring(lab, victim)
    const fenced = (yield* power.history).find((e) => e.node === victim && e.action === "off" && e.at > t0)
    const membership = yield* Pacemaker.membershipChangeAt(lab, survivor, t0)
    const result: Trial = {
      victim,
      detectionMs: membership === undefined ? undefined : membership - t0,
      fencedMs: fenced === undefined ? undefined : fenced.at - t0,
      answeredMs: firstReply - t0
    }
    results.push(result)
    console.log(
      `pacemaker trial ${trial}: ${victim} off → membership ${seconds(result.detectionMs)} s, fenced ${seconds(result.fencedMs)} s, answered ${seconds(result.answeredMs)} s`
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

const program = Effect.gen(function* () {
  const pacemaker = yield* measurePacemaker
  const answered = pacemaker.map((t) => t.answeredMs)
  const median = (values: ReadonlyArray<number>) => seconds(quantile(values, 0.5))
  const detection = pacemaker.flatMap((t) => (t.detectionMs === undefined ? [] : [t.detectionMs]))
  const fencing = pacemaker.flatMap((t) =>
    t.fencedMs === undefined || t.detectionMs === undefined ? [] : [t.fencedMs - t.detectionMs]
  )
  const starting = pacemaker.flatMap((t) => (t.fencedMs === undefined ? [] : [t.answeredMs - t.fencedMs]))
  console.log(
    `pacemaker: ${pacemaker.length} trials; answered median ${median(answered)} s, p99 ${seconds(quantile(answered, 0.99))} s; detection median ${median(detection)} s, fencing ${median(fencing)} s, start ${median(starting)} s`
  )
  console.log(`failover: ha n/a (apps/daemon not built yet); pacemaker median ${median(answered)} s`)
})

Effect.runPromise(program).catch((error) => {
  console.error(String(error))
  process.exit(1)
})
