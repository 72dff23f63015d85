/**
 * Membership benchmark over 3 local processes (bench/node.ts) on real UDP (loopback) with the
 * transport's AES-GCM: time to declare a killed node and to install the view without it (over
 * TRIALS kills, default 20), ordered broadcast throughput and latency, with default settings.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { join } from "node:path"
import { createInterface } from "node:readline"

const trials = Number(process.env.TRIALS ?? 20)
const burst = Number(process.env.BURST ?? 20000)
const warmup = Number(process.env.WARMUP ?? 10000)
const basePort = 47000 + Math.floor(Math.random() * 1000)
const ids = [1, 2, 3]
const script = join(import.meta.dirname, "node.ts")
/** Extra node options for the cluster processes, e.g. NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
const nodeArgs = (process.env.NODE_ARGS ?? "").split(" ").filter((a) => a !== "")

type Line = { e: string; t: number; members?: Array<number>; values?: Array<number>; cpu?: number }
interface Proc {
  child: ChildProcessWithoutNullStreams
  lines: Array<Line>
  waiters: Array<() => void>
}
const procs = new Map<number, Proc>()

const start = (id: number) => {
  const child = spawn(process.execPath, [
    ...nodeArgs,
    "--conditions=source",
    "--import",
    "tsx",
    script,
    `${id}`,
    `${basePort}`,
    "3"
  ])
  const p: Proc = { child, lines: [], waiters: [] }
  createInterface({ input: child.stdout }).on("line", (l) => {
    p.lines.push(JSON.parse(l) as Line)
    for (const w of p.waiters.splice(0)) w()
  })
  child.stderr.on("data", (d) => process.stderr.write(`[node ${id}] ${d}`))
  procs.set(id, p)
}

/** Resolves with the first line of `id` from index `from` on that satisfies `ok`. */
const waitFor = (id: number, ok: (l: Line) => boolean, from = 0, timeoutMs = 20000): Promise<Line> =>
  new Promise((resolve, reject) => {
    const p = procs.get(id)
    if (p === undefined) return reject(new Error(`no node ${id}`))
    const timer = setTimeout(() => reject(new Error(`node ${id}: timed out`)), timeoutMs)
    const check = () => {
      const hit = p.lines.slice(from).find(ok)
      if (hit !== undefined) {
        clearTimeout(timer)
        resolve(hit)
      } else p.waiters.push(check)
    }
    check()
  })

const send = (id: number, line: string) => procs.get(id)?.child.stdin.write(`${line}\n`)
const full = (l: Line) => l.e === "view" && l.members?.length === 3
const quantile = (xs: Array<number>, q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN
}

const main = async () => {
  for (const id of ids) start(id)
  // Generous first wait: each process compiles the sources with tsx at start.
  for (const id of ids) await waitFor(id, full, 0, 120000)

  // Throughput: node 1 queues BURST messages at once; time until the last node delivered them all.
  // A first burst of WARMUP messages is not timed: it runs while V8 is still optimising the code.
  const bursts = async (count: number, total: number) => {
    const marks = ids.map((id) => procs.get(id)?.lines.length ?? 0)
    for (const id of ids) send(id, `expect-burst ${total}`)
    send(1, `burst ${count}`)
    return Promise.all(ids.map((id) => waitFor(id, (l) => l.e === "burst", marks[id - 1], 120000)))
  }
  await bursts(warmup, warmup)
  const t0 = performance.timeOrigin + performance.now()
  const done = await bursts(burst, warmup + burst)
  const rate = burst / ((Math.max(...done.map((l) => l.t)) - t0) / 1000)
  // CPU time (user + system) the 3 processes spent on the burst: a figure less noisy than the rate
  // when the machine is shared.
  const cpuMs = done.reduce((sum, l) => sum + (l.cpu ?? 0), 0)

  // Latency: 200 paced messages from node 2, broadcast to delivery at each node.
  for (const id of ids) send(id, "expect-latency 200")
  send(2, "ping 200")
  const latencies = (await Promise.all(ids.map((id) => waitFor(id, (l) => l.e === "latency")))).flatMap(
    (l) => l.values ?? []
  )

  const detect: Array<number> = []
  const install: Array<number> = []
  for (let i = 0; i < trials; i++) {
    const victim = 3
    const marks = ids.map((id) => procs.get(id)?.lines.length ?? 0)
    const killedAt = performance.timeOrigin + performance.now()
    procs.get(victim)?.child.kill("SIGKILL")
    const survivors = ids.filter((id) => id !== victim)
    const lost = await Promise.race(survivors.map((id) => waitFor(id, (l) => l.e === "lost", marks[id - 1])))
    const views = await Promise.all(
      survivors.map((id) => waitFor(id, (l) => l.e === "view" && l.members?.length === 2, marks[id - 1]))
    )
    detect.push(lost.t - killedAt)
    install.push(Math.max(...views.map((v) => v.t)) - lost.t)
    start(victim)
    await Promise.all(
      ids.map((id) => waitFor(id, full, id === victim ? 0 : (procs.get(id)?.lines.length ?? 1) - 1, 120000))
    )
  }
  // Closing stdin ends a node cleanly (so --cpu-prof can write its profile).
  await Promise.all(
    [...procs.values()].map(
      (p) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => p.child.kill("SIGKILL"), 5000)
          p.child.once("exit", () => {
            clearTimeout(timer)
            resolve()
          })
          p.child.stdin.end()
        })
    )
  )
  const f = (x: number) => x.toFixed(0)
  console.log(`trials ${trials}; detect (kill to token loss) ms: ${detect.map(f).join(" ")}`)
  console.log(`view install (token loss to new view) ms: ${install.map(f).join(" ")}`)
  console.log(
    `broadcast ${burst} messages of 64 bytes: CPU ${cpuMs.toFixed(0)} ms over 3 processes (${((1000 * cpuMs) / burst).toFixed(1)} µs per message)`
  )
  console.log(
    `broadcast latency (send to delivery, 3 nodes) median ${quantile(latencies, 0.5).toFixed(2)} ms, p99 ${quantile(latencies, 0.99).toFixed(2)} ms`
  )
  console.log(
    `membership: detect median ${f(quantile(detect, 0.5))} ms, p99 ${f(quantile(detect, 0.99))} ms; view install median ${f(quantile(install, 0.5))} ms; broadcast ${f(rate)} msg/s`
  )
}

main().catch((e) => {
  for (const p of procs.values()) p.child.kill("SIGKILL")
  console.error(e)
  process.exit(1)
})
