/**
 * Constraints resolved against the resource tree: tags and resource sets expanded into pairwise
 * location, colocation and ordering relations between resources.
 */
import { Cib, Score } from "@ha/cib"
import type { Role } from "../Transition.ts"
import type { Resource, ResourceSet } from "./resources.ts"

export interface LocationRule {
  readonly id: string
  readonly resource: Resource
  /** explicit node, or rules evaluated per node */
  readonly node: string | undefined
  readonly score: number
  readonly rules: ReadonlyArray<Cib.Rule>
  readonly role: Role | undefined
  readonly discovery: "always" | "never" | "exclusive"
}

export interface ColocationRule {
  readonly id: string
  /** placed relative to `primary` */
  readonly dependent: Resource
  readonly primary: Resource
  readonly score: number
  readonly dependentRole: Role | undefined
  readonly primaryRole: Role | undefined
  readonly nodeAttribute: string
  readonly influence: boolean
}

export type OrderKind = "Mandatory" | "Optional" | "Serialize"

export interface OrderRule {
  readonly id: string
  readonly first: Resource
  readonly then: Resource
  readonly firstAction: string
  readonly thenAction: string
  readonly kind: OrderKind
  readonly symmetrical: boolean
  /** require-all=false: `then` may start once any instance of a cloned `first` runs */
  readonly requireAll: boolean
  /** a set with require-all=false before `then`: then waits for any one of these members */
  readonly anyOf?: { readonly id: string; readonly members: ReadonlyArray<Resource> }
}

export interface Constraints {
  readonly locations: ReadonlyArray<LocationRule>
  readonly colocations: ReadonlyArray<ColocationRule>
  readonly orders: ReadonlyArray<OrderRule>
}

const role = (r: string | undefined): Role | undefined => {
  if (r === undefined) return undefined
  const n = Cib.normalizeRole(r)
  return n === "Started" || n === "Unpromoted" || n === "Promoted" || n === "Stopped" ? n : undefined
}

export const resolveConstraints = (
  cib: Cib.Cib,
  resources: ResourceSet
): Constraints | { unsupported: string } => {
  const tags = new Map(cib.configuration.tags.map((t) => [t.id, t.refs]))
  // a constraint naming a template applies to every primitive made from it
  const fromTemplate = new Map<string, Array<string>>()
  const noteTemplate = (p: Cib.Primitive) => {
    if (p.template === undefined) return
    const list = fromTemplate.get(p.template) ?? []
    list.push(p.id)
    fromTemplate.set(p.template, list)
  }
  for (const r of cib.configuration.resources) {
    if (r._tag === "Primitive") noteTemplate(r)
    else if (r._tag === "Group") r.members.forEach(noteTemplate)
  }
  const lookup = (id: string): ReadonlyArray<Resource> => {
    const r = resources.byId.get(id)
    if (r) return [r]
    const tagged = tags.get(id) ?? fromTemplate.get(id)
    if (tagged) return tagged.flatMap(lookup)
    return []
  }
  const locations: Array<LocationRule> = []
  const colocations: Array<ColocationRule> = []
  const orders: Array<OrderRule> = []

  for (const c of cib.configuration.constraints) {
    switch (c._tag) {
      case "Ticket":
        return { unsupported: `ticket constraint ${c.id}` }
      case "Location": {
        const targets: Array<Resource> = []
        if (c.rsc !== undefined) targets.push(...lookup(c.rsc))
        if (c.rscPattern !== undefined) {
          let pattern: RegExp | undefined
          try {
            pattern = new RegExp(c.rscPattern)
          } catch {
            pattern = undefined
          }
          if (pattern)
            for (const r of resources.all) if (r.instance === undefined && pattern.test(r.id)) targets.push(r)
        }
        for (const s of c.resourceSets) for (const id of s.resources) targets.push(...lookup(id))
        const discovery =
          c.resourceDiscovery === "never"
            ? "never"
            : c.resourceDiscovery === "exclusive"
              ? "exclusive"
              : "always"
        for (const r of targets) {
          locations.push({
            id: c.id,
            resource: r,
            node: c.node,
            score: c.score ?? 0,
            rules: c.rules,
            role: role(c.role),
            discovery
          })
        }
        break
      }
      case "Colocation": {
        const base = {
          id: c.id,
          nodeAttribute: c.nodeAttribute ?? "#uname",
          influence: c.influence === undefined ? true : Cib.isTrue(c.influence)
        }
        // Pacemaker ignores a colocation between two templates or tags
        const bothTags =
          c.rsc !== undefined &&
          c.withRsc !== undefined &&
          !resources.byId.has(c.rsc) &&
          !resources.byId.has(c.withRsc)
        if (c.rsc !== undefined && c.withRsc !== undefined && !bothTags) {
          for (const d of lookup(c.rsc))
            for (const p of lookup(c.withRsc))
              colocations.push({
                ...base,
                dependent: d,
                primary: p,
                score: c.score ?? 0,
                dependentRole: role(c.rscRole),
                primaryRole: role(c.withRscRole)
              })
        }
        // sets: within a sequential set each resource is placed with the one before it; across sets,
        // every resource of a set is placed with the first resource of the next set
        const sets = c.resourceSets.map((s) => ({ set: s, members: s.resources.flatMap(lookup) }))
        for (const { set, members } of sets) {
          if (set.sequential !== undefined && !Cib.isTrue(set.sequential)) continue
          for (let i = 1; i < members.length; i++) {
            colocations.push({
              ...base,
              dependent: members[i]!,
              primary: members[i - 1]!,
              score: set.score ?? c.score ?? 0,
              dependentRole: role(set.role),
              primaryRole: role(set.role)
            })
          }
        }
        for (let i = 0; i + 1 < sets.length; i++) {
          const a = sets[i]!
          const b = sets[i + 1]!
          const primary = b.members[0]
          if (!primary) continue
          for (const d of a.members) {
            colocations.push({
              ...base,
              dependent: d,
              primary,
              score: c.score ?? 0,
              dependentRole: role(a.set.role),
              primaryRole: role(b.set.role)
            })
          }
        }
        break
      }
      case "Order": {
        const kind: OrderKind =
          c.kind === "Optional" || c.kind === "Serialize" || c.kind === "Mandatory"
            ? c.kind
            : c.kind === undefined && c.score !== undefined && c.score === 0
              ? "Optional"
              : "Mandatory"
        const symmetrical = c.symmetrical === undefined ? kind !== "Serialize" : Cib.isTrue(c.symmetrical)
        const push = (first: Resource, then: Resource, fa: string | undefined, ta: string | undefined) => {
          const firstAction = fa ?? "start"
          orders.push({
            id: c.id,
            first,
            then,
            firstAction,
            thenAction: ta ?? firstAction,
            kind,
            symmetrical,
            requireAll: c.requireAll === undefined || Cib.isTrue(c.requireAll)
          })
        }
        if (c.first !== undefined && c.then !== undefined) {
          for (const f of lookup(c.first))
            for (const t of lookup(c.then)) push(f, t, c.firstAction, c.thenAction)
        }
        const sets = c.resourceSets.map((s) => ({ set: s, members: s.resources.flatMap(lookup) }))
        for (const { set, members } of sets) {
          if (set.sequential !== undefined && !Cib.isTrue(set.sequential)) continue
          for (let i = 1; i < members.length; i++) push(members[i - 1]!, members[i]!, set.action, set.action)
        }
        for (let i = 0; i + 1 < sets.length; i++) {
          const a = sets[i]!
          const b = sets[i + 1]!
          const aSeq = a.set.sequential === undefined || Cib.isTrue(a.set.sequential)
          const bSeq = b.set.sequential === undefined || Cib.isTrue(b.set.sequential)
          const firsts = aSeq ? a.members.slice(-1) : a.members
          const thens = bSeq ? b.members.slice(0, 1) : b.members
          const anyOf =
            a.set.requireAll !== undefined && !Cib.isTrue(a.set.requireAll) && a.set.id !== undefined
          if (anyOf && a.members.length > 0) {
            const firstAction = a.set.action ?? "start"
            for (const then of thens) {
              orders.push({
                id: c.id,
                first: a.members[0]!,
                then,
                firstAction,
                thenAction: b.set.action ?? firstAction,
                kind,
                symmetrical: false,
                requireAll: false,
                anyOf: { id: a.set.id!, members: a.members }
              })
            }
            continue
          }
          for (const f of firsts) for (const t of thens) push(f, t, a.set.action, b.set.action)
        }
        break
      }
    }
  }
  void Score
  return { locations, colocations, orders }
}
