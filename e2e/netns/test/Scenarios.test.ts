/**
 * Issue 10's scenarios against real ha daemons on a two-node namespace cluster: the seed stack
 * (Filesystem on the shared loop disk → IPaddr2 → pgsql, one group) with a fence_lab device per node.
 * What is asserted is what a user checks: `SELECT 1` through the floating IP from the client
 * namespace, where the disk is mounted (a watcher samples it every 50 ms from start to end: never on
 * two nodes), whom the power switch turned off, and the nodes' own `status`.
 *
 * The scenarios share one cluster and run in order, each from a settled cluster to a settled one.
 * Times are printed, not asserted (bench/failover.ts measures them).
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type Duration, Effect, Exit, Scope } from "effect"
import * as HaCluster from "../src/HaCluster.ts"
import * as Lab from "../src/Lab.ts"
import * as PowerSwitch from "../src/PowerSwitch.ts"

interface World {
  readonly lab: Lab.Lab
  readonly power: PowerSwitch.PowerSwitch
  readonly mounts: {
    readonly violations: Effect.Effect<ReadonlyArray<unknown>>
    readonly samples: Effect.Effect<number>
  }
}

let world: World

/**
 * A fresh two-node cluster for the scenarios of one `describe`, torn down after them: the lab, its
 * power switch (a fenced node stays off: stonith-action=off), the disk with a PostgreSQL data
 * directory, the mount watcher, both daemons; then the stack is applied and starts on node 1.
 */
const cluster = (prefix: string) => {
  let scope: Scope.CloseableScope | undefined
  beforeAll(async () => {
    scope = Effect.runSync(Scope.make())
    const setUp = Effect.gen(function* () {
      const lab = yield* Lab.make({ prefix, nodes: 2, diskMiB: 128 })
      const power = yield* PowerSwitch.serve(lab, `${lab.root}/power.sock`)
      yield* HaCluster.configure(lab)
      yield* HaCluster.prepareDisk(lab, lab.nodes[0]!.name)
      const mounts = yield* Lab.watch(lab.diskMountedOn)
      for (const n of lab.nodes) yield* HaCluster.start(lab, n.name)
      return { lab, power, mounts }
    })
    world = await Effect.runPromise(Scope.extend(setUp, scope))
  }, 120_000)
  afterAll(async () => {
    // HA_E2E_LOGS=DIR keeps every node's daemon log (the lab's directory goes with the teardown)
    const keep = process.env.HA_E2E_LOGS
    if (keep !== undefined && world !== undefined) {
      mkdirSync(keep, { recursive: true })
      for (const n of world.lab.nodes) {
        const log = HaCluster.daemonLog(world.lab, n.name)
        if (existsSync(log)) cpSync(log, join(keep, `${n.name}.log`))
      }
    }
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  }, 60_000)
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

const stackOn = HaCluster.stackOn
const bothUp = (node: string) => HaCluster.formed(world.lab, node)

/** Waits until the stack runs on `node` with nothing pending; the status seen by `from`. */
const stackRunsOn = (from: string, node: string, timeout: Duration.DurationInput = "60 seconds") =>
  HaCluster.waitStatus(
    world.lab,
    from,
    `the stack running on ${node}`,
    (s) => stackOn(s) === node && (s.pending ?? []).length === 0,
    timeout
  )

/** Polls `SELECT 1` through the floating IP until it answers; the time it answered. */
const selectAnswers = (timeout: Duration.DurationInput = "60 seconds") =>
  HaCluster.until(
    "SELECT 1 through the floating IP",
    Effect.map(HaCluster.select(world.lab), (ok) => (ok ? Date.now() : undefined)),
    timeout
  )

/** Power events after `since`. */
const powerSince = (since: number) =>
  Effect.map(world.power.history, (events) =>
    events.filter((e) => e.at >= since).map((e) => `${e.action} ${e.node}`)
  )

const other = (node: string) => world.lab.nodes.find((n) => n.name !== node)!.name

/** Where the stack runs now (both nodes up and agreeing). */
const current = Effect.gen(function* () {
  const s = yield* HaCluster.status(world.lab, world.lab.nodes[0]!.name)
  const on = stackOn(s)
  if (on === undefined)
    return yield* new Lab.LabError({ command: ["status"], reason: "the stack is not running on one node" })
  return on
})

/** The node the stack runs on now and the other one. */
const roles = Effect.map(current, (active) => ({ active, standby: other(active) }))

const expectNoDoubleMount = Effect.gen(function* () {
  expect(yield* world.mounts.violations).toEqual([])
  expect(yield* world.mounts.samples).toBeGreaterThan(0)
})

/** Clears every recorded failure (as `ha resource cleanup` would) and waits for the cluster to settle. */
const cleanup = Effect.gen(function* () {
  const node = world.lab.nodes.find((n) => world.lab.isOn(n.name))!.name
  const { failures } = yield* HaCluster.status(world.lab, node)
  for (const resource of new Set(failures.map((f) => f.resource)))
    yield* HaCluster.call(world.lab, node, "resource.cleanup", { resource })
  yield* HaCluster.settle(world.lab, node)
})

/** Scenario 1 on a fresh cluster: it forms, and the stack starts on the preferred node in order. */
const startStack = () =>
  Effect.gen(function* () {
    const { lab, power } = world
    const [alpha, beta] = lab.nodes.map((n) => n.name) as [string, string]
    yield* bothUp(alpha)
    const stack = HaCluster.stack(lab, {
      powerSocket: power.path,
      preferred: alpha,
      // the filesystem is checked most often, so its loss is noticed before the database's
      monitors: { fs: "1s", vip: "3s", db: "5s" },
      preferredFenceDelay: "2s"
    })
    yield* HaCluster.apply(lab, alpha, stack)
    yield* stackRunsOn(alpha, alpha)
    yield* stackRunsOn(beta, alpha) // the other node's copy says the same
    yield* selectAnswers()
    expect(yield* lab.diskMountedOn).toEqual([alpha])
    expect(yield* lab.addressHeldBy(lab.floatingIp)).toEqual([alpha])
    // the DC's log of the actions it carried out: the starts completed in the group's order
    const { entries } = yield* HaCluster.call<{
      entries: ReadonlyArray<{ at: number; kind: string; text: string }>
    }>(lab, alpha, "log", { limit: 10_000 })
    const startedAt = (resource: string) =>
      entries.find(
        (e) => e.kind === "Completed" && new RegExp(`: ${resource}_start_0 on ${alpha} done`).test(e.text)
      )?.at
    const [fs, vip, db] = ["fs", "vip", "db"].map(startedAt)
    expect(fs).toBeDefined()
    expect(vip).toBeGreaterThanOrEqual(fs!)
    expect(db).toBeGreaterThanOrEqual(vip!)
    expect(yield* powerSince(0)).toEqual([])
  })

/** A describe of its own on a fresh cluster, whose scenarios start from scenario 1 again. */
const freshClusterWithStack = (prefix: string) => {
  cluster(prefix)
  it.live("1. (again, on a fresh cluster)", startStack, 180_000)
}

describe("start, failures in place, link loss, maintenance, power loss, rejoin", () => {
  cluster("hasa")
  it.live(
    "1. start: the cluster forms and the stack starts on the preferred node in order (fs, vip, db)",
    startStack,
    180_000
  )

  it.live(
    "2. the database dies (postgres killed): restarted in place, the rest of the stack untouched",
    () =>
      Effect.gen(function* () {
        const { lab } = world
        const active = yield* current
        // the postmaster's pid inside the node's pid namespace (the mount is private to the node)
        const pidFile = join(HaCluster.pgdata(lab), "postmaster.pid")
        const postmaster = (yield* HaCluster.mustIn(lab, active, ["head", "-n", "1", pidFile])).stdout.trim()
        const killedAt = Date.now()
        yield* HaCluster.mustIn(lab, active, ["kill", "-9", postmaster])
        const failed = yield* HaCluster.waitStatus(lab, active, "db's failure recorded", (s) =>
          s.failures.some((f) => f.resource === "db" && f.node === active)
        )
        expect(failed.failures.find((f) => f.resource === "db")!.operation).toBe("monitor")
        yield* stackRunsOn(active, active)
        const answeredAt = yield* selectAnswers()
        console.log(
          `2. postgres killed → SELECT answers again after ${seconds(answeredAt - killedAt)} (monitor 5 s)`
        )
        expect(yield* lab.diskMountedOn).toEqual([active])
        expect(yield* powerSince(killedAt)).toEqual([])
        yield* cleanup
      }),
    120_000
  )

  it.live(
    "3. the filesystem disappears (unmounted behind the cluster's back): it and what depends on it recover",
    () =>
      Effect.gen(function* () {
        const { lab } = world
        const active = yield* current
        const pidFile = join(HaCluster.pgdata(lab), "postmaster.pid")
        const postmaster = (yield* HaCluster.mustIn(lab, active, ["head", "-n", "1", pidFile])).stdout.trim()
        const lostAt = Date.now()
        // lazy: postgres still holds files open; the mount is gone from the node's view at once
        yield* HaCluster.mustIn(lab, active, ["umount", "-l", HaCluster.mountPoint(lab)])
        // whichever monitor notices first: fs's (the stack restarts in place) or db's (its restart
        // finds no configuration, fails for good on this node, and the whole group moves, as the
        // colocation of a group with its members' preferences has it)
        const failed = yield* HaCluster.waitStatus(lab, active, "a failure of fs or db recorded", (s) =>
          s.failures.some((f) => (f.resource === "fs" || f.resource === "db") && f.node === active)
        )
        const recovered = yield* HaCluster.waitStatus(
          lab,
          active,
          "the stack running again",
          (s) => HaCluster.stackOn(s) !== undefined && (s.pending ?? []).length === 0
        )
        const answeredAt = yield* selectAnswers()
        const on = HaCluster.stackOn(recovered)!
        const first = failed.failures.find((f) => f.node === active)!
        console.log(
          `3. filesystem lost → ${first.resource} ${first.operation} failed first, stack on ${on === active ? "the same node" : "the other node"}, SELECT answers again after ${seconds(answeredAt - lostAt)}`
        )
        if (first.resource === "fs") expect(on).toBe(active)
        expect(yield* lab.diskMountedOn).toEqual([on])
        expect(yield* powerSince(lostAt)).toEqual([])
        yield* expectNoDoubleMount
        // the old postmaster outlives the lazy unmount: its pid file went with the mount, so the agent
        // cannot see or stop it, and it holds port 5432 on that node until it notices its lock file
        // is gone (up to a minute); the next scenario must not wait for that
        if (lab.isOn(active)) yield* lab.exec(active, ["kill", "-9", postmaster])
        yield* cleanup
      }),
    120_000
  )

  it.live(
    "5. one link cut: nothing moves, the loss is reported; healed: reported",
    () =>
      Effect.gen(function* () {
        const { lab } = world
        const { active, standby } = yield* roles
        const cutAt = Date.now()
        yield* lab.cutLink(active, 1, "carrier")
        const linkState = (s: HaCluster.Status, link: number) =>
          s.peers.find((p) => p.node === active)?.links.find((l) => l.link === link)?.state
        const cut = yield* HaCluster.waitStatus(
          lab,
          standby,
          "link 1 reported down",
          (s) => linkState(s, 1) !== "up"
        )
        expect(linkState(cut, 0)).toBe("up")
        expect(cut.members).toHaveLength(2)
        // a few monitor rounds later, still nothing moved
        yield* Effect.sleep("4 seconds")
        const during = yield* HaCluster.status(lab, standby)
        expect(during.members).toHaveLength(2)
        expect(stackOn(during)).toBe(active)
        expect(yield* HaCluster.select(lab)).toBe(true)
        yield* lab.healLink(active, 1, "carrier")
        yield* HaCluster.waitStatus(lab, standby, "link 1 reported up again", (s) => linkState(s, 1) === "up")
        yield* stackRunsOn(standby, active)
        expect(yield* powerSince(cutAt)).toEqual([])
      }),
    120_000
  )

  it.live(
    "9. planned maintenance: standby moves the stack away, and a move brings it back, with short downtime",
    () =>
      Effect.gen(function* () {
        const { lab } = world
        const from = yield* current
        const to = other(from)
        /** Runs a change while probing SELECT; the downtime is the gap between answers around it. */
        const downtimeOf = (change: Effect.Effect<unknown, Lab.LabError>, on: string) =>
          Effect.gen(function* () {
            yield* selectAnswers()
            const before = Date.now()
            yield* change
            yield* stackRunsOn(on, on)
            const after = yield* selectAnswers()
            return after - before
          })
        const standby = yield* downtimeOf(HaCluster.call(lab, from, "node.standby", { node: from }), to)
        expect(yield* powerSince(0)).not.toContain(`off ${to}`)
        const s = yield* HaCluster.status(lab, to)
        expect(s.nodes.find((n) => n.name === from)!.state).toBe("standby")
        yield* HaCluster.call(lab, to, "node.online", { node: from })
        yield* HaCluster.settle(lab, to)
        const move = yield* downtimeOf(
          HaCluster.call(lab, to, "resource.move", { resource: "pg_stack", node: from }),
          from
        )
        expect(yield* lab.diskMountedOn).toEqual([from])
        yield* HaCluster.call(lab, from, "resource.clear", { resource: "pg_stack" })
        yield* HaCluster.settle(lab, from)
        console.log(
          `9. downtime: node standby ${seconds(standby)}, resource move ${seconds(move)} (SELECT every ≤2 s)`
        )
        yield* expectNoDoubleMount
      }),
    150_000
  )

  it.live(
    "4. the active node loses power: the survivor fences it, takes the stack, SELECT answers again",
    () =>
      Effect.gen(function* () {
        const { lab } = world
        const victim = yield* current
        const survivor = other(victim)
        expect(yield* HaCluster.select(lab)).toBe(true)
        yield* lab.powerOff(victim)
        const t0 = Date.now()
        const answeredAt = yield* selectAnswers()
        const events = yield* world.power.history
        const fenced = events.find((e) => e.at >= t0 && e.action === "off" && e.node === victim)
        expect(fenced).toBeDefined()
        const s = yield* stackRunsOn(survivor, survivor)
        expect(stackOn(s)).toBe(survivor)
        expect(yield* lab.diskMountedOn).toEqual([survivor])
        console.log(
          `4. ${victim} powered off → fenced after ${seconds(fenced!.at - t0)}, SELECT answers after ${seconds(answeredAt - t0)} (the 2 s fencing delay of the preferred node included)`
        )
        yield* expectNoDoubleMount
      }),
    120_000
  )

  it.live(
    "8. the fenced node comes back: it rejoins, and with stickiness the stack stays where it is",
    () =>
      Effect.gen(function* () {
        const { lab } = world
        const active = lab.nodes.find((n) => lab.isOn(n.name))!.name
        const back = other(active)
        // stonith-action=off: the fenced node stays off until it is turned on, and boots into ha
        expect(lab.isOn(back)).toBe(false)
        yield* lab.powerOn(back)
        yield* HaCluster.start(lab, back)
        yield* bothUp(back)
        yield* stackRunsOn(back, active)
        yield* stackRunsOn(active, active)
        expect(yield* HaCluster.select(lab)).toBe(true)
        expect(yield* lab.diskMountedOn).toEqual([active])
      }),
    150_000
  )
})

describe("split-brain", () => {
  freshClusterWithStack("hasb")

  it.live(
    "6. both links cut (split-brain): exactly one node is fenced, the stack stays on the other, never mounted twice",
    () =>
      Effect.gen(function* () {
        const { lab } = world
        const { active, standby } = yield* roles
        const cutAt = Date.now()
        // the standby's packets vanish both ways on both links (the client, on link 0, still reaches
        // the active node): each node sees the other die and may try to fence it
        yield* lab.cutLink(standby, 0, "drop")
        yield* lab.cutLink(standby, 1, "drop")
        yield* HaCluster.until(
          "one node fenced",
          Effect.map(powerSince(cutAt), (events) =>
            events.some((e) => e.startsWith("off")) ? true : undefined
          ),
          "60 seconds"
        )
        // the race is over once the loser is off; give a late fencing request time to show up
        yield* Effect.sleep("5 seconds")
        const offs = (yield* powerSince(cutAt)).filter((e) => e.startsWith("off"))
        expect(offs).toEqual([`off ${standby}`])
        expect(lab.isOn(active)).toBe(true)
        yield* stackRunsOn(active, active)
        expect(yield* HaCluster.select(lab)).toBe(true)
        expect(yield* lab.diskMountedOn).toEqual([active])
        yield* expectNoDoubleMount
        // the loser stays off (stonith-action=off); its fault rules go
        yield* lab.healLink(standby, 0, "drop")
        yield* lab.healLink(standby, 1, "drop")
      }),
    180_000
  )
})

describe("a stop that fails", () => {
  freshClusterWithStack("hasd")

  it.live(
    "7. a stop that fails: the node is fenced and the stack recovered on the other node",
    () =>
      Effect.gen(function* () {
        const { lab } = world
        const { active, standby: target } = yield* roles
        // on the active node only, pgsql's stop fails (the agent is shadowed inside its mount namespace)
        const agent = "/usr/lib/ocf/resource.d/heartbeat/pgsql"
        const wrapper = join(lab.root, "pgsql-failing-stop")
        writeFileSync(
          wrapper,
          `#!/bin/sh\nif [ "$1" = stop ]; then echo "stop made to fail by the test" >&2; exit 1; fi\nexec ${join(lab.root, "pgsql-real")} "$@"\n`,
          { mode: 0o755 }
        )
        cpSync(agent, join(lab.root, "pgsql-real"))
        yield* HaCluster.mustIn(lab, active, ["mount", "--bind", wrapper, agent])
        const movedAt = Date.now()
        yield* HaCluster.call(lab, target, "resource.move", { resource: "pg_stack", node: target })
        yield* HaCluster.until(
          `${active} fenced`,
          Effect.map(powerSince(movedAt), (events) => (events.includes(`off ${active}`) ? true : undefined))
        )
        yield* stackRunsOn(target, target)
        const answeredAt = yield* selectAnswers()
        console.log(
          `7. failed stop → ${active} fenced, SELECT answers on ${target} after ${seconds(answeredAt - movedAt)}`
        )
        expect(yield* lab.diskMountedOn).toEqual([target])
        yield* expectNoDoubleMount
        yield* HaCluster.call(lab, target, "resource.clear", { resource: "pg_stack" })
        yield* HaCluster.settle(lab, target)
        yield* stackRunsOn(target, target)
      }),
    180_000
  )
})
