/**
 * Fence race benchmark on real namespace nodes (root needed): two nodes, each a network namespace
 * with a long-lived init in its own pid namespace running bench/raceNode.ts (heartbeats + the
 * fencer + the fence-netns agent), joined by two rings (one bridge each, inside a private "switch"
 * namespace, so no lab traffic touches the root namespace). Each run boots both nodes, waits until
 * they hear each other on both rings, cuts both rings at once, and watches the power switch (the
 * NodePower of platform/NetnsPower.ts behind a unix socket): who asked to power off whom, and which
 * nodes are still alive once the survivor's fencer confirmed. A run counts as "exactly one
 * survivor" only if exactly one node was powered off and the other still runs.
 * Everything created (namespaces, routes, files, processes) is removed at the end, also on Ctrl-C.
 *
 * Usage: npm run bench:fence-race -w @ha/fencing [-- --runs N] [--variant priority|delay-base|delay-max|none]
 * Last line: `fence race: R runs, S exactly one survivor`.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Cause, Duration, Effect, Exit, Fiber, Layer } from "effect"
import { FenceNetns } from "../src/index.ts"
import { NetnsPower, NodeAgentProcess } from "../src/platform/node.ts"
import type { RaceNodeSettings } from "./raceNode.ts"

interface Variant {
  readonly describe: string
  readonly deviceAttributes: (node: string) => Record<string, string>
  readonly properties: Record<string, string>
  /** The node running the important resources in run `run`, if any. */
  readonly important: (run: number) => string | undefined
  /** The node that must survive run `run`, if the configuration decides it. */
  readonly winner: (run: number) => string | undefined
}

const variants: Record<string, Variant> = {
  priority: {
    describe:
      "priority-fencing-delay=2s (the important resources alternate between n1 and n2) + pcmk_delay_max=1s",
    deviceAttributes: () => ({ pcmk_delay_max: "1s" }),
    properties: { "priority-fencing-delay": "2s" },
    important: (run) => (run % 2 === 0 ? "n1" : "n2"),
    winner: (run) => (run % 2 === 0 ? "n1" : "n2")
  },
  "delay-base": {
    describe: "pcmk_delay_base=2s on the device that fences n1",
    deviceAttributes: (node) => (node === "n1" ? { pcmk_delay_base: "2s" } : {}),
    properties: {},
    important: () => undefined,
    winner: () => "n1"
  },
  "delay-max": {
    describe: "pcmk_delay_max=2s on both devices (random delays only)",
    deviceAttributes: () => ({ pcmk_delay_max: "2s" }),
    properties: {},
    important: () => undefined,
    winner: () => undefined
  },
  none: {
    describe: "no fencing delays",
    deviceAttributes: () => ({}),
    properties: {},
    important: () => undefined,
    winner: () => undefined
  }
}

const option = (name: string) => {
  const at = process.argv.indexOf(`--${name}`)
  return at < 0 ? undefined : process.argv[at + 1]
}
const runs = Number(option("runs") ?? 50)
const variantName = option("variant") ?? "priority"
const variant = variants[variantName]
if (variant === undefined || !Number.isInteger(runs) || runs < 1) {
  console.error(`usage: fenceRace.ts [--runs N] [--variant ${Object.keys(variants).join("|")}]`)
  process.exit(2)
}
if (process.getuid?.() !== 0) {
  console.error("fence race: needs root (network and pid namespaces)")
  process.exit(2)
}

const ip = (...args: Array<string>) => execFileSync("/usr/sbin/ip", args, { encoding: "utf8" })
const tryIp = (...args: Array<string>) => {
  try {
    ip(...args)
  } catch {}
}

// Every name derives from a per-run prefix (interface names are limited to 15 characters).
const prefix = `hfr${process.pid % 1000}`
const switchNs = `${prefix}sw`
const nodeNames = ["n1", "n2"] as const
const netnsOf = (node: string) => `${prefix}${node}`
const hostLink = (node: string, ring: number) => `${prefix}${node}r${ring}`
const octet = 200 + (process.pid % 50)
const subnets = [`10.${octet}.0.0/24`, `10.${octet}.1.0/24`]
const addressOf = (node: string, ring: number) => `10.${octet}.${ring}.${node === "n1" ? 11 : 12}`
const dir = mkdtempSync(join(tmpdir(), "ha-fence-race-"))
const packageDir = join(import.meta.dirname, "..")
const powerSocket = join(dir, "power.sock")
const settingsFile = join(dir, "race.json")
const logOf = (node: string) => join(dir, `${node}.log`)
const readyOf = (node: string) => join(dir, `${node}.ready`)
const addedRoutes: Array<string> = []

const powerConfig: FenceNetns.NodePowerConfig = {
  nodes: Object.fromEntries(
    nodeNames.map((node) => [
      node,
      {
        initPidFile: join(dir, `${node}.pid`),
        hostLinks: [hostLink(node, 0), hostLink(node, 1)],
        linksNetns: switchNs,
        boot: {
          command: join(packageDir, "bench", "boot-race-node.sh"),
          args: [
            netnsOf(node),
            join(dir, `${node}.pid`),
            logOf(node),
            `${addressOf(node, 0)}/24`,
            `${addressOf(node, 1)}/24`,
            packageDir,
            "--",
            process.execPath,
            "--conditions=source",
            "--import",
            "tsx",
            join(packageDir, "bench", "raceNode.ts"),
            node,
            settingsFile
          ]
        }
      }
    ])
  ),
  bootTimeoutMs: 20_000
}

const setUp = () => {
  // Blackhole the lab subnets in the root namespace, so nothing aimed at them can leave the machine.
  const routes = ip("route", "show", "type", "blackhole")
  for (const subnet of subnets) {
    if (routes.includes(subnet)) continue
    ip("route", "add", "blackhole", subnet)
    addedRoutes.push(subnet)
  }
  ip("netns", "add", switchNs)
  for (const ring of [0, 1]) {
    ip("-n", switchNs, "link", "add", `b${ring}`, "type", "bridge")
    ip("-n", switchNs, "link", "set", `b${ring}`, "up")
  }
  for (const node of nodeNames) {
    ip("netns", "add", netnsOf(node))
    ip("-n", netnsOf(node), "link", "set", "lo", "up")
    for (const ring of [0, 1]) {
      ip(
        "-n",
        switchNs,
        "link",
        "add",
        hostLink(node, ring),
        "type",
        "veth",
        "peer",
        "name",
        `eth${ring}`,
        "netns",
        netnsOf(node)
      )
      ip("-n", switchNs, "link", "set", hostLink(node, ring), "master", `b${ring}`)
      ip("-n", netnsOf(node), "link", "set", `eth${ring}`, "up")
    }
  }
}

const tearDown = () => {
  for (const node of nodeNames) tryIp("netns", "del", netnsOf(node))
  tryIp("netns", "del", switchNs)
  for (const subnet of addedRoutes) tryIp("route", "del", "blackhole", subnet)
  rmSync(dir, { recursive: true, force: true })
}

const settingsFor = (run: number): RaceNodeSettings => {
  const important = variant.important(run)
  return {
    nodes: Object.fromEntries(
      nodeNames.map((node) => [node, { rings: [addressOf(node, 0), addressOf(node, 1)] as const }])
    ),
    udpPort: 5405,
    heartbeatMs: 100,
    lossMs: 1000,
    powerSocket,
    readyFile: Object.fromEntries(nodeNames.map((node) => [node, readyOf(node)])),
    deviceAttributes: Object.fromEntries(nodeNames.map((node) => [node, variant.deviceAttributes(node)])),
    properties: variant.properties,
    priorities: important === undefined ? {} : { [important]: 10 }
  }
}

interface RunResult {
  readonly survivors: ReadonlyArray<string>
  readonly poweredOff: ReadonlyArray<string>
  /** From the cut to the power switch finishing the first off. */
  readonly fencedAfterMs: number | undefined
  readonly expected: string | undefined
  readonly detail: string
}

const waitUntil = (what: string, timeoutMs: number, check: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    const started = Date.now()
    while (!(yield* check)) {
      if (Date.now() - started > timeoutMs)
        return yield* Effect.fail(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep(Duration.millis(50))
    }
  })

const logLines = (node: string) => {
  try {
    return readFileSync(logOf(node), "utf8").trim().split("\n")
  } catch {
    return []
  }
}

const program = Effect.gen(function* () {
  const power = yield* FenceNetns.NodePower
  // Nodes still running at the end (an error, Ctrl-C) are powered off before their namespaces go.
  yield* Effect.addFinalizer(() =>
    Effect.forEach(nodeNames, (node) => Effect.ignore(power.off(node)), { discard: true })
  )
  const { journal } = yield* NetnsPower.serve(powerSocket)
  console.log(`fence race on namespace nodes, variant: ${variant.describe}; ${runs} runs`)

  const runOnce = (run: number) =>
    Effect.gen(function* () {
      const settings = settingsFor(run)
      writeFileSync(settingsFile, JSON.stringify(settings))
      for (const node of nodeNames) rmSync(readyOf(node), { force: true })
      yield* Effect.forEach(nodeNames, (node) => power.on(node), { concurrency: "unbounded", discard: true })
      yield* waitUntil(
        "both nodes to hear each other on both rings",
        60_000,
        Effect.sync(() => nodeNames.every((node) => existsSync(readyOf(node))))
      )
      const before = (yield* journal).length
      const cutAt = Date.now()
      for (const node of nodeNames)
        for (const ring of [0, 1]) ip("-n", switchNs, "link", "set", hostLink(node, ring), "down")
      const powerOffs = Effect.map(journal, (all) =>
        all
          .slice(before)
          .filter((e) => e.operation === "off" && e.result === "ok")
          .map((e) => e.node)
      )
      const confirmed = (node: string) => logLines(node).some((line) => line.includes('"event":"fenced"'))
      // Done when a node was powered off and the other one's fencer confirmed it (or both are off).
      yield* waitUntil(
        "the race to end",
        30_000,
        Effect.map(
          powerOffs,
          (offs) =>
            offs.length >= 2 || (offs.length === 1 && nodeNames.some((n) => n !== offs[0] && confirmed(n)))
        )
      ).pipe(Effect.ignore)
      // A late shot of the loser would show up here.
      yield* Effect.sleep(Duration.millis(500))
      const events = (yield* journal).slice(before)
      const survivors: Array<string> = []
      for (const node of nodeNames) if ((yield* power.status(node)) === "on") survivors.push(node)
      const firstOff = events.find((e) => e.operation === "off")
      const result: RunResult = {
        survivors,
        poweredOff: yield* powerOffs,
        fencedAfterMs: firstOff === undefined ? undefined : firstOff.doneAt - cutAt,
        expected: variant.winner(run),
        detail: [
          ...events.map((e) => `switch: ${e.operation} ${e.node} asked by ${e.by}: ${e.result}`),
          ...nodeNames.flatMap((node) => logLines(node).map((line) => `${node}: ${line}`))
        ].join("\n")
      }
      yield* Effect.forEach(nodeNames, (node) => power.off(node), { concurrency: "unbounded", discard: true })
      return result
    })

  let exactlyOne = 0
  let bothFenced = 0
  let expectedWinner = 0
  let decided = 0
  const fencedAfter: Array<number> = []
  for (let run = 0; run < runs; run++) {
    const result = yield* runOnce(run)
    const one = result.survivors.length === 1 && result.poweredOff.length === 1
    if (one) exactlyOne++
    if (result.survivors.length === 0) bothFenced++
    const asExpected = result.expected === undefined || (one && result.survivors[0] === result.expected)
    if (result.expected !== undefined) decided++
    if (result.expected !== undefined && asExpected) expectedWinner++
    if (result.fencedAfterMs !== undefined) fencedAfter.push(result.fencedAfterMs)
    const line = `run ${run + 1}: survivors [${result.survivors.join(", ")}], powered off [${result.poweredOff.join(", ")}]${result.expected === undefined ? "" : ` (expected survivor ${result.expected})`}, first off ${result.fencedAfterMs ?? "-"} ms after the cut`
    console.log(line)
    if (!one || !asExpected) console.log(result.detail)
  }
  fencedAfter.sort((a, b) => a - b)
  const median = fencedAfter[Math.floor(fencedAfter.length / 2)]
  console.log(
    `${variantName}: ${runs} runs, ${exactlyOne} exactly one survivor, ${bothFenced} both fenced, ` +
      (decided > 0 ? `${expectedWinner} of ${decided} won by the expected node; ` : "") +
      `cut → first power-off median ${median ?? "-"} ms, ` +
      `max ${fencedAfter[fencedAfter.length - 1] ?? "-"} ms`
  )
  console.log(`fence race: ${runs} runs, ${exactlyOne} exactly one survivor`)
})

const main = Effect.scoped(program).pipe(
  Effect.provide(NetnsPower.layer(powerConfig).pipe(Layer.provide(NodeAgentProcess.layer))),
  Effect.ensuring(Effect.sync(tearDown))
)

try {
  setUp()
} catch (error) {
  tearDown()
  throw error
}
const fiber = Effect.runFork(main)
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => Effect.runFork(Fiber.interrupt(fiber)))
Effect.runPromise(Fiber.await(fiber)).then((exit) => {
  if (Exit.isSuccess(exit)) return
  console.error(
    Exit.isInterrupted(exit)
      ? "fence race: interrupted (cleaned up)"
      : `fence race failed: ${Cause.pretty(exit.cause)}`
  )
  process.exitCode = 1
})
