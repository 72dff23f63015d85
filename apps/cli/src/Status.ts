/**
 * A cluster's status as people read it (like crm_mon): nodes and their state, each resource with its
 * agent, where it runs and in which role, and the failures on record. `before` reads the CIB (roles
 * come from the scheduler's reading of the resource history); `after` applies a plan's decisions.
 */
import { Cib } from "@ha/cib"
import type { Transition } from "@ha/policy"
import { type Painter, table } from "./internal/text.ts"

export type NodeState = "online" | "offline" | "unclean" | "standby" | "maintenance" | "fenced"

export interface NodeView {
  readonly name: string
  readonly state: NodeState
}

export interface Placed {
  readonly node: string
  /** Started, Promoted or Unpromoted */
  readonly role: string
}

export interface ResourceView {
  /** the primitive, or a clone instance as `rsc:N` */
  readonly resource: string
  /** `class:provider:type` */
  readonly agent: string
  /** the group or clone it belongs to */
  readonly parent?: string
  readonly kind?: "group" | "clone" | "promotable clone"
  /** empty when stopped */
  readonly running: ReadonlyArray<Placed>
}

export interface FailureView {
  readonly resource: string
  readonly node: string
  readonly operation: string
  readonly rc: number
  readonly failCount?: number
  readonly reason?: string
}

export interface StatusView {
  readonly nodes: ReadonlyArray<NodeView>
  readonly resources: ReadonlyArray<ResourceView>
  readonly failures: ReadonlyArray<FailureView>
}

interface Owner {
  readonly agent: string
  readonly parent?: string
  readonly kind?: ResourceView["kind"]
  readonly promotable: boolean
}

const agentOf = (p: {
  readonly class?: string
  readonly provider?: string
  readonly type?: string
}): string => [p.class, p.provider, p.type].filter((part) => part !== undefined).join(":")

/** Each configured primitive's agent and the collective it belongs to. */
const owners = (configuration: Cib.Configuration): Map<string, Owner> => {
  const out = new Map<string, Owner>()
  const templates = new Map(configuration.templates.map((t) => [t.id, t]))
  const primitive = (p: Cib.Primitive, owner: Omit<Owner, "agent">) => {
    const template = p.template === undefined ? undefined : templates.get(p.template)
    const agent = (template && p.type === undefined ? agentOf(template) : agentOf(p)) || (p.template ?? "?")
    out.set(p.id, { agent, ...owner })
  }
  for (const r of configuration.resources) {
    if (r._tag === "Primitive") primitive(r, { promotable: false })
    else if (r._tag === "Group")
      for (const m of r.members) primitive(m, { parent: r.id, kind: "group", promotable: false })
    else if (r._tag === "Clone") {
      const promotable = Cib.isPromotable(r)
      const kind = promotable ? "promotable clone" : "clone"
      const members = r.child._tag === "Group" ? r.child.members : [r.child]
      for (const m of members) primitive(m, { parent: r.id, kind, promotable })
    }
  }
  return out
}

const truthy = (value: string | undefined) =>
  value !== undefined && (Cib.isTrue(value) || (/^\d+$/.test(value) && Number(value) > 0))

const transient = (state: Cib.NodeState | undefined, name: string) =>
  state?.transientAttributes ? Cib.metaValue(state.transientAttributes.sets, name) : undefined

const nodeState = (node: Cib.Node, state: Cib.NodeState | undefined): NodeState => {
  if (!state) return "offline"
  const crmdUp = state.crmd === "online" || truthy(state.crmd)
  const up = truthy(state.inCcm) && crmdUp && (state.join === undefined || state.join === "member")
  // A node that left without saying so (still expected as a member) must be fenced before anything moves.
  if (!up) return state.expected === "member" ? "unclean" : "offline"
  if (truthy(state.nodeInMaintenance) || Cib.isTrue(transient(state, "maintenance"))) return "maintenance"
  if (
    Cib.isTrue(Cib.metaValue(node.instanceAttributes, "standby")) ||
    Cib.isTrue(transient(state, "standby"))
  )
    return "standby"
  return "online"
}

const stateOf = (cib: Cib.Cib, node: Cib.Node) =>
  cib.status.nodes.find((s) => (s.id !== undefined ? s.id === node.id : s.uname === node.uname))

/** Failed operations on record (`RSC_last_failure_0`) with their fail-counts. */
const failuresOf = (cib: Cib.Cib): Array<FailureView> => {
  const out: Array<FailureView> = []
  for (const node of cib.configuration.nodes) {
    const state = stateOf(cib, node)
    for (const r of state?.lrm?.resources ?? []) {
      for (const op of r.ops) {
        if (!op.id.endsWith("_last_failure_0")) continue
        const key = `${r.id}#${op.operation}_${op.interval}`
        const count = transient(state, `fail-count-${key}`)
        out.push({
          resource: r.id,
          node: node.uname,
          operation: op.interval > 0 ? `${op.operation} (every ${op.interval / 1000}s)` : op.operation,
          rc: op.rcCode,
          ...(count === undefined ? {} : { failCount: Number(count) }),
          ...(op.exitReason ? { reason: op.exitReason } : {})
        })
      }
    }
  }
  return out
}

const roleOf = (owner: Owner | undefined, role: string) =>
  owner?.promotable && (role === "Started" || role === "Slave") ? "Unpromoted" : Cib.normalizeRole(role)

const baseName = (resource: string) => resource.replace(/:\d+$/, "")

/** The status of a CIB, read through the scheduler's placements (their `current` nodes and roles). */
export const before = (cib: Cib.Cib, transition: Transition.Transition): StatusView => {
  const owned = owners(cib.configuration)
  return {
    nodes: cib.configuration.nodes.map((n) => ({ name: n.uname, state: nodeState(n, stateOf(cib, n)) })),
    resources: transition.placements.map((p) => view(owned, p.resource, p.current)),
    failures: failuresOf(cib)
  }
}

const view = (owned: Map<string, Owner>, resource: string, running: ReadonlyArray<Placed>): ResourceView => {
  const owner = owned.get(baseName(resource))
  return {
    resource,
    agent: owner?.agent ?? "?",
    ...(owner?.parent === undefined ? {} : { parent: owner.parent }),
    ...(owner?.kind === undefined ? {} : { kind: owner.kind }),
    running: running.map((c) => ({ node: c.node, role: roleOf(owner, c.role) }))
  }
}

/** The status once a transition's decisions are carried out (fenced nodes are down, resources placed). */
export const after = (cib: Cib.Cib, transition: Transition.Transition, start: StatusView): StatusView => {
  const owned = owners(cib.configuration)
  const fenced = new Set(
    transition.summary.filter((d) => d.verb === "Fence" && !d.blocked).map((d) => d.resource)
  )
  const resources = transition.placements.map((p) => {
    const decisions = transition.summary.filter(
      (d) => d.verb !== "Fence" && d.resource === p.resource && !d.blocked
    )
    let running: ReadonlyArray<Placed> = p.current.filter((c) => !fenced.has(c.node))
    for (const d of decisions) running = d.to ? [d.to] : d.verb === "Stop" ? [] : running
    return view(owned, p.resource, running)
  })
  return {
    nodes: start.nodes.map((n) => (fenced.has(n.name) ? { ...n, state: "fenced" as const } : n)),
    resources,
    failures: start.failures.filter((f) => !fenced.has(f.node))
  }
}

const nodeColour = {
  online: "green",
  offline: "red",
  unclean: "red",
  standby: "yellow",
  maintenance: "yellow",
  fenced: "red"
} as const

const where = (p: Painter, r: ResourceView) =>
  r.running.length === 0
    ? p.paint("dim", "Stopped")
    : r.running.map((c) => `${c.role === "Started" ? "" : `${c.role} `}${c.node}`).join(", ")

/** The status as text: a node line, then resources grouped by their group or clone. */
export const render = (status: StatusView, p: Painter): Array<string> => {
  const lines: Array<string> = []
  lines.push(
    `Nodes: ${status.nodes.map((n) => `${n.name} ${p.paint(nodeColour[n.state], `(${n.state})`)}`).join("  ")}`
  )
  const rows: Array<Array<string>> = []
  const seen = new Set<string>()
  for (const r of status.resources) {
    if (r.parent !== undefined && !seen.has(r.parent)) {
      seen.add(r.parent)
      rows.push([p.paint("bold", r.parent), p.paint("dim", r.kind ?? ""), ""])
    }
    rows.push([`${r.parent === undefined ? "" : "  "}${r.resource}`, r.agent, where(p, r)])
  }
  if (rows.length > 0) lines.push("Resources:", ...table(rows))
  else lines.push("Resources: none")
  if (status.failures.length > 0) {
    lines.push("Failures:")
    lines.push(
      ...table(
        status.failures.map((f) => [
          f.resource,
          `on ${f.node}`,
          p.paint("red", `${f.operation} rc=${f.rc}`),
          f.failCount === undefined ? "" : `fail-count ${f.failCount}`,
          f.reason ?? ""
        ])
      )
    )
  }
  return lines
}
