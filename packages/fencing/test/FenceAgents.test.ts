import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { AgentProcess, FenceAgent, FenceAgents } from "../src/index.ts"
import { layer as processLayer } from "../src/platform/NodeAgentProcess.ts"

const dummy = "/usr/sbin/fence_dummy"
const hasDummy = existsSync(dummy)
const testdata = join(import.meta.dirname, "..", "testdata")

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return !/\) [ZX] /.test(stat)
  } catch {
    return false
  }
}

describe("fence-agents protocol", () => {
  it("writes action first and drops values that would smuggle in keys", () => {
    expect(FenceAgents.stdinOf("off", { plug: "n1", status_file: "/x" })).toBe(
      "action=off\nplug=n1\nstatus_file=/x\n"
    )
    expect(FenceAgents.stdinOf("off", { evil: "x\naction=on", action: "on" })).toBe("action=off\n")
  })

  it("reads list output as ports and aliases", () => {
    expect(FenceAgent.parseList("1,node1\n2,node2\n\nN/A\n")).toEqual(["1", "node1", "2", "node2"])
  })
})

describe.skipIf(!hasDummy)("Debian's fence_dummy through the fence-agents class", () => {
  const dir = mkdtempSync(join(tmpdir(), "ha-fencing-"))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const statusFile = join(dir, "power")
  const params = { status_file: statusFile, nodename: "n1" }
  const agent = FenceAgents.make(dummy).pipe(Effect.provide(processLayer), Effect.orDie)
  const run = (action: string, timeoutMs = 20_000) =>
    Effect.flatMap(agent, (a) => a.run({ action, params, timeoutMs }))

  it.live("reads its meta-data: actions, and no port parameter", () =>
    Effect.gen(function* () {
      const a = yield* agent
      expect(a.agentClass).toBe("fence-agents")
      expect(a.info.actions).toEqual(expect.arrayContaining(["on", "off", "reboot", "status", "monitor"]))
      expect(a.info.actions).not.toContain("list")
      expect(a.info.hostParameter).toBeUndefined()
      expect(a.info.parameters).toContain("status_file")
    })
  )

  it.live("powers on and off; status answers 0 for on and 2 for off", () =>
    Effect.gen(function* () {
      const on = yield* run("on")
      expect(on).toMatchObject({ _tag: "Exited", code: 0 })
      expect(readFileSync(statusFile, "utf8")).toBe("on")
      expect(FenceAgent.powerStatus(yield* run("status"))).toBe("on")
      const off = yield* run("off")
      expect(FenceAgent.succeeded(off)).toBe(true)
      expect(readFileSync(statusFile, "utf8")).toBe("off")
      const status = yield* run("status")
      expect(status).toMatchObject({ _tag: "Exited", code: 2 })
      expect(FenceAgent.powerStatus(status)).toBe("off")
      expect(FenceAgent.succeeded(yield* run("monitor"))).toBe(true)
      const reboot = yield* run("reboot")
      expect(FenceAgent.succeeded(reboot)).toBe(true)
      expect(readFileSync(statusFile, "utf8")).toBe("on")
    })
  )

  it.live("reports a failing action as a failure (type=fail cannot list)", () =>
    Effect.gen(function* () {
      const a = yield* agent
      const outcome = yield* a.run({ action: "list", params: { type: "fail" }, timeoutMs: 20_000 })
      expect(outcome).toMatchObject({ _tag: "Exited", code: 1 })
      expect(FenceAgent.succeeded(outcome)).toBe(false)
    })
  )

  it.live("kills an agent at its timeout and reports TimedOut, never success", () =>
    Effect.gen(function* () {
      // fence_dummy honours delay= before off: 30 s, far past the 1.5 s timeout.
      const a = yield* agent
      const outcome = yield* a.run({ action: "off", params: { ...params, delay: "30" }, timeoutMs: 1500 })
      expect(outcome._tag).toBe("TimedOut")
      expect(FenceAgent.succeeded(outcome)).toBe(false)
      expect(readFileSync(statusFile, "utf8")).toBe("on")
    })
  )

  it.live("kills the agent's whole process group at the timeout", () =>
    Effect.gen(function* () {
      const pidfile = join(dir, "helper.pid")
      const result = yield* Effect.flatMap(AgentProcess.AgentProcess, (p) =>
        p.run({
          command: join(testdata, "fence_hang"),
          args: [],
          stdin: FenceAgents.stdinOf("off", { pidfile }),
          env: {},
          timeoutMs: 1000,
          outputCapBytes: 1024
        })
      ).pipe(Effect.provide(processLayer))
      expect(result._tag).toBe("TimedOut")
      const helper = Number(readFileSync(pidfile, "utf8").trim())
      expect(helper).toBeGreaterThan(1)
      yield* Effect.sleep("200 millis")
      expect(alive(helper)).toBe(false)
    })
  )

  it.live("an unknown agent is a typed error at configuration time", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flatMap(FenceAgent.AgentRegistry, (r) =>
        r.get("fence_nonexistent", "fence-x", "/cib/configuration/resources/primitive[@id='fence-x']")
      ).pipe(Effect.provide(FenceAgents.layerRegistry().pipe(Layer.provide(processLayer))), Effect.flip)
      expect(error._tag).toBe("UnknownAgentError")
      expect(error.message).toContain("fence_nonexistent")
      expect(error.message).toContain("primitive[@id='fence-x']")
      const bad = yield* Effect.flatMap(FenceAgent.AgentRegistry, (r) =>
        r.get("../bin/sh", "fence-y", "here")
      ).pipe(Effect.provide(FenceAgents.layerRegistry().pipe(Layer.provide(processLayer))), Effect.flip)
      expect(bad._tag).toBe("UnknownAgentError")
    })
  )

  it.live("a fence_* program without usable meta-data is refused with the reason", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flatMap(FenceAgent.AgentRegistry, (r) =>
        r.get("fence_broken", "fence-b", "here")
      ).pipe(
        Effect.provide(FenceAgents.layerRegistry({ directory: testdata }).pipe(Layer.provide(processLayer))),
        Effect.flip
      )
      expect(error.message).toContain("which is not usable: action=metadata did not succeed (exit code 1)")
    })
  )
})
