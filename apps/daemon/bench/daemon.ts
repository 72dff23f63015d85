/**
 * `npm run bench:daemon`: one real daemon (a one-node cluster on loopback) running 50 resources of
 * the real ocf:heartbeat:Dummy agent with 10 s monitors.
 *
 * - idle: once all 50 run, the daemon's RSS (VmRSS) and its CPU use (utime+stime from /proc) over
 *   an idle window in which only the monitors run;
 * - recovery: a resource's state file is removed behind the cluster's back (as if its process
 *   died); the time from the monitor reporting the failure to the resource running again, read
 *   from the daemon's own log timestamps (`failure` → `action done … start`).
 *
 * Runs the built daemon when there is one (`npm run build`), as a package installs it.
 * Options: --resources N (50), --idle SECONDS (60), --failures K (10).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { Cib, CibStore, CibStoreSettings, XmlCodec } from "@ha/cib"
import * as NodeStorage from "@ha/cib/NodeStorage"
import { Effect, Layer } from "effect"

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`)
  return index === -1 ? fallback : Number(process.argv[index + 1])
}
const resources = arg("resources", 50)
const idleSeconds = arg("idle", 60)
const failures = arg("failures", 10)

const root = mkdtempSync(join(tmpdir(), "ha-bench-daemon-"))
const stateDir = join(root, "state")
const runDir = join(root, "run")
const rsctmp = join(runDir, "rsctmp")
// the built daemon as installed (`npm run build` first); the sources through tsx otherwise, which
// costs memory and start-up time the installed daemon does not have
const built = new URL("../bin/ha-daemon.js", import.meta.url).pathname
const command = existsSync(new URL("../dist/main.js", import.meta.url))
  ? [built]
  : ["--import", "tsx", "--conditions=source", new URL("../src/main.ts", import.meta.url).pathname]

const configuration = (): string => {
  const primitives = Array.from(
    { length: resources },
    (_, i) => `
      <primitive id="dummy${i}" class="ocf" provider="heartbeat" type="Dummy">
        <operations>
          <op id="dummy${i}-monitor-10s" name="monitor" interval="10s" timeout="20s"/>
        </operations>
      </primitive>`
  ).join("")
  return `<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.9">
  <configuration>
    <crm_config>
      <cluster_property_set id="bootstrap">
        <nvpair id="bootstrap-stonith-enabled" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes><node id="1" uname="solo"/></nodes>
    <resources>${primitives}
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>`
}

/** Writes the configuration into the node's CIB directory, as a previous run would have left it. */
const seedCib = Effect.gen(function* () {
  const cib = yield* XmlCodec.decodeXml(configuration(), { file: "bench" })
  const store = yield* CibStore.CibStore
  yield* store.update(() => ({ ...cib, version: Cib.empty.version }))
}).pipe(
  Effect.provide(
    CibStore.layer.pipe(
      Layer.provide(NodeStorage.layer),
      Layer.provideMerge(CibStoreSettings.layer({ directory: join(stateDir, "cib") })),
      Layer.provide(NodeFileSystem.layer)
    )
  ),
  Effect.scoped
)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface LogLine {
  readonly at: number
  readonly text: string
}

const start = (): { child: ChildProcess; lines: Array<LogLine> } => {
  const key = join(root, "authkey")
  writeFileSync(key, Buffer.alloc(32, 7), { mode: 0o600 })
  const file = join(root, "ha.yaml")
  writeFileSync(
    file,
    `cluster:\n  name: bench\n  nodes:\n    - { name: solo, addresses: [127.0.3.1] }\nnode: solo\nport: 5499\nkeyFile: ${key}\nstateDir: ${stateDir}\nrunDir: ${runDir}\nlog: { level: debug }\n`
  )
  const child = spawn(process.execPath, [...command, "--config", file], {
    stdio: ["ignore", "ignore", "pipe"]
  })
  const lines: Array<LogLine> = []
  let partial = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n")
    partial = parts.pop()!
    for (const text of parts) {
      const stamp = /timestamp=(\S+)/.exec(text)?.[1]
      lines.push({ at: stamp === undefined ? Date.now() : Date.parse(stamp), text })
    }
  })
  return { child, lines }
}

const stateFile = (i: number) => join(rsctmp, `Dummy-dummy${i}.state`)

const cpuTicks = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return Number(fields[11]) + Number(fields[12])
}
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024

const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

const waitFor = async (what: string, done: () => boolean, timeoutMs: number) => {
  const until = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

const run = async () => {
  mkdirSync(join(stateDir, "cib"), { recursive: true })
  await Effect.runPromise(seedCib)
  const { child, lines } = start()
  try {
    const all = Array.from({ length: resources }, (_, i) => i)
    await waitFor("all resources started", () => all.every((i) => existsSync(stateFile(i))), 180_000)
    // let the first monitors run and the transition finish before measuring
    await sleep(12_000)
    const pid = child.pid!
    const ticks0 = cpuTicks(pid)
    const t0 = Date.now()
    await sleep(idleSeconds * 1000)
    const cpu = ((cpuTicks(pid) - ticks0) / 100 / ((Date.now() - t0) / 1000)) * 100
    const rss = rssMb(pid)
    console.log(
      `idle: ${resources} resources, 10 s monitors, ${idleSeconds} s window: rss ${rss.toFixed(1)} MB, cpu ${cpu.toFixed(2)}%`
    )

    const recoveries: Array<number> = []
    for (let k = 0; k < failures; k++) {
      const i = k % resources
      const from = lines.length
      unlinkSync(stateFile(i))
      const mentions = new RegExp(`resource=dummy${i}(\\s|$)`)
      const failed = () =>
        lines.slice(from).find((l) => l.text.includes("message=failure") && mentions.test(l.text))
      await waitFor(`dummy${i}'s monitor to fail`, () => failed() !== undefined, 30_000)
      const restarted = () =>
        lines
          .slice(from)
          .find(
            (l) => l.text.includes('message="action done"') && l.text.includes(`action=dummy${i}_start_0`)
          )
      await waitFor(`dummy${i} to start again`, () => restarted() !== undefined, 30_000)
      const ms = restarted()!.at - failed()!.at
      recoveries.push(ms)
      console.log(`recovery ${k + 1}/${failures}: dummy${i} running again ${ms} ms after its monitor failed`)
    }
    console.log(
      `daemon: idle rss ${rss.toFixed(0)} MB, cpu ${cpu.toFixed(1)}%; recovery median ${percentile(recoveries, 50)} ms, p99 ${percentile(recoveries, 99)} ms`
    )
  } finally {
    child.kill("SIGKILL")
    rmSync(root, { recursive: true, force: true })
  }
}

run().catch((error) => {
  console.error(error)
  process.exit(1)
})
