/**
 * The API methods against two complete nodes (@ha/node) over the transport's in-memory network,
 * with scripted resource agents and a recording fence agent, on the live clock (TestCluster): every
 * request goes through `Api.answer` as a line from `ha` would, and every change is checked by what
 * the cluster then does (where resources run, what the agents were asked, what the CIB records).
 */
import { readFileSync } from "node:fs"
import { describe, expect, it, layer } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Ref, Schedule } from "effect"
import type { Api } from "../src/index.ts"
import * as TestCluster from "../src/TestCluster.ts"

const clusterYaml = readFileSync(new URL("../testdata/methods/cluster.yaml", import.meta.url), "utf8")

class Cluster extends Context.Tag("Methods.test/Cluster")<
  Cluster,
  {
    readonly alpha: TestCluster.TestNode
    readonly beta: TestCluster.TestNode
    readonly fenced: Ref.Ref<ReadonlyArray<string>>
  }
>() {}

const ClusterLive = Layer.scoped(
  Cluster,
  Effect.map(
    TestCluster.make({ cluster: "methods", nodes: ["alpha", "beta"], agentTypes: ["IPaddr2", "Dummy"] }),
    ({ nodes: [alpha, beta], fenced }) => ({ alpha: alpha!, beta: beta!, fenced })
  )
)

/** The result of a call that must succeed. */
const ok = (response: Api.Response) => {
  if ("error" in response) throw new Error(`${response.error.code}: ${response.error.message}`)
  return response.result as Record<string, unknown>
}

const errorOf = (response: Api.Response) => {
  if (!("error" in response)) throw new Error(`expected an error, got ${JSON.stringify(response.result)}`)
  return response.error
}

interface StatusResult {
  readonly dc: string | null
  readonly members: ReadonlyArray<string>
  readonly quorum: { readonly quorate: boolean }
  readonly nodes: ReadonlyArray<{ readonly name: string; readonly state: string }>
  readonly resources: ReadonlyArray<{
    readonly resource: string
    readonly running: ReadonlyArray<{ readonly node: string; readonly role: string }>
    readonly targetRole?: string
  }>
  readonly failures: ReadonlyArray<{
    readonly resource: string
    readonly node: string
    readonly failCount: number
  }>
  readonly pending: ReadonlyArray<string>
  readonly version: string
}

const statusOf = (node: TestCluster.TestNode) =>
  Effect.map(node.call("status"), (r) => ok(r) as unknown as StatusResult)

const where = (status: StatusResult, resource: string) =>
  status.resources.find((r) => r.resource === resource)?.running.map((p) => p.node) ?? []

/** Polls until `check` holds (the test's timeout bounds it). */
const eventually = <E, R>(check: Effect.Effect<boolean, E, R>) =>
  check.pipe(
    Effect.repeat({ schedule: Schedule.spaced(Duration.millis(100)), until: (done) => done }),
    Effect.asVoid
  )

const settle = (node: TestCluster.TestNode) =>
  Effect.gen(function* () {
    const waited = ok(yield* node.call("transition.wait", { timeoutMs: 30_000 }))
    expect(waited).toMatchObject({ settled: true })
  })

const other = (node: string) => (node === "alpha" ? "beta" : "alpha")

layer(ClusterLive, { timeout: Duration.seconds(60), excludeTestServices: true })("API methods", (it) => {
  it.effect(
    "a cluster forms; the configuration is applied as YAML after its plan; status shows it all running",
    () =>
      Effect.gen(function* () {
        const { alpha, beta } = yield* Cluster
        yield* eventually(
          Effect.map(statusOf(beta), (s) => s.dc !== null && s.members.length === 2 && s.nodes.length === 2)
        )
        // the DC records both nodes as members before anything else is planned
        yield* settle(beta)
        // the plan of the proposed configuration, then the configuration itself, through the non-DC node
        const planned = ok(yield* beta.call("plan", { config: { text: clusterYaml, file: "cluster.yaml" } }))
        expect(planned.changes).toEqual(expect.arrayContaining([expect.stringContaining("vip")]))
        expect(planned.decisions).toEqual(expect.arrayContaining([expect.stringMatching(/^Start vip /)]))
        const version = (yield* statusOf(beta)).version
        const stale = errorOf(
          yield* beta.call("cib.apply", { text: clusterYaml, file: "cluster.yaml", expectedVersion: "0.0.0" })
        )
        expect(stale.code).toBe("refused")
        expect(stale.message).toContain("expects 0.0.0")
        const applied = ok(
          yield* beta.call("cib.apply", { text: clusterYaml, file: "cluster.yaml", expectedVersion: version })
        )
        expect(applied.changes).toEqual(expect.arrayContaining([expect.stringContaining("app")]))
        yield* settle(beta)
        const status = yield* statusOf(alpha)
        expect(status.quorum.quorate).toBe(true)
        expect(status.nodes.map((n) => [n.name, n.state])).toEqual([
          ["alpha", "online"],
          ["beta", "online"]
        ])
        expect(where(status, "vip")).toHaveLength(1)
        expect(where(status, "app")).toHaveLength(1)
        expect(status.resources.find((r) => r.resource === "vip")?.running[0]?.role).toBe("Started")
        expect(status.failures).toEqual([])
        expect(status.pending).toEqual([])
        // the same again is a no-op: refused
        expect(errorOf(yield* beta.call("cib.apply", { text: clusterYaml })).message).toContain("already has")
        const xml = ok(yield* alpha.call("cib.get", { format: "xml" }))
        expect(xml.xml).toContain('<primitive id="vip"')
      }),
    60_000
  )

  it.effect(
    "refuses bad requests with a reason and goes on answering",
    () =>
      Effect.gen(function* () {
        const { alpha } = yield* Cluster
        expect(errorOf(yield* alpha.call("resource.move", { resource: "nope", node: "beta" }))).toEqual({
          code: "not-found",
          message: 'no resource "nope" in the configuration'
        })
        expect(errorOf(yield* alpha.call("resource.ban", { resource: "vip", node: "gamma" })).code).toBe(
          "not-found"
        )
        expect(errorOf(yield* alpha.call("node.standby", { node: "gamma" })).message).toContain(
          'no node "gamma" in the configuration (nodes: alpha, beta)'
        )
        expect(errorOf(yield* alpha.call("resource.move", { resource: "vip", nodes: "beta" })).code).toBe(
          "invalid-params"
        )
        expect(errorOf(yield* alpha.call("resource.explode", {})).code).toBe("unknown-method")
        const bad = errorOf(
          yield* alpha.call("cib.apply", { text: "resources:\n  vip:\n    agnt: x\n", file: "bad.yaml" })
        )
        expect(bad.code).toBe("refused")
        expect(bad.message).toMatch(/bad\.yaml:\d+:\d+/)
        const xml = errorOf(yield* alpha.call("cib.apply", { text: "<cib><configuration>", file: "bad.xml" }))
        expect(xml.message).toMatch(/bad\.xml:\d+:\d+: malformed XML/)
        expect(errorOf(yield* alpha.call("resource.clear", { resource: "vip" })).message).toBe(
          "vip has no move or ban constraint to clear"
        )
        expect(errorOf(yield* alpha.call("resource.enable", { resource: "vip" })).message).toContain(
          "not disabled"
        )
        expect(errorOf(yield* alpha.call("node.online", { node: "beta" })).message).toContain("neither")
        expect(errorOf(yield* alpha.call("resource.cleanup", { resource: "vip" })).message).toBe(
          "vip has no failures to clean up"
        )
        const confirm = errorOf(yield* alpha.call("fence.confirm", { node: "beta" }))
        expect(confirm.code).toBe("refused")
        expect(confirm.message).toContain(
          "WARNING: this tells the cluster that beta is down WITHOUT fencing it"
        )
        expect(
          errorOf(yield* alpha.call("fence.confirm", { node: "beta", verified: true })).message
        ).toContain("is a member of the cluster")
        expect(ok(yield* alpha.call("status")).dc).not.toBeNull()
      }),
    30_000
  )

  it.effect(
    "move puts a resource on the named node; clear lifts the constraint",
    () =>
      Effect.gen(function* () {
        const { alpha, beta } = yield* Cluster
        const from = where(yield* statusOf(alpha), "vip")[0]!
        const to = other(from)
        expect(errorOf(yield* alpha.call("resource.move", { resource: "vip", node: from })).message).toBe(
          `vip is already running on ${from}`
        )
        const moved = ok(yield* alpha.call("resource.move", { resource: "vip", node: to }))
        expect(moved.constraint).toBe("cli-prefer-vip")
        yield* settle(alpha)
        expect(where(yield* statusOf(beta), "vip")).toEqual([to])
        expect(ok(yield* beta.call("resource.clear", { resource: "vip" })).removed).toEqual([
          "cli-prefer-vip"
        ])
        yield* settle(beta)
        // stickiness keeps it where it was moved
        expect(where(yield* statusOf(alpha), "vip")).toEqual([to])
      }),
    30_000
  )

  it.effect(
    "ban without a node sends the resource away from where it runs",
    () =>
      Effect.gen(function* () {
        const { alpha } = yield* Cluster
        const from = where(yield* statusOf(alpha), "app")[0]!
        const banned = ok(yield* alpha.call("resource.ban", { resource: "app" }))
        expect(banned).toMatchObject({ from, constraint: `cli-ban-app-on-${from}` })
        expect(errorOf(yield* alpha.call("resource.ban", { resource: "app", node: from })).message).toContain(
          "already banned"
        )
        yield* settle(alpha)
        expect(where(yield* statusOf(alpha), "app")).toEqual([other(from)])
        ok(yield* alpha.call("resource.clear", { resource: "app", node: from }))
        yield* settle(alpha)
      }),
    30_000
  )

  it.effect(
    "disable stops a resource, enable starts it again",
    () =>
      Effect.gen(function* () {
        const { alpha } = yield* Cluster
        ok(yield* alpha.call("resource.disable", { resource: "app" }))
        yield* settle(alpha)
        const stopped = yield* statusOf(alpha)
        expect(where(stopped, "app")).toEqual([])
        expect(stopped.resources.find((r) => r.resource === "app")?.targetRole).toBe("Stopped")
        ok(yield* alpha.call("resource.enable", { resource: "app" }))
        yield* settle(alpha)
        expect(where(yield* statusOf(alpha), "app")).toHaveLength(1)
      }),
    30_000
  )

  it.effect(
    "restart stops and starts the resource where it runs, and waits for both",
    () =>
      Effect.gen(function* () {
        const { alpha, beta } = yield* Cluster
        const on = where(yield* statusOf(alpha), "app")[0]!
        const agent = (on === "alpha" ? alpha : beta).agents.get("Dummy")!
        const before = (yield* agent.calls).length
        const restarted = ok(yield* beta.call("resource.restart", { resource: "app", timeoutMs: 30_000 }))
        expect(restarted.resource).toBe("app")
        const actions = (yield* agent.calls)
          .slice(before)
          .filter((c) => c.resource === "app" && (c.action === "stop" || c.action === "start"))
          .map((c) => c.action)
        expect(actions).toEqual(["stop", "start"])
        const status = yield* statusOf(alpha)
        expect(where(status, "app")).toEqual([on])
        expect(status.resources.find((r) => r.resource === "app")?.targetRole).toBeUndefined()
      }),
    30_000
  )

  it.effect(
    "a failed monitor shows as a failure until cleanup clears it",
    () =>
      Effect.gen(function* () {
        const { alpha, beta } = yield* Cluster
        const on = where(yield* statusOf(alpha), "app")[0]!
        // app dies behind the cluster's back: its next monitor fails, the DC counts it and recovers it
        yield* (on === "alpha" ? alpha : beta).agents.get("Dummy")!.setState("app", "stopped")
        yield* eventually(Effect.map(statusOf(alpha), (s) => s.failures.some((f) => f.resource === "app")))
        yield* settle(alpha)
        const failed = yield* statusOf(beta)
        expect(failed.failures).toEqual([
          expect.objectContaining({
            resource: "app",
            node: on,
            operation: "monitor",
            interval: 1000,
            failCount: 1
          })
        ])
        expect(ok(yield* beta.call("resource.cleanup", { resource: "app" })).nodes).toEqual([on])
        yield* settle(beta)
        const clean = yield* statusOf(alpha)
        expect(clean.failures).toEqual([])
        expect(where(clean, "app")).toEqual([on])
      }),
    30_000
  )

  it.effect(
    "standby empties a node; online lets resources come back",
    () =>
      Effect.gen(function* () {
        const { alpha } = yield* Cluster
        ok(yield* alpha.call("node.standby", { node: "beta" }))
        yield* settle(alpha)
        const standby = yield* statusOf(alpha)
        expect(standby.nodes.find((n) => n.name === "beta")?.state).toBe("standby")
        for (const r of standby.resources) expect(r.running.map((p) => p.node)).not.toContain("beta")
        expect(where(standby, "app")).toEqual(["alpha"])
        ok(yield* alpha.call("node.maintenance", { node: "alpha" }))
        expect((yield* statusOf(alpha)).nodes.find((n) => n.name === "alpha")?.state).toBe("maintenance")
        ok(yield* alpha.call("node.online", { node: "alpha" }))
        ok(yield* alpha.call("node.online", { node: "beta" }))
        yield* settle(alpha)
        expect((yield* statusOf(alpha)).nodes.map((n) => n.state)).toEqual(["online", "online"])
      }),
    30_000
  )

  it.effect(
    "fence.node fences through the fencer; the history and the log say so",
    () =>
      Effect.gen(function* () {
        const { alpha, beta, fenced } = yield* Cluster
        const done = ok(yield* alpha.call("fence.node", { node: "beta", action: "off" }))
        expect(done).toMatchObject({ target: "beta", devices: ["fence_beta"] })
        expect(yield* Ref.get(fenced)).toEqual(["beta"])
        // the result is broadcast: the other node's history has it too, soon
        yield* eventually(
          Effect.map(
            beta.call("fence.history", {}),
            (r) => (ok(r).entries as ReadonlyArray<unknown>).length > 0
          )
        )
        const history = ok(yield* beta.call("fence.history", {})).entries as unknown as ReadonlyArray<{
          readonly target: string
          readonly state: string
        }>
        expect(history).toEqual([expect.objectContaining({ target: "beta", state: "succeeded" })])
        const dc = (yield* statusOf(alpha)).dc
        const log = ok(yield* (dc === "alpha" ? alpha : beta).call("log", { limit: 1000 }))
          .entries as unknown as ReadonlyArray<{ readonly kind: string; readonly text: string }>
        expect(log.some((e) => e.kind === "Elected" && e.text === `${dc} elected DC`)).toBe(true)
        expect(log.some((e) => e.kind === "TransitionStarted" && e.text.includes("CIB changed"))).toBe(true)
        expect(log.some((e) => e.kind === "Fencing" && e.text.startsWith("off of beta succeeded"))).toBe(true)
      }),
    30_000
  )
})

describe("without quorum", () => {
  it.live(
    "reads still answer; every change is refused with the reason",
    () =>
      Effect.gen(function* () {
        // one node of three: alone, it has no quorum
        const { nodes } = yield* TestCluster.make({
          cluster: "minority",
          nodes: ["alpha", "beta", "gamma"],
          agentTypes: [],
          running: ["alpha"]
        })
        const alpha = nodes[0]!
        yield* eventually(Effect.map(statusOf(alpha), (s) => s.members.length === 1))
        const status = yield* statusOf(alpha)
        expect(status.quorum.quorate).toBe(false)
        const refused = errorOf(yield* alpha.call("cib.apply", { text: clusterYaml }))
        expect(refused).toEqual({
          code: "refused",
          message: "alpha has no quorum: the cluster's configuration cannot be changed now"
        })
        expect(errorOf(yield* alpha.call("node.standby", { node: "beta" })).message).toBe(
          "alpha has no quorum: the cluster's configuration cannot be changed now"
        )
        expect(ok(yield* alpha.call("cib.get", { format: "json" })).version).toBe("0.0.0")
      }).pipe(Effect.scoped),
    30_000
  )
})
