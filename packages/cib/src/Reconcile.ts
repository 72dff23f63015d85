/**
 * Which CIB wins when partitions meet again (or a node joins), and what becomes of the losers' status.
 *
 * Winner (as Pacemaker decides it): the copy with the greater (admin_epoch, epoch, num_updates),
 * compared in that order. Copies at the same version with different content (both sides made the
 * same number of changes) are ordered by their content digest ({@link Version.digest}), the greater
 * winning: an arbitrary rule, but one every node computes alike from the copies alone, whatever
 * order it sees them in.
 *
 * Merge rule: the result is the winner's CIB (configuration, tickets, `<cib>` attributes), except
 * that the status of every node that was a member of a losing partition is taken from that
 * partition's copy: that partition ran those nodes, so its copy holds their real resource history
 * and transient attributes (fail counts, promotion scores), which the winner's copy only knows as
 * it was before the split. Their history is kept even for resources the winning configuration no
 * longer has: the scheduler sees those as orphans and stops them. When the merge changes the
 * status, num_updates is bumped once more, so the merged copy is newer than every copy and
 * replaces them everywhere.
 */
import type { Cib, NodeState } from "./Cib.ts"
import { isTrue } from "./Cib.ts"
import { deepEqual } from "./internal/structural.ts"
import * as Version from "./Version.ts"

/** A partition's copy of the CIB and the ids of the nodes whose status it holds (that partition's members). */
export interface Copy {
  readonly cib: Cib
  readonly members: ReadonlyArray<string>
}

export interface Outcome {
  /** Index of the winning copy in the list given (the first of equal copies). */
  readonly winner: number
  /** The winner with the other partitions' members' status taken from their copies. */
  readonly cib: Cib
}

/** -1, 0 or 1 as copy `a` loses to, equals, or beats copy `b` (see the module comment). */
export const compare = (a: Cib, b: Cib): -1 | 0 | 1 => {
  const byVersion = Version.compare(a.version, b.version)
  if (byVersion !== 0) return byVersion
  const da = Version.digest(a)
  const db = Version.digest(b)
  return da === db ? 0 : da < db ? -1 : 1
}

/**
 * Members according to a copy's own status: nodes in the membership (`in_ccm` true, or a join
 * timestamp as newer Pacemaker writes) with a running controller (`crmd` online or a timestamp).
 * For callers that do not know the partition's membership otherwise.
 */
export const membersOf = (cib: Cib): ReadonlyArray<string> => {
  const up = (value: string | undefined) =>
    value !== undefined && (isTrue(value) || value === "online" || /^[1-9]\d*$/.test(value))
  return cib.status.nodes.flatMap((n) => (n.id !== undefined && up(n.inCcm) && up(n.crmd) ? [n.id] : []))
}

/**
 * The CIB every node adopts when `copies` meet (see the module comment). A node claimed by
 * several copies takes its status from the highest-ranked of them. Pure and independent of the
 * order of `copies` (but for the `winner` index), so every node computes the same result.
 */
export const merge = (copies: ReadonlyArray<Copy>): Outcome => {
  if (copies.length === 0) throw new Error("Reconcile.merge needs at least one copy")
  const ranked = copies
    .map((copy, index) => ({ copy, index }))
    .sort((a, b) => compare(b.copy.cib, a.copy.cib))
  const [first, ...others] = ranked as [(typeof ranked)[number], ...typeof ranked]
  const winner = first.copy.cib
  const claimed = new Set(first.copy.members)
  const fromLosers = new Map<string, NodeState>()
  for (const { copy } of others) {
    for (const id of copy.members) {
      if (claimed.has(id)) continue
      claimed.add(id)
      const state = copy.cib.status.nodes.find((n) => n.id === id)
      if (state !== undefined) fromLosers.set(id, state)
    }
  }
  // a node_state without id (seen in old CIBs) cannot be matched: the winner's is kept
  const nodes = winner.status.nodes.map((state) =>
    state.id === undefined ? state : (fromLosers.get(state.id) ?? state)
  )
  const known = new Set(winner.status.nodes.flatMap((s) => (s.id === undefined ? [] : [s.id])))
  for (const [id, state] of fromLosers) if (!known.has(id)) nodes.push(state)
  const status = { ...winner.status, nodes }
  const cib = deepEqual(status, winner.status) ? winner : Version.withStatus(winner, status)
  return { winner: first.index, cib }
}
