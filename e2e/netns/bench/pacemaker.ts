/**
 * Real Pacemaker 2.1 + Corosync 3 on the lab, the reference ha's failover is measured against: the
 * same nodes, links, disk, power switch, resource group and probes as ha's own run, both at their
 * default timeouts.
 * (Packages: scripts/install-pacemaker.sh; the project's tests never need them.)
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Duration, Effect, Schedule } from "effect"
import { type AgentOp, agentOps, agentParams } from "../src/HaCluster.ts"
import { type Lab, LabError } from "../src/Lab.ts"

/** Directories Corosync and Pacemaker keep per machine. */
export const privateDirs = [
  "/etc/corosync",
  "/var/lib/corosync",
  "/var/log/corosync",
  "/var/lib/pacemaker",
  "/var/log/pacemaker"
]

const corosyncConf = (lab: Lab) => `totem {
  version: 2
  cluster_name: halab
  transport: knet
  crypto_cipher: none
  crypto_hash: none
}
nodelist {
${lab.nodes
  .map(
    (n, i) => `  node {
    name: ${n.name}
    nodeid: ${i + 1}
    ring0_addr: ${n.addresses[0]}
    ring1_addr: ${n.addresses[1]}
  }`
  )
  .join("\n")}
}
quorum {
  provider: corosync_votequorum
${lab.nodes.length === 2 ? "  two_node: 1\n" : ""}}
logging {
  to_logfile: yes
  logfile: /var/log/corosync/corosync.log
  to_syslog: no
  to_stderr: no
  timestamp: hires
}
`

const primitive = (
  id: string,
  type: string,
  params: Readonly<Record<string, string>>,
  ops: ReadonlyArray<AgentOp>
) => `      <primitive id="${id}" class="ocf" provider="heartbeat" type="${type}">
        <instance_attributes id="${id}-params">
${Object.entries(params)
  .map(([name, value]) => `          <nvpair id="${id}-${name}" name="${name}" value="${value}"/>`)
  .join("\n")}
        </instance_attributes>
        <operations>
${ops
  .map(
    (op) =>
      `          <op id="${id}-${op.name}-${op.interval}" name="${op.name}" interval="${op.interval}" timeout="${op.timeout}"/>`
  )
  .join("\n")}
        </operations>
      </primitive>`

/**
 * The measured configuration, ha's seed stack in Pacemaker's terms (HaCluster.stack): fencing through
 * the lab's power switch, group fs → vip → db with the same agents, parameters and operations,
 * preferring the first node, stickiness 100, migration-threshold 3.
 */
const configuration = (lab: Lab, powerSocket: string) => {
  const params = agentParams(lab)
  const ops = agentOps()
  const first = lab.nodes[0]!.name
  return `<configuration>
  <crm_config>
    <cluster_property_set id="options">
      <nvpair id="options-stonith-enabled" name="stonith-enabled" value="true"/>
      <nvpair id="options-stonith-action" name="stonith-action" value="off"/>
    </cluster_property_set>
  </crm_config>
  <nodes/>
  <resources>
    <primitive id="fence" class="stonith" type="fence_lab">
      <instance_attributes id="fence-params">
        <nvpair id="fence-hosts" name="pcmk_host_list" value="${lab.nodes.map((n) => n.name).join(" ")}"/>
        <nvpair id="fence-socket" name="socket" value="${powerSocket}"/>
      </instance_attributes>
      <operations><op id="fence-monitor" name="monitor" interval="60s"/></operations>
    </primitive>
    <group id="pg_stack">
${primitive("fs", "Filesystem", params.fs, ops.fs)}
${primitive("vip", "IPaddr2", params.vip, ops.vip)}
${primitive("db", "pgsql", params.db, ops.db)}
    </group>
  </resources>
  <constraints>
    <rsc_location id="pg_stack-prefers-${first}" rsc="pg_stack" node="${first}" score="50"/>
  </constraints>
  <rsc_defaults>
    <meta_attributes id="defaults">
      <nvpair id="defaults-stickiness" name="resource-stickiness" value="100"/>
      <nvpair id="defaults-migration-threshold" name="migration-threshold" value="3"/>
    </meta_attributes>
  </rsc_defaults>
</configuration>`
}

/** Writes each node's corosync.conf (call once, after the lab is built). */
export const configure = (lab: Lab) =>
  Effect.sync(() => {
    for (const n of lab.nodes)
      writeFileSync(join(n.privatePath("/etc/corosync"), "corosync.conf"), corosyncConf(lab))
  })

/** Starts Corosync and Pacemaker on a powered node, as its boot would. */
export const start = (lab: Lab, node: string) =>
  Effect.gen(function* () {
    for (const command of ["corosync", "setsid -f pacemakerd"]) {
      const result = yield* lab.exec(node, ["sh", "-c", `${command} </dev/null >/dev/null 2>&1`])
      if (result.code !== 0) {
        return yield* new LabError({ command: [command], reason: `exit ${result.code} on ${node}` })
      }
    }
  })

const poll = <A>(
  what: string,
  check: Effect.Effect<A | undefined, LabError>,
  timeout: Duration.DurationInput
) =>
  check.pipe(
    Effect.flatMap((value) =>
      value === undefined ? Effect.fail("not yet" as const) : Effect.succeed(value)
    ),
    Effect.retry(Schedule.spaced(Duration.millis(250)).pipe(Schedule.upTo(timeout))),
    Effect.catchAll((error) =>
      error === "not yet"
        ? Effect.fail(new LabError({ command: ["wait"], reason: `${what}: timed out` }))
        : Effect.fail(error)
    )
  )

/** Waits until every powered node is online in Pacemaker's view, as seen from `node`. */
export const waitOnline = (lab: Lab, node: string) =>
  poll(
    "all nodes online",
    lab.exec(node, ["crm_mon", "-1", "--output-as=xml"]).pipe(
      Effect.map((result) => {
        const online = [...result.stdout.matchAll(/<node name="([^"]+)"[^>]*online="true"/g)].map((m) => m[1])
        return lab.nodes.every((n) => !lab.isOn(n.name) || online.includes(n.name)) ? true : undefined
      })
    ),
    "120 seconds"
  )

/** Waits until the cluster has nothing left to do (no transition in flight, every probe done). */
export const settle = (lab: Lab, node: string) =>
  lab
    .exec(node, ["crm_resource", "--wait", "--timeout=120s"])
    .pipe(
      Effect.flatMap((result) =>
        result.code === 0
          ? Effect.void
          : Effect.fail(new LabError({ command: ["crm_resource", "--wait"], reason: result.stderr }))
      )
    )

/** Loads the measured configuration and waits until the floating IP is up somewhere (the database follows). */
export const load = (lab: Lab, powerSocket: string) =>
  Effect.gen(function* () {
    const node = lab.nodes[0]!.name
    const result = yield* lab.exec(node, [
      "cibadmin",
      "--replace",
      "--scope",
      "configuration",
      "--xml-text",
      configuration(lab, powerSocket)
    ])
    if (result.code !== 0) return yield* new LabError({ command: ["cibadmin"], reason: result.stderr })
    return yield* poll(
      "floating IP started",
      lab.addressHeldBy(lab.floatingIp).pipe(Effect.map((held) => (held.length === 1 ? held[0] : undefined))),
      "60 seconds"
    )
  })

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

/** When (epoch ms) the survivor's Corosync formed a membership without the victim, after `since`. */
export const membershipChangeAt = (lab: Lab, survivor: string, since: number) =>
  lab.exec(survivor, ["cat", "/var/log/corosync/corosync.log"]).pipe(
    Effect.map((result) => {
      for (const line of result.stdout.split("\n")) {
        if (!line.includes("A new membership")) continue
        // "Nov 23 11:30:01.123 [...]", local time without a year
        const stamp = /^(\w{3}) +(\d+) (\d+):(\d+):(\d+)\.(\d+)/.exec(line)
        if (stamp === null) continue
        const [, month, day, hours, minutes, seconds, fraction] = stamp
        const at = new Date(
          new Date(since).getFullYear(),
          months.indexOf(month!),
          Number(day),
          Number(hours),
          Number(minutes),
          Number(seconds),
          Number(fraction!.padEnd(3, "0").slice(0, 3))
        ).getTime()
        if (at >= since) return at
      }
      return undefined
    })
  )
