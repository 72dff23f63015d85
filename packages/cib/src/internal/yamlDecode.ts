/**
 * YAML configuration → model. Works on the `yaml` package's document tree (failsafe schema: every
 * scalar is a string, so `notify: true` and `cidr_netmask: 24` keep their text) and reports every
 * problem with file, line, column and field path.
 */
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type Scalar,
  visit,
  type YAMLError
} from "yaml"
import type * as Cib from "../Cib.ts"
import * as Duration from "../Duration.ts"
import * as Errors from "../Errors.ts"
import * as Score from "../Score.ts"
import { MissingFieldError, UnknownFieldError, WrongTypeError, YamlSyntaxError } from "./yamlErrors.ts"
import * as Ids from "./yamlIds.ts"

export type YamlDecodeError =
  | YamlSyntaxError
  | UnknownFieldError
  | WrongTypeError
  | MissingFieldError
  | Errors.InvalidScoreError
  | Errors.InvalidDurationError
  | Errors.InvalidValueError
  | Errors.DuplicateIdError
  | Errors.UnknownReferenceError

/** Thrown inside the decoder, caught at its entry. */
export class Failure {
  constructor(readonly error: YamlDecodeError) {}
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

interface Position {
  readonly line: number
  readonly column: number
}

type YNode = Node | null | undefined

/** The fields of one mapping, with their key nodes (for positions). */
type Fields = Map<string, { readonly key: Scalar; readonly value: YNode }>

const levenshtein = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length] as number
}

/** Pacemaker's XML names people carry over, and the YAML field that says the same. */
const PACEMAKER_NAMES: Record<string, string> = {
  colocation: "colocate",
  rsc_colocation: "colocate",
  rsc_location: "location",
  rsc_order: "order",
  rsc_ticket: "ticket",
  instance_attributes: "params",
  meta_attributes: "meta",
  operations: "ops",
  op: "ops",
  operation: "op",
  crm_config: "properties",
  rsc_defaults: "resource-defaults",
  op_defaults: "operation-defaults",
  fencing_topology: "fencing-topology"
}

/** The known field meant: Pacemaker's name for it, or the closest one when close enough to be a typo. */
export const suggest = (field: string, known: ReadonlyArray<string>): string | undefined => {
  const pacemakerName = PACEMAKER_NAMES[field.toLowerCase()]
  if (pacemakerName !== undefined && known.includes(pacemakerName)) return pacemakerName
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of known) {
    const d = levenshtein(field.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined
}

const kindOf = (node: YNode): string => {
  if (isMap(node)) return "a mapping"
  if (isSeq(node)) return "a list"
  if (isScalar(node)) return `the text "${String(node.value)}"`
  return "nothing"
}

const isEmptyScalar = (node: YNode): boolean =>
  node === null || node === undefined || (isScalar(node) && node.value === "" && node.type === "PLAIN")

/** Assigns optional fields without ever writing `undefined`. */
const put = <T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void => {
  if (value !== undefined) (target as Record<PropertyKey, unknown>)[key as PropertyKey] = value
}

interface PendingReference {
  readonly value: string
  readonly at: Position
  readonly path: string
  readonly field: string
  readonly kind: "resource" | "node" | "stonith device" | "id" | "template" | "operations"
}

const RESOURCE_KINDS = ["group", "clone", "promotable", "master"] as const
const PRIMITIVE_FIELDS = [
  "agent",
  "class",
  "provider",
  "type",
  "template",
  "description",
  "params",
  "meta",
  "utilization",
  "ops",
  "operations-id",
  "operations-ref"
]
export const OP_FIELDS = [
  "name",
  "interval",
  "timeout",
  "invalid-timeout",
  "description",
  "role",
  "on-fail",
  "start-delay",
  "interval-origin",
  "record-pending",
  "enabled",
  "requires",
  "id",
  "params",
  "meta"
]
const NVSET_FIELDS = ["id", "id-ref", "score", "rules", "values", "pairs"]
const NVPAIR_FIELDS = ["value", "id", "id-ref"]
const RULE_FIELDS = [
  "id",
  "id-ref",
  "score",
  "score-attribute",
  "role",
  "boolean-op",
  "and",
  "or",
  "expressions"
]
const SET_FIELDS = [
  "resources",
  "id",
  "id-ref",
  "sequential",
  "require-all",
  "ordering",
  "action",
  "role",
  "score",
  "kind"
]
const CONSTRAINT_KINDS = ["prefer", "avoid", "location", "colocate", "order", "ticket"]
/** The path of the document itself (its fields' paths are their bare names). */
const TOP = "(top level)"
const fieldPath = (path: string, name: string) => (path === TOP ? name : `${path}.${name}`)

const TOP_FIELDS = [
  "properties",
  "nodes",
  "resources",
  "templates",
  "constraints",
  "resource-defaults",
  "operation-defaults",
  "fencing-topology",
  "tags",
  "alerts"
]

class Decoder {
  private readonly ids = new Map<string, { at: Position; path: string }>()
  private readonly references: Array<PendingReference> = []
  private readonly constraintIds = new Ids.NameCounter()
  private readonly resourceIds = new Set<string>()
  private readonly stonithIds = new Set<string>()
  private readonly templateIds = new Set<string>()
  private readonly remoteNodeNames = new Set<string>()
  private readonly nodeNames = new Set<string>()

  constructor(
    private readonly file: string | undefined,
    private readonly lines: LineCounter | undefined
  ) {}

  // -- positions and errors

  at(node: YNode | Pair): Position {
    const range = node === null || node === undefined ? undefined : "range" in node ? node.range : undefined
    if (range === undefined || range === null || this.lines === undefined) return { line: 0, column: 0 }
    const { line, col } = this.lines.linePos(range[0])
    return { line, column: col }
  }

  where(at: Position, path: string) {
    return this.file === undefined ? { ...at, path } : { file: this.file, ...at, path }
  }

  fail(error: YamlDecodeError): never {
    throw new Failure(error)
  }

  wrongType(node: YNode, path: string, expected: string, fallback?: Position): never {
    const at = node === null || node === undefined ? (fallback ?? { line: 0, column: 0 }) : this.at(node)
    return this.fail(new WrongTypeError({ ...this.where(at, path), expected, found: kindOf(node) }))
  }

  invalid(node: YNode, path: string, value: string, expected: string): never {
    return this.fail(
      new Errors.InvalidValueError({
        ...this.where(this.at(node), path),
        attribute: leaf(path),
        value,
        expected
      })
    )
  }

  // -- shapes

  /** The fields of a mapping (an empty value counts as an empty mapping). */
  fields(node: YNode, path: string, known: ReadonlyArray<string>, at?: Position): Fields {
    const result: Fields = new Map()
    if (isEmptyScalar(node)) return result
    if (!isMap(node)) return this.wrongType(node, path, "a mapping", at)
    for (const pair of node.items) {
      const key = pair.key as YNode
      if (!isScalar(key)) return this.wrongType(key, path, "a mapping with plain keys")
      const name = String(key.value)
      if (!known.includes(name))
        this.fail(
          new UnknownFieldError({
            ...this.where(this.at(key), fieldPath(path, name)),
            field: name,
            ...optional("suggestion", suggest(name, known))
          })
        )
      if (result.has(name))
        this.fail(
          new WrongTypeError({
            ...this.where(this.at(key), fieldPath(path, name)),
            expected: "given once",
            found: "a repeated field"
          })
        )
      result.set(name, { key, value: pair.value as YNode })
    }
    return result
  }

  /** The entries of a mapping keyed by user-chosen names (ids, node names, parameter names). */
  entries(node: YNode, path: string): Array<{ name: string; key: Scalar; value: YNode; path: string }> {
    if (isEmptyScalar(node)) return []
    if (!isMap(node)) return this.wrongType(node, path, "a mapping")
    const seen = new Map<string, Scalar>()
    return node.items.map((pair) => {
      const key = pair.key as YNode
      if (!isScalar(key)) return this.wrongType(key, path, "a mapping with plain keys")
      const name = String(key.value)
      const first = seen.get(name)
      if (first !== undefined) {
        const firstAt = this.at(first)
        this.fail(
          new Errors.DuplicateIdError({
            ...this.where(this.at(key), `${path}.${name}`),
            id: name,
            firstLine: firstAt.line,
            firstColumn: firstAt.column
          })
        )
      }
      seen.set(name, key)
      return { name, key, value: pair.value as YNode, path: `${path}.${name}` }
    })
  }

  list(node: YNode, path: string): Array<{ node: YNode; path: string }> {
    if (isEmptyScalar(node)) return []
    if (!isSeq(node)) return this.wrongType(node, path, "a list")
    return node.items.map((item, i) => ({ node: item as YNode, path: `${path}[${i}]` }))
  }

  text(node: YNode, path: string): string {
    if (node === null || node === undefined) return ""
    if (!isScalar(node)) return this.wrongType(node, path, "a text value")
    return String(node.value)
  }

  optText(fields: Fields, name: string, path: string): string | undefined {
    const field = fields.get(name)
    return field === undefined ? undefined : this.text(field.value, `${path}.${name}`)
  }

  required(
    fields: Fields,
    name: string,
    path: string,
    owner: YNode,
    at?: Position
  ): { value: YNode; key: Scalar } {
    const field = fields.get(name)
    if (field === undefined)
      this.fail(new MissingFieldError({ ...this.where(at ?? this.at(owner), path), field: name }))
    return field
  }

  score(node: YNode, path: string): Score.Score {
    const text = this.text(node, path)
    const score = Score.parse(text)
    if (score === undefined)
      this.fail(
        new Errors.InvalidScoreError({
          ...this.where(this.at(node), path),
          attribute: leaf(path),
          value: text
        })
      )
    return score
  }

  optScore(fields: Fields, name: string, path: string): Score.Score | undefined {
    const field = fields.get(name)
    return field === undefined ? undefined : this.score(field.value, `${path}.${name}`)
  }

  duration(node: YNode, path: string): number {
    const text = this.text(node, path)
    const ms = Duration.parse(text)
    if (ms === undefined)
      this.fail(
        new Errors.InvalidDurationError({
          ...this.where(this.at(node), path),
          attribute: leaf(path),
          value: text
        })
      )
    return ms
  }

  optDuration(fields: Fields, name: string, path: string): number | undefined {
    const field = fields.get(name)
    return field === undefined ? undefined : this.duration(field.value, `${path}.${name}`)
  }

  strings(node: YNode, path: string): Array<string> {
    return this.list(node, path).map((item) => this.text(item.node, item.path))
  }

  // -- ids and references

  declare(id: string, node: YNode | Pair, path: string): string {
    const at = this.at(node)
    const first = this.ids.get(id)
    if (first !== undefined)
      this.fail(
        new Errors.DuplicateIdError({
          ...this.where(at, path),
          id,
          firstLine: first.at.line,
          firstColumn: first.at.column
        })
      )
    this.ids.set(id, { at, path })
    return id
  }

  /** An explicit `id` field, or the generated one. */
  idOf(fields: Fields, path: string, owner: YNode, generated: () => string): string {
    const explicit = fields.get("id")
    if (explicit !== undefined)
      return this.declare(this.text(explicit.value, `${path}.id`), explicit.value, `${path}.id`)
    return this.declare(generated(), owner, path)
  }

  refer(value: string, node: YNode, path: string, kind: PendingReference["kind"]) {
    this.references.push({ value, at: this.at(node), path, field: leaf(path), kind })
  }

  referField(fields: Fields, name: string, path: string, kind: PendingReference["kind"]): string | undefined {
    const field = fields.get(name)
    if (field === undefined) return undefined
    const value = this.text(field.value, `${path}.${name}`)
    this.refer(value, field.value, `${path}.${name}`, kind)
    return value
  }

  checkReferences() {
    for (const ref of this.references) {
      const known =
        ref.kind === "resource"
          ? this.resourceIds.has(ref.value) || this.templateIds.has(ref.value) || this.tagIds.has(ref.value)
          : ref.kind === "node"
            ? this.nodeNames.has(ref.value) || this.remoteNodeNames.has(ref.value)
            : ref.kind === "stonith device"
              ? this.stonithIds.has(ref.value)
              : ref.kind === "template"
                ? this.templateIds.has(ref.value)
                : this.ids.has(ref.value)
      if (!known)
        this.fail(
          new Errors.UnknownReferenceError({
            ...this.where(ref.at, ref.path),
            attribute: ref.field,
            reference: ref.value,
            expected: ref.kind
          })
        )
    }
  }

  private readonly tagIds = new Set<string>()

  // -- name/value sets

  nvsets(node: YNode, path: string, base: string): Array<Cib.NvSet> {
    if (isEmptyScalar(node) && node !== null && node !== undefined) return [this.shortSet(node, path, base)]
    if (isMap(node)) return [this.shortSet(node, path, base)]
    if (!isSeq(node)) return this.wrongType(node, path, "a mapping of name: value (or a list of sets)")
    return this.list(node, path).map((item, i) => {
      const fields = this.fields(item.node, item.path, NVSET_FIELDS)
      const idRef = this.referField(fields, "id-ref", item.path, "id")
      const explicit = fields.get("id")
      const id =
        explicit !== undefined
          ? this.declare(this.text(explicit.value, `${item.path}.id`), explicit.value, `${item.path}.id`)
          : idRef === undefined
            ? this.declare(Ids.indexed(base, i), item.node, item.path)
            : undefined
      const set: Mutable<Cib.NvSet> = { rules: [], nvpairs: [] }
      put(set, "id", id)
      put(set, "idRef", idRef)
      put(set, "score", this.optScore(fields, "score", item.path))
      const rules = fields.get("rules")
      if (rules !== undefined) set.rules = this.rules(rules.value, `${item.path}.rules`, id ?? idRef ?? base)
      const values = fields.get("values")
      const pairs = fields.get("pairs")
      if (values !== undefined && pairs !== undefined)
        this.fail(
          new WrongTypeError({
            ...this.where(this.at(pairs.key), `${item.path}.pairs`),
            expected: "either values or pairs",
            found: "both"
          })
        )
      if (values !== undefined) set.nvpairs = this.valueMap(values.value, `${item.path}.values`, id)
      if (pairs !== undefined) set.nvpairs = this.pairList(pairs.value, `${item.path}.pairs`, id)
      return set
    })
  }

  private shortSet(node: YNode, path: string, base: string): Cib.NvSet {
    const id = this.declare(base, node, path)
    return { id, rules: [], nvpairs: this.valueMap(node, path, id) }
  }

  /** `name: value` entries; a value may be `{ value, id, id-ref }` to carry explicit ids. */
  private valueMap(node: YNode, path: string, setId: string | undefined): Array<Cib.NvPair> {
    const names = new Set<string>()
    return this.entries(node, path).map((entry) => {
      names.add(entry.name)
      if (!isMap(entry.value)) {
        const value = this.text(entry.value, entry.path)
        return {
          id: this.declare(this.pairId(setId, entry.name, entry.key, entry.path), entry.key, entry.path),
          name: entry.name,
          value
        }
      }
      const fields = this.fields(entry.value, entry.path, NVPAIR_FIELDS)
      return this.nvpair(fields, entry.path, entry.value, entry.name, setId)
    })
  }

  private pairList(node: YNode, path: string, setId: string | undefined): Array<Cib.NvPair> {
    return this.list(node, path).map((item) => {
      const fields = this.fields(item.node, item.path, ["name", ...NVPAIR_FIELDS])
      return this.nvpair(fields, item.path, item.node, this.optText(fields, "name", item.path), setId)
    })
  }

  private nvpair(
    fields: Fields,
    path: string,
    owner: YNode,
    name: string | undefined,
    setId: string | undefined
  ): Cib.NvPair {
    const idRef = this.referField(fields, "id-ref", path, "id")
    const explicit = fields.get("id")
    const pair: Mutable<Cib.NvPair> = {}
    if (explicit !== undefined)
      pair.id = this.declare(this.text(explicit.value, `${path}.id`), explicit.value, `${path}.id`)
    else if (idRef === undefined) {
      if (name === undefined)
        this.fail(new MissingFieldError({ ...this.where(this.at(owner), path), field: "name" }))
      pair.id = this.declare(this.pairId(setId, name, owner, path), owner, path)
    }
    put(pair, "idRef", idRef)
    put(pair, "name", name)
    put(pair, "value", this.optText(fields, "value", path))
    return pair
  }

  private pairId(setId: string | undefined, name: string, node: YNode, path: string): string {
    if (setId === undefined)
      this.fail(new MissingFieldError({ ...this.where(this.at(node), path), field: "id" }))
    return Ids.nvpairId(setId, name)
  }

  // -- rules

  rules(node: YNode, path: string, owner: string): Array<Cib.Rule> {
    return this.list(node, path).map((item, i) =>
      this.rule(item.node, item.path, () => Ids.indexed(Ids.ruleBase(owner), i))
    )
  }

  rule(node: YNode, path: string, generated: () => string): Cib.Rule {
    const fields = this.fields(node, path, RULE_FIELDS)
    const idRef = this.referField(fields, "id-ref", path, "id")
    const explicit = fields.get("id")
    const id =
      explicit !== undefined
        ? this.declare(this.text(explicit.value, `${path}.id`), explicit.value, `${path}.id`)
        : idRef === undefined
          ? this.declare(generated(), node, path)
          : undefined
    const rule: Mutable<Cib.Rule> = { _tag: "Rule", expressions: [] }
    put(rule, "id", id)
    put(rule, "idRef", idRef)
    put(rule, "score", this.optScore(fields, "score", path))
    put(rule, "scoreAttribute", this.optText(fields, "score-attribute", path))
    const forms = (["and", "or", "expressions"] as const).filter((f) => fields.has(f))
    if (forms.length > 1)
      this.fail(
        new WrongTypeError({
          ...this.where(this.at(fields.get(forms[1] as string)?.key), `${path}.${forms[1]}`),
          expected: "one of and, or, expressions",
          found: forms.join(" and ")
        })
      )
    const form = forms[0]
    if (form === undefined && idRef === undefined)
      this.fail(
        new MissingFieldError({ ...this.where(this.at(node), path), field: "and, or or expressions" })
      )
    const booleanOp = this.optText(fields, "boolean-op", path)
    if (booleanOp !== undefined && form !== "expressions")
      this.fail(
        new WrongTypeError({
          ...this.where(this.at(fields.get("boolean-op")?.key), `${path}.boolean-op`),
          expected: "used with expressions (and/or already say it)",
          found: `boolean-op with ${form ?? "no expressions"}`
        })
      )
    put(rule, "booleanOp", form === "or" ? "or" : booleanOp)
    put(rule, "role", this.optText(fields, "role", path))
    if (form !== undefined) {
      const base = Ids.expressionBase(id ?? idRef ?? "rule")
      const list = fields.get(form)?.value
      rule.expressions = this.list(list, `${path}.${form}`).map((item, i) =>
        this.expression(item.node, item.path, Ids.indexed(base, i))
      )
    }
    return rule
  }

  expression(node: YNode, path: string, generatedId: string): Cib.RuleExpression {
    if (!isMap(node)) return this.wrongType(node, path, "a mapping (an expression or a rule)")
    const has = (k: string) => node.has(k)
    if (has("and") || has("or") || has("expressions") || (has("id-ref") && !has("attribute")))
      return this.rule(node, path, () => generatedId)
    const idOf = (fields: Fields) => this.idOf(fields, path, node, () => generatedId)
    if (has("attribute")) {
      const fields = this.fields(node, path, ["attribute", "op", "value", "type", "value-source", "id"])
      const expression: Mutable<Cib.AttributeExpression> = {
        _tag: "Expression",
        id: idOf(fields),
        attribute: this.text(this.required(fields, "attribute", path, node).value, `${path}.attribute`),
        operation: this.text(this.required(fields, "op", path, node).value, `${path}.op`)
      }
      put(expression, "value", this.optText(fields, "value", path))
      put(expression, "type", this.optText(fields, "type", path))
      put(expression, "valueSource", this.optText(fields, "value-source", path))
      return expression
    }
    if (has("date")) {
      const fields = this.fields(node, path, ["date", "start", "end", "duration", "spec", "id"])
      const expression: Mutable<Cib.DateExpression> = {
        _tag: "DateExpression",
        id: idOf(fields),
        operation: this.text(fields.get("date")?.value, `${path}.date`)
      }
      put(expression, "start", this.optText(fields, "start", path))
      put(expression, "end", this.optText(fields, "end", path))
      const duration = fields.get("duration")
      if (duration !== undefined)
        expression.duration = this.textRecord(duration.value, `${path}.duration`, DURATION_FIELDS)
      const spec = fields.get("spec")
      if (spec !== undefined) expression.dateSpec = this.textRecord(spec.value, `${path}.spec`, SPEC_FIELDS)
      return expression
    }
    if (has("resource")) {
      const fields = this.fields(node, path, ["resource", "id"])
      const agent = this.fields(fields.get("resource")?.value, `${path}.resource`, [
        "class",
        "provider",
        "type"
      ])
      const expression: Mutable<Cib.ResourceExpression> = { _tag: "ResourceExpression", id: idOf(fields) }
      put(expression, "class", this.optText(agent, "class", `${path}.resource`))
      put(expression, "provider", this.optText(agent, "provider", `${path}.resource`))
      put(expression, "type", this.optText(agent, "type", `${path}.resource`))
      return expression
    }
    if (has("operation")) {
      const fields = this.fields(node, path, ["operation", "interval", "id"])
      const expression: Mutable<Cib.OperationExpression> = {
        _tag: "OperationExpression",
        id: idOf(fields),
        name: this.text(fields.get("operation")?.value, `${path}.operation`)
      }
      put(expression, "interval", this.optDuration(fields, "interval", path))
      return expression
    }
    return this.fail(
      new MissingFieldError({
        ...this.where(this.at(node), path),
        field: "attribute, date, resource, operation, and, or or expressions"
      })
    )
  }

  /** A mapping of optional text fields (date spec, duration), with an optional id. */
  private textRecord<K extends string>(
    node: YNode,
    path: string,
    names: ReadonlyArray<K>
  ): { [P in K]?: string } {
    const fields = this.fields(node, path, names)
    const record: Record<string, string> = {}
    for (const name of names) {
      const value = this.optText(fields, name, path)
      if (value === undefined) continue
      if (name === "id") this.declare(value, fields.get(name)?.value, `${path}.id`)
      record[name] = value
    }
    return record as { [P in K]?: string }
  }

  // -- resources

  resource(
    id: string,
    key: Scalar,
    node: YNode,
    path: string,
    inside: "top" | "group" | "clone"
  ): Cib.Resource {
    if (isMap(node)) {
      const kinds = RESOURCE_KINDS.filter((k) => node.has(k))
      if (node.has("bundle"))
        this.wrongType(
          node.get("bundle", true) as YNode,
          `${path}.bundle`,
          "written in CIB XML (bundles are not part of the YAML format)"
        )
      if (kinds.length > 1)
        this.fail(
          new WrongTypeError({
            ...this.where(
              this.at(
                node.items.find((pair) => isScalar(pair.key) && pair.key.value === kinds[1])?.key as YNode
              ),
              `${path}.${kinds[1]}`
            ),
            expected: "one kind of resource",
            found: kinds.join(" and ")
          })
        )
      const kind = kinds[0]
      if (kind !== undefined && inside === "group")
        this.fail(
          new WrongTypeError({
            ...this.where(this.at(node), `${path}.${kind}`),
            expected: "a primitive (a group holds primitives only)",
            found: `a ${kind}`
          })
        )
      if ((kind === "clone" || kind === "promotable" || kind === "master") && inside === "clone")
        this.fail(
          new WrongTypeError({
            ...this.where(this.at(node), `${path}.${kind}`),
            expected: "a primitive or a group",
            found: "a clone inside a clone"
          })
        )
      if (kind === "group") return this.group(id, key, node, path)
      if (kind !== undefined) return this.clone(id, key, node, path, kind)
    }
    return this.primitive(id, key, node, path, "Primitive")
  }

  primitive<T extends "Primitive" | "Template">(
    id: string,
    key: Scalar,
    node: YNode,
    path: string,
    tag: T
  ): T extends "Primitive" ? Cib.Primitive : Cib.Template {
    const known = tag === "Primitive" ? PRIMITIVE_FIELDS : PRIMITIVE_FIELDS.filter((f) => f !== "template")
    const fields = this.fields(node, path, [...known], this.at(key))
    this.declare(id, key, path)
    const resource: Record<string, unknown> = { _tag: tag, id }
    const agent = fields.get("agent")
    if (agent !== undefined) {
      for (const explicit of ["class", "provider", "type"])
        if (fields.has(explicit))
          this.fail(
            new WrongTypeError({
              ...this.where(this.at(fields.get(explicit)?.key), `${path}.${explicit}`),
              expected: "given by agent or by class/provider/type, not both",
              found: `agent and ${explicit}`
            })
          )
      const text = this.text(agent.value, `${path}.agent`)
      const parts = text.split(":")
      if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === ""))
        this.invalid(
          agent.value,
          `${path}.agent`,
          text,
          "class:provider:type or class:type, e.g. ocf:heartbeat:IPaddr2"
        )
      resource.class = parts[0]
      if (parts.length === 3) resource.provider = parts[1]
      resource.type = parts[parts.length - 1]
    } else {
      put(resource, "class", this.optText(fields, "class", path))
      put(resource, "provider", this.optText(fields, "provider", path))
      put(resource, "type", this.optText(fields, "type", path))
    }
    put(resource, "description", this.optText(fields, "description", path))
    if (tag === "Primitive") put(resource, "template", this.referField(fields, "template", path, "template"))
    if (resource.type === undefined && resource.template === undefined)
      this.fail(new MissingFieldError({ ...this.where(this.at(key), path), field: "agent" }))
    resource.instanceAttributes = this.optSets(fields, "params", path, Ids.instanceSet(id))
    resource.metaAttributes = this.optSets(fields, "meta", path, Ids.metaSet(id))
    resource.utilization = this.optSets(fields, "utilization", path, Ids.utilizationSet(id))
    if (fields.has("ops") || fields.has("operations-id") || fields.has("operations-ref")) {
      const operations: Mutable<Cib.Operations> = { ops: [] }
      const operationsId = fields.get("operations-id")
      if (operationsId !== undefined)
        operations.id = this.declare(
          this.text(operationsId.value, `${path}.operations-id`),
          operationsId.value,
          `${path}.operations-id`
        )
      put(operations, "idRef", this.referField(fields, "operations-ref", path, "operations"))
      const ops = fields.get("ops")
      if (ops !== undefined) operations.ops = this.operations(id, ops.value, `${path}.ops`)
      resource.operations = operations
    }
    if (tag === "Primitive") {
      this.resourceIds.add(id)
      if (resource.class === "stonith") this.stonithIds.add(id)
      if (resource.class === "ocf" && resource.provider === "pacemaker" && resource.type === "remote")
        this.remoteNodeNames.add(id)
      for (const set of resource.metaAttributes as ReadonlyArray<Cib.NvSet>)
        for (const pair of set.nvpairs)
          if (pair.name === "remote-node" && pair.value !== undefined) this.remoteNodeNames.add(pair.value)
    } else this.templateIds.add(id)
    return resource as unknown as T extends "Primitive" ? Cib.Primitive : Cib.Template
  }

  optSets(fields: Fields, name: string, path: string, base: string): Array<Cib.NvSet> {
    const field = fields.get(name)
    return field === undefined ? [] : this.nvsets(field.value, `${path}.${name}`, base)
  }

  operations(resourceId: string, node: YNode, path: string): Array<Cib.Operation> {
    const names = new Ids.NameCounter()
    return this.list(node, path).map((item) => {
      if (!isMap(item.node))
        return this.wrongType(
          item.node,
          item.path,
          "a mapping such as { monitor: 20s } or { name: monitor, interval: 20s }"
        )
      // keys that are not op fields: exactly one is the short form's operation name ({ monitor: 20s })
      const shortKeys = item.node.items
        .map((pair) => pair.key as YNode)
        .filter((key): key is Scalar => isScalar(key) && !OP_FIELDS.includes(String(key.value)))
      const hasName = item.node.has("name")
      if (!hasName && shortKeys.length !== 1) {
        // of two candidates, the one that looks like a misspelt op field is the mistake
        const offender =
          shortKeys.find((key) => suggest(String(key.value), OP_FIELDS) !== undefined) ??
          (shortKeys[1] as Scalar)
        const field = String(offender?.value)
        this.fail(
          shortKeys.length === 0
            ? new MissingFieldError({
                ...this.where(this.at(item.node), item.path),
                field: "name (or write { monitor: 20s })"
              })
            : new UnknownFieldError({
                ...this.where(this.at(offender), `${item.path}.${field}`),
                field,
                ...optional("suggestion", suggest(field, OP_FIELDS))
              })
        )
      }
      const shortName = hasName ? undefined : String((shortKeys[0] as Scalar).value)
      const fields = this.fields(
        item.node,
        item.path,
        shortName === undefined ? OP_FIELDS : [...OP_FIELDS, shortName]
      )
      const name = shortName ?? this.text(fields.get("name")?.value, `${item.path}.name`)
      const intervalNode =
        shortName === undefined
          ? this.required(fields, "interval", item.path, item.node).value
          : fields.get(shortName)?.value
      const intervalPath = `${item.path}.${shortName ?? "interval"}`
      if (shortName !== undefined && fields.has("interval"))
        this.fail(
          new WrongTypeError({
            ...this.where(this.at(fields.get("interval")?.key), `${item.path}.interval`),
            expected: `given once (${shortName}: already gives the interval)`,
            found: "interval too"
          })
        )
      const interval = this.duration(intervalNode, intervalPath)
      const explicit = fields.get("id")
      const id =
        explicit !== undefined
          ? this.declare(this.text(explicit.value, `${item.path}.id`), explicit.value, `${item.path}.id`)
          : this.declare(names.take(Ids.opBase(resourceId, name, interval)), item.node, item.path)
      const op: Mutable<Cib.Operation> = { id, name, interval, instanceAttributes: [], metaAttributes: [] }
      put(op, "timeout", this.optDuration(fields, "timeout", item.path))
      put(op, "invalidTimeout", this.optText(fields, "invalid-timeout", item.path))
      put(op, "description", this.optText(fields, "description", item.path))
      put(op, "role", this.optText(fields, "role", item.path))
      put(op, "onFail", this.optText(fields, "on-fail", item.path))
      put(op, "startDelay", this.optDuration(fields, "start-delay", item.path))
      put(op, "intervalOrigin", this.optText(fields, "interval-origin", item.path))
      put(op, "recordPending", this.optText(fields, "record-pending", item.path))
      put(op, "enabled", this.optText(fields, "enabled", item.path))
      put(op, "requires", this.optText(fields, "requires", item.path))
      op.instanceAttributes = this.optSets(fields, "params", item.path, Ids.instanceSet(id))
      op.metaAttributes = this.optSets(fields, "meta", item.path, Ids.metaSet(id))
      return op
    })
  }

  group(id: string, key: Scalar, node: YNode, path: string): Cib.Group {
    const fields = this.fields(node, path, ["group", "description", "params", "meta"])
    this.declare(id, key, path)
    this.resourceIds.add(id)
    const group: Mutable<Cib.Group> = {
      _tag: "Group",
      id,
      instanceAttributes: [],
      metaAttributes: [],
      members: []
    }
    put(group, "description", this.optText(fields, "description", path))
    group.instanceAttributes = this.optSets(fields, "params", path, Ids.instanceSet(id))
    group.metaAttributes = this.optSets(fields, "meta", path, Ids.metaSet(id))
    group.members = this.entries(fields.get("group")?.value, `${path}.group`).map(
      (entry) => this.resource(entry.name, entry.key, entry.value, entry.path, "group") as Cib.Primitive
    )
    return group
  }

  clone(
    id: string,
    key: Scalar,
    node: YNode,
    path: string,
    kind: "clone" | "promotable" | "master"
  ): Cib.Clone {
    const fields = this.fields(node, path, [kind, "description", "params", "meta"])
    this.declare(id, key, path)
    this.resourceIds.add(id)
    const children = this.entries(fields.get(kind)?.value, `${path}.${kind}`)
    const only = children[0]
    if (children.length !== 1 || only === undefined)
      this.fail(
        new WrongTypeError({
          ...this.where(this.at(fields.get(kind)?.key), `${path}.${kind}`),
          expected: "exactly one resource (a primitive or a group) keyed by its id",
          found: `${children.length} resources`
        })
      )
    const clone: Mutable<Cib.Clone> = {
      _tag: "Clone",
      id,
      legacyMaster: kind === "master",
      instanceAttributes: [],
      metaAttributes: [],
      child: undefined as unknown as Cib.Primitive
    }
    put(clone, "description", this.optText(fields, "description", path))
    clone.instanceAttributes = this.optSets(fields, "params", path, Ids.instanceSet(id))
    const meta = this.optSets(fields, "meta", path, Ids.metaSet(id))
    if (kind === "promotable") {
      const first = meta[0]
      if (first !== undefined && first.id !== undefined && first.idRef === undefined) {
        const promotable = {
          id: this.declare(
            Ids.nvpairId(first.id, "promotable"),
            fields.get(kind)?.key,
            `${path}.meta.promotable`
          ),
          name: "promotable",
          value: "true"
        }
        meta[0] = { ...first, nvpairs: [promotable, ...first.nvpairs] }
      } else {
        const setId = this.declare(Ids.metaSet(id), fields.get(kind)?.key, `${path}.meta`)
        const promotable = {
          id: this.declare(
            Ids.nvpairId(setId, "promotable"),
            fields.get(kind)?.key,
            `${path}.meta.promotable`
          ),
          name: "promotable",
          value: "true"
        }
        meta.unshift({ id: setId, rules: [], nvpairs: [promotable] })
      }
    }
    clone.metaAttributes = meta
    clone.child = this.resource(only.name, only.key, only.value, only.path, "clone") as
      | Cib.Primitive
      | Cib.Group
    return clone
  }

  // -- constraints

  resourceSets(node: YNode, path: string, constraintId: () => string): Array<Cib.ResourceSet> {
    return this.list(node, path).map((item, i) => {
      if (isSeq(item.node)) {
        const resources = this.list(item.node, item.path).map((r) => {
          const value = this.text(r.node, r.path)
          this.refer(value, r.node, r.path, "resource")
          return value
        })
        return {
          id: this.declare(Ids.indexed(Ids.resourceSetBase(constraintId()), i), item.node, item.path),
          resources
        }
      }
      const fields = this.fields(item.node, item.path, SET_FIELDS)
      const idRef = this.referField(fields, "id-ref", item.path, "id")
      const explicit = fields.get("id")
      const set: Mutable<Cib.ResourceSet> = { resources: [] }
      if (explicit !== undefined)
        set.id = this.declare(this.text(explicit.value, `${item.path}.id`), explicit.value, `${item.path}.id`)
      else if (idRef === undefined)
        set.id = this.declare(Ids.indexed(Ids.resourceSetBase(constraintId()), i), item.node, item.path)
      put(set, "idRef", idRef)
      put(set, "sequential", this.optText(fields, "sequential", item.path))
      put(set, "requireAll", this.optText(fields, "require-all", item.path))
      put(set, "ordering", this.optText(fields, "ordering", item.path))
      put(set, "action", this.optText(fields, "action", item.path))
      put(set, "role", this.optText(fields, "role", item.path))
      put(set, "score", this.optScore(fields, "score", item.path))
      put(set, "kind", this.optText(fields, "kind", item.path))
      const resources = fields.get("resources")
      if (resources !== undefined)
        set.resources = this.list(resources.value, `${item.path}.resources`).map((r) => {
          const value = this.text(r.node, r.path)
          this.refer(value, r.node, r.path, "resource")
          return value
        })
      return set
    })
  }

  /** Gives a constraint its explicit or generated id, then fills its resource sets (whose ids derive from it). */
  private withId<C extends { id: string; resourceSets: ReadonlyArray<Cib.ResourceSet> }>(
    fields: Fields,
    path: string,
    node: YNode,
    base: (c: C) => string,
    partial: C
  ): C {
    const setsField = fields.get("sets")
    const rawSets = setsField === undefined ? [] : this.list(setsField.value, `${path}.sets`)
    // The generated id names the set resources, so read them before the id (without declaring).
    const labels = rawSets.map((item) => ({
      resources: isSeq(item.node)
        ? item.node.items.map((r) => (isScalar(r) ? String(r.value) : ""))
        : isMap(item.node) && isSeq(item.node.get("resources", true))
          ? (item.node.get("resources", true) as unknown as { items: Array<unknown> }).items.map((r) =>
              isScalar(r) ? String(r.value) : ""
            )
          : []
    }))
    const explicit = fields.get("id")
    const id =
      explicit !== undefined
        ? this.declare(this.text(explicit.value, `${path}.id`), explicit.value, `${path}.id`)
        : this.declare(this.constraintIds.take(base({ ...partial, resourceSets: labels })), node, path)
    const constraint = { ...partial, id }
    if (setsField !== undefined)
      constraint.resourceSets = this.resourceSets(setsField.value, `${path}.sets`, () => id)
    return constraint
  }

  constraint(node: YNode, path: string): Cib.Constraint {
    if (!isMap(node) || node.items.length !== 1)
      return this.wrongType(node, path, `a mapping with one of ${CONSTRAINT_KINDS.join(", ")}`)
    const pair = node.items[0] as Pair
    const kindNode = pair.key as YNode
    const kind = this.text(kindNode, path)
    const body = pair.value as YNode
    const at = `${path}.${kind}`
    switch (kind) {
      case "prefer":
      case "avoid": {
        const fields = this.fields(body, at, [
          "rsc",
          "rsc-pattern",
          "node",
          "score",
          "role",
          "resource-discovery",
          "id"
        ])
        const location: Mutable<Cib.Location> = { _tag: "Location", id: "", rules: [], resourceSets: [] }
        this.locationTarget(fields, at, body, location)
        put(location, "role", this.optText(fields, "role", at))
        const strength = this.optScore(fields, "score", at) ?? Score.INFINITY
        if (strength < 0)
          this.invalid(
            fields.get("score")?.value,
            `${at}.score`,
            String(strength),
            `a positive strength (use ${kind === "prefer" ? "avoid" : "prefer"} instead)`
          )
        location.score = kind === "prefer" ? strength : strength === 0 ? 0 : -strength
        const nodeField = this.required(fields, "node", at, body, this.at(kindNode))
        location.node = this.text(nodeField.value, `${at}.node`)
        this.refer(location.node, nodeField.value, `${at}.node`, "node")
        put(location, "resourceDiscovery", this.optText(fields, "resource-discovery", at))
        return this.withId(fields, at, body, Ids.locationBase, location)
      }
      case "location": {
        const fields = this.fields(body, at, [
          "rsc",
          "rsc-pattern",
          "sets",
          "node",
          "score",
          "role",
          "resource-discovery",
          "rules",
          "id"
        ])
        const location: Mutable<Cib.Location> = { _tag: "Location", id: "", rules: [], resourceSets: [] }
        this.locationTarget(fields, at, body, location, !fields.has("sets"))
        put(location, "role", this.optText(fields, "role", at))
        put(location, "score", this.optScore(fields, "score", at))
        const nodeName = this.referField(fields, "node", at, "node")
        put(location, "node", nodeName)
        put(location, "resourceDiscovery", this.optText(fields, "resource-discovery", at))
        const withId = this.withId(fields, at, body, Ids.locationBase, location)
        const rules = fields.get("rules")
        if (rules !== undefined) withId.rules = this.rules(rules.value, `${at}.rules`, withId.id)
        return withId
      }
      case "colocate": {
        const fields = this.fields(body, at, [
          "rsc",
          "with",
          "role",
          "with-role",
          "score",
          "node-attribute",
          "influence",
          "sets",
          "id"
        ])
        const colocation: Mutable<Cib.Colocation> = { _tag: "Colocation", id: "", resourceSets: [] }
        put(colocation, "score", this.optScore(fields, "score", at))
        put(colocation, "rsc", this.referField(fields, "rsc", at, "resource"))
        put(colocation, "withRsc", this.referField(fields, "with", at, "resource"))
        put(colocation, "rscRole", this.optText(fields, "role", at))
        put(colocation, "withRscRole", this.optText(fields, "with-role", at))
        put(colocation, "nodeAttribute", this.optText(fields, "node-attribute", at))
        put(colocation, "influence", this.optText(fields, "influence", at))
        this.needTargets(fields, at, kindNode, ["rsc", "with"])
        return this.withId(fields, at, body, Ids.colocationBase, colocation)
      }
      case "order": {
        const fields = this.fields(body, at, [
          "first",
          "then",
          "first-action",
          "then-action",
          "kind",
          "symmetrical",
          "score",
          "require-all",
          "sets",
          "id"
        ])
        const order: Mutable<Cib.Order> = { _tag: "Order", id: "", resourceSets: [] }
        put(order, "kind", this.optText(fields, "kind", at))
        put(order, "score", this.optScore(fields, "score", at))
        put(order, "symmetrical", this.optText(fields, "symmetrical", at))
        put(order, "first", this.referField(fields, "first", at, "resource"))
        put(order, "then", this.referField(fields, "then", at, "resource"))
        put(order, "firstAction", this.optText(fields, "first-action", at))
        put(order, "thenAction", this.optText(fields, "then-action", at))
        put(order, "requireAll", this.optText(fields, "require-all", at))
        this.needTargets(fields, at, kindNode, ["first", "then"])
        return this.withId(fields, at, body, Ids.orderBase, order)
      }
      case "ticket": {
        const fields = this.fields(body, at, ["ticket", "rsc", "role", "loss-policy", "sets", "id"])
        const ticket: Mutable<Cib.Ticket> = {
          _tag: "Ticket",
          id: "",
          ticket: this.text(
            this.required(fields, "ticket", at, body, this.at(kindNode)).value,
            `${at}.ticket`
          ),
          resourceSets: []
        }
        put(ticket, "rsc", this.referField(fields, "rsc", at, "resource"))
        put(ticket, "rscRole", this.optText(fields, "role", at))
        put(ticket, "lossPolicy", this.optText(fields, "loss-policy", at))
        return this.withId(fields, at, body, Ids.ticketBase, ticket)
      }
      default:
        return this.fail(
          new UnknownFieldError({
            ...this.where(this.at(kindNode), at),
            field: kind,
            ...optional("suggestion", suggest(kind, CONSTRAINT_KINDS))
          })
        )
    }
  }

  private locationTarget(
    fields: Fields,
    path: string,
    body: YNode,
    location: Mutable<Cib.Location>,
    needed = true
  ) {
    const rsc = this.referField(fields, "rsc", path, "resource")
    const pattern = this.optText(fields, "rsc-pattern", path)
    if (needed && rsc === undefined && pattern === undefined)
      this.fail(new MissingFieldError({ ...this.where(this.at(body), path), field: "rsc" }))
    put(location, "rsc", rsc)
    put(location, "rscPattern", pattern)
  }

  /** Pairwise constraints need both ends unless they list resource sets. */
  private needTargets(fields: Fields, path: string, kindNode: YNode, names: ReadonlyArray<string>) {
    if (fields.has("sets")) return
    for (const name of names)
      if (!fields.has(name))
        this.fail(new MissingFieldError({ ...this.where(this.at(kindNode), path), field: name }))
  }

  // -- the rest

  nodes(node: YNode, path: string): Array<Cib.Node> {
    const nodeIds = new Map<string, Position>()
    return this.entries(node, path).map((entry) => {
      const fields = this.fields(
        entry.value,
        entry.path,
        ["id", "type", "score", "description", "attributes", "utilization"],
        this.at(entry.key)
      )
      const idField = fields.get("id")
      const id = idField === undefined ? entry.name : this.text(idField.value, `${entry.path}.id`)
      // node ids live apart from other ids (a remote node shares its id with its connection resource)
      const first = nodeIds.get(id)
      if (first !== undefined) {
        const at = this.at(idField?.value ?? entry.key)
        this.fail(
          new Errors.DuplicateIdError({
            ...this.where(at, entry.path),
            id,
            firstLine: first.line,
            firstColumn: first.column
          })
        )
      }
      nodeIds.set(id, this.at(idField?.value ?? entry.key))
      this.nodeNames.add(entry.name)
      const result: Mutable<Cib.Node> = { id, uname: entry.name, instanceAttributes: [], utilization: [] }
      put(result, "type", this.optText(fields, "type", entry.path))
      put(result, "score", this.optScore(fields, "score", entry.path))
      put(result, "description", this.optText(fields, "description", entry.path))
      result.instanceAttributes = this.optSets(fields, "attributes", entry.path, Ids.nodeAttributesSet(id))
      result.utilization = this.optSets(fields, "utilization", entry.path, Ids.nodeUtilizationSet(id))
      return result
    })
  }

  fencingTopology(node: YNode, path: string): Array<Cib.FencingLevel> {
    if (isMap(node))
      return this.entries(node, path).flatMap((entry) => {
        this.refer(entry.name, entry.key, entry.path, "node")
        return this.list(entry.value, entry.path).map((level, i) => {
          const devices = isSeq(level.node)
            ? this.strings(level.node, level.path)
            : [this.text(level.node, level.path)]
          for (const [j, device] of devices.entries())
            this.refer(
              device,
              isSeq(level.node) ? (level.node.items[j] as YNode) : level.node,
              level.path,
              "stonith device"
            )
          const id = this.declare(Ids.fencingLevelId(entry.name, i + 1), level.node, level.path)
          return { id, index: i + 1, target: entry.name, devices }
        })
      })
    return this.list(node, path).map((item) => {
      const fields = this.fields(item.node, item.path, [
        "id",
        "index",
        "target",
        "target-pattern",
        "target-attribute",
        "target-value",
        "devices"
      ])
      const indexNode = this.required(fields, "index", item.path, item.node).value
      const indexText = this.text(indexNode, `${item.path}.index`)
      if (!/^[0-9]+$/.test(indexText))
        this.invalid(indexNode, `${item.path}.index`, indexText, "a level number (1, 2, …)")
      const index = Number(indexText)
      const target = this.referField(fields, "target", item.path, "node")
      const devicesField = this.required(fields, "devices", item.path, item.node)
      const devices = this.list(devicesField.value, `${item.path}.devices`).map((d) => {
        const value = this.text(d.node, d.path)
        this.refer(value, d.node, d.path, "stonith device")
        return value
      })
      const level: Mutable<Cib.FencingLevel> = {
        id: this.idOf(fields, item.path, item.node, () => Ids.fencingLevelId(target ?? "level", index)),
        index,
        devices
      }
      put(level, "target", target)
      put(level, "targetPattern", this.optText(fields, "target-pattern", item.path))
      put(level, "targetAttribute", this.optText(fields, "target-attribute", item.path))
      put(level, "targetValue", this.optText(fields, "target-value", item.path))
      return level
    })
  }

  tags(node: YNode, path: string): Array<Cib.Tag> {
    return this.entries(node, path).map((entry) => {
      this.declare(entry.name, entry.key, entry.path)
      this.tagIds.add(entry.name)
      const refs = this.list(entry.value, entry.path).map((r) => {
        const value = this.text(r.node, r.path)
        this.refer(value, r.node, r.path, "id")
        return value
      })
      return { id: entry.name, refs }
    })
  }

  alerts(node: YNode, path: string): Array<Cib.Alert> {
    return this.entries(node, path).map((entry) => {
      const fields = this.fields(
        entry.value,
        entry.path,
        ["path", "description", "params", "meta", "recipients"],
        this.at(entry.key)
      )
      this.declare(entry.name, entry.key, entry.path)
      const alert: Mutable<Cib.Alert> = {
        id: entry.name,
        path: this.text(
          this.required(fields, "path", entry.path, entry.value, this.at(entry.key)).value,
          `${entry.path}.path`
        ),
        instanceAttributes: this.optSets(fields, "params", entry.path, Ids.instanceSet(entry.name)),
        metaAttributes: this.optSets(fields, "meta", entry.path, Ids.metaSet(entry.name)),
        recipients: []
      }
      put(alert, "description", this.optText(fields, "description", entry.path))
      alert.recipients = this.entries(fields.get("recipients")?.value, `${entry.path}.recipients`).map(
        (r) => {
          this.declare(r.name, r.key, r.path)
          if (!isMap(r.value))
            return {
              id: r.name,
              value: this.text(r.value, r.path),
              instanceAttributes: [],
              metaAttributes: []
            }
          const rf = this.fields(r.value, r.path, ["value", "description", "params", "meta"])
          const recipient: Mutable<Cib.AlertRecipient> = {
            id: r.name,
            value: this.text(this.required(rf, "value", r.path, r.value).value, `${r.path}.value`),
            instanceAttributes: this.optSets(rf, "params", r.path, Ids.instanceSet(r.name)),
            metaAttributes: this.optSets(rf, "meta", r.path, Ids.metaSet(r.name))
          }
          put(recipient, "description", this.optText(rf, "description", r.path))
          return recipient
        }
      )
      return alert
    })
  }

  configuration(root: YNode): Cib.Configuration {
    const fields = this.fields(root, TOP, TOP_FIELDS)
    const field = (name: string) => fields.get(name)?.value
    const nodes = this.nodes(field("nodes"), "nodes")
    const templates = this.entries(field("templates"), "templates").map((e) =>
      this.primitive(e.name, e.key, e.value, e.path, "Template")
    )
    const resources = this.entries(field("resources"), "resources").map((e) =>
      this.resource(e.name, e.key, e.value, e.path, "top")
    )
    const tags = this.tags(field("tags"), "tags")
    const constraints = this.list(field("constraints"), "constraints").map((item) =>
      this.constraint(item.node, item.path)
    )
    const configuration: Mutable<Cib.Configuration> = {
      clusterProperties: fields.has("properties")
        ? this.nvsets(field("properties"), "properties", Ids.PROPERTIES_SET)
        : [],
      nodes,
      resources,
      templates,
      constraints,
      rscDefaults: fields.has("resource-defaults")
        ? this.nvsets(field("resource-defaults"), "resource-defaults", Ids.RSC_DEFAULTS_SET)
        : [],
      opDefaults: fields.has("operation-defaults")
        ? this.nvsets(field("operation-defaults"), "operation-defaults", Ids.OP_DEFAULTS_SET)
        : [],
      fencingTopology: this.fencingTopology(field("fencing-topology"), "fencing-topology"),
      tags,
      alerts: this.alerts(field("alerts"), "alerts")
    }
    this.checkReferences()
    return configuration
  }
}

const DURATION_FIELDS = ["id", "years", "months", "weeks", "days", "hours", "minutes", "seconds"] as const
const SPEC_FIELDS = [
  "id",
  "hours",
  "monthdays",
  "weekdays",
  "yeardays",
  "months",
  "weeks",
  "years",
  "weekyears",
  "moon",
  "minutes",
  "seconds"
] as const

const leaf = (path: string) => path.slice(path.lastIndexOf(".") + 1)

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }

/**
 * The parser notices a `{` or `[` that is never closed only where the text ends or the indentation
 * drops; the user needs to see the bracket that was left open, so point there.
 */
const unclosedFlowStart = (doc: Document.Parsed, problem: YAMLError): number | undefined => {
  const kind = /^Flow (map|sequence) .*end with/.exec(problem.message)?.[1]
  if (kind === undefined) return undefined
  let start: number | undefined
  visit(doc, {
    Collection(_, node) {
      if (node.flow === true && node.range?.[1] === problem.pos[0] && isMap(node) === (kind === "map"))
        start = node.range[0]
    }
  })
  return start
}

/** Decodes YAML text; throws {@link Failure}. */
export const decodeText = (text: string, file: string | undefined): Cib.Configuration => {
  const lines = new LineCounter()
  const doc = parseDocument(text, {
    schema: "failsafe",
    lineCounter: lines,
    uniqueKeys: false,
    prettyErrors: false
  })
  const problem = doc.errors[0]
  if (problem !== undefined) {
    const { line, col } = lines.linePos(unclosedFlowStart(doc, problem) ?? problem.pos[0])
    throw new Failure(
      new YamlSyntaxError({
        ...(file === undefined ? {} : { file }),
        line,
        column: col,
        path: "(document)",
        reason: problem.message.split("\n")[0] ?? problem.code
      })
    )
  }
  return new Decoder(file, lines).configuration(doc.contents as YNode)
}
