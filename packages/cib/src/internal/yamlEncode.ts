/**
 * Model → YAML configuration. Writes the short forms wherever they decode back to the same model
 * (generated ids left out, `name: value` maps, `monitor: 20s` ops, prefer/avoid) and falls back to
 * the explicit forms otherwise. What the format cannot hold raises {@link InexpressibleError}.
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from "yaml"
import type * as Cib from "../Cib.ts"
import * as Duration from "../Duration.ts"
import * as Score from "../Score.ts"
import { OP_FIELDS as OP_FIELD_NAMES } from "./yamlDecode.ts"
import { InexpressibleError } from "./yamlErrors.ts"
import * as Ids from "./yamlIds.ts"

/** A value written in flow style (`{ a: b }`, `[a, b]`). */
class Flow {
  constructor(readonly value: YValue) {}
}
type YValue = string | Flow | ReadonlyArray<YValue> | { readonly [key: string]: YValue }
type YMap = Record<string, YValue>

export class Inexpressible {
  constructor(readonly error: InexpressibleError) {}
}

const cannot = (path: string, reason: string): never => {
  throw new Inexpressible(new InexpressibleError({ path, reason }))
}

/** An op whose name is one of the op fields cannot use the short form `{name: {...}}`. */
const OP_FIELDS = new Set(OP_FIELD_NAMES)

/** Sets `target[key] = value` unless value is undefined. */
const put = (target: YMap, key: string, value: YValue | undefined) => {
  if (value !== undefined) target[key] = value
}

const uniqueNames = (pairs: ReadonlyArray<Cib.NvPair>): boolean => {
  const names = new Set<string>()
  for (const p of pairs) {
    if (p.name === undefined || names.has(p.name)) return false
    names.add(p.name)
  }
  return true
}

/** One nvpair as a `values` entry: the bare value when its id is the generated one. */
const pairValue = (pair: Cib.NvPair, setId: string | undefined, path: string): YValue => {
  const generated =
    setId === undefined || pair.name === undefined ? undefined : Ids.nvpairId(setId, pair.name)
  if (pair.idRef === undefined && pair.id === undefined) cannot(path, "an nvpair without id or id-ref")
  if (pair.idRef === undefined && pair.id === generated && pair.value !== undefined) return pair.value
  const long: YMap = {}
  put(long, "value", pair.value)
  if (pair.idRef !== undefined) {
    long["id-ref"] = pair.idRef
    put(long, "id", pair.id)
  } else if (pair.id !== generated) put(long, "id", pair.id)
  return new Flow(long)
}

export const nvsets = (sets: ReadonlyArray<Cib.NvSet>, base: string, path: string): YValue | undefined => {
  if (sets.length === 0) return undefined
  const only = sets[0] as Cib.NvSet
  if (
    sets.length === 1 &&
    only.id === base &&
    only.idRef === undefined &&
    only.score === undefined &&
    only.rules.length === 0 &&
    uniqueNames(only.nvpairs)
  ) {
    const map: YMap = {}
    for (const pair of only.nvpairs) map[pair.name as string] = pairValue(pair, base, `${path}.${pair.name}`)
    return map
  }
  return sets.map((set, i) => {
    const at = `${path}[${i}]`
    const out: YMap = {}
    if (set.idRef === undefined) {
      if (set.id === undefined) cannot(at, "a set without id or id-ref")
      if (set.id !== Ids.indexed(base, i)) out.id = set.id as string
    } else {
      out["id-ref"] = set.idRef
      put(out, "id", set.id)
    }
    if (set.score !== undefined) out.score = Score.format(set.score)
    if (set.rules.length > 0) out.rules = rules(set.rules, set.id ?? set.idRef ?? base, `${at}.rules`)
    if (set.nvpairs.length > 0) {
      if (uniqueNames(set.nvpairs)) {
        const values: YMap = {}
        for (const pair of set.nvpairs)
          values[pair.name as string] = pairValue(pair, set.id, `${at}.values.${pair.name}`)
        out.values = values
      } else {
        out.pairs = set.nvpairs.map((pair, j) => {
          const item: YMap = {}
          put(item, "name", pair.name)
          put(item, "value", pair.value)
          put(item, "id-ref", pair.idRef)
          const generated =
            set.id === undefined || pair.name === undefined ? undefined : Ids.nvpairId(set.id, pair.name)
          if (pair.idRef !== undefined) put(item, "id", pair.id)
          else if (pair.id === undefined) cannot(`${at}.pairs[${j}]`, "an nvpair without id or id-ref")
          else if (pair.id !== generated) item.id = pair.id
          return new Flow(item)
        })
      }
    }
    return out
  })
}

// -- rules

const rules = (list: ReadonlyArray<Cib.Rule>, owner: string, path: string): YValue =>
  list.map((r, i) => rule(r, Ids.indexed(Ids.ruleBase(owner), i), `${path}[${i}]`))

const rule = (r: Cib.Rule, generated: string, path: string): YValue => {
  const out: YMap = {}
  if (r.idRef === undefined) {
    if (r.id === undefined) cannot(path, "a rule without id or id-ref")
    if (r.id !== generated) out.id = r.id as string
  } else {
    out["id-ref"] = r.idRef
    put(out, "id", r.id)
  }
  if (r.score !== undefined) out.score = Score.format(r.score)
  put(out, "score-attribute", r.scoreAttribute)
  put(out, "role", r.role)
  const base = Ids.expressionBase(r.id ?? r.idRef ?? "rule")
  const expressions = r.expressions.map((e, i) =>
    expression(e, Ids.indexed(base, i), `${path}.expressions[${i}]`)
  )
  if (r.booleanOp === undefined) {
    if (r.idRef === undefined || expressions.length > 0) out.and = expressions
  } else if (r.booleanOp === "or") out.or = expressions
  else {
    out["boolean-op"] = r.booleanOp
    out.expressions = expressions
  }
  return out
}

const expression = (e: Cib.RuleExpression, generated: string, path: string): YValue => {
  const out: YMap = {}
  switch (e._tag) {
    case "Rule":
      return rule(e, generated, path)
    case "Expression":
      out.attribute = e.attribute
      out.op = e.operation
      put(out, "value", e.value)
      put(out, "type", e.type)
      put(out, "value-source", e.valueSource)
      break
    case "DateExpression":
      out.date = e.operation
      put(out, "start", e.start)
      put(out, "end", e.end)
      if (e.duration !== undefined) out.duration = new Flow({ ...e.duration })
      if (e.dateSpec !== undefined) out.spec = new Flow({ ...e.dateSpec })
      break
    case "ResourceExpression": {
      const agent: YMap = {}
      put(agent, "class", e.class)
      put(agent, "provider", e.provider)
      put(agent, "type", e.type)
      out.resource = new Flow(agent)
      break
    }
    case "OperationExpression":
      out.operation = e.name
      if (e.interval !== undefined) out.interval = Duration.format(e.interval)
      break
  }
  if (e.id !== generated) out.id = e.id
  return new Flow(out)
}

// -- resources

const agentString = (p: Cib.Primitive | Cib.Template): string | undefined => {
  const parts = [p.class, p.provider, p.type]
  if (p.class === undefined || p.type === undefined) return undefined
  if (parts.some((part) => part !== undefined && (part === "" || part.includes(":")))) return undefined
  return parts.filter((part) => part !== undefined).join(":")
}

const operations = (resourceId: string, ops: ReadonlyArray<Cib.Operation>, path: string): YValue => {
  const names = new Ids.NameCounter()
  return ops.map((op, i) => {
    const at = `${path}[${i}]`
    const out: YMap = {}
    const interval = Duration.format(op.interval)
    if (OP_FIELDS.has(op.name)) {
      out.name = op.name
      out.interval = interval
    } else out[op.name] = interval
    const base = Ids.opBase(resourceId, op.name, op.interval)
    if (op.id === names.peek(base)) names.take(base)
    else out.id = op.id
    if (op.timeout !== undefined) out.timeout = Duration.format(op.timeout)
    put(out, "invalid-timeout", op.invalidTimeout)
    put(out, "description", op.description)
    put(out, "role", op.role)
    put(out, "on-fail", op.onFail)
    if (op.startDelay !== undefined) out["start-delay"] = Duration.format(op.startDelay)
    put(out, "interval-origin", op.intervalOrigin)
    put(out, "record-pending", op.recordPending)
    put(out, "enabled", op.enabled)
    put(out, "requires", op.requires)
    const params = nvsets(op.instanceAttributes, Ids.instanceSet(op.id), `${at}.params`)
    const meta = nvsets(op.metaAttributes, Ids.metaSet(op.id), `${at}.meta`)
    put(out, "params", params)
    put(out, "meta", meta)
    return params === undefined && meta === undefined ? new Flow(out) : out
  })
}

const primitive = (p: Cib.Primitive | Cib.Template, path: string): YMap => {
  const out: YMap = {}
  const agent = agentString(p)
  if (agent !== undefined) out.agent = agent
  else {
    put(out, "class", p.class)
    put(out, "provider", p.provider)
    put(out, "type", p.type)
  }
  if (p._tag === "Primitive") put(out, "template", p.template)
  if (p.type === undefined && (p._tag === "Template" || p.template === undefined))
    cannot(path, "a primitive without type or template")
  put(out, "description", p.description)
  put(out, "params", nvsets(p.instanceAttributes, Ids.instanceSet(p.id), `${path}.params`))
  put(out, "meta", nvsets(p.metaAttributes, Ids.metaSet(p.id), `${path}.meta`))
  put(out, "utilization", nvsets(p.utilization, Ids.utilizationSet(p.id), `${path}.utilization`))
  if (p.operations !== undefined) {
    put(out, "operations-id", p.operations.id)
    put(out, "operations-ref", p.operations.idRef)
    if (p.operations.ops.length > 0 || (p.operations.id === undefined && p.operations.idRef === undefined))
      out.ops = operations(p.id, p.operations.ops, `${path}.ops`)
  }
  return out
}

const isGeneratedPromotable = (set: Cib.NvSet | undefined): boolean => {
  const first = set?.nvpairs[0]
  return (
    set !== undefined &&
    set.id !== undefined &&
    set.idRef === undefined &&
    first !== undefined &&
    first.id === Ids.nvpairId(set.id, "promotable") &&
    first.idRef === undefined &&
    first.name === "promotable" &&
    first.value === "true"
  )
}

const resource = (r: Cib.Resource, path: string): YMap => {
  switch (r._tag) {
    case "Primitive":
      return primitive(r, path)
    case "Group": {
      const out: YMap = {}
      const members: YMap = {}
      for (const m of r.members) members[m.id] = primitive(m, `${path}.group.${m.id}`)
      out.group = members
      put(out, "description", r.description)
      put(out, "params", nvsets(r.instanceAttributes, Ids.instanceSet(r.id), `${path}.params`))
      put(out, "meta", nvsets(r.metaAttributes, Ids.metaSet(r.id), `${path}.meta`))
      return out
    }
    case "Clone": {
      const out: YMap = {}
      let meta = r.metaAttributes
      let kind = r.legacyMaster ? "master" : "clone"
      const first = meta[0]
      // `promotable:` adds promotable=true first in the first meta set; use it when that decodes back exactly
      if (!r.legacyMaster && first !== undefined && isGeneratedPromotable(first)) {
        const rest = { ...first, nvpairs: first.nvpairs.slice(1) }
        if (rest.nvpairs.length > 0) {
          kind = "promotable"
          meta = [rest, ...meta.slice(1)]
        } else if (
          meta.length === 1 &&
          first.id === Ids.metaSet(r.id) &&
          first.rules.length === 0 &&
          first.score === undefined
        ) {
          kind = "promotable"
          meta = []
        }
      }
      out[kind] = { [r.child.id]: resource(r.child, `${path}.${kind}.${r.child.id}`) }
      put(out, "description", r.description)
      put(out, "params", nvsets(r.instanceAttributes, Ids.instanceSet(r.id), `${path}.params`))
      put(out, "meta", nvsets(meta, Ids.metaSet(r.id), `${path}.meta`))
      return out
    }
    case "Bundle":
      return cannot(path, "bundles are kept as CIB XML only")
  }
}

// -- constraints

const resourceSets = (sets: ReadonlyArray<Cib.ResourceSet>, constraintId: string, path: string): YValue =>
  sets.map((set, i) => {
    const generated = Ids.indexed(Ids.resourceSetBase(constraintId), i)
    const onlyResources =
      set.idRef === undefined &&
      set.id === generated &&
      Object.keys(set).every((k) => k === "id" || k === "resources")
    if (onlyResources) return new Flow(set.resources)
    const out: YMap = {}
    if (set.idRef === undefined) {
      if (set.id === undefined) cannot(`${path}[${i}]`, "a resource set without id or id-ref")
      if (set.id !== generated) out.id = set.id as string
    } else {
      out["id-ref"] = set.idRef
      put(out, "id", set.id)
    }
    put(out, "sequential", set.sequential)
    put(out, "require-all", set.requireAll)
    put(out, "ordering", set.ordering)
    put(out, "action", set.action)
    put(out, "role", set.role)
    if (set.score !== undefined) out.score = Score.format(set.score)
    put(out, "kind", set.kind)
    if (set.resources.length > 0) out.resources = new Flow(set.resources)
    return out
  })

const constraint = (c: Cib.Constraint, ids: Ids.NameCounter, path: string): YValue => {
  const out: YMap = {}
  const withId = (base: string) => {
    if (c.id === ids.peek(base)) ids.take(base)
    else out.id = c.id
  }
  const sets = () => {
    if (c.resourceSets.length > 0) out.sets = resourceSets(c.resourceSets, c.id, `${path}.sets`)
  }
  switch (c._tag) {
    case "Location": {
      put(out, "rsc", c.rsc)
      put(out, "rsc-pattern", c.rscPattern)
      put(out, "role", c.role)
      const simple =
        c.node !== undefined &&
        c.score !== undefined &&
        c.rules.length === 0 &&
        c.resourceSets.length === 0 &&
        (c.rsc !== undefined || c.rscPattern !== undefined)
      if (simple) {
        const score = c.score as number
        out.node = c.node as string
        const strength = Math.abs(score)
        if (strength !== Score.INFINITY) out.score = Score.format(strength)
        put(out, "resource-discovery", c.resourceDiscovery)
        withId(Ids.locationBase(c))
        return { [score >= 0 ? "prefer" : "avoid"]: new Flow(out) }
      }
      if (c.rsc === undefined && c.rscPattern === undefined && c.resourceSets.length === 0)
        cannot(path, "a location constraint without rsc, rsc-pattern or sets")
      put(out, "node", c.node)
      if (c.score !== undefined) out.score = Score.format(c.score)
      put(out, "resource-discovery", c.resourceDiscovery)
      withId(Ids.locationBase(c))
      sets()
      if (c.rules.length > 0) out.rules = rules(c.rules, c.id, `${path}.rules`)
      return { location: out }
    }
    case "Colocation":
      put(out, "rsc", c.rsc)
      put(out, "with", c.withRsc)
      put(out, "role", c.rscRole)
      put(out, "with-role", c.withRscRole)
      if (c.score !== undefined) out.score = Score.format(c.score)
      put(out, "node-attribute", c.nodeAttribute)
      put(out, "influence", c.influence)
      withId(Ids.colocationBase(c))
      sets()
      if (c.resourceSets.length === 0 && (c.rsc === undefined || c.withRsc === undefined)) out.sets = []
      return { colocate: new Flow(out) }
    case "Order":
      put(out, "first", c.first)
      put(out, "first-action", c.firstAction)
      put(out, "then", c.then)
      put(out, "then-action", c.thenAction)
      put(out, "kind", c.kind)
      if (c.score !== undefined) out.score = Score.format(c.score)
      put(out, "symmetrical", c.symmetrical)
      put(out, "require-all", c.requireAll)
      withId(Ids.orderBase(c))
      sets()
      if (c.resourceSets.length === 0 && (c.first === undefined || c.then === undefined)) out.sets = []
      return { order: new Flow(out) }
    case "Ticket":
      out.ticket = c.ticket
      put(out, "rsc", c.rsc)
      put(out, "role", c.rscRole)
      put(out, "loss-policy", c.lossPolicy)
      withId(Ids.ticketBase(c))
      sets()
      return { ticket: new Flow(out) }
  }
}

// -- the rest

const fencingTopology = (levels: ReadonlyArray<Cib.FencingLevel>): YValue | undefined => {
  if (levels.length === 0) return undefined
  const byTarget: Record<string, Array<YValue>> = {}
  let previous: string | undefined
  const compact = levels.every((level) => {
    const target = level.target
    if (
      target === undefined ||
      level.targetPattern !== undefined ||
      level.targetAttribute !== undefined ||
      level.targetValue !== undefined
    )
      return false
    const list = byTarget[target]
    if (list !== undefined && previous !== target) return false
    const position = (list?.length ?? 0) + 1
    if (level.index !== position || level.id !== Ids.fencingLevelId(target, position)) return false
    previous = target
    const devices: YValue =
      level.devices.length === 1 ? (level.devices[0] as string) : new Flow(level.devices)
    byTarget[target] = [...(list ?? []), devices]
    return true
  })
  if (compact)
    return Object.fromEntries(Object.entries(byTarget).map(([target, list]) => [target, new Flow(list)]))
  return levels.map((level) => {
    const out: YMap = { index: String(level.index), devices: new Flow(level.devices) }
    put(out, "target", level.target)
    put(out, "target-pattern", level.targetPattern)
    put(out, "target-attribute", level.targetAttribute)
    put(out, "target-value", level.targetValue)
    if (level.id !== Ids.fencingLevelId(level.target ?? "level", level.index)) out.id = level.id
    return new Flow(out)
  })
}

const keyed = <T extends { readonly id: string }>(
  items: ReadonlyArray<T>,
  path: string,
  f: (item: T, path: string) => YValue
): YMap | undefined => {
  if (items.length === 0) return undefined
  const out: YMap = {}
  for (const item of items) {
    if (Object.hasOwn(out, item.id)) cannot(`${path}.${item.id}`, "the id is used twice")
    out[item.id] = f(item, `${path}.${item.id}`)
  }
  return out
}

export const configuration = (c: Cib.Configuration): YMap => {
  if (c.acls !== undefined) cannot("acls", "ACLs are kept as CIB XML only")
  const out: YMap = {}
  put(out, "properties", nvsets(c.clusterProperties, Ids.PROPERTIES_SET, "properties"))
  if (c.nodes.length > 0) {
    const nodes: YMap = {}
    for (const node of c.nodes) {
      const path = `nodes.${node.uname}`
      if (Object.hasOwn(nodes, node.uname)) cannot(path, "two nodes share this name")
      const entry: YMap = {}
      if (node.id !== node.uname) entry.id = node.id
      put(entry, "type", node.type)
      if (node.score !== undefined) entry.score = Score.format(node.score)
      put(entry, "description", node.description)
      put(
        entry,
        "attributes",
        nvsets(node.instanceAttributes, Ids.nodeAttributesSet(node.id), `${path}.attributes`)
      )
      put(
        entry,
        "utilization",
        nvsets(node.utilization, Ids.nodeUtilizationSet(node.id), `${path}.utilization`)
      )
      nodes[node.uname] =
        entry.attributes === undefined && entry.utilization === undefined ? new Flow(entry) : entry
    }
    out.nodes = nodes
  }
  put(out, "templates", keyed(c.templates, "templates", primitive))
  put(out, "resources", keyed(c.resources, "resources", resource))
  if (c.constraints.length > 0) {
    const ids = new Ids.NameCounter()
    out.constraints = c.constraints.map((k, i) => constraint(k, ids, `constraints[${i}]`))
  }
  put(out, "resource-defaults", nvsets(c.rscDefaults, Ids.RSC_DEFAULTS_SET, "resource-defaults"))
  put(out, "operation-defaults", nvsets(c.opDefaults, Ids.OP_DEFAULTS_SET, "operation-defaults"))
  put(out, "fencing-topology", fencingTopology(c.fencingTopology))
  put(
    out,
    "tags",
    keyed(c.tags, "tags", (tag) => new Flow(tag.refs))
  )
  put(
    out,
    "alerts",
    keyed(c.alerts, "alerts", (alert, path) => {
      if (alert.select !== undefined) cannot(`${path}.select`, "alert <select> is kept as CIB XML only")
      const entry: YMap = { path: alert.path }
      put(entry, "description", alert.description)
      put(entry, "params", nvsets(alert.instanceAttributes, Ids.instanceSet(alert.id), `${path}.params`))
      put(entry, "meta", nvsets(alert.metaAttributes, Ids.metaSet(alert.id), `${path}.meta`))
      put(
        entry,
        "recipients",
        keyed(alert.recipients, `${path}.recipients`, (r, rpath) => {
          const params = nvsets(r.instanceAttributes, Ids.instanceSet(r.id), `${rpath}.params`)
          const meta = nvsets(r.metaAttributes, Ids.metaSet(r.id), `${rpath}.meta`)
          if (r.description === undefined && params === undefined && meta === undefined) return r.value
          const recipient: YMap = { value: r.value }
          put(recipient, "description", r.description)
          put(recipient, "params", params)
          put(recipient, "meta", meta)
          return recipient
        })
      )
      return entry
    })
  )
  return out
}

const toNode = (value: YValue): Scalar | YAMLMap | YAMLSeq => {
  if (typeof value === "string") return new Scalar(value)
  if (value instanceof Flow) {
    const node = toNode(value.value)
    if (!(node instanceof Scalar)) node.flow = true
    return node
  }
  if (Array.isArray(value)) {
    const seq = new YAMLSeq()
    for (const item of value as ReadonlyArray<YValue>) seq.items.push(toNode(item))
    return seq
  }
  const map = new YAMLMap()
  for (const [k, v] of Object.entries(value as YMap)) map.items.push(new Pair(new Scalar(k), toNode(v)))
  return map
}

/** YAML text of an encoded configuration (failsafe schema: every scalar is text). */
export const stringify = (value: YMap): string => {
  const doc = new Document(null, { schema: "failsafe" })
  doc.contents = toNode(value) as YAMLMap
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true })
}
