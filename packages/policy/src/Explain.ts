/**
 * Plain-words explanations of a Transition's decisions, for `ha plan --explain RSC`: why a resource is
 * where it is, why it is not running, or why it moves.
 */
import type { Decision, Reason, Transition } from "./Transition.ts"
import { placementText } from "./Transition.ts"

const score = (n: number) =>
  n >= 1_000_000 ? "+INFINITY" : n <= -1_000_000 ? "-INFINITY" : n > 0 ? `+${n}` : `${n}`

/** One reason in words. */
export const reason = (r: Reason): string => {
  switch (r._tag) {
    case "Location":
      return `location constraint ${r.constraint} gives ${r.node} ${score(r.score)}`
    case "Colocation":
      return `colocation ${r.constraint} with ${r.with} (running on ${r.node}) counts ${score(r.score)}`
    case "Stickiness":
      return `stickiness keeps it on ${r.node} (${score(r.score)})`
    case "Failures":
      return `${r.failCount} failure(s) on ${r.node} reached migration-threshold ${r.migrationThreshold}: banned there`
    case "NodeUnavailable":
      return `node ${r.node} is ${r.why}`
    case "TargetRole":
      return `target-role is ${r.role}`
    case "Unmanaged":
      return "it is not managed (is-managed=false, maintenance or frozen): left as it is"
    case "Ordering":
      return `order ${r.constraint}: after ${r.first} ${r.action}`
    case "NoQuorum":
      return `the cluster has no quorum (no-quorum-policy=${r.policy})`
    case "Failed":
      return `${r.operation} failed on ${r.node}`
    case "Text":
      return r.text
  }
}

/** A summary decision as one line, crm_simulate style, with its cause. */
export const decision = (d: Decision): string =>
  `${d.verb} ${d.resource} (${placementText(d)})${d.reason ? ` due to ${d.reason}` : ""}${d.blocked ? " (blocked)" : ""}`

/** Why a resource is where it is (or not running), as lines of text. */
export const resource = (t: Transition, id: string): ReadonlyArray<string> => {
  const placement = t.placements.find((p) => p.resource === id)
  if (!placement) return [`${id} is not a configured primitive`]
  const lines: Array<string> = []
  const now = placement.current.map((c) => `${c.node} (${c.role})`).join(", ")
  lines.push(
    placement.node === undefined
      ? `${id} will not run${now ? ` (now on ${now})` : ""}`
      : `${id} will run on ${placement.node} as ${placement.role}${now ? ` (now on ${now})` : ""}`
  )
  for (const d of t.summary) if (d.resource === id) lines.push(`decision: ${decision(d)}`)
  const scores = t.scores.get(id)
  if (scores) {
    lines.push(
      `scores: ${[...scores]
        .sort((a, b) => b[1] - a[1])
        .map(([node, s]) => `${node} ${score(s)}`)
        .join(", ")}`
    )
  }
  for (const r of placement.reasons) lines.push(`because ${reason(r)}`)
  return lines
}
