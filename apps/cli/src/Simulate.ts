/**
 * `ha plan --simulate`: carry transitions out against simulated agents until the cluster is stable
 * (like `crm_simulate -S`). Every resource action succeeds and is recorded in the node's resource
 * history the way the executor would record it; a fencing action takes its node down; then the cluster
 * is scheduled again, until a transition has nothing left to do.
 */
import { Cib } from "@ha/cib"
import { Policy, type Transition } from "@ha/policy"
import { Either, Schema } from "effect"
import * as WhatIf from "./WhatIf.ts"

/** The cluster kept finding work after `rounds` transitions (a loop between placements, or a bug). */
export class UnstableError extends Schema.TaggedError<UnstableError>()("UnstableError", {
  rounds: Schema.Number
}) {
  override get message() {
    return `--simulate: the cluster is not stable after ${this.rounds} transitions`
  }
}

const MAX_ROUNDS = 20

/** Whether a transition has anything to carry out (recurring monitors of an already running resource excepted). */
const hasWork = (t: Transition.Transition) => t.actions.some((a) => a.kind !== "pseudo_event")

/** What the simulation needs to know of each configured primitive. */
interface Known {
  readonly primitive: Cib.Primitive
  /** its history is kept under the instance name (`rsc:N`), for globally-unique clones only */
  readonly uniqueInstances: boolean
}

const index = (cib: Cib.Cib): Map<string, Known> => {
  const out = new Map<string, Known>()
  for (const r of cib.configuration.resources) {
    if (r._tag === "Primitive") out.set(r.id, { primitive: r, uniqueInstances: false })
    else if (r._tag === "Group")
      for (const m of r.members) out.set(m.id, { primitive: m, uniqueInstances: false })
    else if (r._tag === "Clone") {
      const unique = Cib.isTrue(Cib.metaValue(r.metaAttributes, "globally-unique"))
      const members = r.child._tag === "Group" ? r.child.members : [r.child]
      for (const m of members) out.set(m.id, { primitive: m, uniqueInstances: unique })
    }
  }
  return out
}

/** Monitors declared for the Promoted role answer 8 (running promoted), as the executor records them. */
const promotedMonitor = (primitive: Cib.Primitive, interval: number): boolean =>
  primitive.operations?.ops.some(
    (o) => o.name === "monitor" && o.interval === interval && Cib.normalizeRole(o.role ?? "") === "Promoted"
  ) ?? false

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** Records one successful resource action in the node's history. */
const record = (
  cib: Cib.Cib,
  known: Map<string, Known>,
  action: Transition.Action,
  callId: number,
  now: number
): Cib.Cib => {
  const { resource, node } = action
  if (resource === undefined || node === undefined || action.task === "notify") return cib
  const configured = cib.configuration.nodes.find((n) => n.uname === node)
  const base = resource.replace(/:\d+$/, "")
  const entryOf = known.get(base)
  if (!configured || !entryOf) return cib
  const { primitive } = entryOf
  // A clone instance's history is kept under the primitive's id (anonymous clones, Pacemaker's default).
  const id = entryOf.uniqueInstances ? resource : base
  const nodes = cib.status.nodes.map((state) => {
    if (state.uname !== node && state.id !== configured.id) return state
    const lrm: Cib.Lrm = state.lrm ?? { id: configured.id, extra: {}, resources: [] }
    const existing = lrm.resources.find((r) => r.id === id)
    const entry: Cib.LrmResource = existing ?? {
      id,
      ...(primitive.class === undefined ? {} : { class: primitive.class }),
      ...(primitive.provider === undefined ? {} : { provider: primitive.provider }),
      ...(primitive.type === undefined ? {} : { type: primitive.type }),
      ops: []
    }
    const recurring = (o: Cib.LrmRscOp) => o.interval > 0
    let ops = entry.ops
    if (action.task === "cancel") ops = ops.filter((o) => !(recurring(o) && o.interval === action.interval))
    else {
      const probe = action.task === "monitor" && action.interval === 0
      const rc = probe ? 7 : action.task === "monitor" && promotedMonitor(primitive, action.interval) ? 8 : 0
      const opId = action.interval > 0 ? `${id}_${action.task}_${action.interval}` : `${id}_last_0`
      const op: Mutable<Cib.LrmRscOp> = {
        id: opId,
        operationKey: `${id}_${action.task}_${action.interval}`,
        operation: action.task,
        interval: action.interval,
        rcCode: rc,
        opStatus: 0,
        callId,
        lastRcChange: now,
        execTime: 0,
        queueTime: 0,
        crmDebugOrigin: WhatIf.ORIGIN,
        extra: {}
      }
      const digest = ops.find((o) => o.id === opId)?.opDigest
      if (digest !== undefined) op.opDigest = digest
      // A stop ends the recurring monitors, and a role change replaces them.
      if (action.task === "stop" || action.task === "promote" || action.task === "demote")
        ops = ops.filter((o) => !recurring(o))
      ops = ops.some((o) => o.id === opId) ? ops.map((o) => (o.id === opId ? op : o)) : [...ops, op]
    }
    const resources = existing
      ? lrm.resources.map((r) => (r === existing ? { ...entry, ops } : r))
      : [...lrm.resources, { ...entry, ops }]
    return { ...state, lrm: { ...lrm, resources } }
  })
  return { ...cib, status: { ...cib.status, nodes } }
}

/** Actions in an order that respects the graph's edges (ids break ties). */
const ordered = (t: Transition.Transition): Array<Transition.Action> => {
  const waiting = new Map<number, number>(t.actions.map((a) => [a.id, 0]))
  const next = new Map<number, Array<number>>()
  for (const e of t.edges) {
    if (!waiting.has(e.after) || !waiting.has(e.before)) continue
    waiting.set(e.after, (waiting.get(e.after) ?? 0) + 1)
    next.set(e.before, [...(next.get(e.before) ?? []), e.after])
  }
  const byId = new Map(t.actions.map((a) => [a.id, a]))
  const out: Array<Transition.Action> = []
  const done = new Set<number>()
  const ready = t.actions.filter((a) => waiting.get(a.id) === 0).map((a) => a.id)
  for (let at = 0; at < ready.length; at++) {
    const id = ready[at] as number
    out.push(byId.get(id) as Transition.Action)
    done.add(id)
    for (const after of next.get(id) ?? []) {
      const left = (waiting.get(after) ?? 0) - 1
      waiting.set(after, left)
      if (left === 0) ready.push(after)
    }
  }
  // Anything left is on a cycle: run it last rather than drop it.
  for (const a of t.actions) if (!done.has(a.id)) out.push(a)
  return out
}

/** Carries one transition out: every resource action succeeds, fenced nodes go down cleanly. */
export const execute = (cib: Cib.Cib, t: Transition.Transition, now: number): Cib.Cib => {
  let current = cib
  let callId = Math.max(
    0,
    ...cib.status.nodes.flatMap((n) => n.lrm?.resources.flatMap((r) => r.ops.map((o) => o.callId)) ?? [])
  )
  const known = index(cib)
  for (const action of ordered(t)) {
    if (action.kind === "crm_event" && action.task === "stonith" && action.node !== undefined) {
      current = Either.getOrElse(WhatIf.nodeDown(current, action.node), () => current)
    } else if (action.kind === "rsc_op") current = record(current, known, action, ++callId, now)
  }
  return current
}

export interface Simulation {
  /** the transitions carried out, the first being the plan's */
  readonly rounds: ReadonlyArray<Transition.Transition>
  /** the stable CIB and its (empty) transition */
  readonly cib: Cib.Cib
  readonly final: Transition.Transition
}

/** Executes `first` on `cib`, then reschedules and executes until a transition has nothing to do. */
export const run = (
  cib: Cib.Cib,
  first: Transition.Transition,
  now: number
): Either.Either<Simulation, UnstableError | Policy.UnsupportedFeatureError> =>
  Either.gen(function* () {
    const rounds: Array<Transition.Transition> = []
    let current = cib
    let transition = first
    while (hasWork(transition)) {
      if (rounds.length >= MAX_ROUNDS) return yield* Either.left(new UnstableError({ rounds: rounds.length }))
      rounds.push(transition)
      current = execute(current, transition, now)
      transition = yield* Policy.schedule(current, { now })
    }
    return { rounds, cib: current, final: transition }
  })
