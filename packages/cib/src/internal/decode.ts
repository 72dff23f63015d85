/** CIB XML → model. Builds model objects directly from the element tree (no Schema on the hot path). */
import type * as Cib from "../Cib.ts"
import * as Duration from "../Duration.ts"
import {
  type CibDecodeError,
  DuplicateIdError,
  InvalidDurationError,
  InvalidScoreError,
  InvalidValueError,
  MissingAttributeError,
  UnknownAttributeError,
  UnknownReferenceError,
  UnsupportedElementError,
  XmlSyntaxError
} from "../Errors.ts"
import * as Score from "../Score.ts"
import { type ElementSpec, specs } from "./spec.ts"
import { lineColumn, parseXml, XmlError, type XNode } from "./xml.ts"

/** The element path from the root, built only when an error needs it. */
interface Chain {
  readonly parent: Chain | undefined
  readonly node: XNode
}

export class DecodeFailure {
  constructor(readonly error: CibDecodeError) {}
}

type Mutable = Record<string, unknown>

interface PendingReference {
  readonly chain: Chain
  readonly attribute: string
  readonly reference: string
  readonly kind: "resource" | "node" | "template" | "idref" | "devices"
}

const attr = (node: XNode, name: string): string | undefined => {
  const attrs = node.attrs
  for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === name) return attrs[i + 1]
  return undefined
}

const pathOf = (chain: Chain): string => {
  const parts: Array<string> = []
  for (let c: Chain | undefined = chain; c !== undefined; c = c.parent) {
    const id = attr(c.node, "id")
    parts.push(id === undefined ? c.node.name : `${c.node.name}[@id='${id}']`)
  }
  return `/${parts.reverse().join("/")}`
}

const INTEGER = /^\s*[+-]?[0-9]+\s*$/

class Decoder {
  /** configuration ids → offset of the element that declares it */
  private readonly ids = new Map<string, number>()
  private readonly references: Array<PendingReference> = []
  private readonly resourceIds = new Set<string>()
  private readonly templateIds = new Set<string>()
  private readonly tagIds = new Set<string>()
  private readonly nodeNames = new Set<string>()
  private inConfiguration = false

  constructor(
    private readonly text: string,
    private readonly file: string | undefined,
    private readonly checkNodeReferences: boolean
  ) {}

  private where(chain: Chain, attribute?: string) {
    let offset = chain.node.offset
    if (attribute !== undefined) {
      // Point at the attribute itself when it can be found inside the start tag.
      const tagEnd = this.text.indexOf(">", offset)
      const re = new RegExp(`\\s${attribute.replace(/[-.]/g, "\\$&")}\\s*=`, "g")
      re.lastIndex = offset
      const m = re.exec(this.text)
      if (m !== null && m.index < tagEnd) offset = m.index + 1
    }
    const { line, column } = lineColumn(this.text, offset)
    const path = attribute === undefined ? pathOf(chain) : `${pathOf(chain)}/@${attribute}`
    return this.file === undefined ? { line, column, path } : { file: this.file, line, column, path }
  }

  fail(error: CibDecodeError): never {
    throw new DecodeFailure(error)
  }

  unsupported(node: XNode, parent: Chain): never {
    return this.fail(new UnsupportedElementError({ ...this.where({ parent, node }), element: node.name }))
  }

  /** Reads a node's attributes into `out` as `spec` says. */
  fields(chain: Chain, spec: ElementSpec, out: Mutable): Mutable {
    const attrs = chain.node.attrs
    let extra: Record<string, string> | undefined
    for (let i = 0; i < attrs.length; i += 2) {
      const name = attrs[i] as string
      const value = attrs[i + 1] as string
      const field = spec.byXml.get(name)
      if (field === undefined) {
        if (!spec.extra) this.fail(new UnknownAttributeError({ ...this.where(chain, name), attribute: name }))
        extra ??= {}
        extra[name] = value
        continue
      }
      switch (field.kind) {
        case "string":
          out[field.key] = value
          break
        case "id":
          out[field.key] = value
          if (this.inConfiguration) this.declare(value, chain, name)
          break
        case "score": {
          const score = Score.parse(value)
          if (score === undefined)
            this.fail(new InvalidScoreError({ ...this.where(chain, name), attribute: name, value }))
          out[field.key] = score
          break
        }
        case "duration": {
          const ms = Duration.parse(value)
          if (ms === undefined)
            this.fail(new InvalidDurationError({ ...this.where(chain, name), attribute: name, value }))
          out[field.key] = ms
          break
        }
        case "timeout": {
          const ms = Duration.parse(value)
          if (ms === undefined) out.invalidTimeout = value
          else out[field.key] = ms
          break
        }
        case "integer":
          if (!INTEGER.test(value))
            this.fail(
              new InvalidValueError({
                ...this.where(chain, name),
                attribute: name,
                value,
                expected: "an integer"
              })
            )
          out[field.key] = Number(value)
          break
        case "devices": {
          const devices = value.split(",").filter((d) => d !== "")
          for (const device of devices)
            this.references.push({ chain, attribute: name, reference: device, kind: "devices" })
          out[field.key] = devices
          break
        }
        default:
          out[field.key] = value
          this.references.push({ chain, attribute: name, reference: value, kind: field.kind })
      }
    }
    for (const name of spec.required) {
      if (attr(chain.node, name) === undefined)
        this.fail(new MissingAttributeError({ ...this.where(chain), attribute: name }))
    }
    if (spec.extra) out.extra = extra ?? {}
    return out
  }

  private declare(id: string, chain: Chain, attribute: string) {
    const first = this.ids.get(id)
    if (first !== undefined) {
      const at = lineColumn(this.text, first)
      this.fail(
        new DuplicateIdError({
          ...this.where(chain, attribute),
          id,
          firstLine: at.line,
          firstColumn: at.column
        })
      )
    }
    this.ids.set(id, chain.node.offset)
  }

  // -------------------------------------------------------------------------------------------
  // Sets and rules

  nvset(chain: Chain): Cib.NvSet {
    const set = this.fields(chain, specs.nvset, {})
    const rules: Array<Cib.Rule> = []
    const nvpairs: Array<Cib.NvPair> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name === "nvpair") nvpairs.push(this.fields(c, specs.nvpair, {}) as Cib.NvPair)
      else if (child.name === "rule") rules.push(this.rule(c))
      else this.unsupported(child, chain)
    }
    set.rules = rules
    set.nvpairs = nvpairs
    return set as unknown as Cib.NvSet
  }

  rule(chain: Chain): Cib.Rule {
    const rule = this.fields(chain, specs.rule, { _tag: "Rule" })
    const expressions: Array<Cib.RuleExpression> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      switch (child.name) {
        case "expression":
          expressions.push(
            this.fields(c, specs.expression, { _tag: "Expression" }) as Cib.AttributeExpression
          )
          break
        case "date_expression":
          expressions.push(this.dateExpression(c))
          break
        case "rsc_expression":
          expressions.push(
            this.fields(c, specs.rsc_expression, { _tag: "ResourceExpression" }) as Cib.ResourceExpression
          )
          break
        case "op_expression":
          expressions.push(
            this.fields(c, specs.op_expression, { _tag: "OperationExpression" }) as Cib.OperationExpression
          )
          break
        case "rule":
          expressions.push(this.rule(c))
          break
        default:
          this.unsupported(child, chain)
      }
    }
    rule.expressions = expressions
    return rule as unknown as Cib.Rule
  }

  dateExpression(chain: Chain): Cib.DateExpression {
    const e = this.fields(chain, specs.date_expression, { _tag: "DateExpression" })
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name === "duration" && e.duration === undefined)
        e.duration = this.fields(c, specs.duration, {})
      else if (child.name === "date_spec" && e.dateSpec === undefined)
        e.dateSpec = this.fields(c, specs.date_spec, {})
      else this.unsupported(child, chain)
    }
    return e as unknown as Cib.DateExpression
  }

  // -------------------------------------------------------------------------------------------
  // Configuration

  configuration(chain: Chain): Cib.Configuration {
    this.inConfiguration = true
    const config = {
      clusterProperties: [] as Array<Cib.NvSet>,
      nodes: [] as Array<Cib.Node>,
      resources: [] as Array<Cib.Resource>,
      templates: [] as Array<Cib.Template>,
      constraints: [] as Array<Cib.Constraint>,
      rscDefaults: [] as Array<Cib.NvSet>,
      opDefaults: [] as Array<Cib.NvSet>,
      fencingTopology: [] as Array<Cib.FencingLevel>,
      tags: [] as Array<Cib.Tag>,
      alerts: [] as Array<Cib.Alert>
    }
    let acls: Cib.XmlElement | undefined
    for (const section of chain.node.children) {
      const s = { parent: chain, node: section }
      if (!KNOWN_SECTIONS.has(section.name)) this.unsupported(section, chain)
      this.noAttributes(s)
      if (section.name === "acls") {
        this.declareTree(s)
        acls = this.opaque(section)
        continue
      }
      for (const child of section.children) {
        const c = { parent: s, node: child }
        switch (`${section.name}/${child.name}`) {
          case "crm_config/cluster_property_set":
            config.clusterProperties.push(this.nvset(c))
            break
          case "nodes/node":
            config.nodes.push(this.node(c))
            break
          case "resources/primitive":
            config.resources.push(this.primitive(c))
            break
          case "resources/template":
            config.templates.push(this.template(c))
            break
          case "resources/group":
            config.resources.push(this.group(c))
            break
          case "resources/clone":
          case "resources/master":
            config.resources.push(this.clone(c))
            break
          case "resources/bundle":
            config.resources.push(this.bundle(c))
            break
          case "constraints/rsc_location":
            config.constraints.push(this.location(c))
            break
          case "constraints/rsc_colocation":
            config.constraints.push(this.constraint(c, specs.rsc_colocation, "Colocation") as Cib.Colocation)
            break
          case "constraints/rsc_order":
            config.constraints.push(this.constraint(c, specs.rsc_order, "Order") as Cib.Order)
            break
          case "constraints/rsc_ticket":
            config.constraints.push(this.constraint(c, specs.rsc_ticket, "Ticket") as Cib.Ticket)
            break
          case "rsc_defaults/meta_attributes":
            config.rscDefaults.push(this.nvset(c))
            break
          case "op_defaults/meta_attributes":
            config.opDefaults.push(this.nvset(c))
            break
          case "fencing-topology/fencing-level":
            this.noChildren(c)
            config.fencingTopology.push(
              this.fields(c, specs["fencing-level"], {}) as unknown as Cib.FencingLevel
            )
            break
          case "tags/tag":
            config.tags.push(this.tag(c))
            break
          case "alerts/alert":
            config.alerts.push(this.alert(c))
            break
          default:
            this.unsupported(child, s)
        }
      }
    }
    this.inConfiguration = false
    return (acls === undefined ? config : { ...config, acls }) as Cib.Configuration
  }

  noAttributes(chain: Chain) {
    const name = chain.node.attrs[0]
    if (name !== undefined)
      this.fail(new UnknownAttributeError({ ...this.where(chain, name), attribute: name }))
  }

  noChildren(chain: Chain) {
    const child = chain.node.children[0]
    if (child !== undefined) this.unsupported(child, chain)
  }

  node(chain: Chain): Cib.Node {
    const node = this.fields(chain, specs.node, {})
    this.nodeNames.add(node.uname as string)
    const instanceAttributes: Array<Cib.NvSet> = []
    const utilization: Array<Cib.NvSet> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name === "instance_attributes") instanceAttributes.push(this.nvset(c))
      else if (child.name === "utilization") utilization.push(this.nvset(c))
      else this.unsupported(child, chain)
    }
    node.instanceAttributes = instanceAttributes
    node.utilization = utilization
    return node as unknown as Cib.Node
  }

  primitiveBody(chain: Chain, out: Mutable): Mutable {
    const instanceAttributes: Array<Cib.NvSet> = []
    const metaAttributes: Array<Cib.NvSet> = []
    const utilization: Array<Cib.NvSet> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name === "instance_attributes") instanceAttributes.push(this.nvset(c))
      else if (child.name === "meta_attributes") metaAttributes.push(this.nvset(c))
      else if (child.name === "utilization") utilization.push(this.nvset(c))
      else if (child.name === "operations" && out.operations === undefined)
        out.operations = this.operations(c)
      else this.unsupported(child, chain)
    }
    out.instanceAttributes = instanceAttributes
    out.metaAttributes = metaAttributes
    out.utilization = utilization
    return out
  }

  primitive(chain: Chain): Cib.Primitive {
    const p = this.fields(chain, specs.primitive, { _tag: "Primitive" })
    this.resourceIds.add(p.id as string)
    if (p.class === "ocf" && p.provider === "pacemaker" && p.type === "remote")
      this.nodeNames.add(p.id as string)
    this.primitiveBody(chain, p)
    for (const set of p.metaAttributes as Array<Cib.NvSet>) {
      for (const pair of set.nvpairs)
        if (pair.name === "remote-node" && pair.value) this.nodeNames.add(pair.value)
    }
    return p as unknown as Cib.Primitive
  }

  template(chain: Chain): Cib.Template {
    const t = this.fields(chain, specs.template, { _tag: "Template" })
    this.templateIds.add(t.id as string)
    return this.primitiveBody(chain, t) as unknown as Cib.Template
  }

  operations(chain: Chain): Cib.Operations {
    const ops = this.fields(chain, specs.operations, {})
    const list: Array<Cib.Operation> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name !== "op") this.unsupported(child, chain)
      const op = this.fields(c, specs.op, {})
      const instanceAttributes: Array<Cib.NvSet> = []
      const metaAttributes: Array<Cib.NvSet> = []
      for (const grandchild of child.children) {
        const g = { parent: c, node: grandchild }
        if (grandchild.name === "instance_attributes") instanceAttributes.push(this.nvset(g))
        else if (grandchild.name === "meta_attributes") metaAttributes.push(this.nvset(g))
        else this.unsupported(grandchild, c)
      }
      op.instanceAttributes = instanceAttributes
      op.metaAttributes = metaAttributes
      list.push(op as unknown as Cib.Operation)
    }
    ops.ops = list
    return ops as unknown as Cib.Operations
  }

  containerBody(chain: Chain, out: Mutable, allowChild: (child: XNode, c: Chain) => boolean): Mutable {
    const instanceAttributes: Array<Cib.NvSet> = []
    const metaAttributes: Array<Cib.NvSet> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name === "instance_attributes") instanceAttributes.push(this.nvset(c))
      else if (child.name === "meta_attributes") metaAttributes.push(this.nvset(c))
      else if (!allowChild(child, c)) this.unsupported(child, chain)
    }
    out.instanceAttributes = instanceAttributes
    out.metaAttributes = metaAttributes
    return out
  }

  group(chain: Chain): Cib.Group {
    const g = this.fields(chain, specs.group, { _tag: "Group" })
    this.resourceIds.add(g.id as string)
    const members: Array<Cib.Primitive> = []
    this.containerBody(
      chain,
      g,
      (child, c) => child.name === "primitive" && members.push(this.primitive(c)) > 0
    )
    g.members = members
    return g as unknown as Cib.Group
  }

  clone(chain: Chain): Cib.Clone {
    const clone = this.fields(chain, specs.clone, { _tag: "Clone" })
    clone.legacyMaster = chain.node.name === "master"
    this.resourceIds.add(clone.id as string)
    this.containerBody(chain, clone, (child, c) => {
      if (clone.child !== undefined) return false
      if (child.name === "primitive") clone.child = this.primitive(c)
      else if (child.name === "group") clone.child = this.group(c)
      else return false
      return true
    })
    if (clone.child === undefined)
      this.fail(
        new UnsupportedElementError({
          ...this.where(chain),
          element: `${chain.node.name} without a primitive or group`
        })
      )
    return clone as unknown as Cib.Clone
  }

  bundle(chain: Chain): Cib.Bundle {
    const id = attr(chain.node, "id")
    if (id === undefined) this.fail(new MissingAttributeError({ ...this.where(chain), attribute: "id" }))
    this.declareTree(chain)
    this.resourceIds.add(id)
    const bundle: Mutable = { _tag: "Bundle", id }
    const inner = chain.node.children.find((c) => c.name === "primitive")
    const innerId = inner && attr(inner, "id")
    if (innerId !== undefined) {
      bundle.primitive = innerId
      this.resourceIds.add(innerId)
    }
    bundle.xml = this.opaque(chain.node)
    return bundle as unknown as Cib.Bundle
  }

  /** Declares every id inside an opaque subtree (ids are unique across the configuration). */
  declareTree(chain: Chain) {
    const id = attr(chain.node, "id")
    if (id !== undefined) this.declare(id, chain, "id")
    for (const child of chain.node.children) this.declareTree({ parent: chain, node: child })
  }

  opaque(node: XNode): Cib.XmlElement {
    const attributes: Array<readonly [string, string]> = []
    for (let i = 0; i < node.attrs.length; i += 2)
      attributes.push([node.attrs[i] as string, node.attrs[i + 1] as string])
    return { name: node.name, attributes, children: node.children.map((c) => this.opaque(c)) }
  }

  location(chain: Chain): Cib.Location {
    const l = this.fields(chain, specs.rsc_location, { _tag: "Location" })
    const rules: Array<Cib.Rule> = []
    const resourceSets: Array<Cib.ResourceSet> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name === "rule") rules.push(this.rule(c))
      else if (child.name === "resource_set") resourceSets.push(this.resourceSet(c))
      else this.unsupported(child, chain)
    }
    l.rules = rules
    l.resourceSets = resourceSets
    return l as unknown as Cib.Location
  }

  constraint(chain: Chain, spec: ElementSpec, tag: string): Mutable {
    const out = this.fields(chain, spec, { _tag: tag })
    const resourceSets: Array<Cib.ResourceSet> = []
    for (const child of chain.node.children) {
      if (child.name === "resource_set") resourceSets.push(this.resourceSet({ parent: chain, node: child }))
      else this.unsupported(child, chain)
    }
    out.resourceSets = resourceSets
    return out
  }

  resourceSet(chain: Chain): Cib.ResourceSet {
    const set = this.fields(chain, specs.resource_set, {})
    const resources: Array<string> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name !== "resource_ref") this.unsupported(child, chain)
      this.noChildren(c)
      resources.push(this.fields(c, specs.resource_ref, {}).ref as string)
    }
    set.resources = resources
    return set as unknown as Cib.ResourceSet
  }

  tag(chain: Chain): Cib.Tag {
    const tag = this.fields(chain, specs.tag, {})
    this.tagIds.add(tag.id as string)
    const refs: Array<string> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name !== "obj_ref") this.unsupported(child, chain)
      this.noChildren(c)
      refs.push(this.fields(c, specs.obj_ref, {}).ref as string)
    }
    tag.refs = refs
    return tag as unknown as Cib.Tag
  }

  alert(chain: Chain): Cib.Alert {
    const alert = this.fields(chain, specs.alert, {})
    const recipients: Array<Cib.AlertRecipient> = []
    this.containerBody(chain, alert, (child, c) => {
      if (child.name === "recipient") {
        recipients.push(this.containerBody(c, this.fields(c, specs.recipient, {}), () => false) as never)
      } else if (child.name === "select" && alert.select === undefined) {
        this.declareTree(c)
        alert.select = this.opaque(child)
      } else return false
      return true
    })
    alert.recipients = recipients
    return alert as unknown as Cib.Alert
  }

  // -------------------------------------------------------------------------------------------
  // Status

  status(chain: Chain): Cib.Status {
    this.noAttributes(chain)
    const nodes: Array<Cib.NodeState> = []
    const tickets: Array<Cib.TicketState> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name === "node_state") nodes.push(this.nodeState(c))
      else if (child.name === "tickets") {
        this.noAttributes(c)
        for (const t of child.children) {
          const tc = { parent: c, node: t }
          if (t.name !== "ticket_state") this.unsupported(t, c)
          this.noChildren(tc)
          tickets.push(this.fields(tc, specs.ticket_state, {}) as unknown as Cib.TicketState)
        }
      } else this.unsupported(child, chain)
    }
    return { nodes, tickets }
  }

  nodeState(chain: Chain): Cib.NodeState {
    const state = this.fields(chain, specs.node_state, {})
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name === "transient_attributes" && state.transientAttributes === undefined) {
        const t = this.fields(c, specs.transient_attributes, {})
        const sets: Array<Cib.NvSet> = []
        for (const set of child.children) {
          if (set.name === "instance_attributes") sets.push(this.nvset({ parent: c, node: set }))
          else this.unsupported(set, c)
        }
        t.sets = sets
        state.transientAttributes = t
      } else if (child.name === "lrm" && state.lrm === undefined) {
        state.lrm = this.lrm(c)
      } else this.unsupported(child, chain)
    }
    return state as unknown as Cib.NodeState
  }

  lrm(chain: Chain): Cib.Lrm {
    const lrm = this.fields(chain, specs.lrm, {})
    const resources: Array<Cib.LrmResource> = []
    for (const child of chain.node.children) {
      const c = { parent: chain, node: child }
      if (child.name !== "lrm_resources" || lrm.resources !== undefined) this.unsupported(child, chain)
      this.fields(c, specs.lrm_resources, lrm)
      for (const r of child.children) {
        const rc = { parent: c, node: r }
        if (r.name !== "lrm_resource") this.unsupported(r, c)
        const resource = this.fields(rc, specs.lrm_resource, {})
        const ops: Array<Cib.LrmRscOp> = []
        for (const op of r.children) {
          const oc = { parent: rc, node: op }
          if (op.name !== "lrm_rsc_op") this.unsupported(op, rc)
          this.noChildren(oc)
          ops.push(this.fields(oc, specs.lrm_rsc_op, {}) as unknown as Cib.LrmRscOp)
        }
        resource.ops = ops
        resources.push(resource as unknown as Cib.LrmResource)
      }
      lrm.resources = resources
    }
    lrm.resources ??= []
    return lrm as unknown as Cib.Lrm
  }

  // -------------------------------------------------------------------------------------------

  cib(root: XNode): Cib.Cib {
    const chain = { parent: undefined, node: root }
    if (root.name !== "cib") this.unsupported(root, undefined as never)
    const a = this.fields(chain, specs.cib, {})
    const { adminEpoch, epoch, numUpdates, ...rest } = a
    let configuration: Cib.Configuration | undefined
    let status: Cib.Status = { nodes: [], tickets: [] }
    for (const child of root.children) {
      const c = { parent: chain, node: child }
      if (child.name === "configuration" && configuration === undefined) {
        this.noAttributes(c)
        configuration = this.configuration(c)
      } else if (child.name === "status") status = this.status(c)
      else this.unsupported(child, chain)
    }
    if (configuration === undefined)
      this.fail(new UnsupportedElementError({ ...this.where(chain), element: "cib without <configuration>" }))
    this.checkReferences()
    return {
      ...(rest as object),
      version: { adminEpoch, epoch, numUpdates },
      configuration,
      status
    } as unknown as Cib.Cib
  }

  checkReferences() {
    for (const ref of this.references) {
      const r = ref.reference
      let ok: boolean
      let expected: string
      switch (ref.kind) {
        case "resource":
          ok = this.resourceIds.has(r) || this.templateIds.has(r) || this.tagIds.has(r)
          expected = "a resource, template or tag"
          break
        case "devices":
          ok = this.resourceIds.has(r)
          expected = "a fencing resource"
          break
        case "template":
          ok = this.templateIds.has(r)
          expected = "a template"
          break
        case "node":
          ok = !this.checkNodeReferences || this.nodeNames.has(r)
          expected = "a node"
          break
        default:
          ok = this.ids.has(r)
          expected = "a configuration element id"
      }
      if (!ok)
        this.fail(
          new UnknownReferenceError({
            ...this.where(ref.chain, ref.attribute),
            attribute: ref.attribute,
            reference: r,
            expected
          })
        )
    }
  }
}

const KNOWN_SECTIONS = new Set([
  "crm_config",
  "nodes",
  "resources",
  "constraints",
  "rsc_defaults",
  "op_defaults",
  "fencing-topology",
  "tags",
  "alerts",
  "acls"
])

/** Decodes CIB XML; throws {@link DecodeFailure}. */
export const decode = (text: string, file: string | undefined, checkNodeReferences: boolean): Cib.Cib => {
  let root: XNode
  try {
    root = parseXml(text)
  } catch (e) {
    if (!(e instanceof XmlError)) throw e
    const { line, column } = lineColumn(text, e.offset)
    throw new DecodeFailure(
      new XmlSyntaxError({
        ...(file === undefined ? {} : { file }),
        line,
        column,
        path: "",
        reason: e.reason
      })
    )
  }
  return new Decoder(text, file, checkNodeReferences).cib(root)
}
