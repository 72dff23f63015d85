/**
 * fence-netns against a real namespace node this test creates: a netns with one veth link (its
 * host side named <ns>h0; no addresses anywhere, so no traffic can go anywhere) and a long-lived
 * init in new pid + mount namespaces (testdata/boot-netns-node.sh). Everything is removed in
 * afterAll, whatever happened.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Random } from "effect"
import {
  ClusterPort,
  FenceAgent,
  FenceAgents,
  FenceNetns,
  FencerService,
  FencingConfig,
  FencingSettings
} from "../src/index.ts"
import { layerRemote, layer as powerLayer, serve } from "../src/platform/NetnsPower.ts"
import { layer as processLayer } from "../src/platform/NodeAgentProcess.ts"
import { cibOf, level, stonith } from "./cib.ts"

const canRun = (() => {
  try {
    return process.getuid?.() === 0 && execFileSync("/usr/sbin/ip", ["netns", "list"]) !== undefined
  } catch {
    return false
  }
})()

const ns = `hafn${process.pid % 100000}`
const hostLink = `${ns}h0`
const dir = join(tmpdir(), `ha-fence-netns-${process.pid}`)
const pidFile = join(dir, "init.pid")
const boot = join(import.meta.dirname, "..", "testdata", "boot-netns-node.sh")

const ip = (...args: Array<string>) => execFileSync("/usr/sbin/ip", args, { encoding: "utf8" })
const linkState = () => (/state (\w+)/.exec(ip("-o", "link", "show", hostLink))?.[1] ?? "?") as string
const adminUp = () => /[<,]UP[,>]/.test(ip("-o", "link", "show", hostLink))

/** Host pids of every process in the pid namespace of `init`. */
const processesOfNode = (init: number): Array<number> => {
  let nsLink: string
  try {
    nsLink = readlinkSync(`/proc/${init}/ns/pid`)
  } catch {
    return []
  }
  return readdirSync("/proc")
    .filter((name) => /^[0-9]+$/.test(name))
    .filter((pid) => {
      try {
        return (
          readlinkSync(`/proc/${pid}/ns/pid`) === nsLink &&
          !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
        )
      } catch {
        return false
      }
    })
    .map(Number)
}

const initPid = () => Number(readFileSync(pidFile, "utf8").trim())

const config: FenceNetns.NodePowerConfig = {
  nodes: {
    [ns]: { initPidFile: pidFile, hostLinks: [hostLink], boot: { command: boot, args: [ns, pidFile] } }
  },
  bootTimeoutMs: 10_000
}
const agent = Effect.map(FenceNetns.NodePower, FenceNetns.make).pipe(
  Effect.provide(powerLayer(config).pipe(Layer.provide(processLayer)))
)
const run = (action: string, params: Record<string, string> = { plug: ns }) =>
  Effect.flatMap(agent, (a) => a.run({ action, params, timeoutMs: 15_000 }))

describe.skipIf(!canRun)("fence-netns on a real namespace node", () => {
  beforeAll(() => {
    mkdirSync(dir, { recursive: true })
    // A leftover of a crashed run with the same name would make `add` fail.
    if (
      ip("netns", "list")
        .split("\n")
        .some((line) => line.split(" ")[0] === ns)
    )
      ip("netns", "del", ns)
    ip("netns", "add", ns)
    ip("link", "add", hostLink, "type", "veth", "peer", "name", "eth0", "netns", ns)
    ip("-n", ns, "link", "set", "lo", "up")
    ip("-n", ns, "link", "set", "eth0", "up")
  })

  afterAll(() => {
    try {
      const pid = initPid()
      if (processesOfNode(pid).length > 0) process.kill(pid, "SIGKILL")
    } catch {}
    try {
      ip("link", "del", hostLink)
    } catch {}
    try {
      ip("netns", "del", ns)
    } catch {}
    rmSync(dir, { recursive: true, force: true })
  })

  it.live("powers the node on: a live init in its own pid namespace, link up", () =>
    Effect.gen(function* () {
      expect(FenceAgent.powerStatus(yield* run("status"))).toBe("off")
      const on = yield* run("on")
      expect(on).toMatchObject({ _tag: "Exited", code: 0 })
      expect(FenceAgent.powerStatus(yield* run("status"))).toBe("on")
      expect(processesOfNode(initPid()).length).toBe(2)
      expect(adminUp()).toBe(true)
      const list = yield* run("list", {})
      expect(list._tag === "Exited" && FenceAgent.parseList(list.stdout)).toEqual([ns])
    })
  )

  it.live("powers it off for real: every process of the node killed, host-side link down", () =>
    Effect.gen(function* () {
      const before = initPid()
      const victims = processesOfNode(before)
      expect(victims.length).toBe(2)
      const off = yield* run("off")
      expect(FenceAgent.succeeded(off)).toBe(true)
      expect(processesOfNode(before)).toEqual([])
      for (const pid of victims) expect(() => readFileSync(`/proc/${pid}/stat`, "utf8")).toThrow()
      expect(adminUp()).toBe(false)
      expect(linkState()).toBe("DOWN")
      const status = yield* run("status")
      expect(status).toMatchObject({ _tag: "Exited", code: 2 })
    })
  )

  it.live("reboot boots a fresh node", () =>
    Effect.gen(function* () {
      yield* run("on")
      const first = initPid()
      const reboot = yield* run("reboot")
      expect(FenceAgent.succeeded(reboot)).toBe(true)
      const second = initPid()
      expect(second).not.toBe(first)
      expect(processesOfNode(first)).toEqual([])
      expect(processesOfNode(second).length).toBe(2)
      expect(adminUp()).toBe(true)
    })
  )

  it.live("refuses an unknown node, and a pid file that does not name a namespace init", () =>
    Effect.gen(function* () {
      const unknown = yield* run("off", { plug: "not-a-node" })
      expect(unknown).toMatchObject({ _tag: "Exited", code: 1 })
      const bogus = join(dir, "bogus.pid")
      execFileSync("/bin/sh", ["-c", `echo ${process.pid} > ${bogus}`])
      const wrong = Effect.map(FenceNetns.NodePower, FenceNetns.make).pipe(
        Effect.provide(
          powerLayer({
            nodes: { x: { initPidFile: bogus, hostLinks: [], boot: { command: "/bin/false", args: [] } } },
            bootTimeoutMs: 1000
          }).pipe(Layer.provide(processLayer))
        )
      )
      const outcome = yield* Effect.flatMap(wrong, (a) =>
        a.run({ action: "off", params: { plug: "x" }, timeoutMs: 5000 })
      )
      expect(outcome).toMatchObject({ _tag: "Exited", code: 1 })
      expect(outcome._tag === "Exited" && outcome.stderr).toContain(
        "not the init of a separate pid namespace"
      )
    })
  )

  it.live("through the power switch on a unix socket: the journal says who asked for what", () =>
    Effect.scoped(
      Effect.gen(function* () {
        yield* run("on")
        const victims = processesOfNode(initPid())
        const socketPath = join(dir, "power.sock")
        const { journal } = yield* serve(socketPath).pipe(
          Effect.provide(powerLayer(config).pipe(Layer.provide(processLayer)))
        )
        const remote = yield* Effect.provide(
          FenceNetns.NodePower,
          layerRemote({ socketPath, nodes: [ns], requester: "peer" })
        )
        const agentThere = FenceNetns.make(remote)
        const status = yield* agentThere.run({ action: "status", params: { plug: ns }, timeoutMs: 10_000 })
        expect(FenceAgent.powerStatus(status)).toBe("on")
        const off = yield* agentThere.run({ action: "off", params: { plug: ns }, timeoutMs: 10_000 })
        expect(FenceAgent.succeeded(off)).toBe(true)
        expect(processesOfNode(victims[0]!)).toEqual([])
        const unknown = yield* agentThere.run({
          action: "off",
          params: { plug: "elsewhere" },
          timeoutMs: 10_000
        })
        expect(unknown).toMatchObject({ _tag: "Exited", code: 1 })
        expect((yield* journal).map((e) => `${e.operation} ${e.node} by ${e.by}: ${e.result}`)).toEqual([
          `status ${ns} by peer: ok on`,
          `off ${ns} by peer: ok`
        ])
      })
    )
  )

  it.live(
    "the fencer fences the node through its topology: real fence_dummy times out at level 1, fence-netns at level 2",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          yield* run("on")
          const victims = processesOfNode(initPid())
          expect(victims.length).toBe(2)
          const cib = cibOf({
            nodes: ["h1", ns],
            resources: [
              // fence_dummy waits `delay` seconds before acting: far past its 1 s timeout.
              stonith("dummy", "fence_dummy", {
                delay: "30",
                pcmk_host_list: ns,
                pcmk_off_timeout: "1s",
                pcmk_off_retries: "0"
              }),
              stonith("power", "fence-netns", { pcmk_host_list: ns })
            ],
            levels: [level("l1", 1, ns, ["dummy"]), level("l2", 2, ns, ["power"])],
            properties: { "stonith-action": "off" }
          })
          const power = yield* Effect.provide(
            FenceNetns.NodePower,
            powerLayer(config).pipe(Layer.provide(processLayer))
          )
          const registry = FenceAgents.layerRegistry({ natives: [FenceNetns.make(power)] }).pipe(
            Layer.provide(processLayer)
          )
          const fencingConfig = yield* FencingConfig.load(cib).pipe(Effect.provide(registry))
          const cluster = yield* ClusterPort.makeMemoryCluster(["h1", ns])
          const context = yield* Layer.build(
            FencerService.layer(fencingConfig).pipe(
              Layer.provide(
                Layer.mergeAll(
                  Layer.succeed(ClusterPort.ClusterPort, cluster.port("h1")),
                  registry,
                  FencingSettings.FencingSettings.layer({ tickMs: 50 })
                )
              )
            )
          ).pipe(Effect.withRandom(Random.make(1)))
          const fencer = Context.get(context, FencerService.FencerService)
          const result = yield* fencer.fence(ns)
          expect(result).toMatchObject({ executor: "h1", devices: ["power"], manual: false })
          expect(processesOfNode(victims[0]!)).toEqual([])
          expect(adminUp()).toBe(false)
          const history = yield* fencer.history(ns)
          expect(history).toHaveLength(1)
          expect(history[0]!.state).toBe("succeeded")
          expect(history[0]!.reason).toContain("dummy off: timed out after")
          expect(yield* fencer.isSafelyDown(ns, 0)).toBe(true)
        })
      )
  )
})
