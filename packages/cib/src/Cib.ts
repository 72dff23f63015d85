/**
 * The typed model of a Pacemaker CIB (configuration and status).
 *
 * Plain readonly data: structs, arrays in document order and `_tag` discriminated unions, so that
 * equality, diff and patch are structural. Conventions:
 * - Scores are numbers clamped to ±1_000_000 (`Score.INFINITY`); see `Score.ts`.
 * - Operation intervals, timeouts and delays are milliseconds (numbers); see `Duration.ts`.
 *   `LrmRscOp.interval` is milliseconds too (Pacemaker already records it so).
 * - nvpair values, roles, enumerations and boolean-like attributes stay the strings written in the
 *   CIB (Pacemaker reads many of them leniently and per attribute; use {@link isTrue} for booleans
 *   and {@link normalizeRole} for roles).
 * - References (rsc, with-rsc, first, then, resource_ref, obj_ref, template, fencing devices, node
 *   names) are the referenced ids / names as strings; the XML decoder checks they exist.
 * - Optional attributes are absent keys (never `undefined`).
 */
import { Schema } from "effect"
import { Millis } from "./Duration.ts"
import { Score } from "./Score.ts"

const opt = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const Str = Schema.String
const Strings = Schema.Array(Schema.String)
/** Attributes the model does not name, kept verbatim (status section and <cib> only). */
const Extra = Schema.Record({ key: Schema.String, value: Schema.String })

// ---------------------------------------------------------------------------------------------
// Opaque XML (bundles, ACLs, alert select)

/** An element kept verbatim: name, attributes in order, child elements. */
export interface XmlElement {
  readonly name: string
  readonly attributes: ReadonlyArray<readonly [string, string]>
  readonly children: ReadonlyArray<XmlElement>
}
export const XmlElement: Schema.Schema<XmlElement> = Schema.Struct({
  name: Str,
  attributes: Schema.Array(Schema.Tuple(Str, Str)),
  children: Schema.Array(Schema.suspend((): Schema.Schema<XmlElement> => XmlElement))
}).annotations({ identifier: "XmlElement" })

// ---------------------------------------------------------------------------------------------
// Rules

/** <expression>: a node attribute (or param/meta) test. */
export const AttributeExpression = Schema.TaggedStruct("Expression", {
  id: Str,
  attribute: Str,
  /** lt, gt, lte, gte, eq, ne, defined, not_defined */
  operation: Str,
  value: opt(Str),
  /** string, integer, number, version */
  type: opt(Str),
  /** literal, param, meta */
  valueSource: opt(Str)
})
export interface AttributeExpression extends Schema.Schema.Type<typeof AttributeExpression> {}

/** <date_spec>: cron-like ranges, kept as written (e.g. hours="9-16"). */
export const DateSpec = Schema.Struct({
  id: opt(Str),
  hours: opt(Str),
  monthdays: opt(Str),
  weekdays: opt(Str),
  yeardays: opt(Str),
  months: opt(Str),
  weeks: opt(Str),
  years: opt(Str),
  weekyears: opt(Str),
  moon: opt(Str),
  minutes: opt(Str),
  seconds: opt(Str)
})
export interface DateSpec extends Schema.Schema.Type<typeof DateSpec> {}

/** <duration> inside a date_expression (in_range with start + duration). */
export const DateDuration = Schema.Struct({
  id: opt(Str),
  years: opt(Str),
  months: opt(Str),
  weeks: opt(Str),
  days: opt(Str),
  hours: opt(Str),
  minutes: opt(Str),
  seconds: opt(Str)
})
export interface DateDuration extends Schema.Schema.Type<typeof DateDuration> {}

/** <date_expression>: operation in_range, gt, lt or date_spec; start / end are ISO 8601 dates. */
export const DateExpression = Schema.TaggedStruct("DateExpression", {
  id: Str,
  operation: Str,
  start: opt(Str),
  end: opt(Str),
  duration: opt(DateDuration),
  dateSpec: opt(DateSpec)
})
export interface DateExpression extends Schema.Schema.Type<typeof DateExpression> {}

/** <rsc_expression> (rules in rsc_defaults / op_defaults). */
export const ResourceExpression = Schema.TaggedStruct("ResourceExpression", {
  id: Str,
  class: opt(Str),
  provider: opt(Str),
  type: opt(Str)
})
export interface ResourceExpression extends Schema.Schema.Type<typeof ResourceExpression> {}

/** <op_expression> (rules in op_defaults). */
export const OperationExpression = Schema.TaggedStruct("OperationExpression", {
  id: Str,
  name: Str,
  interval: opt(Millis)
})
export interface OperationExpression extends Schema.Schema.Type<typeof OperationExpression> {}

/** <rule>: a boolean combination of expressions and nested rules. */
export interface Rule {
  readonly _tag: "Rule"
  readonly id?: string
  readonly idRef?: string
  readonly score?: Score
  readonly scoreAttribute?: string
  /** "and" (default) or "or" */
  readonly booleanOp?: string
  readonly role?: string
  readonly expressions: ReadonlyArray<RuleExpression>
}
export type RuleExpression =
  | AttributeExpression
  | DateExpression
  | ResourceExpression
  | OperationExpression
  | Rule

export const Rule: Schema.Schema<Rule> = Schema.TaggedStruct("Rule", {
  id: opt(Str),
  idRef: opt(Str),
  score: opt(Score),
  scoreAttribute: opt(Str),
  booleanOp: opt(Str),
  role: opt(Str),
  expressions: Schema.Array(Schema.suspend((): Schema.Schema<RuleExpression> => RuleExpression))
}).annotations({ identifier: "Rule" })

export const RuleExpression: Schema.Schema<RuleExpression> = Schema.Union(
  AttributeExpression,
  DateExpression,
  ResourceExpression,
  OperationExpression,
  Rule
)

// ---------------------------------------------------------------------------------------------
// Name/value pair sets

/** <nvpair>: `value` may be missing (unset), `idRef` points at another nvpair. */
export const NvPair = Schema.Struct({
  id: opt(Str),
  idRef: opt(Str),
  name: opt(Str),
  value: opt(Str)
})
export interface NvPair extends Schema.Schema.Type<typeof NvPair> {}

/** instance_attributes, meta_attributes, utilization, cluster_property_set: pairs in order. */
export const NvSet = Schema.Struct({
  id: opt(Str),
  idRef: opt(Str),
  score: opt(Score),
  rules: Schema.Array(Rule),
  nvpairs: Schema.Array(NvPair)
})
export interface NvSet extends Schema.Schema.Type<typeof NvSet> {}

// ---------------------------------------------------------------------------------------------
// Nodes

export const Node = Schema.Struct({
  /** node ids are not XML ids: a remote node's id equals its connection resource's id */
  id: Str,
  uname: Str,
  /** member (default), remote, ping; legacy "normal" */
  type: opt(Str),
  score: opt(Score),
  description: opt(Str),
  instanceAttributes: Schema.Array(NvSet),
  utilization: Schema.Array(NvSet)
})
export interface Node extends Schema.Schema.Type<typeof Node> {}

// ---------------------------------------------------------------------------------------------
// Resources

/** <op>: interval, timeout and start-delay in milliseconds. */
export const Operation = Schema.Struct({
  id: Str,
  name: Str,
  interval: Millis,
  timeout: opt(Millis),
  /** A timeout Pacemaker cannot parse (it then uses the default); kept so the CIB round-trips. */
  invalidTimeout: opt(Str),
  description: opt(Str),
  role: opt(Str),
  onFail: opt(Str),
  startDelay: opt(Millis),
  intervalOrigin: opt(Str),
  recordPending: opt(Str),
  enabled: opt(Str),
  requires: opt(Str),
  instanceAttributes: Schema.Array(NvSet),
  metaAttributes: Schema.Array(NvSet)
})
export interface Operation extends Schema.Schema.Type<typeof Operation> {}

/** <operations>: either a list of ops or a reference (`idRef`) to another <operations>. */
export const Operations = Schema.Struct({
  id: opt(Str),
  idRef: opt(Str),
  ops: Schema.Array(Operation)
})
export interface Operations extends Schema.Schema.Type<typeof Operations> {}

const primitiveFields = {
  id: Str,
  /** ocf, lsb, systemd, service, stonith, … (absent when taken from `template`) */
  class: opt(Str),
  provider: opt(Str),
  type: opt(Str),
  description: opt(Str),
  instanceAttributes: Schema.Array(NvSet),
  metaAttributes: Schema.Array(NvSet),
  utilization: Schema.Array(NvSet),
  operations: opt(Operations)
}

export const Primitive = Schema.TaggedStruct("Primitive", {
  ...primitiveFields,
  /** id of a <template> this primitive inherits from */
  template: opt(Str)
})
export interface Primitive extends Schema.Schema.Type<typeof Primitive> {}

/** <template>: a primitive blueprint referenced by `Primitive.template`. */
export const Template = Schema.TaggedStruct("Template", primitiveFields)
export interface Template extends Schema.Schema.Type<typeof Template> {}

export const Group = Schema.TaggedStruct("Group", {
  id: Str,
  description: opt(Str),
  instanceAttributes: Schema.Array(NvSet),
  metaAttributes: Schema.Array(NvSet),
  members: Schema.Array(Primitive)
})
export interface Group extends Schema.Schema.Type<typeof Group> {}

/**
 * <clone>, promotable when its meta attribute promotable is true, or when it was written as the
 * legacy <master> element (`legacyMaster: true`, encoded back as <master>). Use {@link isPromotable}.
 */
export const Clone = Schema.TaggedStruct("Clone", {
  id: Str,
  description: opt(Str),
  legacyMaster: Schema.Boolean,
  instanceAttributes: Schema.Array(NvSet),
  metaAttributes: Schema.Array(NvSet),
  child: Schema.Union(Primitive, Group)
})
export interface Clone extends Schema.Schema.Type<typeof Clone> {}

/**
 * <bundle>: kept verbatim (`xml` is the whole element) and not supported by ha's scheduler.
 * `primitive` names the id of the bundled primitive, if any, since constraints may refer to it.
 */
export const Bundle = Schema.TaggedStruct("Bundle", {
  id: Str,
  primitive: opt(Str),
  xml: XmlElement
})
export interface Bundle extends Schema.Schema.Type<typeof Bundle> {}

export const Resource = Schema.Union(Primitive, Group, Clone, Bundle)
export type Resource = Primitive | Group | Clone | Bundle

// ---------------------------------------------------------------------------------------------
// Constraints

/** <resource_set>: resources listed by id (<resource_ref>). */
export const ResourceSet = Schema.Struct({
  id: opt(Str),
  idRef: opt(Str),
  sequential: opt(Str),
  requireAll: opt(Str),
  ordering: opt(Str),
  action: opt(Str),
  role: opt(Str),
  score: opt(Score),
  kind: opt(Str),
  resources: Strings
})
export interface ResourceSet extends Schema.Schema.Type<typeof ResourceSet> {}

/** <rsc_location>: `rsc` or `rscPattern` (or sets); `score` + `node`, or rules. */
export const Location = Schema.TaggedStruct("Location", {
  id: Str,
  rsc: opt(Str),
  rscPattern: opt(Str),
  role: opt(Str),
  score: opt(Score),
  node: opt(Str),
  /** always (default), never, exclusive */
  resourceDiscovery: opt(Str),
  rules: Schema.Array(Rule),
  resourceSets: Schema.Array(ResourceSet)
})
export interface Location extends Schema.Schema.Type<typeof Location> {}

/** <rsc_colocation>: `rsc` placed relative to `withRsc`, or sets. */
export const Colocation = Schema.TaggedStruct("Colocation", {
  id: Str,
  score: opt(Score),
  rsc: opt(Str),
  withRsc: opt(Str),
  rscRole: opt(Str),
  withRscRole: opt(Str),
  nodeAttribute: opt(Str),
  influence: opt(Str),
  resourceSets: Schema.Array(ResourceSet)
})
export interface Colocation extends Schema.Schema.Type<typeof Colocation> {}

/** <rsc_order>: `first` before `then`, or sets. kind Mandatory (default) / Optional / Serialize. */
export const Order = Schema.TaggedStruct("Order", {
  id: Str,
  kind: opt(Str),
  /** legacy: score 0 means Optional, otherwise Mandatory */
  score: opt(Score),
  symmetrical: opt(Str),
  first: opt(Str),
  // biome-ignore lint/suspicious/noThenProperty: Pacemaker's rsc_order attribute; model objects are never awaited
  then: opt(Str),
  firstAction: opt(Str),
  thenAction: opt(Str),
  requireAll: opt(Str),
  resourceSets: Schema.Array(ResourceSet)
})
export interface Order extends Schema.Schema.Type<typeof Order> {}

/** <rsc_ticket>: kept, not supported by ha's scheduler. */
export const Ticket = Schema.TaggedStruct("Ticket", {
  id: Str,
  ticket: Str,
  rsc: opt(Str),
  rscRole: opt(Str),
  lossPolicy: opt(Str),
  resourceSets: Schema.Array(ResourceSet)
})
export interface Ticket extends Schema.Schema.Type<typeof Ticket> {}

export const Constraint = Schema.Union(Location, Colocation, Order, Ticket)
export type Constraint = Location | Colocation | Order | Ticket

// ---------------------------------------------------------------------------------------------
// Fencing topology, tags, alerts

/** <fencing-level>: devices tried together at `index`, for a target (name, pattern or attribute). */
export const FencingLevel = Schema.Struct({
  id: Str,
  index: Schema.Int,
  target: opt(Str),
  targetPattern: opt(Str),
  targetAttribute: opt(Str),
  targetValue: opt(Str),
  devices: Strings
})
export interface FencingLevel extends Schema.Schema.Type<typeof FencingLevel> {}

/** <tag>: a named list of object ids (<obj_ref>). */
export const Tag = Schema.Struct({ id: Str, refs: Strings })
export interface Tag extends Schema.Schema.Type<typeof Tag> {}

export const AlertRecipient = Schema.Struct({
  id: Str,
  value: Str,
  description: opt(Str),
  instanceAttributes: Schema.Array(NvSet),
  metaAttributes: Schema.Array(NvSet)
})
export interface AlertRecipient extends Schema.Schema.Type<typeof AlertRecipient> {}

export const Alert = Schema.Struct({
  id: Str,
  path: Str,
  description: opt(Str),
  /** <select> kept verbatim */
  select: opt(XmlElement),
  instanceAttributes: Schema.Array(NvSet),
  metaAttributes: Schema.Array(NvSet),
  recipients: Schema.Array(AlertRecipient)
})
export interface Alert extends Schema.Schema.Type<typeof Alert> {}

// ---------------------------------------------------------------------------------------------
// Configuration

export const Configuration = Schema.Struct({
  /** <crm_config>: cluster_property_set list */
  clusterProperties: Schema.Array(NvSet),
  nodes: Schema.Array(Node),
  resources: Schema.Array(Resource),
  templates: Schema.Array(Template),
  constraints: Schema.Array(Constraint),
  /** <rsc_defaults>: meta_attributes sets (may carry rules) */
  rscDefaults: Schema.Array(NvSet),
  /** <op_defaults>: meta_attributes sets (may carry rules) */
  opDefaults: Schema.Array(NvSet),
  fencingTopology: Schema.Array(FencingLevel),
  tags: Schema.Array(Tag),
  alerts: Schema.Array(Alert),
  /** <acls> kept verbatim */
  acls: opt(XmlElement)
})
export interface Configuration extends Schema.Schema.Type<typeof Configuration> {}

// ---------------------------------------------------------------------------------------------
// Status

/** <lrm_rsc_op>: one recorded operation result. Times are seconds since the epoch. */
export const LrmRscOp = Schema.Struct({
  id: Str,
  operationKey: opt(Str),
  operation: Str,
  /** milliseconds */
  interval: Millis,
  rcCode: Schema.Int,
  opStatus: Schema.Int,
  callId: Schema.Int,
  lastRun: opt(Schema.Int),
  lastRcChange: opt(Schema.Int),
  /** milliseconds */
  execTime: opt(Schema.Int),
  /** milliseconds */
  queueTime: opt(Schema.Int),
  opDigest: opt(Str),
  opForceRestart: opt(Str),
  opRestartDigest: opt(Str),
  opSecureParams: opt(Str),
  opSecureDigest: opt(Str),
  transitionKey: opt(Str),
  transitionMagic: opt(Str),
  crmFeatureSet: opt(Str),
  crmDebugOrigin: opt(Str),
  onNode: opt(Str),
  exitReason: opt(Str),
  migrateSource: opt(Str),
  migrateTarget: opt(Str),
  extra: Extra
})
export interface LrmRscOp extends Schema.Schema.Type<typeof LrmRscOp> {}

/** <lrm_resource>: the operation history of one resource on one node. */
export const LrmResource = Schema.Struct({
  id: Str,
  class: opt(Str),
  provider: opt(Str),
  type: opt(Str),
  container: opt(Str),
  ops: Schema.Array(LrmRscOp)
})
export interface LrmResource extends Schema.Schema.Type<typeof LrmResource> {}

/** <lrm> with its <lrm_resources>. */
export const Lrm = Schema.Struct({
  id: opt(Str),
  extra: Extra,
  resourcesId: opt(Str),
  resources: Schema.Array(LrmResource)
})
export interface Lrm extends Schema.Schema.Type<typeof Lrm> {}

/** <transient_attributes>: fail-count-*, last-failure-*, master-* (promotion scores), … */
export const TransientAttributes = Schema.Struct({ id: opt(Str), sets: Schema.Array(NvSet) })
export interface TransientAttributes extends Schema.Schema.Type<typeof TransientAttributes> {}

/** <node_state>: membership and history of one node. */
export const NodeState = Schema.Struct({
  /** the node id (absent in a few hand-written CIBs that name the node by uname only) */
  id: opt(Str),
  uname: opt(Str),
  /** "true"/"false" (or a timestamp in newer Pacemaker) */
  inCcm: opt(Str),
  /** "online"/"offline" (or a timestamp in newer Pacemaker) */
  crmd: opt(Str),
  join: opt(Str),
  expected: opt(Str),
  crmDebugOrigin: opt(Str),
  remoteNode: opt(Str),
  nodeFenced: opt(Str),
  shutdown: opt(Str),
  clearShutdown: opt(Str),
  nodeInMaintenance: opt(Str),
  extra: Extra,
  transientAttributes: opt(TransientAttributes),
  lrm: opt(Lrm)
})
export interface NodeState extends Schema.Schema.Type<typeof NodeState> {}

/** <ticket_state> under <status><tickets>. */
export const TicketState = Schema.Struct({
  id: Str,
  granted: opt(Str),
  standby: opt(Str),
  lastGranted: opt(Schema.Int),
  extra: Extra
})
export interface TicketState extends Schema.Schema.Type<typeof TicketState> {}

export const Status = Schema.Struct({
  nodes: Schema.Array(NodeState),
  tickets: Schema.Array(TicketState)
})
export interface Status extends Schema.Schema.Type<typeof Status> {}

// ---------------------------------------------------------------------------------------------
// The CIB

/** (admin_epoch, epoch, num_updates), compared in that order. */
export const Version = Schema.Struct({
  adminEpoch: Schema.NonNegativeInt,
  epoch: Schema.NonNegativeInt,
  numUpdates: Schema.NonNegativeInt
})
export interface Version extends Schema.Schema.Type<typeof Version> {}

export const Cib = Schema.Struct({
  version: Version,
  validateWith: opt(Str),
  crmFeatureSet: opt(Str),
  /** "1"/"0"/"true"/"false" as written */
  haveQuorum: opt(Str),
  dcUuid: opt(Str),
  /** seconds since the epoch: crm_simulate's "now" */
  executionDate: opt(Schema.Int),
  cibLastWritten: opt(Str),
  updateOrigin: opt(Str),
  updateClient: opt(Str),
  updateUser: opt(Str),
  /** other <cib> attributes (remote-tls-port, no-quorum-panic, …) */
  extra: Extra,
  configuration: Configuration,
  status: Status
}).annotations({ identifier: "Cib" })
export interface Cib extends Schema.Schema.Type<typeof Cib> {}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Pacemaker's boolean reading (crm_is_true): true, on, yes, y, 1 (case-insensitive). */
export const isTrue = (value: string | undefined): boolean => {
  if (value === undefined) return false
  switch (value.toLowerCase()) {
    case "true":
    case "on":
    case "yes":
    case "y":
    case "1":
      return true
    default:
      return false
  }
}

/** Maps legacy role names to current ones: Master → Promoted, Slave → Unpromoted. */
export const normalizeRole = (role: string): string =>
  role === "Master" ? "Promoted" : role === "Slave" ? "Unpromoted" : role

/** The value of a meta attribute in the first set that has it (sets without rules only). */
export const metaValue = (sets: ReadonlyArray<NvSet>, name: string): string | undefined => {
  for (const set of sets) {
    if (set.rules.length > 0) continue
    for (const pair of set.nvpairs) if (pair.name === name) return pair.value
  }
  return undefined
}

/** An id made from names, as Pacemaker makes them: what an XML id cannot hold (`:`, `#`, …) becomes `.`. */
export const sanitizeId = (id: string): string => id.replace(/[^A-Za-z0-9_.-]/g, ".")

/**
 * Sets `name` to `value` in the first plain nvset (no rules, not a reference), which is created
 * with id `setId` when there is none; a new pair's id is `SET-NAME`. `undefined` removes the name
 * from every plain set. The writer beside {@link metaValue}: attributes as crm_attribute sets them.
 */
export const setNvPair = (
  sets: ReadonlyArray<NvSet>,
  setId: string,
  name: string,
  value: string | undefined
): ReadonlyArray<NvSet> => {
  const plain = (set: NvSet) => set.rules.length === 0 && set.idRef === undefined
  if (value === undefined)
    return sets.map((set) =>
      plain(set) ? { ...set, nvpairs: set.nvpairs.filter((p) => p.name !== name) } : set
    )
  const index = sets.findIndex(plain)
  const target: NvSet = sets[index] ?? { id: setId, rules: [], nvpairs: [] }
  const nvpairs = target.nvpairs.some((p) => p.name === name)
    ? target.nvpairs.map((p) => (p.name === name ? { ...p, value } : p))
    : [...target.nvpairs, { id: sanitizeId(`${target.id ?? setId}-${name}`), name, value }]
  const updated = { ...target, nvpairs }
  return index < 0 ? [...sets, updated] : sets.map((set, i) => (i === index ? updated : set))
}

/** A clone is promotable when written as <master> or when its meta attribute promotable is true. */
export const isPromotable = (clone: Clone): boolean =>
  clone.legacyMaster || isTrue(metaValue(clone.metaAttributes, "promotable"))

/** An empty configuration and status, for building CIBs in code and tests. */
export const empty: Cib = {
  version: { adminEpoch: 0, epoch: 0, numUpdates: 0 },
  extra: {},
  configuration: {
    clusterProperties: [],
    nodes: [],
    resources: [],
    templates: [],
    constraints: [],
    rscDefaults: [],
    opDefaults: [],
    fencingTopology: [],
    tags: [],
    alerts: []
  },
  status: { nodes: [], tickets: [] }
}
