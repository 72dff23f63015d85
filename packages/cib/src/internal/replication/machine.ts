/**
 * The replication protocol of one node as a state machine: views, delivered messages and local
 * requests in; broadcasts and store actions out. No I/O: the runtime (`CibReplica.ts`) performs the
 * outputs, and feeds the result of an `Execute` back as an `Executed` input.
 *
 * - DC: the lowest node id among the members of a quorate view; none in a view without quorum.
 *   Every member computes it from the view alone, so no election messages are needed, and it is
 *   re-run on every view.
 * - Sync, on every view: each member broadcasts a {@link Hello} (its copy's version and digest, and
 *   the members of the last view it was in sync in). Once all Hellos are delivered every member
 *   knows the same copies; if they differ, the lowest member holding each copy the merge needs
 *   broadcasts it, and once those are delivered every member computes the same merge
 *   (`Reconcile.merge`) and installs it. No update is executed before the sync ends.
 * - Updates: a node broadcasts a {@link Request}; the DC executes requests in delivery order on its
 *   store and broadcasts each outcome ({@link Commit} or {@link Refused}); the other members apply
 *   commits in that order, so every copy goes through the same versions. The DC executes its own
 *   requests at once (after the sync), without broadcasting them: the order of its commits is the
 *   order it executes them in, whoever asked.
 * - A view change interrupts the node's requests still waiting for an outcome: the old DC may or
 *   may not have committed them.
 */
import type * as Cib from "../../Cib.ts"
import type * as Diff from "../../Diff.ts"
import * as Reconcile from "../../Reconcile.ts"
import type { NodeId, View } from "../../ReplicationChannel.ts"
import * as Version from "../../Version.ts"
import type { Commit, Hello, Message, RefusalReason, Request } from "./messages.ts"

/** A copy's identity: its version and content digest. */
export interface Summary {
  readonly version: Cib.Version
  readonly digest: string
}

export type Input =
  | { readonly _tag: "View"; readonly view: View; readonly local: Summary }
  | { readonly _tag: "Delivered"; readonly sender: NodeId; readonly message: Message }
  | {
      readonly _tag: "Submit"
      readonly id: number
      readonly diff: Diff.Diff
      readonly expectedVersion?: Cib.Version
    }
  | {
      readonly _tag: "Executed"
      readonly origin: NodeId
      readonly id: number
      readonly outcome:
        | { readonly _tag: "Committed"; readonly diff: Diff.Diff }
        | { readonly _tag: "Refused"; readonly error: RefusalReason }
    }

export type Resolution =
  | { readonly _tag: "Committed"; readonly diff: Diff.Diff }
  | { readonly _tag: "Refused"; readonly error: RefusalReason }
  | { readonly _tag: "NoCoordinator" }
  | { readonly _tag: "Interrupted" }

export type Output =
  | { readonly _tag: "Broadcast"; readonly message: Message }
  /** DC: run the request on the store (rebasing its patch) and feed back `Executed`. */
  | { readonly _tag: "Execute"; readonly origin: NodeId; readonly request: Request }
  /** Install a commit made by the DC. */
  | { readonly _tag: "Apply"; readonly diff: Diff.Diff }
  /** Broadcast this node's whole copy for the sync of `view`. */
  | { readonly _tag: "ShareCopy"; readonly view: number }
  /** The sync's result: replace the local copy by it (a no-op when it is the local copy). */
  | { readonly _tag: "Install"; readonly cib: Cib.Cib }
  /** The outcome of this node's request `id`. */
  | { readonly _tag: "Resolve"; readonly id: number; readonly resolution: Resolution }
  /** The node is in sync in `view` (updates may run). */
  | { readonly _tag: "Synced"; readonly view: View; readonly dc: NodeId | undefined }

/** The DC of a view (see the module comment). */
export const coordinatorOf = (view: View): NodeId | undefined =>
  view.quorate && view.members.length > 0 ? Math.min(...view.members) : undefined

const keyOf = (s: Summary) => `${Version.format(s.version)}/${s.digest}`

/** Pacemaker's order on copies, from their summaries (as `Reconcile.compare` on the copies). */
const compareSummaries = (a: Summary, b: Summary): number =>
  Version.compare(a.version, b.version) || (a.digest === b.digest ? 0 : a.digest < b.digest ? -1 : 1)

interface Group {
  readonly summary: Summary
  readonly holders: Array<NodeId>
  readonly claims: Set<NodeId>
}

export class Machine {
  private view: View | undefined
  private dc: NodeId | undefined
  private synced = false
  private lastSynced: View | undefined
  private hellos = new Map<NodeId, Hello>()
  /** copies the merge needs, by key, with their holders' claims; filled as Copy messages arrive */
  private needed:
    | Map<string, { readonly claims: ReadonlyArray<NodeId>; cib: Cib.Cib | undefined }>
    | undefined
  /** requests delivered to the DC before the sync ended */
  private queued: Array<{ readonly origin: NodeId; readonly request: Request }> = []
  private pending = new Set<number>()

  constructor(readonly self: NodeId) {}

  step(input: Input): Array<Output> {
    switch (input._tag) {
      case "View":
        return this.onView(input.view, input.local)
      case "Submit":
        return this.onSubmit(input.id, input.diff, input.expectedVersion)
      case "Executed":
        return this.onExecuted(input)
      case "Delivered":
        return this.onDelivered(input.sender, input.message)
    }
  }

  private onView(view: View, local: Summary): Array<Output> {
    const out: Array<Output> = [...this.pending].map((id) => ({
      _tag: "Resolve" as const,
      id,
      resolution: { _tag: "Interrupted" as const }
    }))
    this.pending.clear()
    this.view = view
    this.dc = coordinatorOf(view)
    this.synced = false
    this.hellos.clear()
    this.needed = undefined
    this.queued = []
    if (!view.members.includes(this.self)) return out
    out.push({
      _tag: "Broadcast",
      message: {
        _tag: "Hello",
        view: view.id,
        version: local.version,
        digest: local.digest,
        partition: this.lastSynced?.members ?? []
      }
    })
    return out
  }

  private onSubmit(id: number, diff: Diff.Diff, expectedVersion: Cib.Version | undefined): Array<Output> {
    if (this.view === undefined || this.dc === undefined)
      return [{ _tag: "Resolve", id, resolution: { _tag: "NoCoordinator" } }]
    this.pending.add(id)
    const request: Request =
      expectedVersion === undefined
        ? { _tag: "Request", view: this.view.id, id, diff }
        : { _tag: "Request", view: this.view.id, id, diff, expectedVersion }
    if (this.dc !== this.self) return [{ _tag: "Broadcast", message: request }]
    // the DC's own requests need no trip through the broadcast: it sequences the commits itself
    if (!this.synced) {
      this.queued.push({ origin: this.self, request })
      return []
    }
    return [{ _tag: "Execute", origin: this.self, request }]
  }

  private onExecuted(input: Extract<Input, { _tag: "Executed" }>): Array<Output> {
    if (this.view === undefined) return []
    const { origin, id, outcome } = input
    const view = this.view.id
    return [
      {
        _tag: "Broadcast",
        message:
          outcome._tag === "Committed"
            ? { _tag: "Commit", view, origin, id, diff: outcome.diff }
            : { _tag: "Refused", view, origin, id, error: outcome.error }
      }
    ]
  }

  private onDelivered(sender: NodeId, message: Message): Array<Output> {
    const view = this.view
    if (view === undefined || message.view !== view.id || !view.members.includes(this.self)) return []
    switch (message._tag) {
      case "Hello":
        this.hellos.set(sender, message)
        return this.hellos.size === view.members.length ? this.onAllHellos(view) : []
      case "Copy": {
        // the copy is the sender's at the time of its Hello: no update runs during the sync
        const hello = this.hellos.get(sender)
        const entry = hello === undefined ? undefined : this.needed?.get(keyOf(hello))
        if (entry === undefined || entry.cib !== undefined) return []
        entry.cib = message.cib
        return this.maybeMerge(view)
      }
      case "Request":
        if (this.dc !== this.self) return []
        if (!this.synced) {
          this.queued.push({ origin: sender, request: message })
          return []
        }
        return [{ _tag: "Execute", origin: sender, request: message }]
      case "Commit":
        return this.onCommit(sender, message)
      case "Refused":
        return this.resolve(message.origin, message.id, { _tag: "Refused", error: message.error })
    }
  }

  private onCommit(sender: NodeId, commit: Commit): Array<Output> {
    const changed = !isNoop(commit.diff)
    const out: Array<Output> = sender !== this.self && changed ? [{ _tag: "Apply", diff: commit.diff }] : []
    return [...out, ...this.resolve(commit.origin, commit.id, { _tag: "Committed", diff: commit.diff })]
  }

  private resolve(origin: NodeId, id: number, resolution: Resolution): Array<Output> {
    if (origin !== this.self || !this.pending.delete(id)) return []
    return [{ _tag: "Resolve", id, resolution }]
  }

  private onAllHellos(view: View): Array<Output> {
    const groups = new Map<string, Group>()
    for (const member of view.members) {
      const hello = this.hellos.get(member) as Hello
      const key = keyOf(hello)
      let group = groups.get(key)
      if (group === undefined) {
        group = { summary: hello, holders: [], claims: new Set() }
        groups.set(key, group)
      }
      group.holders.push(member)
      for (const claimed of hello.partition) group.claims.add(claimed)
    }
    if (groups.size === 1) return this.finishSync(view, [])
    const ranked = [...groups.entries()].sort(([, a], [, b]) => compareSummaries(b.summary, a.summary))
    // the winner's copy is needed by everyone else; a losing copy only for the status it holds
    const needed = ranked.filter(([, group], i) => i === 0 || group.claims.size > 0)
    this.needed = new Map(
      needed.map(([key, group]) => [key, { claims: [...group.claims].sort((a, b) => a - b), cib: undefined }])
    )
    const mine = keyOf(this.hellos.get(this.self) as Hello)
    const myGroup = groups.get(mine) as Group
    const shares = this.needed.has(mine) && Math.min(...myGroup.holders) === this.self
    return shares ? [{ _tag: "ShareCopy", view: view.id }] : []
  }

  private maybeMerge(view: View): Array<Output> {
    const needed = this.needed
    if (needed === undefined) return []
    const copies: Array<Reconcile.Copy> = []
    for (const { claims, cib } of needed.values()) {
      if (cib === undefined) return []
      copies.push({ cib, members: claims.map(String) })
    }
    return this.finishSync(view, [{ _tag: "Install", cib: Reconcile.merge(copies).cib }])
  }

  private finishSync(view: View, install: Array<Output>): Array<Output> {
    this.synced = true
    this.lastSynced = view
    this.needed = undefined
    const out: Array<Output> = [...install, { _tag: "Synced", view, dc: this.dc }]
    for (const { origin, request } of this.queued) out.push({ _tag: "Execute", origin, request })
    this.queued = []
    return out
  }
}

/** A commit that changed nothing (the DC found the update already in place). */
const isNoop = (diff: Diff.Diff): boolean => diff.changes.length === 0 && Version.equals(diff.from, diff.to)
