/**
 * The result of scheduling: what the cluster should look like and the actions that get it there.
 *
 * Actions carry Pacemaker-compatible operation keys (`RSC_TASK_INTERVAL`, `stonith-NODE-ACTION`) so a
 * Transition can be compared with, or rendered like, Pacemaker's transition graph.
 */

/** A resource role as Pacemaker names it. */
export type Role = "Stopped" | "Started" | "Unpromoted" | "Promoted"

/** Why a decision was taken: one contribution to a score or one rule that forced the outcome. */
export type Reason =
  | { readonly _tag: "Location"; readonly constraint: string; readonly node: string; readonly score: number }
  | {
      readonly _tag: "Colocation"
      readonly constraint: string
      readonly with: string
      readonly node: string
      readonly score: number
    }
  | { readonly _tag: "Stickiness"; readonly node: string; readonly score: number }
  | {
      readonly _tag: "Failures"
      readonly node: string
      readonly failCount: number
      readonly migrationThreshold: number
    }
  | { readonly _tag: "NodeUnavailable"; readonly node: string; readonly why: string }
  | { readonly _tag: "TargetRole"; readonly role: Role }
  | { readonly _tag: "Unmanaged" }
  | {
      readonly _tag: "Ordering"
      readonly constraint: string
      readonly first: string
      readonly action: string
    }
  | { readonly _tag: "NoQuorum"; readonly policy: string }
  | { readonly _tag: "Failed"; readonly node: string; readonly operation: string }
  | { readonly _tag: "Text"; readonly text: string }

export type ActionKind = "rsc_op" | "pseudo_event" | "crm_event"

export interface Action {
  readonly id: number
  /** Pacemaker operation key, e.g. `db_monitor_10000`, `grp_running_0`, `stonith-node1-reboot` */
  readonly key: string
  /** start, stop, monitor, promote, demote, notify, migrate_to, migrate_from, running, stopped, stonith, … */
  readonly task: string
  readonly resource: string | undefined
  readonly node: string | undefined
  /** recurring interval in milliseconds, 0 for one-shot actions */
  readonly interval: number
  /** rsc_op: executed by a node's executor; pseudo_event: a synchronization point; crm_event: cluster-level */
  readonly kind: ActionKind
}

/** `before` must complete before `after` may start. */
export interface Edge {
  readonly before: number
  readonly after: number
}

export interface Placement {
  readonly resource: string
  /** nodes where the resource currently runs, with their roles */
  readonly current: ReadonlyArray<{ readonly node: string; readonly role: Role }>
  /** node chosen for it, undefined when it will be stopped */
  readonly node: string | undefined
  readonly role: Role
  readonly reasons: ReadonlyArray<Reason>
}

export type Verb =
  | "Start"
  | "Stop"
  | "Move"
  | "Recover"
  | "Restart"
  | "Promote"
  | "Demote"
  | "Migrate"
  | "Reload"
  | "Re-promote"
  | "Fence"

/** One line of the Transition Summary. */
export interface Decision {
  readonly verb: Verb
  /** the resource (with its instance number for clone instances), or the node for Fence */
  readonly resource: string
  readonly from: { readonly node: string; readonly role: Role } | undefined
  readonly to: { readonly node: string; readonly role: Role } | undefined
  /** for Fence: the fencing action (reboot, off, on) */
  readonly fenceAction?: string
  /** the decision will not be carried out (e.g. a required action cannot run) */
  readonly blocked: boolean
  readonly reason: string | undefined
  readonly reasons: ReadonlyArray<Reason>
}

export interface Transition {
  readonly placements: ReadonlyArray<Placement>
  readonly actions: ReadonlyArray<Action>
  readonly edges: ReadonlyArray<Edge>
  /** allocation scores: resource → node → score */
  readonly scores: ReadonlyMap<string, ReadonlyMap<string, number>>
  readonly summary: ReadonlyArray<Decision>
}

const roleText = (r: Role) => r

/**
 * The bracketed placement text of a summary line, as crm_simulate prints it (whitespace collapsed):
 * `node`, `Role node`, `from -> to`, `Role -> Role node`, `Role from -> Role to`.
 */
export const placementText = (d: Decision): string => {
  if (d.verb === "Fence") return d.fenceAction ?? "reboot"
  const { from, to } = d
  const showRole = (r: Role) => r === "Promoted" || r === "Unpromoted"
  if (from && to) {
    if (from.node === to.node) {
      if (from.role === to.role) return showRole(to.role) ? `${roleText(to.role)} ${to.node}` : to.node
      return `${roleText(from.role)} -> ${roleText(to.role)} ${to.node}`
    }
    if (from.role === "Promoted" || to.role === "Promoted") {
      return `${roleText(from.role)} ${from.node} -> ${roleText(to.role)} ${to.node}`
    }
    return `${from.node} -> ${to.node}`
  }
  if (d.verb === "Promote" && !from && to) return `Stopped -> Promoted ${to.node}`
  if (to) return to.node
  return from && showRole(from.role) ? `${roleText(from.role)} ${from.node}` : (from?.node ?? "")
}
