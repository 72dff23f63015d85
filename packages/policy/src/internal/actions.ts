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

/** An ordering as the scheduler reads it (a view: the graph stores orderings in flat arrays). */
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

const IMPLIES_THEN = 1
const IMPLIES_FIRST = 2
const RUNNABLE_LEFT = 4
const RESTART = 8
/** the flags that make two orderings of the same pair different */
const PROPAGATING = IMPLIES_THEN | IMPLIES_FIRST | RUNNABLE_LEFT | RESTART
const SILENT = 16
const NONE = -1
const NO_FLAGS: OrderFlags = {}

export class ActionGraph {
  readonly actions: Array<GraphAction> = []
  private readonly byKey = new Map<string, GraphAction>()
  // Orderings live in parallel typed arrays indexed by ordering number, and each action's incoming
  // and outgoing orderings are linked lists threaded through them (head/tail per action, next per
  // ordering), kept in insertion order. A large graph has hundreds of thousands of orderings (two per
  // probe): as objects with per-action arrays they were most of the garbage collector's work.
  private orderingCount = 0
  private firstOf: Int32Array
  private thenOf: Int32Array
  private flagsOf: Uint8Array
  private nextOut: Int32Array
  private nextIn: Int32Array
  /** the few orderings that carry a reason */
  private readonly reasonOf = new Map<number, string>()
  private outHead: Int32Array
  private outTail: Int32Array
  private outCount: Int32Array
  private inHead: Int32Array
  private inTail: Int32Array
  private inCount: Int32Array
  onRequired: OnRequired = () => {}

  /**
   * `expectedActions` sizes the arrays up front (they grow as needed): a large graph then skips the
   * repeated copying of doubling from a small start.
   */
  constructor(expectedActions = 1024) {
    const actions = Math.max(1024, expectedActions)
    // about two orderings per action (a probe is ordered before its resource's start and stop)
    const orderings = 2 * actions
    this.firstOf = new Int32Array(orderings)
    this.thenOf = new Int32Array(orderings)
    this.flagsOf = new Uint8Array(orderings)
    this.nextOut = new Int32Array(orderings)
    this.nextIn = new Int32Array(orderings)
    this.outHead = new Int32Array(actions)
    this.outTail = new Int32Array(actions)
    this.outCount = new Int32Array(actions)
    this.inHead = new Int32Array(actions)
    this.inTail = new Int32Array(actions)
    this.inCount = new Int32Array(actions)
  }

  private static keyOf(task: string, key: string, node: string | undefined) {
    return `${task}:${key}@${node ?? ""}`
  }

  /**
   * Gets or creates an action; a second request for the same key and node returns the first.
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
    minRunnable?: number
  }): GraphAction {
    const k = ActionGraph.keyOf(spec.task, spec.key, spec.node)
    const existing = this.byKey.get(k)
    if (existing) {
      if (spec.required) existing.required = true
      if (!spec.runnable) existing.runnable = false
      return existing
    }
    const a = this.add(
      spec.key,
      spec.task,
      spec.resource,
      spec.node,
      spec.interval ?? 0,
      spec.kind,
      spec.required,
      spec.runnable,
      spec.minRunnable
    )
    this.byKey.set(k, a)
    return a
  }

  /**
   * Creates an action known to be the only one of its key on its node (a primitive's probe), without
   * the lookup: a large cluster has hundreds of thousands of probes.
   */
  unique(
    key: string,
    task: string,
    resource: string,
    node: string,
    kind: ActionKind,
    required: boolean,
    runnable: boolean
  ): GraphAction {
    return this.add(key, task, resource, node, 0, kind, required, runnable, undefined)
  }

  private add(
    key: string,
    task: string,
    resource: string | undefined,
    node: string | undefined,
    interval: number,
    kind: ActionKind,
    required: boolean,
    runnable: boolean,
    minRunnable: number | undefined
  ): GraphAction {
    const a: GraphAction = {
      id: this.actions.length,
      key,
      task,
      resource,
      node,
      interval,
      kind,
      required,
      runnable,
      blockedBy: undefined,
      requiredBy: undefined,
      minRunnable
    }
    this.actions.push(a)
    if (a.id === this.outHead.length) {
      const size = this.outHead.length * 2
      this.outHead = grown(this.outHead, size)
      this.outTail = grown(this.outTail, size)
      this.outCount = grown(this.outCount, size)
      this.inHead = grown(this.inHead, size)
      this.inTail = grown(this.inTail, size)
      this.inCount = grown(this.inCount, size)
    }
    this.outHead[a.id] = NONE
    this.outTail[a.id] = NONE
    this.inHead[a.id] = NONE
    this.inTail[a.id] = NONE
    return a
  }

  order(first: GraphAction, then: GraphAction, flags: OrderFlags = NO_FLAGS): void {
    if (first === then) return
    const bits =
      (flags.impliesThen ? IMPLIES_THEN : 0) |
      (flags.impliesFirst ? IMPLIES_FIRST : 0) |
      (flags.runnableLeft ? RUNNABLE_LEFT : 0) |
      (flags.restart ? RESTART : 0)
    const f = first.id
    const t = then.id
    // the same ordering twice is kept once: look through the shorter adjacency list
    if (this.outCount[f]! <= this.inCount[t]!) {
      for (let o = this.outHead[f]!; o !== NONE; o = this.nextOut[o]!)
        if (this.thenOf[o] === t && (this.flagsOf[o]! & PROPAGATING) === bits) return
    } else {
      for (let o = this.inHead[t]!; o !== NONE; o = this.nextIn[o]!)
        if (this.firstOf[o] === f && (this.flagsOf[o]! & PROPAGATING) === bits) return
    }
    const o = this.orderingCount++
    if (o === this.firstOf.length) {
      const size = o * 2
      this.firstOf = grown(this.firstOf, size)
      this.thenOf = grown(this.thenOf, size)
      this.flagsOf = grown(this.flagsOf, size)
      this.nextOut = grown(this.nextOut, size)
      this.nextIn = grown(this.nextIn, size)
    }
    this.firstOf[o] = f
    this.thenOf[o] = t
    this.flagsOf[o] = bits | (flags.silent ? SILENT : 0)
    if (flags.reason !== undefined) this.reasonOf.set(o, flags.reason)
    this.nextOut[o] = NONE
    this.nextIn[o] = NONE
    const outTail = this.outTail[f]!
    if (outTail === NONE) this.outHead[f] = o
    else this.nextOut[outTail] = o
    this.outTail[f] = o
    this.outCount[f]!++
    const inTail = this.inTail[t]!
    if (inTail === NONE) this.inHead[t] = o
    else this.nextIn[inTail] = o
    this.inTail[t] = o
    this.inCount[t]!++
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

  private countRunnable(a: GraphAction): number {
    let n = 0
    for (let o = this.inHead[a.id]!; o !== NONE; o = this.nextIn[o]!)
      if (this.actions[this.firstOf[o]!]!.runnable) n++
    return n
  }

  /** Propagates requirement and runnability along orderings until nothing changes. Linear per change. */
  settle(): void {
    const actions = this.actions
    this.seen = actions.length
    const queue: Array<GraphAction> = [...actions]
    let queued = new Uint8Array(Math.max(actions.length, 16)).fill(1)
    const push = (a: GraphAction) => {
      if (a.id >= queued.length) {
        const grown = new Uint8Array(Math.max(a.id + 1, queued.length * 2))
        grown.set(queued)
        queued = grown
      }
      if (queued[a.id] === 0) {
        queued[a.id] = 1
        queue.push(a)
      }
    }
    for (const a of actions)
      if (a.minRunnable !== undefined && a.runnable && this.countRunnable(a) < a.minRunnable)
        this.block(a, `fewer than ${a.minRunnable} runnable`)
    while (queue.length > 0) {
      const a = queue.pop()!
      queued[a.id] = 0
      // an optional runnable action makes nothing required or unrunnable
      if (!a.required && a.runnable) continue
      for (let o = this.outHead[a.id]!; o !== NONE; o = this.nextOut[o]!) {
        const then = actions[this.thenOf[o]!]!
        const bits = this.flagsOf[o]!
        const min = then.minRunnable
        if (min !== undefined && !a.runnable && then.runnable && this.countRunnable(then) < min) {
          this.block(then, `unrunnable ${subject(a)}`)
          push(then)
        }
        if ((bits & RUNNABLE_LEFT || (bits & RESTART && a.required)) && !a.runnable && then.runnable) {
          this.block(then, `unrunnable ${this.reasonOf.get(o) ?? subject(a)}`)
          push(then)
        }
        if (bits & IMPLIES_THEN && a.required && !then.required) {
          this.require(then, `required ${this.reasonOf.get(o) ?? subject(a)}`)
          push(then)
          this.pushNew(push)
        }
      }
      for (let o = this.inHead[a.id]!; o !== NONE; o = this.nextIn[o]!) {
        const first = actions[this.firstOf[o]!]!
        if (this.flagsOf[o]! & IMPLIES_FIRST && a.required && !first.required) {
          this.require(first, `required ${subject(a)}`)
          push(first)
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

  private view(o: number): Ordering {
    const bits = this.flagsOf[o]!
    const first = this.actions[this.firstOf[o]!]!
    const then = this.actions[this.thenOf[o]!]!
    return {
      first,
      then,
      impliesThen: (bits & IMPLIES_THEN) !== 0,
      impliesFirst: (bits & IMPLIES_FIRST) !== 0,
      runnableLeft: (bits & RUNNABLE_LEFT) !== 0,
      restart: (bits & RESTART) !== 0,
      reason: this.reasonOf.get(o),
      silent: (bits & SILENT) !== 0
    }
  }

  /** The orderings into an action, in the order they were made. */
  incomingOf(a: GraphAction): ReadonlyArray<Ordering> {
    const out: Array<Ordering> = []
    for (let o = this.inHead[a.id]!; o !== NONE; o = this.nextIn[o]!) out.push(this.view(o))
    return out
  }

  /**
   * The graph's edges between the actions `keep` accepts, in the order the orderings were made: one
   * per pair of actions (orderings with different flags may join the same pair), silent ones left out.
   */
  edges(keep: (a: GraphAction) => boolean): Array<{ readonly before: number; readonly after: number }> {
    const edges: Array<{ readonly before: number; readonly after: number }> = []
    const seen = new Set<number>()
    for (let o = 0; o < this.orderingCount; o++) {
      if (this.flagsOf[o]! & SILENT) continue
      const first = this.actions[this.firstOf[o]!]!
      const then = this.actions[this.thenOf[o]!]!
      if (!keep(first) || !keep(then)) continue
      const k = first.id * 4_194_304 + then.id
      if (seen.has(k)) continue
      seen.add(k)
      edges.push({ before: first.id, after: then.id })
    }
    return edges
  }
}

/** A copy of a typed array with room for `size` elements. */
const grown = <A extends Int32Array | Uint8Array>(array: A, size: number): A => {
  const copy = new (array.constructor as new (size: number) => A)(size)
  copy.set(array)
  return copy
}

const subject = (a: GraphAction) => `${a.resource ?? a.node ?? a.key} ${a.task}`
