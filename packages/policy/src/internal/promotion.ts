/**
 * Promotable clones (Pacemaker Explained, "Promotable clones"): after the instances are placed, the
 * instances with the highest promotion scores are promoted, up to promoted-max (promoted-node-max per
 * node). An instance's promotion score on its node is the node's `master-<resource>` attribute (set by
 * the agent with crm_master / crm_attribute --promotion) plus location constraints for the Promoted role
 * plus colocations of the Promoted role with other resources.
 */
import { Score } from "@ha/cib"
import type { Reason, Role } from "../Transition.ts"
import type { Constraints } from "./constraints.ts"
import type { NodeInfo } from "./nodes.ts"
import { ruleRole } from "./placement.ts"
import { baseId, type Resource } from "./resources.ts"
import { evaluate } from "./rules.ts"

export interface PromotionInput {
  readonly clone: Resource
  readonly nodes: ReadonlyArray<NodeInfo>
  readonly constraints: Constraints
  readonly now: number
  /** node index each instance (primitive, or group for cloned groups) is placed on */
  readonly placedOn: (instance: Resource) => number | undefined
  /** where a resource is placed (to resolve colocations of the Promoted role) */
  readonly nodeOf: (r: Resource) => ReadonlyArray<number>
  readonly currentlyPromoted: (instance: Resource) => boolean
  readonly addReason: (id: string, r: Reason) => void
}

const INF = Score.INFINITY

/** The primitives whose promotion attribute counts for an instance (itself, or a cloned group's members). */
const primitivesOf = (r: Resource): ReadonlyArray<Resource> =>
  r.kind === "primitive" ? [r] : r.children.flatMap(primitivesOf)

export const promote = (input: PromotionInput): ReadonlyMap<string, Role> => {
  const { clone, nodes } = input
  const roles = new Map<string, Role>()
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
      const raw = n.attributes.get(`master-${p.id}`) ?? n.attributes.get(`master-${baseId(p.id)}`)
      const v = raw === undefined ? undefined : Score.parse(raw)
      if (v !== undefined) score = Score.add(score ?? 0, v)
    }
    for (const loc of input.constraints.locations) {
      if (loc.resource !== clone) continue
      if (loc.role !== "Promoted" && (loc.role !== undefined || loc.node !== undefined)) continue
      let s: number | undefined
      if (loc.node !== undefined) {
        if (loc.node === n.name) s = loc.score
      } else {
        for (const rule of loc.rules) {
          // without a role on the constraint, only its rules for the Promoted role count here
          if (loc.role === undefined && ruleRole(rule) !== "Promoted") continue
          if (!evaluate(rule, { attributes: n.attributes, now: input.now })) continue
          let rs = rule.score ?? 0
          if (rule.scoreAttribute !== undefined)
            rs = Score.parse(n.attributes.get(rule.scoreAttribute) ?? "") ?? 0
          s = s === undefined ? rs : Math.max(s, rs)
        }
      }
      if (s !== undefined) {
        score = Score.add(score ?? 0, s)
        input.addReason(instance.id, { _tag: "Location", constraint: loc.id, node: n.name, score: s })
      }
    }
    for (const c of input.constraints.colocations) {
      // the instance placed with a mandatory primary of the Unpromoted role must stay unpromoted
      if (c.dependent === clone && c.dependentRole === "Unpromoted" && c.score >= INF) {
        if (input.nodeOf(c.primary).includes(node)) {
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
      const where = input.nodeOf(c.primary)
      const here = where.includes(node)
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
  return roles
}
