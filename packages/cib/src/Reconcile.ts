/**
 * Which CIB wins when two partitions meet again, and what becomes of the loser's status.
 *
 * Winner (as Pacemaker decides it): the copy with the greater (admin_epoch, epoch, num_updates),
 * compared in that order. Copies at the same version with different content (both sides made the
 * same number of changes) are ordered by their content digest ({@link Version.digest}), the greater
 * winning: an arbitrary rule, but one every node computes alike from the two copies alone, whatever
 * order it sees them in.
 *
 * Merge rule: the result is the winner's CIB (configuration, tickets, `<cib>` attributes), except
 * that the status of every node that was a member of the losing partition is taken from the loser's
 * copy: that partition ran those nodes, so its copy holds their real resource history and transient
 * attributes (fail counts, promotion scores), which the winner's copy only knows as it was before the
 * split. Their history is kept even for resources the winning configuration no longer has: the
 * scheduler sees those as orphans and stops them. When the merge changes the status, num_updates
 * is bumped once more, so the merged copy is newer than both and replaces them everywhere.
 */
import type { Cib, NodeState } from "./Cib.ts"
import { isTrue } from "./Cib.ts"
import { deepEqual } from "./internal/structural.ts"
import * as Version from "./Version.ts"

/** A partition's copy of the CIB and the node ids that were members of that partition. */
export interface Copy {
  readonly cib: Cib
  readonly members: ReadonlyArray<string>
}

export interface Outcome {
  /** Which copy won; `identical` when both are the same version with the same content. */
  readonly winner: "first" | "second" | "identical"
  /** The winner with the loser's members' status rebuilt from the loser's copy. */
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
  const up = (value: string | undefined) => value !== undefined && (isTrue(value) || value === "online" || /^[1-9]\d*$/.test(value))
  return cib.status.nodes.filter((n) => up(n.inCcm) && up(n.crmd)).map((n) => n.id)
}

/** The winner's status with the loser's members' node states taken from the loser's copy. */
export const mergeStatus = (winner: Cib, loser: Copy): Cib["status"] => {
  const fromLoser = new Map<string, NodeState>()
  for (const state of loser.cib.status.nodes) if (loser.members.includes(state.id)) fromLoser.set(state.id, state)
  const nodes = winner.status.nodes.map((state) => fromLoser.get(state.id) ?? state)
  const known = new Set(winner.status.nodes.map((s) => s.id))
  for (const [id, state] of fromLoser) if (!known.has(id)) nodes.push(state)
  return { ...winner.status, nodes }
}

/** The CIB both partitions adopt when they meet (see the module comment). */
export const reconcile = (first: Copy, second: Copy): Outcome => {
  const order = compare(first.cib, second.cib)
  if (order === 0) return { winner: "identical", cib: first.cib }
  const [winner, loser] = order > 0 ? [first, second] : [second, first]
  const status = mergeStatus(winner.cib, loser)
  const cib = deepEqual(status, winner.cib.status) ? winner.cib : Version.withStatus(winner.cib, status)
  return { winner: order > 0 ? "first" : "second", cib }
}
