/**
 * The cluster as `ha status` shows it, computed from this node's copy of the CIB, the scheduler's
 * reading of it and the live membership: every node with its state, every resource with where it
 * runs and in which role, the failures on record, and what the cluster still has to do.
 */
import { Cib } from "@ha/cib"
import { Status } from "@ha/controller"
import { Explain, Policy, type Transition } from "@ha/policy"
import { Either } from "effect"

export type NodeState = "online" | "standby" | "maintenance" | "offline" | "unclean"

export interface NodeView {
  readonly name: string
  readonly id: string
  readonly state: NodeState
  /** In this node's membership view. */
  readonly member: boolean
  readonly standby: boolean
  readonly maintenance: boolean
}

export interface Placed {
  readonly node: string
  /** Started, Promoted or Unpromoted */
  readonly role: string
}

export interface ResourceView {
  /** The primitive, or a clone instance as `rsc:N`. */
  readonly resource: string
  /** `class:provider:type` */
  readonly agent: string
  /** The group or clone it belongs to. */
  readonly parent?: string
  readonly kind?: "group" | "clone" | "promotable clone"
  /** The target-role in force (its own or its parent's), when one is set. */
  readonly targetRole?: string
  /** Empty when stopped. */
  readonly running: ReadonlyArray<Placed>
}

export interface FailureView {
  readonly resource: string
  readonly node: string
  /** e.g. `monitor` */
  readonly operation: string
  /** milliseconds */
  readonly interval: number
  readonly failCount: number
  /** seconds since the epoch */
  readonly lastFailure?: number
  /** The result recorded for that operation, when the history still has it. */
  readonly rc?: number
  readonly reason?: string
}

export interface Pending {
  /** Actions the scheduler still wants to run (pseudo-actions not counted). */
  readonly actions: number
  /** The decisions behind them, one line each (`Move vip (alpha -> beta) due to …`). */
  readonly decisions: ReadonlyArray<string>
}

export interface ClusterView {
  readonly nodes: ReadonlyArray<NodeView>
  readonly resources: ReadonlyArray<ResourceView>
  readonly failures: ReadonlyArray<FailureView>
  readonly pending: Pending
}

interface Owner {
  readonly agent: string
  readonly parent?: string
  readonly kind?: ResourceView["kind"]
  readonly promotable: boolean
  readonly targetRole?: string
}

const agentOf = (p: { readonly class?: string; readonly provider?: string; readonly type?: string }) =>
  [p.class, p.provider, p.type].filter((part) => part !== undefined).join(":")

/** Each configured primitive's agent, the collective it belongs to and its target-role. */
const owners = (configuration: Cib.Configuration): Map<string, Owner> => {
  const out = new Map<string, Owner>()
  const templates = new Map(configuration.templates.map((t) => [t.id, t]))
  const add = (p: Cib.Primitive, owner: Omit<Owner, "agent">, inherited: string | undefined) => {
    const template = p.template === undefined ? undefined : templates.get(p.template)
    const agent = (template && p.type === undefined ? agentOf(template) : agentOf(p)) || (p.template ?? "?")
    const targetRole = Cib.metaValue(p.metaAttributes, "target-role") ?? inherited
    out.set(p.id, { agent, ...owner, ...(targetRole === undefined ? {} : { targetRole }) })
  }
  for (const r of configuration.resources) {
    const own = r._tag === "Bundle" ? undefined : Cib.metaValue(r.metaAttributes, "target-role")
    if (r._tag === "Primitive") add(r, { promotable: false }, undefined)
    else if (r._tag === "Group")
      for (const m of r.members) add(m, { parent: r.id, kind: "group", promotable: false }, own)
    else if (r._tag === "Clone") {
      const promotable = Cib.isPromotable(r)
      const kind = promotable ? "promotable clone" : "clone"
      const child = r.child
      const inherited = own ?? Cib.metaValue(child.metaAttributes, "target-role")
      const members = child._tag === "Group" ? child.members : [child]
      for (const m of members) add(m, { parent: r.id, kind, promotable }, inherited)
    }
  }
  return out
}

const stateOf = (cib: Cib.Cib, node: Cib.Node) =>
  cib.status.nodes.find((s) => (s.uname !== undefined ? s.uname === node.uname : s.id === node.id))

/** A node attribute as the scheduler reads it: transient (status) first, then the configuration's. */
export const nodeAttribute = (cib: Cib.Cib, node: Cib.Node, name: string): string | undefined => {
  const state = stateOf(cib, node)
  const transient = state?.transientAttributes
  return (
    (transient === undefined ? undefined : Cib.metaValue(transient.sets, name)) ??
    Cib.metaValue(node.instanceAttributes, name)
  )
}

const nodeView = (cib: Cib.Cib, node: Cib.Node, members: ReadonlySet<string>): NodeView => {
  const member = members.has(node.uname)
  const standby = Cib.isTrue(nodeAttribute(cib, node, "standby"))
  const maintenance =
    Cib.isTrue(nodeAttribute(cib, node, "maintenance")) || Cib.isTrue(stateOf(cib, node)?.nodeInMaintenance)
  const state: NodeState = !member
    ? Status.isUnclean(cib, node.uname)
      ? "unclean"
      : "offline"
    : maintenance
      ? "maintenance"
      : standby
        ? "standby"
        : "online"
  return { name: node.uname, id: node.id, state, member, standby, maintenance }
}

const FAIL_COUNT = /^fail-count-(.+?)(?:#(.+)_(\d+))?$/

/** The fail-counts on record (`fail-count-RSC#OP_INTERVAL`) with their last failure and result. */
const failuresOf = (cib: Cib.Cib): Array<FailureView> => {
  const out: Array<FailureView> = []
  for (const node of cib.configuration.nodes) {
    const state = stateOf(cib, node)
    for (const set of state?.transientAttributes?.sets ?? []) {
      for (const pair of set.nvpairs) {
        const match = FAIL_COUNT.exec(pair.name ?? "")
        if (match === null) continue
        const [, resource = "", operation = "", interval = "0"] = match
        const count = Number(pair.value ?? "0")
        if (!(count > 0)) continue
        const suffix = pair.name!.slice("fail-count-".length)
        const last = Number(nodeAttribute(cib, node, `last-failure-${suffix}`))
        const op = state?.lrm?.resources
          .find((r) => r.id === resource)
          ?.ops.find((o) => o.operation === operation && o.interval === Number(interval))
        out.push({
          resource,
          node: node.uname,
          operation,
          interval: Number(interval),
          failCount: count,
          ...(Number.isFinite(last) ? { lastFailure: last } : {}),
          ...(op === undefined ? {} : { rc: op.rcCode }),
          ...(op?.exitReason ? { reason: op.exitReason } : {})
        })
      }
    }
  }
  return out
}

const roleOf = (owner: Owner | undefined, role: string) =>
  owner?.promotable && (role === "Started" || role === "Slave") ? "Unpromoted" : Cib.normalizeRole(role)

/** What the scheduler still wants done: decisions not blocked, actions that are not pseudo-actions. */
export const pendingOf = (transition: Transition.Transition): Pending => ({
  actions: transition.actions.filter((a) => a.kind !== "pseudo_event").length,
  decisions: transition.summary.filter((d) => !d.blocked).map(Explain.decision)
})

/** The scheduler's transition for the CIB now (seconds since the epoch), or why it cannot plan. */
export const schedule = (cib: Cib.Cib, nowSeconds: number) => Policy.schedule(cib, { now: nowSeconds })

/** The cluster view of `cib`, with `members` the nodes of the current membership view. */
export const make = (
  cib: Cib.Cib,
  members: ReadonlySet<string>,
  nowSeconds: number
): Either.Either<ClusterView, Policy.UnsupportedFeatureError> =>
  Either.map(schedule(cib, nowSeconds), (transition) => {
    const owned = owners(cib.configuration)
    return {
      nodes: cib.configuration.nodes.map((node) => nodeView(cib, node, members)),
      resources: transition.placements.map((p) => {
        const owner = owned.get(p.resource.replace(/:\d+$/, ""))
        return {
          resource: p.resource,
          agent: owner?.agent ?? "?",
          ...(owner?.parent === undefined ? {} : { parent: owner.parent }),
          ...(owner?.kind === undefined ? {} : { kind: owner.kind }),
          ...(owner?.targetRole === undefined ? {} : { targetRole: owner.targetRole }),
          running: p.current.map((c) => ({ node: c.node, role: roleOf(owner, c.role) }))
        }
      }),
      failures: failuresOf(cib),
      pending: pendingOf(transition)
    }
  })
