/**
 * ha itself on the lab: one real `ha-daemon` per namespace node (started inside the node, so a
 * power-off kills it with the rest of the machine), its configuration file, the cluster key, the
 * shared disk prepared with a PostgreSQL data directory, and the seed stack (Filesystem on the loop
 * disk, IPaddr2, pgsql, one fence_lab device per node) applied through the daemon's local API.
 */
import { randomBytes } from "node:crypto"
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { NodeApi } from "@ha/daemon"
import { Duration, Effect, Schedule } from "effect"
import { type Lab, LabError } from "./Lab.ts"

const daemonMain = new URL("../../../apps/daemon/src/main.ts", import.meta.url).pathname
const daemonDir = join(daemonMain, "..", "..")
const postgresBin = "/usr/lib/postgresql/15/bin"

/** Where each node's API socket is: a file the root namespace reaches (the node's /run is private). */
export const apiSocket = (lab: Lab, node: string) => join(lab.node(node).dir, "api.sock")
/** The daemon's stderr, appended across power cycles. */
export const daemonLog = (lab: Lab, node: string) => join(lab.node(node).dir, "daemon.log")
/** Where the stack mounts the shared disk (the same path on every node; mounts are per node). */
export const mountPoint = (lab: Lab) => join(lab.root, "pg")
export const pgdata = (lab: Lab) => join(mountPoint(lab), "data")

/** Writes the cluster key and every node's configuration file. */
export const configure = (lab: Lab) =>
  Effect.sync(() => {
    const keyFile = join(lab.root, "authkey")
    writeFileSync(keyFile, randomBytes(32))
    chmodSync(keyFile, 0o600)
    const nodes = lab.nodes
      .map((n) => `    - { name: ${n.name}, addresses: [${n.addresses.join(", ")}] }`)
      .join("\n")
    for (const n of lab.nodes) {
      writeFileSync(
        join(n.dir, "ha.yaml"),
        `cluster:
  name: ${lab.prefix}
  nodes:
${nodes}
node: ${n.name}
keyFile: ${keyFile}
stateDir: /var/lib/ha
runDir: /run/ha
api: { socket: ${apiSocket(lab, n.name)} }
log: { level: info }
shutdown: stop
`
      )
    }
    mkdirSync(mountPoint(lab), { recursive: true })
  })

/** Starts the daemon on a powered node, as its boot would; it belongs to the node's init from then on. */
export const start = (lab: Lab, node: string) =>
  Effect.gen(function* () {
    const config = join(lab.node(node).dir, "ha.yaml")
    const command = `cd ${daemonDir} && setsid -f ${process.execPath} --import tsx --conditions=source ${daemonMain} --config ${config} </dev/null >>${daemonLog(lab, node)} 2>&1`
    const result = yield* lab.exec(node, ["sh", "-c", command])
    if (result.code !== 0)
      return yield* new LabError({
        command: ["ha-daemon", node],
        reason: `exit ${result.code}: ${result.stderr}`
      })
  })

/** Calls a method of a node's local API. */
export const call = <A = unknown>(lab: Lab, node: string, method: string, params: object = {}) =>
  NodeApi.call(apiSocket(lab, node), method, params).pipe(
    Effect.map((result) => result as A),
    Effect.mapError((error) => new LabError({ command: [node, method], reason: error.message }))
  )

export interface Placed {
  readonly node: string
  readonly role: string
}
export interface Status {
  readonly node: string
  readonly dc: string | null
  readonly members: ReadonlyArray<string>
  readonly quorum: { readonly quorate: boolean }
  readonly peers: ReadonlyArray<{
    readonly node: string
    readonly reachable: boolean
    readonly links: ReadonlyArray<{ readonly link: number; readonly state: string }>
  }>
  readonly nodes: ReadonlyArray<{ readonly name: string; readonly state: string }>
  readonly resources: ReadonlyArray<{ readonly resource: string; readonly running: ReadonlyArray<Placed> }>
  readonly failures: ReadonlyArray<{
    readonly resource: string
    readonly node: string
    readonly operation: string
    readonly failCount: number
  }>
  readonly pending?: ReadonlyArray<string>
}

export const status = (lab: Lab, node: string) => call<Status>(lab, node, "status")

/** Where a resource runs, in a node's status. */
export const runningOn = (s: Status, resource: string) =>
  s.resources.find((r) => r.resource === resource)?.running.map((p) => p.node) ?? []

/** Polls `check` every 200 ms until it returns a value (or `timeout` passes: a LabError naming `what`). */
export const until = <A, E>(
  what: string,
  check: Effect.Effect<A | undefined, E>,
  timeout: Duration.DurationInput = "60 seconds"
): Effect.Effect<A, LabError> =>
  check.pipe(
    Effect.catchAll(() => Effect.succeed(undefined)),
    Effect.flatMap((value) =>
      value === undefined ? Effect.fail("not yet" as const) : Effect.succeed(value as A)
    ),
    Effect.retry(Schedule.spaced(Duration.millis(200)).pipe(Schedule.upTo(timeout))),
    Effect.mapError(
      () =>
        new LabError({ command: ["wait"], reason: `${what}: timed out after ${Duration.format(timeout)}` })
    )
  )

/** Waits until a node's status satisfies `done`; returns that status. */
export const waitStatus = (
  lab: Lab,
  node: string,
  what: string,
  done: (s: Status) => boolean,
  timeout: Duration.DurationInput = "60 seconds"
) =>
  until(
    what,
    Effect.map(status(lab, node), (s) => (done(s) ? s : undefined)),
    timeout
  )

/** The node the whole seed stack (fs, vip, db) runs on, when it runs on exactly one. */
export const stackOn = (s: Status): string | undefined => {
  const placements = ["fs", "vip", "db"].map((r) => runningOn(s, r))
  const first = placements[0]
  return first?.length === 1 && placements.every((p) => p.length === 1 && p[0] === first[0])
    ? first[0]
    : undefined
}

/** Waits until `node` sees every lab node as a member and online under one DC, and the cluster settled. */
export const formed = (lab: Lab, node: string, timeout: Duration.DurationInput = "90 seconds") =>
  Effect.gen(function* () {
    yield* waitStatus(
      lab,
      node,
      "every node a member and online, a DC",
      (s) =>
        s.members.length === lab.nodes.length && s.dc !== null && s.nodes.every((n) => n.state === "online"),
      timeout
    )
    yield* settle(lab, node)
    // the DC reacts to a new membership a moment later: settled twice, a second apart
    yield* Effect.sleep("1 second")
    yield* settle(lab, node)
  })

/** Waits until the cluster has nothing left to do, as a node sees it. */
export const settle = (lab: Lab, node: string, timeoutMs = 60_000) =>
  call<{ readonly settled: boolean; readonly pending: ReadonlyArray<string> }>(lab, node, "transition.wait", {
    timeoutMs
  }).pipe(
    Effect.filterOrFail(
      (r) => r.settled,
      (r) =>
        new LabError({ command: [node, "transition.wait"], reason: `not settled: ${r.pending.join("; ")}` })
    )
  )

/**
 * Puts a PostgreSQL data directory on the shared disk (from a node, which mounts it for the time
 * being): listening on every address, clients of link 0 trusted.
 *
 * `recovery_init_sync_method = syncfs`: after a power loss PostgreSQL makes its data directory durable
 * before crash recovery, by default with an fsync of each of its ~1000 files. On the lab's loop disk
 * every fsync flushes the image file on the host's disk, so that took 0.1–2 s of each failover
 * (whatever the cluster stack), depending on the other I/O on the machine; one syncfs of the
 * filesystem does the same in one flush (PostgreSQL 14+, Linux).
 */
export const prepareDisk = (lab: Lab, node: string) =>
  Effect.gen(function* () {
    if (lab.disk === undefined)
      return yield* new LabError({ command: ["disk"], reason: "the lab has no disk" })
    const inNode = (command: ReadonlyArray<string>) => mustIn(lab, node, command)
    yield* Effect.sync(() => mkdirSync(mountPoint(lab), { recursive: true }))
    yield* inNode(["mount", lab.disk, mountPoint(lab)])
    yield* inNode(["install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0700", pgdata(lab)])
    yield* inNode([
      "runuser",
      "-u",
      "postgres",
      "--",
      `${postgresBin}/initdb`,
      "-A",
      "trust",
      "-D",
      pgdata(lab)
    ])
    yield* inNode([
      "sh",
      "-c",
      `printf "listen_addresses = '*'\\nrecovery_init_sync_method = syncfs\\n" >> ${pgdata(lab)}/postgresql.conf && echo "host all all ${lab.subnets[0]}.0/24 trust" >> ${pgdata(lab)}/pg_hba.conf`
    ])
    yield* inNode(["umount", mountPoint(lab)])
  })

export interface StackOptions {
  /** The power switch's socket, for the fence devices. */
  readonly powerSocket: string
  /** The node the stack prefers (score 50). */
  readonly preferred: string
  /** Monitor interval of each resource of the stack (default 10s each). */
  readonly monitors?: { readonly fs?: string; readonly vip?: string; readonly db?: string }
  /**
   * pcmk_delay_base of the device that fences the preferred node: in a split where each node fences
   * the other, the preferred node's killer waits this long, so the preferred node wins the race
   * (a static delay, as commonly set on two-node Pacemaker clusters). It delays recovery after the
   * preferred node's power loss by as much too. None by default (ha's defaults).
   */
  readonly preferredFenceDelay?: string
}

/**
 * The parameters of the stack's three agents, which Pacemaker's run of the failover benchmark uses too
 * (bench/pacemaker.ts).
 */
export const agentParams = (lab: Lab) => ({
  fs: { device: lab.disk ?? "", directory: mountPoint(lab), fstype: "ext4" },
  vip: { ip: lab.floatingIp, cidr_netmask: "24", nic: "eth0" },
  db: {
    pgctl: `${postgresBin}/pg_ctl`,
    psql: `${postgresBin}/psql`,
    pgdata: pgdata(lab),
    socketdir: "/run/postgresql"
  }
})

export interface AgentOp {
  readonly name: "monitor" | "start" | "stop"
  readonly interval: string
  readonly timeout: string
}

/** The operations of the stack's three agents, which Pacemaker's run uses too (monitors 10 s unless given). */
export const agentOps = (monitors: StackOptions["monitors"] = {}) => {
  const monitor = { fs: "10s", vip: "10s", db: "10s", ...monitors }
  const startStop = (timeout: string): Array<AgentOp> => [
    { name: "start", interval: "0", timeout },
    { name: "stop", interval: "0", timeout }
  ]
  return {
    fs: [{ name: "monitor", interval: monitor.fs, timeout: "40s" }, ...startStop("60s")],
    vip: [{ name: "monitor", interval: monitor.vip, timeout: "20s" }],
    db: [{ name: "monitor", interval: monitor.db, timeout: "30s" }, ...startStop("120s")]
  } satisfies Record<string, ReadonlyArray<AgentOp>>
}

const opsList = (ops: ReadonlyArray<AgentOp>) =>
  ops.map((op) => `          - { ${op.name}: ${op.interval}, timeout: ${op.timeout} }`).join("\n")

const flowMap = (params: Readonly<Record<string, string>>) =>
  `{ ${Object.entries(params)
    .map(([name, value]) => `${name}: ${value}`)
    .join(", ")} }`

/**
 * The seed stack in ha's YAML: fs → vip → db in one group, a fence device per node, stickiness.
 * stonith-action is `off`: a fenced node stays off until the test or benchmark boots it.
 */
export const stack = (lab: Lab, options: StackOptions) => {
  const params = agentParams(lab)
  const ops = agentOps(options.monitors)
  const fences = lab.nodes
    .map(
      (n) => `  fence_${n.name}:
    agent: stonith:fence_lab
    params: { pcmk_host_list: ${n.name}, socket: ${options.powerSocket}${n.name === options.preferred && options.preferredFenceDelay !== undefined ? `, pcmk_delay_base: ${options.preferredFenceDelay}` : ""} }
    ops:
      - { monitor: 60s, timeout: 20s }`
    )
    .join("\n")
  const avoid = lab.nodes
    .map((n) => `  - avoid: { rsc: fence_${n.name}, node: ${n.name}, id: fence_${n.name}-not-on-${n.name} }`)
    .join("\n")
  return `properties:
  cluster-name: ${lab.prefix}
  stonith-enabled: true
  stonith-action: off
  no-quorum-policy: stop

nodes:
${lab.nodes.map((n, i) => `  ${n.name}: { id: ${i + 1} }`).join("\n")}

resources:
${fences}
  pg_stack:
    group:
      fs:
        agent: ocf:heartbeat:Filesystem
        params: ${flowMap(params.fs)}
        ops:
${opsList(ops.fs)}
      vip:
        agent: ocf:heartbeat:IPaddr2
        params: ${flowMap(params.vip)}
        ops:
${opsList(ops.vip)}
      db:
        agent: ocf:heartbeat:pgsql
        params: ${flowMap(params.db)}
        ops:
${opsList(ops.db)}

constraints:
${avoid}
  - prefer: { rsc: pg_stack, node: ${options.preferred}, score: 50, id: pg_stack-prefers-${options.preferred} }

resource-defaults:
  resource-stickiness: 100
  migration-threshold: 3
`
}

/**
 * Applies a configuration (ha YAML) through a node's API. An update cut short by a membership change
 * "may or may not have been committed" (the daemon's words): it is asked again, and the answer that
 * the cluster already has this configuration then means it was.
 */
export const apply = (lab: Lab, node: string, yaml: string) =>
  call<{ readonly version: string }>(lab, node, "cib.apply", {
    text: yaml,
    format: "yaml",
    file: "stack.yaml"
  }).pipe(
    Effect.retry({
      times: 5,
      schedule: Schedule.spaced("1 second"),
      while: (error) => error.reason.includes("membership changed")
    }),
    Effect.catchIf(
      (error) => error.reason.includes("already has this configuration"),
      () => Effect.void
    )
  )

/** `SELECT 1` through the floating IP from the client namespace: whether it answered. */
export const select = (lab: Lab) =>
  lab
    .probe([
      "env",
      "PGCONNECT_TIMEOUT=2",
      `${postgresBin}/psql`,
      "-h",
      lab.floatingIp,
      "-U",
      "postgres",
      "-w",
      "-Atc",
      "select 1"
    ])
    .pipe(Effect.map((r) => r.code === 0 && r.stdout.trim() === "1"))

/** Checks that a command succeeds inside a node. */
export const mustIn = (lab: Lab, node: string, command: ReadonlyArray<string>) =>
  lab.exec(node, command).pipe(
    Effect.filterOrFail(
      (r) => r.code === 0,
      (r) => new LabError({ command, reason: `exit ${r.code} on ${node}: ${r.stderr.trim()}` })
    )
  )
