/**
 * Placement (Pacemaker Explained, "Resource Constraints" and "Resource Placement"): per primitive node
 * scores from location constraints, stickiness and failures; colocations applied after the primary is
 * placed; dependents' preferences merged into their primary (influence); then each primitive assigned
 * to its best node, in priority order. Groups are expanded into member colocations; clone instances are
 * primitives spread over nodes (clone-node-max).
 *
 * Cost: scores are arrays indexed by node, so assigning R primitives over N nodes with C colocations is
 * O((R + C) · N) plus the merge recursion bounded by the colocation graph (each edge visited once per
 * primary assignment).
 */
import { Score } from "@ha/cib"
import type { Reason } from "../Transition.ts"
import type { ClusterOptions } from "./config.ts"
import type { ColocationRule, Constraints } from "./constraints.ts"
import { canHostResources, type NodeInfo } from "./nodes.ts"
import type { Resource } from "./resources.ts"
import { evaluate } from "./rules.ts"

const INF = Score.INFINITY

/** A placement relation between primitives (groups and clones already expanded). */
interface Coloc {
  readonly rule: ColocationRule
  readonly dependent: Resource
  /** the primitives whose nodes the dependent follows (several for a clone) */
  readonly primaries: ReadonlyArray<Resource>
  readonly score: number
}

export interface PlacementResult {
  /** chosen node index per primitive id, undefined when it cannot run */
  readonly assigned: ReadonlyMap<string, number | undefined>
  readonly scores: ReadonlyMap<string, ReadonlyArray<number>>
  readonly reasons: ReadonlyMap<string, Array<Reason>>
  /** nodes per primitive where resource discovery (probing) is disabled */
  readonly noProbe: ReadonlyMap<string, ReadonlySet<number>>
}

export interface PlacementInput {
  readonly nodes: ReadonlyArray<NodeInfo>
  readonly primitives: ReadonlyArray<Resource>
  readonly constraints: Constraints
  readonly options: ClusterOptions
  readonly now: number
  /** fail count per primitive id per node index */
  readonly failCounts: ReadonlyMap<string, ReadonlyMap<number, number>>
  /** node indexes where each primitive is active now */
  readonly active: ReadonlyMap<string, ReadonlyArray<number>>
  /** primitives that failed on a node and must not stay there by stickiness alone */
  readonly failedOn: ReadonlyMap<string, ReadonlySet<number>>
  /** primitives that must not run (target-role Stopped, stop-all-resources) */
  readonly disabled: ReadonlySet<string>
  /** primitives left where they are (unmanaged, maintenance, frozen): their node, if active */
  readonly pinned: ReadonlyMap<string, number | undefined>
}

const members = (r: Resource): ReadonlyArray<Resource> =>
  r.kind === "primitive" ? [r] : r.children.flatMap(members)

const firstPrimitive = (r: Resource): Resource | undefined =>
  r.kind === "primitive" ? r : r.children[0] ? firstPrimitive(r.children[0]) : undefined

export const place = (input: PlacementInput): PlacementResult => {
  const { nodes, options } = input
  const n = nodes.length
  const scores = new Map<string, Array<number>>()
  const reasons = new Map<string, Array<Reason>>()
  const noProbe = new Map<string, Set<number>>()
  const allowed = new Map<string, Array<boolean>>()
  const addReason = (id: string, r: Reason) => {
    const list = reasons.get(id)
    if (list) list.push(r)
    else reasons.set(id, [r])
  }

  for (const p of input.primitives) {
    scores.set(p.id, new Array<number>(n).fill(0))
    allowed.set(p.id, new Array<boolean>(n).fill(options.symmetricCluster))
  }

  // location constraints: applied to every primitive of the constrained resource
  const exclusive = new Map<string, Set<number>>()
  for (const loc of input.constraints.locations) {
    if (loc.role === "Promoted" || loc.role === "Unpromoted") continue
    for (const p of members(loc.resource)) {
      const s = scores.get(p.id)!
      const a = allowed.get(p.id)!
      for (let i = 0; i < n; i++) {
        const node = nodes[i]!
        let score: number | undefined
        if (loc.node !== undefined) {
          if (loc.node === node.name) score = loc.score
        } else {
          for (const rule of loc.rules) {
            if (!evaluate(rule, { attributes: node.attributes, now: input.now })) continue
            let rs = rule.score ?? 0
            if (rule.scoreAttribute !== undefined) rs = Score.parse(node.attributes.get(rule.scoreAttribute) ?? "") ?? 0
            score = score === undefined ? rs : Math.max(score, rs)
          }
        }
        if (score === undefined) {
          if (loc.discovery === "exclusive") {
            const set = exclusive.get(p.id) ?? new Set<number>()
            exclusive.set(p.id, set)
          }
          continue
        }
        s[i] = Score.add(s[i]!, score)
        a[i] = true
        addReason(p.id, { _tag: "Location", constraint: loc.id, node: node.name, score })
        if (loc.discovery === "never") {
          const set = noProbe.get(p.id) ?? new Set<number>()
          set.add(i)
          noProbe.set(p.id, set)
        } else if (loc.discovery === "exclusive") {
          const set = exclusive.get(p.id) ?? new Set<number>()
          set.add(i)
          exclusive.set(p.id, set)
        }
      }
    }
  }
  for (const [id, onlyThese] of exclusive) {
    const set = noProbe.get(id) ?? new Set<number>()
    for (let i = 0; i < n; i++) if (!onlyThese.has(i)) set.add(i)
    noProbe.set(id, set)
  }

  // unavailable nodes, asymmetric clusters, failures, stickiness
  for (const p of input.primitives) {
    const s = scores.get(p.id)!
    const a = allowed.get(p.id)!
    const fails = input.failCounts.get(p.id)
    const disabled = input.disabled.has(p.id)
    if (disabled) addReason(p.id, { _tag: "TargetRole", role: "Stopped" })
    for (let i = 0; i < n; i++) {
      if (!a[i] || disabled) s[i] = -INF
      const fc = fails?.get(i) ?? 0
      if (fc > 0 && fc >= p.migrationThreshold) {
        s[i] = -INF
        addReason(p.id, {
          _tag: "Failures",
          node: nodes[i]!.name,
          failCount: fc,
          migrationThreshold: p.migrationThreshold
        })
      }
    }
    const active = input.active.get(p.id) ?? []
    if (p.managed && p.stickiness !== 0 && active.length === 1) {
      const i = active[0]!
      if (s[i]! > -INF && !(input.failedOn.get(p.id)?.has(i) ?? false)) {
        s[i] = Score.add(s[i]!, p.stickiness)
        addReason(p.id, { _tag: "Stickiness", node: nodes[i]!.name, score: p.stickiness })
      }
    }
  }

  // colocations between primitives: groups chain their members, constraints are expanded
  const colocs: Array<Coloc> = []
  const groupRule = (g: Resource): ColocationRule => ({
    id: g.id,
    dependent: g,
    primary: g,
    score: INF,
    dependentRole: undefined,
    primaryRole: undefined,
    nodeAttribute: "#uname",
    influence: true
  })
  const walkGroups = (r: Resource) => {
    if (r.kind === "group") {
      const rule = groupRule(r)
      for (let i = 1; i < r.children.length; i++) {
        colocs.push({ rule, dependent: r.children[i]!, primaries: [r.children[i - 1]!], score: INF })
      }
    }
    for (const c of r.children) walkGroups(c)
  }
  for (const p of input.primitives) if (p.parent?.kind === "group" && p.parent.children[0] === p) walkGroups(p.parent)
  for (const c of input.constraints.colocations) {
    if (c.dependentRole === "Promoted" || c.primaryRole === "Promoted") continue
    if (c.dependent === c.primary) continue
    const dependents =
      c.dependent.kind === "clone" ? c.dependent.children.map(firstPrimitive) : [firstPrimitive(c.dependent)]
    const primaries =
      c.primary.kind === "clone"
        ? c.primary.children.map((ch) => (ch.kind === "group" ? ch.children.at(-1) : ch))
        : c.primary.kind === "group"
          ? [c.primary.children[0]]
          : [c.primary]
    const ps = primaries.filter((p): p is Resource => p !== undefined)
    for (const d of dependents) if (d && ps.length > 0) colocs.push({ rule: c, dependent: d, primaries: ps, score: c.score })
  }
  const asDependent = new Map<string, Array<Coloc>>()
  const asPrimary = new Map<string, Array<Coloc>>()
  for (const c of colocs) {
    const list = asDependent.get(c.dependent.id) ?? []
    list.push(c)
    asDependent.set(c.dependent.id, list)
    for (const p of c.primaries) {
      const l = asPrimary.get(p.id) ?? []
      l.push(c)
      asPrimary.set(p.id, l)
    }
  }

  const usable = nodes.map(canHostResources)
  const assigned = new Map<string, number | undefined>()
  const count = new Array<number>(n).fill(0)
  const cloneCount = new Map<string, Array<number>>()
  const inProgress = new Set<string>()

  const canRunAny = (w: ReadonlyArray<number>) => w.some((x, i) => x >= 0 && usable[i])

  /** Adds a dependent's preferences (scaled by factor) to `work`, recursively through its dependents. */
  const merge = (dep: Resource, work: Array<number>, factor: number, visiting: Set<string>): Array<number> => {
    if (visiting.has(dep.id)) return work
    visiting.add(dep.id)
    const own = scores.get(dep.id)!
    const next = work.slice()
    for (let i = 0; i < n; i++) {
      const score = own[i]!
      if (factor < 0 && score < 0) continue
      const f = factor * score
      let weight = Math.round(f)
      if (weight === 0 && score !== 0) weight = factor > 0 ? 1 : -1
      next[i] = Score.add(Score.clamp(weight), next[i]!)
    }
    let result = next
    if (canRunAny(next)) {
      for (const c of asPrimary.get(dep.id) ?? []) {
        if (!c.rule.influence || assigned.has(c.dependent.id)) continue
        result = merge(c.dependent, result, (factor * c.score) / INF, visiting)
      }
    }
    visiting.delete(dep.id)
    return canRunAny(result) ? result : work
  }

  const assign = (p: Resource): number | undefined => {
    if (assigned.has(p.id)) return assigned.get(p.id)
    if (inProgress.has(p.id)) return undefined
    if (input.pinned.has(p.id)) {
      const at = input.pinned.get(p.id)
      assigned.set(p.id, at)
      if (at !== undefined) count[at]!++
      addReason(p.id, { _tag: "Unmanaged" })
      return at
    }
    inProgress.add(p.id)
    const work = scores.get(p.id)!.slice()
    // primaries first, then follow them
    for (const c of asDependent.get(p.id) ?? []) {
      for (const q of c.primaries) assign(q)
      const where = new Set<number>()
      for (const q of c.primaries) {
        const at = assigned.get(q.id)
        if (at !== undefined) where.add(at)
      }
      if (c.score >= INF) {
        for (let i = 0; i < n; i++) if (!where.has(i)) work[i] = -INF
      } else if (c.score <= -INF) {
        for (const i of where) work[i] = -INF
      } else if (c.score !== 0) {
        for (const i of where) work[i] = Score.add(work[i]!, c.score)
      }
      for (const i of where) {
        addReason(p.id, {
          _tag: "Colocation",
          constraint: c.rule.id,
          with: c.primaries[0]!.id,
          node: nodes[i]!.name,
          score: c.score
        })
      }
    }
    // dependents' preferences
    let merged = work
    for (const c of asPrimary.get(p.id) ?? []) {
      if (!c.rule.influence || assigned.has(c.dependent.id) || c.primaries.length > 1) continue
      merged = merge(c.dependent, merged, c.score / INF, new Set([p.id]))
    }
    // clone instances: at most clone-node-max per node
    const clone = p.parent?.kind === "clone" ? p.parent : p.parent?.parent?.kind === "clone" ? p.parent.parent : undefined
    const perNode = clone ? (cloneCount.get(clone.id) ?? new Array<number>(n).fill(0)) : undefined
    if (clone && perNode) cloneCount.set(clone.id, perNode)
    const isCloneLead = clone !== undefined && (p.parent === clone || p.parent?.children[0] === p)

    const active = input.active.get(p.id) ?? []
    const current = active.length === 1 ? active[0] : undefined
    let best: number | undefined
    for (let i = 0; i < n; i++) {
      if (!usable[i] || merged[i]! < 0) continue
      if (isCloneLead && clone && perNode![i]! >= clone.cloneNodeMax) continue
      if (best === undefined) {
        best = i
        continue
      }
      const a = merged[i]!
      const b = merged[best]!
      if (a !== b) {
        if (a > b) best = i
        continue
      }
      if (options.placementStrategy !== "minimal" && count[i] !== count[best]) {
        if (count[i]! < count[best]!) best = i
        continue
      }
      if (current === i) {
        best = i
        continue
      }
      if (current === best) continue
      if (nodes[i]!.name < nodes[best]!.name) best = i
    }
    scores.set(p.id, merged)
    assigned.set(p.id, best)
    inProgress.delete(p.id)
    if (best !== undefined) {
      count[best]!++
      if (isCloneLead && perNode) perNode[best]!++
    }
    return best
  }

  // allocation order: priority, then score on the current node, then configuration order
  const order = [...input.primitives].sort((a, b) => {
    const pa = (a.parent?.kind === "group" ? a.parent : a).priority
    const pb = (b.parent?.kind === "group" ? b.parent : b).priority
    if (pa !== pb) return pb - pa
    return a.index - b.index
  })
  for (const p of order) assign(p)

  return { assigned, scores, reasons, noProbe }
}
