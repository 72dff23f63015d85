/**
 * `ha status`: the running cluster as this node's daemon sees it, like crm_mon: quorum and DC, the
 * nodes and links, every resource with where it runs and in which role, the failures on record,
 * the last transition and what the cluster still has to do. `--watch` follows it.
 */
import { Command, Options } from "@effect/cli"
import { Console, Duration, Effect, Schema } from "effect"
import * as Client from "./Client.ts"

export { DaemonUnavailableError } from "./Client.ts"

const Placed = Schema.Struct({ node: Schema.String, role: Schema.String })

export const ClusterStatus = Schema.Struct({
  cluster: Schema.String,
  node: Schema.String,
  dc: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  members: Schema.Array(Schema.String),
  quorum: Schema.Struct({ quorate: Schema.Boolean, votes: Schema.Number, needed: Schema.Number }),
  peers: Schema.Array(
    Schema.Struct({
      node: Schema.String,
      reachable: Schema.Boolean,
      links: Schema.Array(Schema.Struct({ link: Schema.Number, state: Schema.String }))
    })
  ),
  version: Schema.optional(Schema.String),
  nodes: Schema.optionalWith(Schema.Array(Schema.Struct({ name: Schema.String, state: Schema.String })), {
    default: () => []
  }),
  resources: Schema.optionalWith(
    Schema.Array(
      Schema.Struct({
        resource: Schema.String,
        agent: Schema.String,
        parent: Schema.optional(Schema.String),
        kind: Schema.optional(Schema.String),
        targetRole: Schema.optional(Schema.String),
        running: Schema.Array(Placed)
      })
    ),
    { default: () => [] }
  ),
  failures: Schema.optionalWith(
    Schema.Array(
      Schema.Struct({
        resource: Schema.String,
        node: Schema.String,
        operation: Schema.String,
        interval: Schema.Number,
        failCount: Schema.Number,
        lastFailure: Schema.optional(Schema.Number),
        rc: Schema.optional(Schema.Number),
        reason: Schema.optional(Schema.String)
      })
    ),
    { default: () => [] }
  ),
  pending: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  problem: Schema.optional(Schema.String),
  lastTransition: Schema.optional(
    Schema.Struct({
      graph: Schema.Number,
      outcome: Schema.String,
      done: Schema.Number,
      total: Schema.Number,
      durationMs: Schema.Number,
      at: Schema.Number
    })
  )
})
export type ClusterStatus = typeof ClusterStatus.Type

/** Rows with their columns padded to the widest cell. */
export const columns = (rows: ReadonlyArray<ReadonlyArray<string>>, indent = "  "): Array<string> => {
  const widths: Array<number> = []
  for (const row of rows)
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length)
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd()
  )
}

const time = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z")

const placed = (running: ReadonlyArray<typeof Placed.Type>) =>
  running.length === 0
    ? "Stopped"
    : running.map((p) => (p.role === "Started" ? `Started ${p.node}` : `${p.role} ${p.node}`)).join(", ")

/** The status for people, crm_mon style. */
export const render = (status: ClusterStatus): string => {
  const lines = [
    `Cluster ${status.cluster}, seen from ${status.node}: ${
      status.quorum.quorate ? "quorate" : "NO QUORUM"
    } (${status.quorum.votes} votes, ${status.quorum.needed} needed)${status.dc === null ? ", no DC" : `, DC ${status.dc}`}`,
    `Members: ${status.members.length === 0 ? "(none yet)" : status.members.join(", ")}`
  ]
  if (status.lastTransition !== undefined) {
    const t = status.lastTransition
    lines.push(
      `Last transition: ${t.graph} ${t.outcome} (${t.done}/${t.total} actions in ${t.durationMs} ms) at ${time(t.at)}`
    )
  }
  if (status.peers.length > 0) {
    lines.push("Links:")
    lines.push(
      ...status.peers.map(
        (peer) =>
          `  ${peer.node}: ${peer.reachable ? "reachable" : "UNREACHABLE"}; ${peer.links
            .map((l) => `link ${l.link} ${l.state}`)
            .join(", ")}`
      )
    )
  }
  if (status.nodes.length > 0) {
    lines.push("Nodes:")
    lines.push(...columns(status.nodes.map((n) => [n.name, n.state])))
  }
  if (status.problem !== undefined) lines.push(`Resources: cannot be shown: ${status.problem}`)
  else if (status.nodes.length > 0 || status.resources.length > 0) {
    const rows: Array<Array<string>> = []
    const seen = new Set<string>()
    for (const r of status.resources) {
      if (r.parent !== undefined && !seen.has(r.parent)) {
        seen.add(r.parent)
        rows.push([r.parent, `(${r.kind ?? "group"})`, ""])
      }
      const disabled = r.targetRole === "Stopped" ? " (disabled)" : ""
      rows.push([`${r.parent === undefined ? "" : "  "}${r.resource}`, r.agent, placed(r.running) + disabled])
    }
    lines.push(rows.length === 0 ? "Resources: none" : "Resources:", ...columns(rows))
  }
  if (status.failures.length > 0) {
    lines.push("Failures:")
    lines.push(
      ...columns(
        status.failures.map((f) => [
          f.resource,
          `on ${f.node}`,
          `${f.operation}${f.interval > 0 ? ` (every ${f.interval / 1000}s)` : ""}${f.rc === undefined ? "" : ` rc=${f.rc}`}`,
          `fail-count ${f.failCount}`,
          [f.lastFailure === undefined ? "" : `last ${time(f.lastFailure * 1000)}`, f.reason ?? ""]
            .filter((s) => s !== "")
            .join(" ")
        ])
      )
    )
  }
  if (status.pending.length > 0) lines.push("Pending:", ...status.pending.map((d) => `  ${d}`))
  return lines.join("\n")
}

export const fetch = (socket: string) => Client.request(socket, "status", {}, ClusterStatus, 10_000)

export const command = Command.make(
  "status",
  {
    socket: Client.socket,
    json: Client.json,
    watch: Options.boolean("watch").pipe(Options.withDescription("show the status again every --interval")),
    interval: Options.integer("interval").pipe(
      Options.withDefault(2),
      Options.withDescription("seconds between two views with --watch")
    )
  },
  ({ socket, json, watch, interval }) => {
    const show = Effect.gen(function* () {
      const status = yield* fetch(socket)
      const text = json ? JSON.stringify(status, null, 2) : render(status)
      // on a terminal the view replaces the previous one, as crm_mon does
      const clear = watch && process.stdout.isTTY === true && !json ? "\x1b[H\x1b[2J" : ""
      yield* Console.log(`${clear}${text}`)
    })
    if (!watch) return show
    return show.pipe(Effect.zipRight(Effect.sleep(Duration.seconds(Math.max(1, interval)))), Effect.forever)
  }
).pipe(
  Command.withDescription(
    "Show the running cluster as this node's daemon sees it: quorum, DC, nodes, resources, failures (--watch to follow)."
  )
)
