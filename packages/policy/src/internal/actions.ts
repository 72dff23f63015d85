/**
 * The action graph under construction: actions with `required` / `runnable` flags, orderings between
 * them with flags saying how requirement and runnability propagate, and the fixed point that settles the
 * flags. Mirrors Pacemaker's model: every action a resource might need is created (most optional), and
 * orderings make optional actions required (a restart) or required actions unrunnable (blocked).
 */
import type { ActionKind } from "../Transition.ts"

export interface GraphAction {
  readonly id: number
  readonly key: string
  readonly task: string
  readonly resource: string | undefined
  readonly node: string | undefined
  readonly interval: number
  readonly kind: ActionKind
  /** must happen in this transition */
  required: boolean
  /** can happen (its node is up, its prerequisites can happen) */
  runnable: boolean
  /** why it became unrunnable or required, for explanations and summary reasons */
  blockedBy: string | undefined
  requiredBy: string | undefined
  /** runnable only while at least this many of the actions ordered before it are runnable */
  minRunnable: number | undefined
}

export interface Ordering {
  readonly first: GraphAction
  readonly then: GraphAction
  /** first required ⇒ then required */
  readonly impliesThen: boolean
  /** then required ⇒ first required */
  readonly impliesFirst: boolean
  /** first unrunnable ⇒ then unrunnable */
  readonly runnableLeft: boolean
  /** first required but unrunnable ⇒ then unrunnable (a restart cannot start before its stop) */
  readonly restart: boolean
  /** what `then` depends on, for explanations ("A start") */
  readonly reason: string | undefined
  /** propagates flags only: not an edge of the transition graph */
  readonly silent: boolean
}

export interface OrderFlags {
  readonly impliesThen?: boolean
  readonly impliesFirst?: boolean
  readonly runnableLeft?: boolean
  readonly restart?: boolean
  readonly reason?: string
  readonly silent?: boolean
}

/** Hook called when an action becomes required (e.g. a required start of an active resource ⇒ stop). */
export type OnRequired = (a: GraphAction) => void

export class ActionGraph {
  readonly actions: Array<GraphAction> = []
  readonly orderings: Array<Ordering> = []
  private readonly byKey = new Map<string, GraphAction>()
  // adjacency by action id (arrays, not maps: graphs reach hundreds of thousands of actions)
  private readonly outgoing: Array<Array<Ordering> | undefined> = []
  private readonly incoming: Array<Array<Ordering> | undefined> = []
  onRequired: OnRequired = () => {}

  private static keyOf(task: string, key: string, node: string | undefined) {
    return `${task}:${key}@${node ?? ""}`
  }

  /**
   * Gets or creates an action; a second request for the same key and node returns the first. `unique`
   * actions (a primitive's own, one per resource and node) skip that lookup.
   */
  action(spec: {
    key: string
    task: string
    resource?: string | undefined
    node?: string | undefined
    interval?: number
    kind: ActionKind
    required: boolean
    runnable: boolean
    unique?: boolean
    minRunnable?: number
  }): GraphAction {
    const k = spec.unique ? undefined : ActionGraph.keyOf(spec.task, spec.key, spec.node)
    const existing = k === undefined ? undefined : this.byKey.get(k)
    if (existing) {
      if (spec.required) existing.required = true
      if (!spec.runnable) existing.runnable = false
      return existing
    }
    const a: GraphAction = {
      id: this.actions.length,
      key: spec.key,
      task: spec.task,
      resource: spec.resource,
      node: spec.node,
      interval: spec.interval ?? 0,
      kind: spec.kind,
      required: spec.required,
      runnable: spec.runnable,
      blockedBy: undefined,
      requiredBy: undefined,
      minRunnable: spec.minRunnable
    }
    this.actions.push(a)
    this.outgoing.push(undefined)
    this.incoming.push(undefined)
    if (k !== undefined) this.byKey.set(k, a)
    return a
  }

  order(first: GraphAction, then: GraphAction, flags: OrderFlags = {}): void {
    if (first === then) return
    const impliesThen = flags.impliesThen ?? false
    const impliesFirst = flags.impliesFirst ?? false
    const runnableLeft = flags.runnableLeft ?? false
    const restart = flags.restart ?? false
    // the same ordering twice is kept once: look through the shorter adjacency list
    const out = this.outgoing[first.id]
    const inc = this.incoming[then.id]
    const known = out && inc ? (out.length <= inc.length ? out : inc) : undefined
    if (known) {
      for (const k of known) {
        if (
          k.first === first &&
          k.then === then &&
          k.impliesThen === impliesThen &&
          k.impliesFirst === impliesFirst &&
          k.runnableLeft === runnableLeft &&
          k.restart === restart
        )
          return
      }
    }
    const o: Ordering = {
      first,
      then,
      impliesThen,
      impliesFirst,
      runnableLeft,
      restart,
      reason: flags.reason,
      silent: flags.silent ?? false
    }
    this.orderings.push(o)
    if (out) out.push(o)
    else this.outgoing[first.id] = [o]
    if (inc) inc.push(o)
    else this.incoming[then.id] = [o]
  }

  /** Marks an action required (and propagates at the next settle). */
  require(a: GraphAction, why: string | undefined): void {
    if (a.required) return
    a.required = true
    a.requiredBy ??= why
    this.onRequired(a)
  }

  block(a: GraphAction, why: string | undefined): void {
    if (!a.runnable) return
    a.runnable = false
    a.blockedBy ??= why
  }

  /** Propagates requirement and runnability along orderings until nothing changes. Linear per change. */
  settle(): void {
    this.seen = this.actions.length
    const queue: Array<GraphAction> = [...this.actions]
    const queued: Array<boolean> = queue.map(() => true)
    const push = (a: GraphAction) => {
      if (!queued[a.id]) {
        queued[a.id] = true
        queue.push(a)
      }
    }
    const countRunnable = (a: GraphAction) => {
      let n = 0
      for (const o of this.incoming[a.id] ?? []) if (o.first.runnable) n++
      return n
    }
    for (const a of this.actions)
      if (a.minRunnable !== undefined && a.runnable && countRunnable(a) < a.minRunnable)
        this.block(a, `fewer than ${a.minRunnable} runnable`)
    while (queue.length > 0) {
      const a = queue.pop()!
      queued[a.id] = false
      for (const o of this.outgoing[a.id] ?? []) {
        const min = o.then.minRunnable
        if (min !== undefined && !a.runnable && o.then.runnable && countRunnable(o.then) < min) {
          this.block(o.then, `unrunnable ${subject(a)}`)
          push(o.then)
        }
        if ((o.runnableLeft || (o.restart && a.required)) && !a.runnable && o.then.runnable) {
          this.block(o.then, `unrunnable ${o.reason ?? subject(a)}`)
          push(o.then)
        }
        if (o.impliesThen && a.required && !o.then.required) {
          this.require(o.then, `required ${o.reason ?? subject(a)}`)
          push(o.then)
          this.pushNew(push)
        }
      }
      for (const o of this.incoming[a.id] ?? []) {
        if (o.impliesFirst && a.required && !o.first.required) {
          this.require(o.first, `required ${subject(a)}`)
          push(o.first)
          this.pushNew(push)
        }
      }
    }
  }

  private seen = 0
  /** Actions created or changed by onRequired hooks are queued too. */
  private pushNew(push: (a: GraphAction) => void) {
    for (; this.seen < this.actions.length; this.seen++) push(this.actions[this.seen]!)
    for (const a of this.pendingPush) push(a)
    this.pendingPush.length = 0
  }
  private readonly pendingPush: Array<GraphAction> = []
  /** Lets onRequired hooks queue actions they changed. */
  touched(a: GraphAction): void {
    this.pendingPush.push(a)
  }

  incomingOf(a: GraphAction): ReadonlyArray<Ordering> {
    return this.incoming[a.id] ?? []
  }
}

const subject = (a: GraphAction) => `${a.resource ?? a.node ?? a.key} ${a.task}`
