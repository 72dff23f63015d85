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
import { Cib, Score } from "@ha/cib"
import type { Reason, Role } from "../Transition.ts"
import type { ClusterOptions } from "./config.ts"
import type { ColocationRule, Constraints, LocationRule } from "./constraints.ts"
import { canHostResources, type NodeInfo } from "./nodes.ts"
import { promote } from "./promotion.ts"
import { type Resource, topOf } from "./resources.ts"
import { evaluate } from "./rules.ts"

const INF = Score.INFINITY
/** Pacemaker's marker for a node a merge must not make negative (it ends as a score of 1) */
const UNUSABLE = -100 * INF

/** A placement relation between primitives (groups and clones already expanded). */
interface Coloc {
  readonly rule: ColocationRule
  readonly dependent: Resource
  /** the primitives whose nodes the dependent follows (several for a clone) */
  readonly primaries: ReadonlyArray<Resource>
  readonly score: number
  /** the dependent follows only primaries in this role */
  readonly primaryRole: Role | undefined
  /** the promotable clone whose roles filter the primaries */
  readonly primaryClone: Resource | undefined
}

export interface PlacementResult {
  /** chosen node index per primitive id, undefined when it cannot run */
  readonly assigned: ReadonlyMap<string, number | undefined>
  /** role each primitive will have where it is assigned */
  readonly roles: ReadonlyMap<string, Role>
  readonly scores: ReadonlyMap<string, ReadonlyArray<number>>
  readonly reasons: ReadonlyMap<string, Array<Reason>>
  /** nodes per primitive where resource discovery (probing) is disabled */
  readonly noProbe: ReadonlyMap<string, ReadonlySet<number>>
  /** mandatory colocations between primitives: the dependent cannot start where its primary cannot */
  readonly mandatory: ReadonlyArray<{
    readonly dependent: Resource
    readonly primary: Resource
    readonly id: string
  }>
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
  /** primitives promoted now */
  readonly promotedNow: ReadonlySet<string>
  /** primitives that must not run (target-role Stopped, stop-all-resources) */
  readonly disabled: ReadonlySet<string>
  /** primitives left where they are (unmanaged, maintenance, frozen): their node, if active */
  readonly pinned: ReadonlyMap<string, number | undefined>
}

/**
 * The primitives a location constraint applies to. A group is placed through its first member: the
 * others follow it by colocation and only learn which nodes are allowed (their scores are zeroed).
 */
const locationTargets = (r: Resource, zeroed: boolean): ReadonlyArray<readonly [Resource, boolean]> =>
  r.kind === "primitive"
    ? [[r, zeroed]]
    : r.kind === "group"
      ? r.children.flatMap((c, i) => locationTargets(c, zeroed || i > 0))
      : r.children.flatMap((c) => locationTargets(c, zeroed))

/** A node's health score from its #health-* attributes (0 when node-health-strategy is none). */
const nodeHealth = (node: NodeInfo, options: ClusterOptions): number => {
  const { strategy, base, red, yellow, green } = options.nodeHealth
  if (
    strategy !== "migrate-on-red" &&
    strategy !== "only-green" &&
    strategy !== "progressive" &&
    strategy !== "custom"
  )
    return 0
  let total = strategy === "progressive" || strategy === "custom" ? base : 0
  for (const [name, value] of node.attributes) {
    if (!name.startsWith("#health")) continue
    const v = value.toLowerCase()
    const score =
      v === "red"
        ? strategy === "migrate-on-red" || strategy === "only-green"
          ? -INF
          : red
        : v === "yellow"
          ? strategy === "only-green"
            ? -INF
            : strategy === "migrate-on-red"
              ? 0
              : yellow
          : v === "green"
            ? strategy === "progressive" || strategy === "custom"
              ? green
              : 0
            : (Score.parse(value) ?? 0)
    total = Score.add(total, score)
  }
  return total
}

/** The role a location rule is limited to, when it is Promoted or Unpromoted. */
export const ruleRole = (rule: Cib.Rule): "Promoted" | "Unpromoted" | undefined => {
  const role = rule.role === undefined ? undefined : Cib.normalizeRole(rule.role)
  return role === "Promoted" || role === "Unpromoted" ? role : undefined
}

/**
 * A location constraint's score on a node: its score on its own node, or the highest of its rules
 * (those `counts` accepts) that hold there; undefined when it says nothing about the node.
 */
export const locationScore = (
  loc: LocationRule,
  node: NodeInfo,
  now: number,
  counts: (rule: Cib.Rule) => boolean
): number | undefined => {
  if (loc.node !== undefined) return loc.node === node.name ? loc.score : undefined
  let score: number | undefined
  for (const rule of loc.rules) {
    if (!counts(rule) || !evaluate(rule, { attributes: node.attributes, now })) continue
    const rs =
      rule.scoreAttribute === undefined
        ? (rule.score ?? 0)
        : (Score.parse(node.attributes.get(rule.scoreAttribute) ?? "") ?? 0)
    score = score === undefined ? rs : Math.max(score, rs)
  }
  return score
}

/** Rules without a role score placement (those for the Promoted or Unpromoted role score promotion). */
const withoutRole = (rule: Cib.Rule) => ruleRole(rule) === undefined

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

  const usable = nodes.map(canHostResources)
  for (const p of input.primitives) {
    scores.set(p.id, new Array<number>(n).fill(0))
    allowed.set(p.id, new Array<boolean>(n).fill(options.symmetricCluster))
  }

  // node health: the #health-* attributes of each node, scored by node-health-strategy, count as a
  // location score for every resource that does not allow unhealthy nodes
  const health = nodes.map((node) => nodeHealth(node, options))
  for (const p of input.primitives) {
    const top = topOf(p)
    if (Cib.isTrue(top.meta.get("allow-unhealthy-nodes"))) continue
    if (top.kind === "group" && firstPrimitive(top) !== p) continue
    const s = scores.get(p.id)!
    health.forEach((h, i) => {
      if (h === 0) return
      s[i] = Score.add(s[i]!, h)
      addReason(p.id, {
        _tag: "Location",
        constraint: `health:${nodes[i]!.name}`,
        node: nodes[i]!.name,
        score: h
      })
    })
  }

  // location constraints: applied to every primitive of the constrained resource
  const exclusive = new Map<string, Set<number>>()
  for (const loc of input.constraints.locations) {
    if (loc.role === "Promoted" || loc.role === "Unpromoted") continue
    for (const [p, zeroed] of locationTargets(loc.resource, false)) {
      const s = scores.get(p.id)!
      const a = allowed.get(p.id)!
      for (let i = 0; i < n; i++) {
        const node = nodes[i]!
        let score = locationScore(loc, node, input.now, withoutRole)
        if (score === undefined) {
          if (loc.discovery === "exclusive") {
            const set = exclusive.get(p.id) ?? new Set<number>()
            exclusive.set(p.id, set)
          }
          continue
        }
        if (zeroed) score = 0
        s[i] = Score.add(s[i]!, score)
        a[i] = true
        if (!zeroed) addReason(p.id, { _tag: "Location", constraint: loc.id, node: node.name, score })
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
      if (!a[i] || disabled || !usable[i]) s[i] = -INF
      const fc = fails?.get(i) ?? 0
      // migration-threshold=0 disables banning
      if (fc > 0 && p.migrationThreshold > 0 && fc >= p.migrationThreshold) {
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
      if (s[i]! > -INF) {
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
        colocs.push({
          rule,
          dependent: r.children[i]!,
          primaries: [r.children[i - 1]!],
          score: INF,
          primaryRole: undefined,
          primaryClone: undefined
        })
      }
    }
    for (const c of r.children) walkGroups(c)
  }
  for (const p of input.primitives)
    if (p.parent?.kind === "group" && p.parent.children[0] === p) walkGroups(p.parent)
  for (const c of input.constraints.colocations) {
    if (c.dependent === c.primary) continue
    // a role of a clone follows others through its promotion scores (promotion.ts)
    if (c.dependent.kind === "clone" && c.dependent.promotable && c.dependentRole !== undefined) {
      if (c.dependentRole === "Promoted" || c.dependentRole === "Unpromoted") continue
    }
    const dependents =
      c.dependent.kind === "clone" ? c.dependent.children.map(firstPrimitive) : [firstPrimitive(c.dependent)]
    const primaries =
      c.primary.kind === "clone"
        ? c.primary.children.map((ch) => (ch.kind === "group" ? ch.children.at(-1) : ch))
        : c.primary.kind === "group"
          ? [c.primary.children[0]]
          : [c.primary]
    const ps = primaries.filter((p): p is Resource => p !== undefined)
    const roleFiltered = c.primary.kind === "clone" && c.primary.promotable && c.primaryRole !== undefined
    // a mandatory colocation with a clone that has no instances (clone-max=0) leaves nowhere to run
    const nowhere = ps.length === 0 && c.score >= INF && c.primary.kind === "clone"
    for (const d of dependents) {
      if (d && (ps.length > 0 || nowhere)) {
        colocs.push({
          rule: c,
          dependent: d,
          primaries: ps,
          score: c.score,
          primaryRole: roleFiltered ? c.primaryRole : undefined,
          primaryClone: roleFiltered ? c.primary : undefined
        })
      }
    }
  }
  // clone instances that can stay where they run are placed before the others, so that an instance
  // which must leave its node does not take the place of one that can stay
  const staysRank = new Map<Resource, number>()
  const staysOf = (p: Resource): number => {
    const instance = p.parent?.kind === "group" && p.parent.parent?.kind === "clone" ? p.parent : p
    if (instance.parent?.kind !== "clone") return 0
    const known = staysRank.get(instance)
    if (known !== undefined) return known
    const lead = firstPrimitive(instance)
    const s = lead ? scores.get(lead.id)! : []
    // instances are placed in this order: those staying where they run when no other node scores
    // higher for them (not failed ones), then the others that can run where they are, then new ones
    // (and those that must leave), and last failed anonymous instances that cannot stay
    let top = -INF
    for (let i = 0; i < n; i++) if (usable[i] && s[i]! > top) top = s[i]!
    const active = lead ? (input.active.get(lead.id) ?? []) : []
    const failed = lead?.history.some((h) => h.failed) ?? false
    const canStay = active.some((i) => usable[i] && s[i]! > -INF)
    const rank =
      !failed && active.some((i) => usable[i] && s[i]! > -INF && s[i]! >= top)
        ? 0
        : canStay
          ? 1
          : failed && !instance.parent.globallyUnique
            ? 3
            : 2
    staysRank.set(instance, rank)
    return rank
  }
  const byInstance = (a: Resource, b: Resource) => staysOf(a) - staysOf(b) || a.index - b.index
  for (const c of colocs) if (c.primaries.length > 1) (c.primaries as Array<Resource>).sort(byInstance)

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

  const assigned = new Map<string, number | undefined>()
  const count = new Array<number>(n).fill(0)
  const cloneCount = new Map<string, Array<number>>()
  const inProgress = new Set<string>()
  // utilization: remaining capacity per node (placement-strategy utilization, minimal, balanced)
  const strategy = options.placementStrategy
  const useCapacity = strategy === "utilization" || strategy === "minimal" || strategy === "balanced"
  const remaining = nodes.map((node) => new Map(node.utilization))
  const fits = (p: Resource, i: number) => {
    if (!useCapacity) return true
    for (const [k, v] of p.utilization) if ((remaining[i]!.get(k) ?? 0) < v) return false
    return true
  }
  const freeCapacity = (i: number) => {
    let total = 0
    for (const v of remaining[i]!.values()) total += v
    return total
  }

  const roles = new Map<string, Role>()
  const promotedClones = new Set<string>()
  // the constraints each clone takes part in (promotion looks at them per instance)
  const locationsOf = new Map<Resource, Array<LocationRule>>()
  const colocationsOf = new Map<Resource, Array<ColocationRule>>()
  const note = <T>(index: Map<Resource, Array<T>>, r: Resource, item: T) => {
    if (r.kind !== "clone") return
    const list = index.get(r)
    if (list) list.push(item)
    else index.set(r, [item])
  }
  for (const loc of input.constraints.locations) note(locationsOf, loc.resource, loc)
  for (const c of input.constraints.colocations) {
    note(colocationsOf, c.dependent, c)
    if (c.primary !== c.dependent) note(colocationsOf, c.primary, c)
  }
  /** a promotable clone's node scores once its instances' promotion scores are merged in */
  const promotionWeights = new Map<string, ReadonlyArray<number>>()
  const primitivesIn = (r: Resource): ReadonlyArray<Resource> =>
    r.kind === "primitive" ? [r] : r.children.flatMap(primitivesIn)
  /** Decides the roles of a promotable clone's instances once they are all placed. */
  const promoteClone = (clone: Resource) => {
    if (promotedClones.has(clone.id)) return
    promotedClones.add(clone.id)
    for (const p of primitivesIn(clone)) assign(p)
    const decided = promote({
      clone,
      nodes,
      locations: locationsOf.get(clone) ?? [],
      colocations: colocationsOf.get(clone) ?? [],
      now: input.now,
      placedOn: (instance) => {
        const first = primitivesIn(instance)[0]
        return first ? assigned.get(first.id) : undefined
      },
      nodeOf: (r, role) => {
        const out: Array<number> = []
        // a role of another promotable clone is known once that clone's roles are decided
        if (role !== undefined && r.kind === "clone" && r.promotable && r !== clone) promoteClone(r)
        for (const p of r.kind === "group" ? primitivesIn(r).slice(0, 1) : primitivesIn(r)) {
          const at = assign(p)
          if (at === undefined) continue
          if (role !== undefined && r.promotable && (roles.get(p.id) ?? "Unpromoted") !== role) continue
          out.push(at)
        }
        return out
      },
      currentlyPromoted: (instance) => primitivesIn(instance).some((p) => input.promotedNow.has(p.id)),
      cloneWeights: () => cloneWeights(clone),
      withPrimary: (r, weights, factor) => {
        if (r.kind === "clone") {
          // a clone's node scores (a promotable clone's after its own promotion)
          for (const p of primitivesIn(r)) assign(p)
          if (r.promotable) promoteClone(r)
          const next = weights.slice()
          addScaled(next, promotionWeights.get(r.id) ?? cloneWeights(r), factor, false)
          return factor >= 1 || canRunAny(next) ? next : weights
        }
        const target = mergeTarget(r)
        if (!target) return weights
        for (const p of primitivesIn(r)) assign(p)
        const visiting = new Set(primitivesIn(clone).map((p) => p.id))
        // a mandatory colocation is merged whole; an optional one is rolled back if it leaves no node
        return addColocated(target, weights, factor, visiting, factor < 1, false)
      },
      withDependent: (r, weights, factor) => {
        const target = mergeTarget(r)
        if (!target) return weights
        const visiting = new Set(primitivesIn(clone).map((p) => p.id))
        return addColocated(target, weights, factor, visiting, true, true)
      },
      addReason
    })
    for (const [id, role] of decided.roles) roles.set(id, role)
    promotionWeights.set(clone.id, decided.weights)
  }

  const canRunAny = (w: ReadonlyArray<number>) => w.some((x, i) => x >= 0 && usable[i])

  /** Adds `own` × factor to `next` (a negative preference is never turned positive). */
  const addScaled = (next: Array<number>, own: ReadonlyArray<number>, factor: number, positive: boolean) => {
    for (let i = 0; i < n; i++) {
      const score = own[i]!
      if ((factor < 0 && score < 0) || next[i] === UNUSABLE) continue
      const f = factor * score
      let weight = f < 0 ? -Math.round(-f) : Math.round(f)
      if (weight === 0 && score !== 0) weight = factor > 0 ? 1 : -1
      const sum = Score.add(Score.clamp(weight), next[i]!)
      if (positive && sum < 0 && next[i]! > 0) next[i] = UNUSABLE
      else if (!(positive && sum < 0 && next[i] === 0)) next[i] = sum
    }
  }

  /**
   * Adds `dep`'s scores (scaled by factor) to `work`, then its dependents' (with influence), as
   * Pacemaker merges colocated preferences into a promotable clone's node scores. A dependent that
   * would leave no node usable is rolled back; with `positive`, a node whose positive score would turn
   * negative keeps a score of 1 instead (it stays usable, least preferred).
   */
  const addColocated = (
    dep: Resource,
    work: ReadonlyArray<number>,
    factor: number,
    visiting: Set<string>,
    rollback: boolean,
    positive: boolean
  ): ReadonlyArray<number> => {
    if (visiting.has(dep.id)) return work
    visiting.add(dep.id)
    let next: Array<number> = work.slice()
    addScaled(next, scores.get(dep.id)!, factor, positive)
    if (canRunAny(next)) {
      const sign = factor < 0 ? -1 : 1
      const seen = new Set<ColocationRule>()
      for (const c of asPrimary.get(dep.id) ?? []) {
        // a colocation of a clone is one relation, not one per instance
        if (!c.rule.influence || seen.has(c.rule)) continue
        seen.add(c.rule)
        next = addColocated(c.dependent, next, (sign * c.score) / INF, visiting, true, positive).slice()
      }
    } else if (rollback) {
      visiting.delete(dep.id)
      return work
    }
    if (positive) for (let i = 0; i < n; i++) if (next[i] === UNUSABLE) next[i] = 1
    visiting.delete(dep.id)
    return next
  }

  /** The resource whose scores stand for `r` in a merge (a group's or clone's first primitive). */
  const mergeTarget = (r: Resource) => (r.kind === "primitive" ? r : firstPrimitive(r))

  /**
   * A promotable clone's own node scores: its location constraints, then the preferences of the
   * resources colocated with it (Pacemaker's clone allocation scores).
   */
  const cloneWeights = (clone: Resource): Array<number> => {
    let weights = new Array<number>(n).fill(options.symmetricCluster ? 0 : -INF)
    for (const loc of locationsOf.get(clone) ?? []) {
      if (loc.role !== undefined) continue
      for (let i = 0; i < n; i++) {
        const score = locationScore(loc, nodes[i]!, input.now, withoutRole)
        if (score === undefined) continue
        weights[i] = options.symmetricCluster || weights[i]! > -INF ? Score.add(weights[i]!, score) : score
      }
    }
    const visiting = new Set(primitivesIn(clone).map((p) => p.id))
    for (const c of colocationsOf.get(clone) ?? []) {
      if (c.primary !== clone || c.dependent === clone || !c.influence) continue
      const dep = mergeTarget(c.dependent)
      if (dep) weights = addColocated(dep, weights, c.score / INF, visiting, true, true).slice()
    }
    return weights
  }

  /** Adds a dependent's preferences (scaled by factor) to `work`, recursively through its dependents. */
  const merge = (
    dep: Resource,
    work: Array<number>,
    factor: number,
    visiting: Set<string>
  ): Array<number> => {
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
    // the scores being worked on are visible to the primaries placed meanwhile (their influence merge
    // sees this resource's colocations with primaries placed before them)
    const work = scores.get(p.id)!.slice()
    scores.set(p.id, work)
    // primaries first, then follow them
    for (const c of asDependent.get(p.id) ?? []) {
      for (const q of c.primaries) assign(q)
      // a colocation loop back to a resource being placed is ignored
      if (c.primaries.length > 0 && c.primaries.every((q) => inProgress.has(q.id))) continue
      if (c.primaryClone) promoteClone(c.primaryClone)
      const where = new Set<number>()
      for (const q of c.primaries) {
        const at = assigned.get(q.id)
        if (at === undefined) continue
        if (c.primaryRole !== undefined && (roles.get(q.id) ?? "Started") !== c.primaryRole) continue
        where.add(at)
      }
      // node-attribute: the dependent may go to any node sharing the attribute's value
      const attribute = c.rule.nodeAttribute
      if (attribute !== "#uname" && where.size > 0) {
        const values = new Set([...where].map((i) => nodes[i]!.attributes.get(attribute)))
        for (let i = 0; i < n; i++) {
          const v = nodes[i]!.attributes.get(attribute)
          if (v !== undefined && values.has(v)) where.add(i)
        }
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
    const clone =
      p.parent?.kind === "clone" ? p.parent : p.parent?.parent?.kind === "clone" ? p.parent.parent : undefined
    const perNode = clone ? (cloneCount.get(clone.id) ?? new Array<number>(n).fill(0)) : undefined
    if (clone && perNode) cloneCount.set(clone.id, perNode)
    const isCloneLead = clone !== undefined && (p.parent === clone || p.parent?.children[0] === p)

    const current = (input.active.get(p.id) ?? [])[0]
    let best: number | undefined
    for (let i = 0; i < n; i++) {
      if (!usable[i] || merged[i]! < 0 || !fits(p, i)) continue
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
      if (strategy === "balanced" && freeCapacity(i) !== freeCapacity(best)) {
        if (freeCapacity(i) > freeCapacity(best)) best = i
        continue
      }
      if (strategy !== "minimal") {
        if (count[i] !== count[best]) {
          if (count[i]! < count[best]!) best = i
          continue
        }
        // then where it runs now
        if (i === current || best === current) {
          if (i === current) best = i
          continue
        }
      }
      // then by node name
      if (nodes[i]!.name < nodes[best]!.name) best = i
    }
    scores.set(p.id, merged)
    assigned.set(p.id, best)
    inProgress.delete(p.id)
    if (best !== undefined) {
      count[best]!++
      if (useCapacity) {
        const cap = remaining[best]!
        for (const [k, v] of p.utilization) cap.set(k, (cap.get(k) ?? 0) - v)
      }
      if (isCloneLead && perNode) perNode[best]!++
    }
    return best
  }

  // allocation order: configuration order; with a placement strategy, resources with the highest
  // priority, then the highest score where they run now, then the highest score on any node go first
  // (the scores before any assignment, needed only to rank by them)
  const initial = strategy === "default" ? scores : new Map([...scores].map(([id, s]) => [id, s.slice()]))
  const topRank = new Map<Resource, { priority: number; current: number; byNode: ReadonlyArray<number> }>()
  const rankOf = (p: Resource) => {
    const top = topOf(p)
    const known = topRank.get(top)
    if (known) return known
    const lead = firstPrimitive(top) ?? p
    const byNode = initial.get(lead.id) ?? []
    const now = primitivesIn(top).flatMap((q) => input.active.get(q.id) ?? [])[0]
    const rank = { priority: top.priority, current: now === undefined ? -INF : byNode[now]!, byNode }
    topRank.set(top, rank)
    return rank
  }
  const nodeOrder = nodes.map((_, i) => i)
  if (useCapacity) nodeOrder.sort((a, b) => freeCapacity(b) - freeCapacity(a) || a - b)
  const order = [...input.primitives].sort((a, b) => {
    const pa = (a.parent?.kind === "group" ? a.parent : a).priority
    const pb = (b.parent?.kind === "group" ? b.parent : b).priority
    if (topOf(a) === topOf(b)) return pb - pa || byInstance(a, b)
    if (strategy === "default") return pb - pa || a.index - b.index
    const ra = rankOf(a)
    const rb = rankOf(b)
    if (ra.priority !== rb.priority) return rb.priority - ra.priority
    if (ra.current !== rb.current) return rb.current - ra.current
    for (const i of nodeOrder) if (ra.byNode[i] !== rb.byNode[i]) return rb.byNode[i]! - ra.byNode[i]!
    return a.index - b.index
  })
  for (const p of order) assign(p)
  for (const p of input.primitives) {
    const clone =
      p.parent?.kind === "clone" ? p.parent : p.parent?.parent?.kind === "clone" ? p.parent.parent : undefined
    if (clone?.promotable) promoteClone(clone)
    if (!roles.has(p.id)) roles.set(p.id, p.promotable ? "Unpromoted" : "Started")
  }

  const mandatory = colocs
    .filter((c) => c.score >= INF && c.primaries.length === 1)
    .map((c) => ({ dependent: c.dependent, primary: c.primaries[0]!, id: c.rule.id }))
  return { assigned, roles, scores, reasons, noProbe, mandatory }
}
