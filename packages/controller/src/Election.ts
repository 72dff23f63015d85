/**
 * DC election as a pure function of a membership view, re-run on every view change.
 *
 * Every node sees the same views in the same order (the membership layer's guarantee), so every
 * node computes the same winner without exchanging votes. The winner is, among the view's members:
 * the highest software version first (a newer controller must coordinate older ones, as Pacemaker's
 * feature-set rule), then the highest election priority, then the lowest node id.
 */
import type { Member, View } from "./Membership.ts"

/** Compares dotted versions numerically (`3.10.0` > `3.9.2`); a missing part counts as 0. */
export const compareVersions = (a: string, b: string): number => {
  const pa = a.split(".").map((part) => Number.parseInt(part, 10) || 0)
  const pb = b.split(".").map((part) => Number.parseInt(part, 10) || 0)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** Compares node ids numerically when both are numbers (corosync node ids), else as text. */
export const compareIds = (a: string, b: string): number => {
  const numeric = /^\d+$/
  if (numeric.test(a) && numeric.test(b)) return Number(a) - Number(b)
  return a < b ? -1 : a > b ? 1 : 0
}

/** Negative when `a` should win over `b`. */
export const compareCandidates = (a: Member, b: Member): number =>
  compareVersions(b.version, a.version) || b.priority - a.priority || compareIds(a.id, b.id)

/** The member that should be DC, or `undefined` for an empty view. */
export const winner = (members: ReadonlyArray<Member>): Member | undefined =>
  [...members].sort(compareCandidates)[0]

export interface State {
  /** The view the current decision was made on (`undefined` before the first view). */
  readonly ringId: number | undefined
  readonly dc: string | undefined
}

export const initial: State = { ringId: undefined, dc: undefined }

export type Output =
  | { readonly _tag: "Elected"; readonly dc: string; readonly previous: string | undefined }
  | { readonly _tag: "NoDc"; readonly previous: string | undefined }

/**
 * Re-runs the election on a new view. Views older than the current one are ignored (a late
 * delivery must not undo a newer decision); the output says whether the DC changed.
 */
export const step = (
  state: State,
  view: View
): { readonly state: State; readonly outputs: ReadonlyArray<Output> } => {
  if (state.ringId !== undefined && view.ringId < state.ringId) return { state, outputs: [] }
  const dc = winner(view.members)?.name
  const next: State = { ringId: view.ringId, dc }
  if (dc === state.dc) return { state: next, outputs: [] }
  return {
    state: next,
    outputs: [
      dc === undefined ? { _tag: "NoDc", previous: state.dc } : { _tag: "Elected", dc, previous: state.dc }
    ]
  }
}

/** Whether `self` is the DC of `view`. */
export const isDc = (view: View, self: string): boolean => winner(view.members)?.name === self
