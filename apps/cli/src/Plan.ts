/**
 * `ha plan`: apply what-ifs (and optionally a new configuration) to a CIB, schedule it, and describe the
 * result: the decisions with their reasons, the status before and after, scores and explanations.
 * Pure: the CIB, the what-ifs and the time go in, a {@link Plan} comes out.
 */
import { type Cib, Diff } from "@ha/cib"
import { Explain, Policy, Transition } from "@ha/policy"
import { Either } from "effect"
import { type Painter, score, table } from "./internal/text.ts"
import * as Status from "./Status.ts"
import * as WhatIf from "./WhatIf.ts"

export interface Plan {
  /** where the CIB came from */
  readonly source: string
  /** the what-ifs in words, in the order they were applied */
  readonly whatIfs: ReadonlyArray<string>
  /** the configuration diff of `--change`, as lines (empty without a change) */
  readonly changes: ReadonlyArray<string>
  /** the CIB that was scheduled: the input with the change and the what-ifs applied */
  readonly cib: Cib.Cib
  readonly now: number
  readonly transition: Transition.Transition
  readonly before: Status.StatusView
  readonly after: Status.StatusView
}

export interface PlanInput {
  readonly cib: Cib.Cib
  readonly source: string
  readonly whatIfs: ReadonlyArray<WhatIf.WhatIf>
  /** a new configuration to apply (`--change`) */
  readonly change?: Cib.Configuration
  /** seconds since the epoch (used when the CIB records no execution-date) */
  readonly now: number
}

export type PlanError = WhatIf.WhatIfError | Policy.UnsupportedFeatureError

/** The CIB with a new configuration: the admin epoch is kept and the epoch bumped, as an update would. */
export const withConfiguration = (cib: Cib.Cib, configuration: Cib.Configuration): Cib.Cib => ({
  ...cib,
  version: { adminEpoch: cib.version.adminEpoch, epoch: cib.version.epoch + 1, numUpdates: 0 },
  configuration
})

export const make = (input: PlanInput): Either.Either<Plan, PlanError> => {
  const now = Policy.nowOf(input.cib, input.now)
  const changed = input.change === undefined ? input.cib : withConfiguration(input.cib, input.change)
  const changes = input.change === undefined ? [] : Diff.render(Diff.diff(input.cib, changed))
  return Either.gen(function* () {
    // The status before is the input's (or, with what-ifs, the what-if'd CIB's) current state.
    const cib = yield* WhatIf.applyAll(changed, input.whatIfs, now)
    const transition = yield* Policy.schedule(cib, { now })
    const before = Status.before(cib, transition)
    return {
      source: input.source,
      whatIfs: sortedWhatIfs(input.whatIfs).map(WhatIf.describe),
      changes,
      cib,
      now,
      transition,
      before,
      after: Status.after(cib, transition, before)
    }
  })
}

const sortedWhatIfs = (whatIfs: ReadonlyArray<WhatIf.WhatIf>) => {
  const order = ["SetProperty", "Standby", "NodeAttribute", "NodeUp", "NodeDown", "NodeFail", "OpResult"]
  return [...whatIfs].sort((a, b) => order.indexOf(a._tag) - order.indexOf(b._tag))
}

/** One decision of the summary as `--json` reports it. */
export interface ActionJson {
  /** start, stop, move, recover, restart, promote, demote, migrate, reload, re-promote or fence */
  readonly action: string
  /** the resource (clone instances as rsc:N); absent for fence */
  readonly resource?: string
  /** the node it happens on (the target for a move; the fenced node) */
  readonly node: string | undefined
  readonly from?: string
  readonly to?: string
  /** the role the resource ends in (the fencing action for fence) */
  readonly role?: string
  readonly reason?: string
  readonly blocked: boolean
}

export const actionJson = (d: Transition.Decision): ActionJson => {
  if (d.verb === "Fence") {
    return {
      action: "fence",
      node: d.resource,
      role: d.fenceAction ?? "reboot",
      ...(d.reason === undefined ? {} : { reason: d.reason }),
      blocked: d.blocked
    }
  }
  return {
    action: d.verb.toLowerCase(),
    resource: d.resource,
    node: d.to?.node ?? d.from?.node,
    ...(d.from === undefined ? {} : { from: d.from.node }),
    ...(d.to === undefined ? {} : { to: d.to.node }),
    ...(d.to === undefined && d.from === undefined ? {} : { role: d.to?.role ?? "Stopped" }),
    ...(d.reason === undefined ? {} : { reason: d.reason }),
    blocked: d.blocked
  }
}

/** Allocation scores as plain data: resource → node → score. */
export const scoresJson = (t: Transition.Transition): Record<string, Record<string, number>> =>
  Object.fromEntries([...t.scores].map(([r, nodes]) => [r, Object.fromEntries(nodes)]))

/** The placements a name stands for: a primitive (or its clone instances), a group's members, a clone's instances. */
export const placementsOf = (plan: Plan, id: string): ReadonlyArray<Transition.Placement> => {
  const members = new Set<string>([id])
  for (const r of plan.cib.configuration.resources) {
    if (r.id !== id) continue
    if (r._tag === "Group") for (const m of r.members) members.add(m.id)
    if (r._tag === "Clone") {
      const child = r.child
      members.add(child.id)
      if (child._tag === "Group") for (const m of child.members) members.add(m.id)
    }
  }
  return plan.transition.placements.filter(
    (p) => members.has(p.resource) || members.has(p.resource.replace(/:\d+$/, ""))
  )
}

/** `--explain RSC`: why each placement the name stands for ends where it does. */
export const explain = (
  plan: Plan,
  id: string
): Either.Either<Array<string>, WhatIf.UnknownResourceError> => {
  const placements = placementsOf(plan, id)
  if (placements.length === 0)
    return Either.left(new WhatIf.UnknownResourceError({ option: "--explain", resource: id }))
  return Either.right(placements.flatMap((p) => Explain.resource(plan.transition, p.resource)))
}

export interface JsonOptions {
  readonly scores: boolean
  readonly explain?: { readonly resource: string; readonly lines: ReadonlyArray<string> }
}

export const toJson = (plan: Plan, options: JsonOptions) => ({
  source: plan.source,
  now: plan.now,
  whatIfs: plan.whatIfs,
  ...(plan.changes.length > 0 ? { changes: plan.changes } : {}),
  actions: plan.transition.summary.map(actionJson),
  before: plan.before,
  after: plan.after,
  ...(options.scores ? { scores: scoresJson(plan.transition) } : {}),
  ...(options.explain ? { explain: options.explain } : {})
})

const verbColour = (verb: Transition.Verb) =>
  verb === "Fence" || verb === "Stop"
    ? "red"
    : verb === "Start" || verb === "Promote"
      ? "green"
      : verb === "Demote"
        ? "blue"
        : "yellow"

/** The decisions as aligned rows: verb, resource, placement, reason. */
export const renderDecisions = (t: Transition.Transition, p: Painter): Array<string> =>
  table(
    t.summary.map((d) => [
      p.paint(verbColour(d.verb), d.verb),
      d.verb === "Fence" ? p.paint("bold", d.resource) : d.resource,
      Transition.placementText(d),
      [
        d.reason === undefined ? "" : d.verb === "Fence" ? `'${d.reason}'` : `due to ${d.reason}`,
        d.blocked ? p.paint("red", "(blocked)") : ""
      ]
        .filter((s) => s !== "")
        .join(" ")
    ])
  )

/** Scores as a table: one row per resource, one column per node. */
export const renderScores = (t: Transition.Transition): Array<string> => {
  const nodes = [...new Set([...t.scores.values()].flatMap((m) => [...m.keys()]))]
  return table([
    ["resource", ...nodes],
    ...[...t.scores].map(([r, m]) => [r, ...nodes.map((n) => (m.has(n) ? score(m.get(n) as number) : ""))])
  ])
}

export interface TextOptions {
  readonly scores: boolean
  readonly explain?: { readonly resource: string; readonly lines: ReadonlyArray<string> }
}

/** The plan for people. */
export const render = (plan: Plan, p: Painter, options: TextOptions): Array<string> => {
  const heading = (text: string) => p.paint("bold", text)
  const lines: Array<string> = [`${heading("Cluster:")} ${plan.source}`]
  if (plan.changes.length > 0)
    lines.push(heading("Configuration changes:"), ...plan.changes.map((l) => `  ${l}`))
  if (plan.whatIfs.length > 0) lines.push(heading("What if:"), ...plan.whatIfs.map((w) => `  ${w}`))
  lines.push(heading("Now:"), ...Status.render(plan.before, p).map((l) => `  ${l}`))
  const summary = plan.transition.summary
  if (summary.length === 0) lines.push(heading("Plan: nothing to do"), "  the cluster is where it should be")
  else {
    lines.push(heading(`Plan: ${summary.length} decision${summary.length === 1 ? "" : "s"}`))
    lines.push(...renderDecisions(plan.transition, p))
    lines.push(heading("After:"), ...Status.render(plan.after, p).map((l) => `  ${l}`))
  }
  if (options.scores) lines.push(heading("Allocation scores:"), ...renderScores(plan.transition))
  if (options.explain) {
    lines.push(heading(`Why ${options.explain.resource}:`), ...options.explain.lines.map((l) => `  ${l}`))
  }
  return lines
}
