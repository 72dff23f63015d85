import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Controller, Status } from "../src/index.ts"
import { type Cluster, loadCib, makeCluster, settled, until } from "./cluster.ts"

const seedPath = new URL("../../../examples/pg-drbd/config.xml", import.meta.url)

const seedCluster = Effect.gen(function* () {
  const cib = yield* loadCib("examples/pg-drbd/config.xml", readFileSync(seedPath, "utf8"))
  return yield* makeCluster(cib)
})

type Event = Controller.ControllerEvent

/** Index of the first event of `tag` for `key` on `node` at or after `from`. */
const find = (
  history: ReadonlyArray<Event>,
  tag: "Dispatched" | "Completed",
  key: string | RegExp,
  node: string,
  from = 0
) => {
  const matches = (k: string) => (typeof key === "string" ? k === key : key.test(k))
  const index = history.findIndex(
    (e, i) =>
      i >= from && e._tag === tag && matches(e.key) && e.node === node && (e._tag === "Dispatched" || e.ok)
  )
  expect(index, `${tag} ${key} on ${node}`).toBeGreaterThanOrEqual(0)
  return index
}

/** `first` completed before `then` was dispatched. */
const ordered = (
  history: ReadonlyArray<Event>,
  first: string | RegExp,
  then: string | RegExp,
  node: string,
  from = 0
) =>
  expect(find(history, "Completed", first, node, from)).toBeLessThan(
    find(history, "Dispatched", then, node, from)
  )

const running = (cluster: Cluster, node: string, resource: string) =>
  Effect.map(cluster.store.query, (cib) => Status.activeResources(cib, node).has(resource))

describe("in-process cluster on the pg-drbd seed stack", () => {
  it.scoped("elects the lowest node id and starts the stack in its order", () =>
    Effect.gen(function* () {
      const cluster = yield* seedCluster
      yield* until(settled(cluster))
      expect((yield* cluster.controller("beta").status).dc).toBe("alpha")
      const history = yield* cluster.controller("alpha").history
      ordered(history, "drbd_pg:0_start_0", "drbd_pg:0_promote_0", "alpha")
      ordered(history, "drbd_pg:0_promote_0", "fs_start_0", "alpha")
      ordered(history, "fs_start_0", "vip_start_0", "alpha")
      ordered(history, "vip_start_0", "db_start_0", "alpha")
      const calls = yield* cluster.calls
      expect(calls.filter((c) => c.node === "beta" && c.action === "start").map((c) => c.resource)).toEqual([
        "drbd_pg"
      ])
      for (const resource of ["fs", "vip", "db", "drbd_pg"])
        expect(yield* running(cluster, "alpha", resource)).toBe(true)
    })
  )

  it.scoped("recovers a failed monitor in place, restarting what depends on it", () =>
    Effect.gen(function* () {
      const cluster = yield* seedCluster
      yield* until(settled(cluster))
      const from = (yield* cluster.controller("alpha").history).length
      // vip dies behind the cluster's back; its 10 s monitor notices
      yield* cluster.agents.get("alpha")!.get("IPaddr2")!.setState("vip", "stopped")
      const noticedAfter = yield* until(
        Effect.map(cluster.controller("alpha").history, (h) =>
          h.slice(from).some((e) => e._tag === "FailureCounted")
        )
      )
      // by the next 10 s monitor run (plus a few clock steps for the DC to react)
      expect(noticedAfter).toBeLessThanOrEqual(11_000)
      yield* until(settled(cluster))
      const history = yield* cluster.controller("alpha").history
      ordered(history, "db_stop_0", "vip_stop_0", "alpha", from)
      ordered(history, "vip_stop_0", "vip_start_0", "alpha", from)
      ordered(history, "vip_start_0", "db_start_0", "alpha", from)
      const cib = yield* cluster.store.query
      expect(Status.attribute(cib, "alpha", "fail-count-vip#monitor_10000")).toBe("1")
      expect(history.slice(from).filter((e) => e._tag === "FailureCounted")).toMatchObject([
        { node: "alpha", resource: "vip", operation: "vip_monitor_10000", rc: 7 }
      ])
      expect(yield* running(cluster, "alpha", "vip")).toBe(true)
      expect(history.slice(from).some((e) => e._tag === "Dispatched" && e.node === "beta")).toBe(false)
    })
  )

  it.scoped(
    "replans on a configuration change (standby) and stops the stack before starting it elsewhere",
    () =>
      Effect.gen(function* () {
        const cluster = yield* seedCluster
        yield* until(settled(cluster))
        const from = (yield* cluster.controller("alpha").history).length
        // what `ha node standby alpha` writes: a node attribute
        yield* cluster.store.update((cib) => ({
          ...cib,
          configuration: {
            ...cib.configuration,
            nodes: cib.configuration.nodes.map((n) =>
              n.uname === "alpha"
                ? {
                    ...n,
                    instanceAttributes: [
                      {
                        id: "alpha-attrs",
                        rules: [],
                        nvpairs: [{ id: "alpha-standby", name: "standby", value: "on" }]
                      }
                    ]
                  }
                : n
            )
          }
        }))
        yield* until(settled(cluster))
        const history = (yield* cluster.controller("alpha").history).slice(from)
        expect(history[0]).toMatchObject({
          _tag: "TransitionStarted",
          reasons: [expect.stringMatching(/^CIB changed/)]
        })
        for (const resource of ["fs", "vip", "db"]) {
          const stopped = find(history, "Completed", `${resource}_stop_0`, "alpha")
          expect(stopped).toBeLessThan(find(history, "Dispatched", `${resource}_start_0`, "beta"))
          expect(yield* running(cluster, "beta", resource)).toBe(true)
          expect(yield* running(cluster, "alpha", resource)).toBe(false)
        }
        const demoted = find(history, "Completed", /^drbd_pg:\d_demote_0$/, "alpha")
        expect(demoted).toBeLessThan(find(history, "Dispatched", /^drbd_pg:\d_promote_0$/, "beta"))
        expect(find(history, "Completed", /^drbd_pg:\d_promote_0$/, "beta")).toBeLessThan(
          find(history, "Dispatched", "fs_start_0", "beta")
        )
      })
  )

  it.scoped("fences a lost node before recovering its resources on the survivor", () =>
    Effect.gen(function* () {
      const cluster = yield* seedCluster
      yield* until(settled(cluster))
      const before = (yield* cluster.calls).length
      yield* cluster.crash("alpha")
      yield* until(settled(cluster))
      expect((yield* cluster.controller("beta").status).dc).toBe("beta")
      const fences = yield* cluster.fenceCalls
      expect(fences.map((f) => [f.executor, f.target, f.action])).toEqual([["beta", "alpha", "reboot"]])
      const history = yield* cluster.controller("beta").history
      const fenced = history.findIndex((e) => e._tag === "NodeFenced" && e.node === "alpha")
      expect(fenced).toBeGreaterThanOrEqual(0)
      // nothing started or promoted anywhere before the fencing confirmed
      const starts = history
        .map((e, i) => [e, i] as const)
        .filter(([e]) => e._tag === "Dispatched" && /_(start|promote)_0$/.test(e.key))
      expect(starts.length).toBeGreaterThan(0)
      for (const [, i] of starts) expect(i).toBeGreaterThan(fenced)
      ordered(history, /^drbd_pg:\d_promote_0$/, "fs_start_0", "beta")
      ordered(history, "fs_start_0", "vip_start_0", "beta")
      ordered(history, "vip_start_0", "db_start_0", "beta")
      const calls = (yield* cluster.calls).slice(before)
      expect(calls.filter((c) => c.node === "alpha")).toEqual([])
      for (const resource of ["fs", "vip", "db", "drbd_pg"])
        expect(yield* running(cluster, "beta", resource)).toBe(true)
      const cib = yield* cluster.store.query
      expect(cib.status.nodes.find((s) => s.uname === "alpha")).toMatchObject({
        inCcm: "false",
        expected: "down"
      })
    })
  )

  it.scoped("gives up on an operation in flight on a node that is lost, and fences it before recovery", () =>
    Effect.gen(function* () {
      const cib = yield* loadCib("examples/pg-drbd/config.xml", readFileSync(seedPath, "utf8"))
      const cluster = yield* makeCluster(cib)
      // drbd never finishes starting on beta; then beta drops out
      yield* cluster.agents
        .get("beta")!
        .get("drbd")!
        .script("start", { durationMs: Number.POSITIVE_INFINITY })
      yield* until(
        Effect.map(cluster.calls, (calls) => calls.some((c) => c.node === "beta" && c.action === "start"))
      )
      yield* cluster.crash("beta")
      yield* until(settled(cluster))
      const history = yield* cluster.controller("alpha").history
      expect(
        history.some(
          (e) =>
            e._tag === "Completed" && e.node === "beta" && !e.ok && e.detail === "beta left the membership"
        )
      ).toBe(true)
      expect((yield* cluster.fenceCalls).map((f) => [f.executor, f.target])).toEqual([["alpha", "beta"]])
      const fenced = history.findIndex((e) => e._tag === "NodeFenced" && e.node === "beta")
      const promote = find(history, "Dispatched", /^drbd_pg:\d_promote_0$/, "alpha")
      expect(fenced).toBeGreaterThanOrEqual(0)
      expect(promote).toBeGreaterThan(fenced)
      for (const resource of ["fs", "vip", "db", "drbd_pg"])
        expect(yield* running(cluster, "alpha", resource)).toBe(true)
    })
  )
})
