/**
 * Issue 9's integration test: three real daemons as separate processes on loopback, running a
 * group of three real ocf:heartbeat:Dummy resources (each node's agents keep their state in that
 * node's own run directory, so a state file is the ground truth of where a resource runs), a
 * promotable clone of ocf:pacemaker:Stateful (which publishes its promotion score through ha's
 * crm_attribute, apps/daemon/libexec) and a fence_dummy device. Through the local API: the cluster forms and elects a DC, the group starts in
 * its order, moves on `resource.move`, recovers from a failed monitor, and when the DC is killed
 * with SIGKILL a new DC takes over and recovers the group only after fencing confirmed the dead node.
 */
import { type ChildProcess, spawn } from "node:child_process"
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { ClusterKey } from "@ha/transport"
import { Effect, Schedule } from "effect"
import * as NodeApi from "../src/platform/NodeApi.ts"

const names = ["alpha", "beta", "gamma"] as const
type Name = (typeof names)[number]
const port = 5471
const root = mkdtempSync(join(tmpdir(), "ha-daemon-resources-"))
const main = new URL("../src/main.ts", import.meta.url).pathname
const daemons = new Map<Name, ChildProcess>()
const group = ["d1", "d2", "d3"] as const
// Stateful keeps its role in $HA_VARRUN/Stateful-<resource>.state; each node gets its own HA_VARRUN
const stateful = "sf"
const varrun = (name: Name) => join(dirOf(name), "run", "varrun")
const statefulRoles = (among: ReadonlyArray<Name> = names) =>
  among
    .map((n) => join(varrun(n), `Stateful-${stateful}.state`))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, "utf8").trim())
    .sort()

afterAll(() => {
  for (const child of daemons.values()) child.kill("SIGKILL")
  rmSync(root, { recursive: true, force: true })
})

const dirOf = (name: Name) => join(root, name)
const metricsPort = (name: Name) => 9471 + names.indexOf(name)
const scrape = (name: Name) =>
  Effect.promise(() => fetch(`http://127.0.0.1:${metricsPort(name)}/metrics`).then((r) => r.text()))
const socketOf = (name: Name) => join(dirOf(name), "run", "api.sock")
const stateFile = (name: Name, resource: string) =>
  join(dirOf(name), "run", "rsctmp", `Dummy-${resource}.state`)

const start = (name: Name) => {
  mkdirSync(varrun(name), { recursive: true })
  const cluster = names
    .map((n, i) => `    - { name: ${n}, addresses: [127.0.4.${i + 1}, 127.0.5.${i + 1}] }`)
    .join("\n")
  const file = join(dirOf(name), "ha.yaml")
  writeFileSync(
    file,
    `cluster:\n  name: resources\n  nodes:\n${cluster}\nnode: ${name}\nport: ${port}\nkeyFile: ${root}/authkey\nstateDir: ${dirOf(name)}/state\nrunDir: ${dirOf(name)}/run\nagentEnvironment: { HA_VARRUN: "${varrun(name)}/" }\nmetrics: { port: ${metricsPort(name)} }\n`
  )
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", main, "--config", file], {
    stdio: ["ignore", "ignore", "ignore"]
  })
  daemons.set(name, child)
}

const configuration = (statusFile: string) => `<cib admin_epoch="0" epoch="1" num_updates="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="bootstrap">
        <nvpair id="bootstrap-stonith-enabled" name="stonith-enabled" value="true"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="fence_all" class="stonith" type="fence_dummy">
        <instance_attributes id="fence_all-params">
          <nvpair id="fence_all-hosts" name="pcmk_host_list" value="alpha beta gamma"/>
          <nvpair id="fence_all-file" name="status_file" value="${statusFile}"/>
        </instance_attributes>
      </primitive>
      <group id="web">
        ${group
          .map(
            (id) => `<primitive id="${id}" class="ocf" provider="heartbeat" type="Dummy">
          <operations><op id="${id}-monitor" name="monitor" interval="2s" timeout="20s"/></operations>
        </primitive>`
          )
          .join("\n        ")}
      </group>
      <clone id="promo">
        <meta_attributes id="promo-meta">
          <nvpair id="promo-promotable" name="promotable" value="true"/>
          <nvpair id="promo-promoted-max" name="promoted-max" value="1"/>
        </meta_attributes>
        <primitive id="${stateful}" class="ocf" provider="pacemaker" type="Stateful">
          <operations>
            <op id="${stateful}-monitor-promoted" name="monitor" interval="3s" role="Promoted" timeout="20s"/>
            <op id="${stateful}-monitor-unpromoted" name="monitor" interval="4s" role="Unpromoted" timeout="20s"/>
          </operations>
        </primitive>
      </clone>
    </resources>
    <constraints/>
    <rsc_defaults>
      <meta_attributes id="defaults"><nvpair id="defaults-stickiness" name="resource-stickiness" value="100"/></meta_attributes>
    </rsc_defaults>
  </configuration>
  <status/>
</cib>`

interface StatusReply {
  readonly dc: string | null
  readonly members: ReadonlyArray<string>
  readonly failures: unknown
}
interface FenceHistoryReply {
  readonly entries: ReadonlyArray<{
    readonly target: string
    readonly state: string
    readonly completedAt: number
  }>
}
interface LogReply {
  readonly entries: ReadonlyArray<{ readonly at: number; readonly kind: string; readonly text: string }>
}

const call = <A = unknown>(name: Name, method: string, params: unknown = {}) =>
  NodeApi.call(socketOf(name), method, params) as Effect.Effect<A, NodeApi.ApiClientError>
const status = (name: Name) => call<StatusReply>(name, "status")

/** Polls until `check` holds (each poll may fail while daemons start or die). */
const eventually = <A>(what: string, check: Effect.Effect<A | undefined, unknown>, seconds = 60) =>
  check.pipe(
    Effect.flatMap((value) =>
      value === undefined ? Effect.fail(`not yet: ${what}`) : Effect.succeed(value)
    ),
    Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo(`${seconds} seconds`))),
    Effect.orElseFail(() => new Error(`gave up waiting for ${what}`))
  )

/** The node whose run directory holds all of the group's state files, if exactly one does. */
const groupNode = (among: ReadonlyArray<Name>) =>
  Effect.sync(() => {
    const holders = among.filter((n) => group.every((r) => existsSync(stateFile(n, r))))
    const partial = among.filter((n) => group.some((r) => existsSync(stateFile(n, r))))
    return holders.length === 1 && partial.length === 1 ? holders[0] : undefined
  })

describe("three daemons running resources", () => {
  it.live(
    "start a group in order, move it, recover a failed monitor, and survive the DC's death only after fencing",
    () =>
      Effect.gen(function* () {
        writeFileSync(join(root, "authkey"), yield* ClusterKey.generateKey())
        chmodSync(join(root, "authkey"), 0o600)
        for (const name of names) start(name)

        // the cluster forms and every node names the same DC (three daemons compiled from their
        // sources at once: on a loaded 2-core machine that alone can take most of a minute)
        const dc = yield* eventually(
          "one DC agreed by all three",
          Effect.gen(function* () {
            const all = yield* Effect.forEach(names, status)
            const dcs = new Set(all.map((s) => s.dc))
            return all.every((s) => s.members.length === 3) && dcs.size === 1 && all[0]!.dc !== null
              ? (all[0]!.dc as Name)
              : undefined
          }),
          120
        )

        // bad input at the API is refused with a reason, and the daemon goes on
        const refused = yield* call("beta", "cib.apply", { text: "<cib><configuration>" }).pipe(Effect.flip)
        expect(refused.message).toMatch(/line|XML|parse/i)
        const unknown = yield* call("beta", "resource.move", { resource: "nope", node: "alpha" }).pipe(
          Effect.flip
        )
        expect(unknown.message).toMatch(/nope/)

        // applying the same configuration twice is harmless: retried if a view change interrupts it
        yield* call("beta", "cib.apply", {
          text: configuration(join(root, "fence.status")),
          format: "xml"
        }).pipe(Effect.retry({ times: 5, while: (error) => /membership changed/.test(error.message) }))
        const first = yield* eventually("the group running on one node", groupNode(names))

        // the promotable clone: its agent publishes promotion scores through ha's crm_attribute,
        // and exactly one instance is promoted
        yield* eventually(
          "one Stateful instance promoted, two unpromoted",
          Effect.sync(() =>
            JSON.stringify(statefulRoles()) === JSON.stringify(["Promoted", "Unpromoted", "Unpromoted"])
              ? true
              : undefined
          )
        )

        // in order: d1's state file is older than d2's, d2's older than d3's (Dummy writes it on start)
        const { statSync } = yield* Effect.promise(() => import("node:fs"))
        const born = group.map((r) => statSync(stateFile(first, r)).mtimeMs)
        expect(born[0]).toBeLessThanOrEqual(born[1]!)
        expect(born[1]).toBeLessThanOrEqual(born[2]!)

        // move: the group leaves its node and runs on the one asked for (and ends up on the DC)
        const moveTo = (node: Name) =>
          Effect.gen(function* () {
            yield* call("gamma", "resource.move", { resource: "web", node })
            yield* eventually(
              `the group on ${node}`,
              Effect.map(groupNode(names), (n) => (n === node ? n : undefined))
            )
            yield* call("gamma", "resource.clear", { resource: "web" })
          })
        const other = names.find((n) => n !== dc)!
        if (first !== other) yield* moveTo(other)

        // a graceful stop (SIGTERM) of the node running the group: the group moves away before the
        // daemon exits, then the node comes back (its shutdown request cleared) and the group stays
        const leaving = daemons.get(other)!
        const exited = Effect.async<number | null>((resume) => {
          leaving.once("exit", (code) => resume(Effect.succeed(code)))
        })
        leaving.kill("SIGTERM")
        expect(yield* exited).toBe(0)
        // it stopped them before leaving; the DC starts them elsewhere
        expect(group.some((r) => existsSync(stateFile(other, r)))).toBe(false)
        const handedTo = yield* eventually(
          "the group handed over",
          groupNode(names.filter((n) => n !== other))
        )
        start(other)
        yield* eventually(
          `${other} back in the cluster`,
          Effect.map(status(dc), (s) => (s.members.length === 3 ? true : undefined))
        )
        if (handedTo !== dc) yield* moveTo(dc)
        const target = dc

        // a failed monitor: d2's state vanishes behind the cluster's back; it is restarted in place
        unlinkSync(stateFile(target, "d2"))
        yield* eventually(
          "d2 restarted in place",
          Effect.sync(() => (existsSync(stateFile(target, "d2")) ? true : undefined))
        )
        const afterFailure = yield* status("alpha")
        expect(JSON.stringify(afterFailure.failures)).toMatch(/d2/)

        // the group runs on the DC; kill the DC outright
        daemons.get(dc)!.kill("SIGKILL")
        const survivors = names.filter((n) => n !== dc)
        const newDc = yield* eventually(
          "a new DC among the survivors",
          Effect.gen(function* () {
            const all = yield* Effect.forEach(survivors, status)
            return all.every((s) => s.dc === all[0]!.dc && s.dc !== dc && s.dc !== null)
              ? (all[0]!.dc as Name)
              : undefined
          })
        )
        expect(survivors).toContain(newDc)
        const recovered = yield* eventually("the group recovered on a survivor", groupNode(survivors), 90)

        // the new DC's metrics show the transitions it ran and the fencing of the dead node
        const metrics = yield* scrape(newDc)
        expect(metrics).toMatch(/ha_transition_seconds_count \d+/)
        expect(metrics).toContain(`ha_fencing_total{target="${dc}",result="succeeded"} 1`)

        // one of the survivors holds (or takes over) the promoted role
        yield* eventually(
          "one survivor promoted, the other unpromoted",
          Effect.sync(() =>
            JSON.stringify(statefulRoles(survivors)) === JSON.stringify(["Promoted", "Unpromoted"])
              ? true
              : undefined
          ),
          90
        )

        // fencing came first: the dead node's fencing completed before the group's first start elsewhere
        const history = yield* call<FenceHistoryReply>(newDc, "fence.history", { node: dc })
        const fenced = history.entries.find((e) => e.target === dc && e.state === "succeeded")
        expect(fenced).toBeDefined()
        const log = yield* call<LogReply>(newDc, "log", {})
        const restart = log.entries.find(
          (e) => e.kind === "Completed" && e.text.includes(`d1_start_0 on ${recovered} done`)
        )
        expect(restart).toBeDefined()
        expect(fenced!.completedAt).toBeLessThanOrEqual(restart!.at)
      }),
    240_000
  )
})
