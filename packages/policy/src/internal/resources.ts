/**
 * The resource tree the scheduler works on: primitives, groups and clones (with their instances), their
 * effective meta attributes (rsc_defaults < parent < own) and operations.
 */
import { Cib, Duration, Score } from "@ha/cib"
import type { Role } from "../Transition.ts"
import type { ClusterOptions } from "./config.ts"
import type { NodeHistory, OnFail } from "./history.ts"
import { type RuleContext, resolveNvSets } from "./rules.ts"

export interface OpConfig {
  readonly name: string
  readonly interval: number
  readonly role: Role | undefined
  readonly onFail: OnFail | undefined
  readonly enabled: boolean
  /** the operation's own parameters (part of its digest) */
  readonly instanceAttributes: ReadonlyArray<Cib.NvSet>
}

export type Kind = "primitive" | "group" | "clone"

export interface Resource {
  readonly id: string
  readonly kind: Kind
  readonly parent: Resource | undefined
  readonly children: Array<Resource>
  readonly meta: ReadonlyMap<string, string>
  readonly ops: ReadonlyArray<OpConfig>
  readonly className: string | undefined
  /** instance_attributes (a primitive's with its template's); a primitive inherits its parents' */
  readonly instanceAttributes: ReadonlyArray<Cib.NvSet>
  readonly utilization: ReadonlyMap<string, number>
  /** order of appearance in the configuration (tie-breaker) */
  readonly index: number
  // effective meta
  readonly priority: number
  readonly stickiness: number
  readonly targetRole: Role | undefined
  readonly managed: boolean
  readonly migrationThreshold: number
  /** seconds */
  readonly failureTimeout: number
  readonly allowMigrate: boolean
  readonly multipleActive: string
  readonly requires: string
  // clones
  readonly promotable: boolean
  readonly cloneMax: number
  readonly cloneNodeMax: number
  /** instances that must run before what is ordered after the clone may start */
  readonly cloneMin: number
  readonly promotedMax: number
  readonly promotedNodeMax: number
  readonly globallyUnique: boolean
  readonly interleave: boolean
  readonly ordered: boolean
  readonly notify: boolean
  /** clone instance number, for instances */
  readonly instance: number | undefined
  // state (filled by the status unpacker)
  history: Array<NodeHistory>
}

const parseRole = (r: string | undefined): Role | undefined => {
  if (r === undefined) return undefined
  const n = Cib.normalizeRole(r)
  return n === "Stopped" || n === "Started" || n === "Unpromoted" || n === "Promoted" ? n : undefined
}

const ONFAIL = new Set(["ignore", "block", "stop", "restart", "standby", "fence", "demote"])

const toOps = (p: Cib.Primitive, opsById: ReadonlyMap<string, Cib.Operations>): ReadonlyArray<OpConfig> => {
  const ops = p.operations?.idRef !== undefined ? opsById.get(p.operations.idRef)?.ops : p.operations?.ops
  return (ops ?? []).map((op) => ({
    name: op.name,
    interval: op.interval,
    role: parseRole(op.role),
    onFail: op.onFail !== undefined && ONFAIL.has(op.onFail) ? (op.onFail as OnFail) : undefined,
    enabled: op.enabled === undefined || Cib.isTrue(op.enabled),
    instanceAttributes: op.instanceAttributes
  }))
}

const agentOf = (cls: string | undefined, provider: string | undefined, type: string | undefined) => ({
  ...(cls !== undefined ? { class: cls } : {}),
  ...(provider !== undefined ? { provider } : {}),
  ...(type !== undefined ? { type } : {})
})

const num = (v: string | undefined, dflt: number): number => {
  if (v === undefined) return dflt
  return Score.parse(v) ?? dflt
}

export interface ResourceSet {
  readonly all: ReadonlyArray<Resource>
  readonly byId: ReadonlyMap<string, Resource>
  readonly top: ReadonlyArray<Resource>
  /** every primitive (including clone instances) in configuration order */
  readonly primitives: ReadonlyArray<Resource>
}

export const buildResources = (
  cib: Cib.Cib,
  options: ClusterOptions,
  ctx: RuleContext
): ResourceSet | { readonly unsupported: string } => {
  const templates = new Map(cib.configuration.templates.map((t) => [t.id, t]))
  const opsById = new Map<string, Cib.Operations>()
  const collectOps = (p: Cib.Primitive | Cib.Template) => {
    if (p.operations?.id !== undefined && p.operations.idRef === undefined)
      opsById.set(p.operations.id, p.operations)
  }
  for (const t of cib.configuration.templates) collectOps(t)
  for (const r of cib.configuration.resources) {
    if (r._tag === "Primitive") collectOps(r)
    else if (r._tag === "Group") r.members.forEach(collectOps)
    else if (r._tag === "Clone") {
      if (r.child._tag === "Primitive") collectOps(r.child)
      else r.child.members.forEach(collectOps)
    }
  }

  const all: Array<Resource> = []
  const byId = new Map<string, Resource>()
  const primitives: Array<Resource> = []

  const explicitKeys = new Map<Resource, ReadonlySet<string>>()
  const hasAgentRule = (rules: ReadonlyArray<Cib.Rule>): boolean =>
    rules.some((r) =>
      r.expressions.some((e) => e._tag === "ResourceExpression" || (e._tag === "Rule" && hasAgentRule([e])))
    )
  const agentDefaults = cib.configuration.rscDefaults.some((set) => hasAgentRule(set.rules))

  const make = (
    id: string,
    kind: Kind,
    parent: Resource | undefined,
    metaSets: ReadonlyArray<Cib.NvSet>,
    extra: {
      ops?: ReadonlyArray<OpConfig>
      className?: string | undefined
      instanceAttributes?: ReadonlyArray<Cib.NvSet>
      utilization?: ReadonlyMap<string, number>
      promotable?: boolean
      instance?: number
      agent?: { class?: string; provider?: string; type?: string }
    }
  ): Resource => {
    const meta = new Map(parent?.meta ?? options.rscDefaults)
    const own = resolveNvSets(metaSets, ctx)
    // rsc_defaults whose rules name a resource agent apply to the primitives of that agent, below
    // what the primitive and its parents set themselves
    if (extra.agent !== undefined && agentDefaults) {
      const explicit = new Set<string>(own.keys())
      for (let a = parent; a !== undefined; a = a.parent)
        for (const k of explicitKeys.get(a) ?? []) explicit.add(k)
      const defaults = resolveNvSets(cib.configuration.rscDefaults, { ...ctx, resource: extra.agent })
      for (const [k, v] of defaults) if (!explicit.has(k)) meta.set(k, v)
    }
    for (const [k, v] of own) meta.set(k, v)
    // clone-level settings do not leak to children as their own
    const inheritedClone = parent?.kind === "clone" || parent?.parent?.kind === "clone"
    // instances of a promotable clone are promotable too
    const promotable = extra.promotable ?? parent?.promotable ?? false
    const stickinessDefault = inheritedClone ? 1 : options.defaultStickiness
    const r: Resource = {
      id,
      kind,
      parent,
      children: [],
      meta,
      ops: extra.ops ?? [],
      className: extra.className,
      instanceAttributes: extra.instanceAttributes ?? [],
      utilization: extra.utilization ?? new Map(),
      index: all.length,
      priority: num(meta.get("priority"), 0),
      stickiness: num(meta.get("resource-stickiness") ?? meta.get("resource_stickiness"), stickinessDefault),
      targetRole: parseRole(meta.get("target-role")),
      // a resource in maintenance is left alone like an unmanaged one
      managed:
        (meta.get("is-managed") === undefined || Cib.isTrue(meta.get("is-managed"))) &&
        !Cib.isTrue(meta.get("maintenance")),
      migrationThreshold: num(meta.get("migration-threshold"), Score.INFINITY),
      failureTimeout: (Duration.parse(meta.get("failure-timeout") ?? "0") ?? 0) / 1000,
      allowMigrate: Cib.isTrue(meta.get("allow-migrate")),
      multipleActive: meta.get("multiple-active") ?? "stop_start",
      requires: meta.get("requires") ?? "fencing",
      promotable,
      cloneMax: num(meta.get("clone-max"), 0),
      cloneNodeMax: num(meta.get("clone-node-max"), 1),
      cloneMin: num(meta.get("clone-min"), 0),
      promotedMax: num(meta.get("promoted-max") ?? meta.get("master-max"), 1),
      promotedNodeMax: num(meta.get("promoted-node-max") ?? meta.get("master-node-max"), 1),
      globallyUnique: Cib.isTrue(meta.get("globally-unique")),
      interleave: Cib.isTrue(meta.get("interleave")),
      ordered: Cib.isTrue(meta.get("ordered")),
      notify: Cib.isTrue(meta.get("notify")),
      instance: extra.instance,
      history: []
    }
    all.push(r)
    byId.set(id, r)
    // (needed only to apply agent-specific rsc_defaults below what the resource's parents set)
    if (agentDefaults) explicitKeys.set(r, new Set(own.keys()))
    parent?.children.push(r)
    return r
  }

  const primitive = (p: Cib.Primitive, parent: Resource | undefined, suffix: string, instance?: number) => {
    const template = p.template !== undefined ? templates.get(p.template) : undefined
    const metaSets = [...p.metaAttributes, ...(template?.metaAttributes ?? [])]
    const utilization = new Map<string, number>()
    for (const [k, v] of resolveNvSets([...p.utilization, ...(template?.utilization ?? [])], ctx)) {
      utilization.set(k, Number(v) || 0)
    }
    const ops = [
      ...toOps(p, opsById),
      ...(template ? toOps(template as unknown as Cib.Primitive, opsById) : [])
    ]
    const r = make(`${p.id}${suffix}`, "primitive", parent, metaSets, {
      ops,
      className: p.class ?? template?.class,
      instanceAttributes: [...p.instanceAttributes, ...(template?.instanceAttributes ?? [])],
      ...(agentDefaults
        ? {
            agent: agentOf(
              p.class ?? template?.class,
              p.provider ?? template?.provider,
              p.type ?? template?.type
            )
          }
        : {}),
      utilization,
      ...(instance !== undefined ? { instance } : {})
    })
    primitives.push(r)
    return r
  }

  const top: Array<Resource> = []
  for (const r of cib.configuration.resources) {
    switch (r._tag) {
      case "Bundle":
        return { unsupported: `bundle ${r.id}` }
      case "Primitive":
        top.push(primitive(r, undefined, ""))
        break
      case "Group": {
        const g = make(r.id, "group", undefined, r.metaAttributes, {
          instanceAttributes: r.instanceAttributes
        })
        for (const m of r.members) primitive(m, g, "")
        top.push(g)
        break
      }
      case "Clone": {
        const promotable = Cib.isPromotable(r)
        const c = make(r.id, "clone", undefined, r.metaAttributes, {
          promotable,
          instanceAttributes: r.instanceAttributes
        })
        const nodeCount = cib.configuration.nodes.length
        const max = c.meta.get("clone-max") !== undefined ? c.cloneMax : nodeCount
        for (let i = 0; i < max; i++) {
          const child = r.child
          if (child._tag === "Primitive") primitive(child, c, `:${i}`, i)
          else {
            const g = make(`${child.id}:${i}`, "group", c, child.metaAttributes, {
              instance: i,
              instanceAttributes: child.instanceAttributes
            })
            for (const m of child.members) primitive(m, g, `:${i}`, i)
          }
        }
        top.push(c)
        break
      }
    }
  }
  return { all, byId, top, primitives }
}

/** The configured on-fail of a primitive's operation, `undefined` when not configured. */
export const configuredOnFail = (r: Resource, operation: string, interval: number): OnFail | undefined => {
  const match = r.ops.find((o) => o.name === operation && o.interval === interval)
  return match?.onFail
}

/** The top-level resource a constraint on `r` addresses (r itself, or its group/clone). */
export const topOf = (r: Resource): Resource => (r.parent ? topOf(r.parent) : r)

/** Id a constraint or history entry uses for a resource: clone instances of anonymous clones drop `:N`. */
export const baseId = (id: string): string => id.replace(/:\d+$/, "")
