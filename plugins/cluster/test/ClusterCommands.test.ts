/**
 * `ha status|apply|resource|node|fence|log` against a live two-node cluster in this process (the
 * daemon's TestCluster: complete nodes with scripted agents), its API served on a real unix socket
 * as the daemon serves it: what each command prints, its --json, and its exit code.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Testing } from "@ha/cli"
import { NodeApi, TestCluster } from "@ha/daemon"
import { Effect, Exit, Scope } from "effect"
import plugin from "../src/index.ts"

const plugins = Testing.withPlugin(plugin, "@ha/plugin-cluster")
const root = mkdtempSync(join(tmpdir(), "ha-cluster-commands-"))
const socket = join(root, "api.sock")
const config = new URL("../../../apps/daemon/testdata/methods/cluster.yaml", import.meta.url).pathname
const scope = Effect.runSync(Scope.make())

/** `ha ARGS… --socket SOCKET` in-process; what it printed and its exit code. */
const ha = (...args: Array<string>) => Testing.run([...args, "--socket", socket], plugins)

const statusJson = async () => JSON.parse((await ha("status", "--json")).stdout)
const where = (
  status: { resources: Array<{ resource: string; running: Array<{ node: string }> }> },
  rsc: string
) => status.resources.find((r) => r.resource === rsc)?.running.map((p) => p.node) ?? []

beforeAll(async () => {
  await Effect.runPromise(
    Effect.gen(function* () {
      const cluster = yield* TestCluster.make({
        cluster: "cli",
        nodes: ["alpha", "beta"],
        agentTypes: ["IPaddr2", "Dummy"]
      })
      yield* NodeApi.serve(cluster.nodes[0]!.methods, { path: socket, mode: 0o600 })
      // ready once both nodes are online in the CIB and the DC has nothing left to do
      for (;;) {
        const waited = yield* NodeApi.call(socket, "transition.wait", { timeoutMs: 1000 }).pipe(Effect.orDie)
        const status = (yield* NodeApi.call(socket, "status", {}).pipe(Effect.orDie)) as {
          nodes: Array<{ state: string }>
        }
        const online = status.nodes.filter((n) => n.state === "online").length
        if ((waited as { settled: boolean }).settled && online === 2) return
        yield* Effect.sleep("100 millis")
      }
    }).pipe(Scope.extend(scope))
  )
}, 60_000)

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(root, { recursive: true, force: true })
})

describe("ha apply", () => {
  it("shows the plan and does nothing unless told yes; a bad file is refused with its line", async () => {
    const asked = await ha("apply", config)
    expect(asked.stdout).toContain(`Changes to the configuration (CIB `)
    expect(asked.stdout).toMatch(/^ {2}Start vip /m)
    expect(asked.stderr).toBe("ha: not applied: nobody to ask (stdin is not a terminal); add --yes to apply")
    expect(asked.code).toBe(2)
    const bad = join(root, "bad.yaml")
    writeFileSync(bad, "resources:\n  vip:\n    agnt: ocf:heartbeat:IPaddr2\n")
    const refused = await ha("apply", bad, "--yes")
    expect(refused.code).toBe(3)
    expect(refused.stderr).toMatch(new RegExp(`^ha: .*${bad}:3:`))
  })

  it("applies with --yes and waits until the cluster has carried it out", async () => {
    const applied = await ha("apply", config, "--yes")
    expect(applied.stderr).toBe("")
    expect(applied.code).toBe(0)
    expect(applied.stdout).toMatch(/^applied: the CIB is now at \d+\.\d+\.\d+$/m)
    expect(applied.stdout.split("\n").at(-1)).toBe("cluster settled")
    expect(where(await statusJson(), "vip")).toHaveLength(1)
    const again = await ha("apply", config, "--yes")
    expect(again).toMatchObject({ code: 0, stdout: "The cluster already has this configuration." })
  })
})

describe("ha plan --live", () => {
  it("plans on the running cluster's CIB, what-ifs included", async () => {
    const steady = await ha("plan", "--live")
    expect(steady.stderr).toBe("")
    expect(steady.code).toBe(0)
    expect(steady.stdout).toMatch(
      /^Cluster: the running cluster \(CIB \d+\.\d+\.\d+, through .*api\.sock\)$/m
    )
    expect(steady.stdout).toContain("Plan: nothing to do")
    // what if the node running vip died: it is fenced, and vip moves to the other node
    const on = where(await statusJson(), "vip")[0]!
    const other = on === "alpha" ? "beta" : "alpha"
    const failed = await ha("plan", "--live", "--node-fail", on, "--json")
    expect(failed.code).toBe(0)
    const actions = JSON.parse(failed.stdout).actions as Array<Record<string, unknown>>
    expect(actions).toContainEqual(expect.objectContaining({ action: "fence", node: on }))
    expect(actions).toContainEqual(expect.objectContaining({ resource: "vip", from: on, to: other }))
    // a dry run: nothing happened to the cluster
    expect(where(await statusJson(), "vip")).toEqual([on])
  })

  it("refuses another input beside it, says when no daemon answers, and needs the cluster plugin", async () => {
    expect(await ha("plan", "--live", "--cib", config)).toMatchObject({
      code: 2,
      stderr: "ha: --live reads the running cluster: give no --cib, --config or --status"
    })
    const nothing = join(root, "nothing.sock")
    expect(await Testing.run(["plan", "--live", "--socket", nothing], plugins)).toMatchObject({
      code: 4,
      stderr: `ha: no daemon listening on ${nothing}`
    })
    const without = await Testing.run(["plan", "--live", "--socket", socket])
    expect(without.code).toBe(2)
    expect(without.stderr).toMatch(/^ha: --live needs a plugin that reaches the cluster/)
  })
})

describe("ha status", () => {
  it("shows nodes, resources and where they run, like crm_mon", async () => {
    const shown = await ha("status")
    expect(shown.code).toBe(0)
    const lines = shown.stdout.split("\n")
    expect(lines[0]).toMatch(/^Cluster cli, seen from alpha: quorate \(2 votes, 1 needed\), DC (alpha|beta)$/)
    expect(lines).toContain("Members: alpha, beta")
    expect(lines).toContain("Nodes:")
    expect(lines).toContain("  alpha  online")
    expect(lines.find((l) => l.startsWith("  vip "))).toMatch(
      /^ {2}vip +ocf:heartbeat:IPaddr2 +Started (alpha|beta)$/
    )
    const json = await statusJson()
    expect(json).toMatchObject({ cluster: "cli", node: "alpha", members: ["alpha", "beta"], failures: [] })
  })
})

describe("ha resource", () => {
  it("move, clear, restart and their refusals", async () => {
    const from = where(await statusJson(), "vip")[0]
    const to = from === "alpha" ? "beta" : "alpha"
    const moved = await ha("resource", "move", "vip", to, "--wait")
    expect(moved.code).toBe(0)
    expect(moved.stdout.split("\n")[0]).toBe(`vip moves to ${to} (cli-prefer-vip)`)
    expect(where(await statusJson(), "vip")).toEqual([to])
    expect((await ha("resource", "clear", "vip")).stdout).toBe("vip: removed cli-prefer-vip")
    expect(await ha("resource", "clear", "vip")).toMatchObject({
      code: 1,
      stderr: "ha: vip has no move or ban constraint to clear"
    })
    expect(await ha("resource", "move", "nope", "beta")).toMatchObject({
      code: 2,
      stderr: 'ha: no resource "nope" in the configuration'
    })
    const restarted = await ha("resource", "restart", "app", "--json")
    expect(restarted.code).toBe(0)
    expect(JSON.parse(restarted.stdout)).toMatchObject({ resource: "app" })
  }, 60_000)

  it("disable and enable, with --wait", async () => {
    expect((await ha("resource", "disable", "app", "--wait")).stdout.split("\n")[0]).toBe("app disabled")
    const status = await ha("status")
    expect(status.stdout).toMatch(/^ {2}app +ocf:heartbeat:Dummy +Stopped \(disabled\)$/m)
    expect((await ha("resource", "enable", "app", "--wait")).code).toBe(0)
    expect(where(await statusJson(), "app")).toHaveLength(1)
  }, 60_000)
})

describe("ha node", () => {
  it("standby and online", async () => {
    expect((await ha("node", "standby", "beta")).stdout).toBe(
      "beta is in standby: its resources move to other nodes"
    )
    expect((await statusJson()).nodes).toContainEqual(
      expect.objectContaining({ name: "beta", state: "standby" })
    )
    expect(await ha("node", "standby", "beta")).toMatchObject({
      code: 1,
      stderr: "ha: beta is already in standby"
    })
    expect((await ha("node", "online", "beta")).code).toBe(0)
    expect(await ha("node", "online", "gamma")).toMatchObject({ code: 2 })
  })
})

describe("ha fence and ha log", () => {
  it("confirm wants --verified, fence NODE fences, history and log show it", async () => {
    const unconfirmed = await ha("fence", "confirm", "beta")
    expect(unconfirmed.code).toBe(1)
    expect(unconfirmed.stderr).toContain(
      "WARNING: this tells the cluster that beta is down WITHOUT fencing it."
    )
    const fenced = await ha("fence", "beta", "--action", "off")
    expect(fenced.code).toBe(0)
    expect(fenced.stdout.split("\n").at(-1)).toMatch(/^beta fenced by (alpha|beta) with fence_beta$/)
    const history = await ha("fence", "history")
    expect(history.stdout).toMatch(
      / off of beta: succeeded by (alpha|beta) with fence_beta \(asked by alpha\)/
    )
    const json = JSON.parse((await ha("fence", "history", "beta", "--json")).stdout)
    expect(json.entries).toEqual([expect.objectContaining({ target: "beta", state: "succeeded" })])
    const log = await ha("log")
    expect(log.code).toBe(0)
    expect(log.stdout).toMatch(/: off of beta succeeded by/)
    expect(await ha("fence", "beta", "alpha")).toMatchObject({ code: 2 })
  }, 60_000)
})
