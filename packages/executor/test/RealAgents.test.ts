import { existsSync, readFileSync, rmSync, unlinkSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Queue, Schedule } from "effect"
import { ExecStatus, Ocf } from "../src/ExitCode.ts"
import * as ForkServer from "../src/ForkServer.ts"
import { AgentRegistry, Digest, Executor, Metadata } from "../src/index.ts"
import * as NodeProcessRunner from "../src/NodeProcessRunner.ts"
import { live, tempDir, testdata } from "./layers.ts"

const dir = tempDir("real")
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const dummy = { class: "ocf", provider: "pacemaker", type: "Dummy" } as const
const stateful = { class: "ocf", provider: "pacemaker", type: "Stateful" } as const
const hatest = (type: string) => ({ class: "ocf", provider: "hatest", type }) as const

const real = live({ resourceTmpDir: dir })
const testdataSettings = { ocfRoot: `${testdata}ocf`, lsbRoot: `${testdata}init.d`, killGraceMs: 300 }

/** Whether a process is gone (or a zombie nobody reaps: it no longer runs). */
const gone = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z")
  } catch {
    return true
  }
}

describe("ocf:pacemaker:Dummy and Stateful, the real agents", () => {
  it.live("parses the real meta-data and validates parameters against it", () =>
    Effect.gen(function* () {
      const registry = yield* AgentRegistry.AgentRegistry
      const agent = yield* registry.resolve(dummy)
      const meta = yield* agent.metadata
      expect(meta.name).toBe("Dummy")
      expect(meta.parameters.map((p) => p.name)).toEqual(
        expect.arrayContaining(["state", "fake", "op_sleep", "fail_start_on"])
      )
      expect(meta.actions.find((a) => a.name === "monitor")).toMatchObject({
        timeoutMs: 20_000,
        intervalMs: 10_000
      })
      expect(Metadata.validateParameters(meta, { state: "/x", fake: "y" })).toEqual([])
      expect(Metadata.validateParameters(meta, { sate: "/x" }).map((i) => i._tag)).toEqual([
        "UnknownParameter"
      ])
      const ipMeta = yield* (yield* registry.resolve({
        class: "ocf",
        provider: "heartbeat",
        type: "IPaddr2"
      })).metadata
      expect(Metadata.validateParameters(ipMeta, {}).map((i) => [i._tag, i.name])).toEqual([
        ["MissingRequiredParameter", "ip"]
      ])
    }).pipe(Effect.provide(real))
  )

  it.live("runs the whole action set, with rc 7 before start and after stop", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const params = { state: join(dir, "dummy.state") }
      const op = (operation: Parameters<typeof executor.execute>[0]["operation"], meta = {}) =>
        executor.execute({ resource: "d1", agent: dummy, operation, params, meta, timeoutMs: 20_000 })
      const results: Array<[string, number, number]> = []
      for (const action of [
        "validate-all",
        "monitor",
        "start",
        "monitor",
        "reload",
        "reload-agent",
        "migrate_to",
        "migrate_from",
        "notify",
        "stop",
        "monitor"
      ] as const) {
        const record = yield* op(action, { migrate_target: "node2", migrate_source: "node1" })
        results.push([action, record.rcCode, record.opStatus])
      }
      expect(results).toEqual([
        ["validate-all", Ocf.ok, 0],
        ["monitor", Ocf.notRunning, 0],
        ["start", Ocf.ok, 0],
        ["monitor", Ocf.ok, 0],
        ["reload", Ocf.ok, 0],
        ["reload-agent", Ocf.ok, 0],
        ["migrate_to", Ocf.ok, 0],
        ["migrate_from", Ocf.ok, 0],
        ["notify", Ocf.unimplementedFeature, 0],
        ["stop", Ocf.ok, 0],
        ["monitor", Ocf.notRunning, 0]
      ])
      const history = yield* executor.history
      expect(history.find((r) => r.id === "d1_start_0")).toMatchObject({ onNode: "node1", interval: 0 })
      // Dummy (OCF 1.1) can reload everything but `state`, and calls `passwd` a secret, as Pacemaker records it
      const start = history.find((r) => r.id === "d1_start_0")!
      expect(start.opForceRestart).toEqual(["state"])
      expect(start.opRestartDigest).toBe(Digest.restartDigest(params, ["state"]))
      expect(start.opRestartDigest).not.toBe(Digest.restartDigest({ state: "/elsewhere" }, ["state"]))
      expect(start.opSecureParams).toEqual(["passwd"])
      expect(start.opSecureDigest).toBe(start.opDigest)
      expect(history.map((r) => r.callId)).toEqual([...history.map((r) => r.callId)].sort((a, b) => a - b))
    }).pipe(Effect.provide(real))
  )

  it.live("promotes and demotes Stateful, whose monitor then says 8 and 0", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const params = { state: join(dir, "stateful.state") }
      const meta = { clone: "0", "clone-max": "2", "promoted-max": "1", promotable: "true" }
      const op = (operation: "start" | "promote" | "demote" | "monitor" | "stop") =>
        executor
          .execute({ resource: "s:0", agent: stateful, operation, params, meta })
          .pipe(Effect.map((r) => r.rcCode))
      const rcs = []
      for (const action of ["start", "monitor", "promote", "monitor", "demote", "monitor", "stop"] as const) {
        rcs.push(yield* op(action))
      }
      expect(rcs).toEqual([0, 0, 0, Ocf.runningPromoted, 0, 0, 0])
    }).pipe(Effect.provide(real))
  )

  it.live("kills a Dummy that sleeps past its timeout and reports op-status 2", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const params = { state: join(dir, "slow.state"), op_sleep: "30" }
      const record = yield* executor.execute({
        resource: "slow",
        agent: dummy,
        operation: "monitor",
        params,
        timeoutMs: 1000
      })
      expect(record).toMatchObject({ opStatus: ExecStatus.timeout, rcCode: Ocf.error })
      expect(record.exitReason).toMatch(/timed out after 1000 ms; process group killed with SIGTERM/)
    }).pipe(Effect.provide(real))
  )

  it.live("runs recurring monitors of a real agent and reports when the rc changes", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const records = yield* executor.subscribe
      const state = join(dir, "watched.state")
      yield* executor.define({
        resource: "w",
        agent: dummy,
        params: { state },
        monitors: [{ intervalMs: 200 }]
      })
      expect(
        (yield* executor.execute({ resource: "w", agent: dummy, operation: "start", params: { state } }))
          .rcCode
      ).toBe(0)
      expect((yield* Queue.take(records)).operation).toBe("start")
      const first = yield* Queue.take(records)
      expect([first.operation, first.interval, first.rcCode]).toEqual(["monitor", 200, Ocf.ok])
      unlinkSync(state)
      const changed = yield* Queue.take(records)
      expect([changed.operation, changed.interval, changed.rcCode]).toEqual(["monitor", 200, Ocf.notRunning])
      expect(changed.callId).toBeGreaterThan(first.callId)
      yield* executor.forget("w")
    }).pipe(Effect.scoped, Effect.provide(real))
  )
})

// Both live runners must behave the same: forking from the daemon, and from the fork server.
describe.each([
  ["node:child_process", NodeProcessRunner.layer],
  ["fork server", ForkServer.layer]
])("agents from testdata (%s)", (_runner, runner) => {
  const fromTestdata = live(testdataSettings, runner)

  it.live("passes parameters and meta-attributes only through the environment, never a shell", () =>
    Effect.gen(function* () {
      const registry = yield* AgentRegistry.AgentRegistry
      const agent = yield* registry.resolve(hatest("Env"))
      const marker = join(dir, "injected")
      const result = yield* agent.execute({
        resource: "vip:1",
        action: "start",
        params: { ip: "10.0.0.1", evil: `$(touch ${marker}); touch ${marker}` },
        meta: { "clone-max": "2", notify_type: "pre", notify_operation: "start" },
        intervalMs: 0,
        timeoutMs: 5000
      })
      const env = Object.fromEntries(
        result.stdout
          .trim()
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)])
      )
      expect(env).toMatchObject({
        ARGS: "start",
        OCF_ROOT: `${testdata}ocf`,
        OCF_RA_VERSION_MAJOR: "1",
        OCF_RA_VERSION_MINOR: "1",
        OCF_RESOURCE_INSTANCE: "vip:1",
        OCF_RESOURCE_TYPE: "Env",
        OCF_RESOURCE_PROVIDER: "hatest",
        OCF_RESKEY_ip: "10.0.0.1",
        OCF_RESKEY_CRM_meta_name: "start",
        OCF_RESKEY_CRM_meta_interval: "0",
        OCF_RESKEY_CRM_meta_timeout: "5000",
        OCF_RESKEY_CRM_meta_clone_max: "2",
        OCF_RESKEY_CRM_meta_notify_type: "pre",
        OCF_RESKEY_CRM_meta_notify_operation: "start",
        OCF_RESKEY_CRM_meta_on_node: "node1"
      })
      expect(env.HOME).toBeUndefined()
      expect(env.OCF_RESKEY_evil).toBe(`$(touch ${marker}); touch ${marker}`)
      expect(existsSync(marker)).toBe(false)
      const refused = yield* Effect.flip(
        agent.execute({
          resource: "x",
          action: "start",
          params: { "a=b": "1" },
          meta: {},
          intervalMs: 0,
          timeoutMs: 5000
        })
      )
      expect(refused.message).toContain('parameter "a=b"')
    }).pipe(Effect.provide(fromTestdata))
  )

  it.live("kills a hung agent that ignores SIGTERM, with its children, at the timeout", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const pidfile = join(dir, "hang.pid")
      const record = yield* executor.execute({
        resource: "h",
        agent: hatest("Hang"),
        operation: "start",
        params: { pidfile },
        timeoutMs: 500
      })
      expect(record).toMatchObject({ opStatus: ExecStatus.timeout, rcCode: Ocf.error })
      expect(record.exitReason).toContain("killed with SIGKILL")
      const child = Number(readFileSync(pidfile, "utf8"))
      // The orphaned child is killed with the group; poll until the kernel has delivered it.
      yield* Effect.sync(() => gone(child)).pipe(
        Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("10 millis"), times: 100 })
      )
      expect(gone(child)).toBe(true)
    }).pipe(Effect.provide(fromTestdata))
  )

  it.live("keeps only a capped part of an agent that prints megabytes, and still finds its exit reason", () =>
    Effect.gen(function* () {
      const registry = yield* AgentRegistry.AgentRegistry
      const agent = yield* registry.resolve(hatest("Chatty"))
      const result = yield* agent.execute({
        resource: "c",
        action: "start",
        params: { megabytes: "16" },
        meta: {},
        intervalMs: 0,
        timeoutMs: 30_000
      })
      expect(result.rc).toBe(Ocf.error)
      expect(result.exitReason).toBe("printed 16 MiB")
      expect(result.stdout.length).toBeLessThan(80 * 1024)
      expect(result.stderr.length).toBeLessThan(80 * 1024)
      expect(result.droppedBytes).toBeGreaterThan(2 * 16 * 1024 * 1024 - 2 * 80 * 1024)
    }).pipe(Effect.provide(fromTestdata))
  )

  it.live("gives a typed error for a missing or non-executable agent, and a 'not installed' record", () =>
    Effect.gen(function* () {
      const registry = yield* AgentRegistry.AgentRegistry
      const request = {
        resource: "n",
        action: "start",
        params: {},
        meta: {},
        intervalMs: 0,
        timeoutMs: 5000
      } as const
      const missing = yield* Effect.flip((yield* registry.resolve(hatest("Nope"))).execute(request))
      expect(missing).toMatchObject({ _tag: "AgentNotInstalled", reason: "NotFound" })
      expect(missing.message).toContain("resource.d/hatest/Nope does not exist")
      const notExecutable = yield* Effect.flip(
        (yield* registry.resolve(hatest("NotExecutable"))).execute(request)
      )
      expect(notExecutable).toMatchObject({ _tag: "AgentNotInstalled", reason: "NotExecutable" })
      const traversal = yield* Effect.flip(registry.resolve({ class: "ocf", provider: "..", type: "x" }))
      expect(traversal.reason).toBe("InvalidName")
      const executor = yield* Executor.Executor
      const record = yield* executor.execute({ resource: "n", agent: hatest("Nope"), operation: "start" })
      expect(record).toMatchObject({ rcCode: Ocf.notInstalled, opStatus: ExecStatus.notInstalled })
    }).pipe(Effect.provide(fromTestdata))
  )

  it.live("lists agents of each class", () =>
    Effect.gen(function* () {
      const registry = yield* AgentRegistry.AgentRegistry
      const ocf = (yield* registry.list("ocf")).map((r) => `${r.provider}:${r.type}`)
      expect(ocf).toEqual(["hatest:Chatty", "hatest:Env", "hatest:Hang", "hatest:Trivial"])
      expect((yield* registry.list("lsb")).map((r) => r.type)).toEqual(["fakesvc"])
    }).pipe(Effect.provide(fromTestdata))
  )

  it.live("lists the installed OCF agents", () =>
    Effect.gen(function* () {
      const registry = yield* AgentRegistry.AgentRegistry
      const ocf = (yield* registry.list("ocf")).map((r) => `${r.provider}:${r.type}`)
      expect(ocf).toEqual(
        expect.arrayContaining(["heartbeat:IPaddr2", "heartbeat:Filesystem", "pacemaker:Dummy"])
      )
    }).pipe(Effect.provide(real))
  )

  it.live("runs an LSB init script, mapping status 3 to 7", () =>
    Effect.gen(function* () {
      const state = "/tmp/ha-executor-fakesvc.state"
      rmSync(state, { force: true })
      const executor = yield* Executor.Executor
      const agent = { class: "lsb", type: "fakesvc" } as const
      const rcs = []
      for (const operation of ["monitor", "start", "monitor", "stop", "monitor"] as const) {
        rcs.push((yield* executor.execute({ resource: "svc", agent, operation })).rcCode)
      }
      expect(rcs).toEqual([7, 0, 0, 0, 7])
      const meta = yield* (yield* (yield* AgentRegistry.AgentRegistry).resolve(agent)).metadata
      expect(meta.shortdesc).toBe("A fake service for tests")
    }).pipe(Effect.provide(fromTestdata))
  )

  it.live.skipIf(existsSync("/run/systemd/system"))(
    "reports systemd units as 'not connected' where no systemd runs",
    () =>
      Effect.gen(function* () {
        const executor = yield* Executor.Executor
        const record = yield* executor.execute({
          resource: "cron",
          agent: { class: "systemd", type: "cron" },
          operation: "monitor"
        })
        expect(record.opStatus).toBe(ExecStatus.notConnected)
        expect(record.exitReason).toMatch(/systemd|bus/)
        const units = yield* (yield* AgentRegistry.AgentRegistry).list("systemd")
        expect(units.length).toBeGreaterThan(0)
      }).pipe(Effect.provide(real))
  )
})
