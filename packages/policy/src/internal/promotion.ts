/**
 * Promotable clones (Pacemaker Explained, "Promotable clones"): after the instances are placed, the
 * instances with the highest promotion scores are promoted, up to promoted-max (promoted-node-max per
 * node). An instance's promotion score on its node is the node's `master-<resource>` attribute (set by
 * the agent with crm_master / crm_attribute --promotion) plus location constraints for the Promoted role
 * plus colocations of the Promoted role with other resources. As in Pacemaker, the scores of the
 * instances are then added to the clone's node scores, into which the node scores of the resources the
 * Promoted role is colocated with, and the preferences of those colocated with the Promoted role, are
 * merged: each instance that may be promoted is ranked by its node's total.
 */
import { type Cib, Score } from "@ha/cib"
import type { Reason, Role } from "../Transition.ts"
import type { ColocationRule, LocationRule } from "./constraints.ts"
import type { NodeInfo } from "./nodes.ts"
import { locationScore, ruleRole } from "./placement.ts"
import { baseId, type Resource } from "./resources.ts"

export interface PromotionInput {
  readonly clone: Resource
  readonly nodes: ReadonlyArray<NodeInfo>
  /** the location constraints on the clone */
  readonly locations: ReadonlyArray<LocationRule>
  /** the colocations the clone takes part in (as dependent or primary) */
  readonly colocations: ReadonlyArray<ColocationRule>
  readonly now: number
  /** node index each instance (primitive, or group for cloned groups) is placed on */
  readonly placedOn: (instance: Resource) => number | undefined
  /** where a resource is placed (to resolve colocations of the Promoted role) */
  readonly nodeOf: (r: Resource, role: Role | undefined) => ReadonlyArray<number>
  readonly currentlyPromoted: (instance: Resource) => boolean
  /** the clone's own node scores (its locations and the preferences of what is colocated with it) */
  readonly cloneWeights: () => ReadonlyArray<number>
  /** `weights` with a primary's node scores (and its dependents') merged in, scaled by factor */
  readonly withPrimary: (
    primary: Resource,
    weights: ReadonlyArray<number>,
    factor: number
  ) => ReadonlyArray<number>
  /** `weights` with a dependent's node scores (and its dependents') merged in, never made negative */
  readonly withDependent: (
    dependent: Resource,
    weights: ReadonlyArray<number>,
    factor: number
  ) => ReadonlyArray<number>
  readonly addReason: (id: string, r: Reason) => void
}

const INF = Score.INFINITY

/** The primitives whose promotion attribute counts for an instance (itself, or a cloned group's members). */
const primitivesOf = (r: Resource): ReadonlyArray<Resource> =>
  r.kind === "primitive" ? [r] : r.children.flatMap(primitivesOf)

const forPromoted = (rule: Cib.Rule) => ruleRole(rule) === "Promoted"
const everyRule = () => true

export const promote = (
  input: PromotionInput
): { readonly roles: ReadonlyMap<string, Role>; readonly weights: ReadonlyArray<number> } => {
  const { clone, nodes } = input
  const roles = new Map<string, Role>()
  // where each colocation's primary is placed: the same for every instance, so looked up once
  const placedPrimary = new Map<ColocationRule, ReadonlyArray<number>>()
  const whereIs = (c: ColocationRule) => {
    let where = placedPrimary.get(c)
    if (where === undefined) {
      where = input.nodeOf(c.primary, c.primaryRole)
      placedPrimary.set(c, where)
    }
    return where
  }
  const scored: Array<{ instance: Resource; node: number; score: number | undefined }> = []
  for (const instance of clone.children) {
    const node = input.placedOn(instance)
    if (node === undefined) continue
    const n = nodes[node]!
    // a cloned group can be promoted only where all its members run
    if (primitivesOf(instance).some((p) => input.placedOn(p) !== node)) {
      scored.push({ instance, node, score: undefined })
      continue
    }
    let score: number | undefined
    for (const p of primitivesOf(instance)) {
      // the agent names the attribute after the id its history here was recorded under
      const recorded = p.history.find((h) => h.node === n.name)?.recordedAs
      const raw =
        (recorded === undefined ? undefined : n.attributes.get(`master-${recorded}`)) ??
        n.attributes.get(`master-${p.id}`) ??
        n.attributes.get(`master-${baseId(p.id)}`)
      const v = raw === undefined ? undefined : Score.parse(raw)
      if (v !== undefined) score = Score.add(score ?? 0, v)
    }
    for (const loc of input.locations) {
      if (loc.resource !== clone) continue
      if (loc.role !== "Promoted" && (loc.role !== undefined || loc.node !== undefined)) continue
      // without a role on the constraint, only its rules for the Promoted role count here
      const s = locationScore(loc, n, input.now, loc.role === undefined ? forPromoted : everyRule)
      if (s !== undefined) {
        score = Score.add(score ?? 0, s)
        input.addReason(instance.id, { _tag: "Location", constraint: loc.id, node: n.name, score: s })
      }
    }
    for (const c of input.colocations) {
      // the instance placed with a mandatory primary of the Unpromoted role must stay unpromoted
      if (c.dependent === clone && c.dependentRole === "Unpromoted" && c.score >= INF) {
        if (whereIs(c).includes(node)) {
          score = -INF
          input.addReason(instance.id, {
            _tag: "Colocation",
            constraint: c.id,
            with: c.primary.id,
            node: n.name,
            score: -INF
          })
        }
        continue
      }
      if (c.dependent !== clone || c.dependentRole !== "Promoted") continue
      const here = whereIs(c).includes(node)
      let s = 0
      if (c.score >= INF) s = here ? 0 : -INF
      else if (c.score <= -INF) s = here ? -INF : 0
      else s = here ? c.score : 0
      if (s !== 0 || (c.score >= INF && here)) {
        score = Score.add(score ?? 0, s)
        input.addReason(instance.id, {
          _tag: "Colocation",
          constraint: c.id,
          with: c.primary.id,
          node: n.name,
          score: c.score
        })
      }
    }
    scored.push({ instance, node, score })
  }
  // the instances' scores are summed per node into the clone's node scores, the preferences of what
  // the Promoted role is colocated with (either way) are merged in, and each instance that may be
  // promoted takes its node's total
  const summed = input.cloneWeights().slice()
  for (const s of scored)
    if (s.score !== undefined && s.score >= 0) summed[s.node] = Score.add(summed[s.node]!, s.score)
  let weights: ReadonlyArray<number> = summed
  for (const c of input.colocations) {
    if (c.dependent === clone && c.dependentRole === "Promoted" && c.primary !== clone)
      weights = input.withPrimary(c.primary, weights, c.score / INF)
  }
  for (const c of input.colocations) {
    if (c.primary === clone && c.primaryRole === "Promoted" && c.dependent !== clone && c.influence) {
      const merged = input.withDependent(c.dependent, weights, c.score / INF)
      for (const s of scored) {
        if (s.score === undefined || s.score < 0 || merged[s.node] === weights[s.node]) continue
        input.addReason(s.instance.id, {
          _tag: "Colocation",
          constraint: c.id,
          with: c.dependent.id,
          node: nodes[s.node]!.name,
          score: merged[s.node]! - weights[s.node]!
        })
      }
      weights = merged
    }
  }
  for (const s of scored) if (s.score !== undefined && s.score >= 0) s.score = weights[s.node]!
  scored.sort((a, b) => {
    const sa = a.score ?? -1
    const sb = b.score ?? -1
    if (sa !== sb) return sb - sa
    const pa = input.currentlyPromoted(a.instance) ? 1 : 0
    const pb = input.currentlyPromoted(b.instance) ? 1 : 0
    if (pa !== pb) return pb - pa
    return a.instance.index - b.instance.index
  })
  const perNode = new Map<number, number>()
  let promoted = 0
  for (const { instance, node, score } of scored) {
    const canPromote =
      score !== undefined &&
      score >= 0 &&
      promoted < clone.promotedMax &&
      (perNode.get(node) ?? 0) < clone.promotedNodeMax
    if (canPromote) {
      promoted++
      perNode.set(node, (perNode.get(node) ?? 0) + 1)
    }
    const role: Role = canPromote ? "Promoted" : "Unpromoted"
    roles.set(instance.id, role)
    for (const p of primitivesOf(instance)) roles.set(p.id, role)
  }
  return { roles, weights }
}
