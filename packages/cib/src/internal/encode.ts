/** Model → pretty-printed Pacemaker CIB XML (two-space indentation, status included). */
import type * as Cib from "../Cib.ts"
import * as Duration from "../Duration.ts"
import * as Score from "../Score.ts"
import { type ElementSpec, specs } from "./spec.ts"

const ESCAPE = /[&<>"\t\n\r]/
const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "\t": "&#9;",
  "\n": "&#10;",
  "\r": "&#13;"
}
const escapeXml = (value: string) =>
  ESCAPE.test(value) ? value.replace(/[&<>"\t\n\r]/g, (c) => ESCAPES[c] ?? c) : value

type Body = (depth: number) => void
type Any = Record<string, unknown>

/**
 * The XML of model objects already encoded, by object and depth: model values are never mutated,
 * so a CIB that shares its configuration and most of its resource history with one written before
 * (a status update) is encoded in time proportional to what changed.
 */
const encoded = new WeakMap<object, Map<number, string>>()

class Writer {
  readonly lines: Array<string> = []
  private readonly indents: Array<string> = [""]

  private indent(depth: number): string {
    while (this.indents.length <= depth) this.indents.push(`${this.indents[this.indents.length - 1]}  `)
    return this.indents[depth] as string
  }

  /** What `write` writes for `value` at `depth`, from {@link encoded} when it was written before. */
  remembered(value: object, depth: number, write: () => void) {
    const known = encoded.get(value)?.get(depth)
    if (known !== undefined) {
      this.lines.push(known)
      return
    }
    const at = this.lines.length
    write()
    const text = this.lines.slice(at).join("\n")
    this.lines.length = at
    this.lines.push(text)
    const byDepth = encoded.get(value) ?? new Map<number, string>()
    byDepth.set(depth, text)
    encoded.set(value, byDepth)
  }

  element(depth: number, name: string, attrs: string, body?: Body) {
    const indent = this.indent(depth)
    const at = this.lines.length
    this.lines.push(`${indent}<${name}${attrs}>`)
    if (body !== undefined) body(depth + 1)
    if (this.lines.length === at + 1) this.lines[at] = `${indent}<${name}${attrs}/>`
    else this.lines.push(`${indent}</${name}>`)
  }

  attrs(spec: ElementSpec, value: object): string {
    const v = value as Any
    let out = ""
    for (const field of spec.attributes) {
      const x = v[field.key]
      if (x === undefined) {
        if (field.kind === "timeout" && v.invalidTimeout !== undefined)
          out += ` ${field.xml}="${escapeXml(v.invalidTimeout as string)}"`
        continue
      }
      let text: string
      switch (field.kind) {
        case "score":
          text = Score.format(x as number)
          break
        case "duration":
        case "timeout":
          text = Duration.format(x as number)
          break
        case "integer":
          text = String(x)
          break
        case "devices":
          text = (x as ReadonlyArray<string>).join(",")
          break
        default:
          text = x as string
      }
      out += ` ${field.xml}="${escapeXml(text)}"`
    }
    if (spec.extra) {
      for (const [name, text] of Object.entries(v.extra as Record<string, string>))
        out += ` ${name}="${escapeXml(text)}"`
    }
    return out
  }

  // -------------------------------------------------------------------------------------------

  nvsets(depth: number, name: string, sets: ReadonlyArray<Cib.NvSet>) {
    for (const set of sets) {
      this.element(depth, name, this.attrs(specs.nvset, set), (d) => {
        for (const rule of set.rules) this.rule(d, rule)
        for (const pair of set.nvpairs) this.element(d, "nvpair", this.attrs(specs.nvpair, pair))
      })
    }
  }

  rule(depth: number, rule: Cib.Rule) {
    this.element(depth, "rule", this.attrs(specs.rule, rule), (d) => {
      for (const e of rule.expressions) {
        switch (e._tag) {
          case "Rule":
            this.rule(d, e)
            break
          case "Expression":
            this.element(d, "expression", this.attrs(specs.expression, e))
            break
          case "ResourceExpression":
            this.element(d, "rsc_expression", this.attrs(specs.rsc_expression, e))
            break
          case "OperationExpression":
            this.element(d, "op_expression", this.attrs(specs.op_expression, e))
            break
          case "DateExpression":
            this.element(d, "date_expression", this.attrs(specs.date_expression, e), (dd) => {
              if (e.dateSpec !== undefined)
                this.element(dd, "date_spec", this.attrs(specs.date_spec, e.dateSpec))
              if (e.duration !== undefined)
                this.element(dd, "duration", this.attrs(specs.duration, e.duration))
            })
        }
      }
    })
  }

  opaque(depth: number, xml: Cib.XmlElement) {
    let attrs = ""
    for (const [name, value] of xml.attributes) attrs += ` ${name}="${escapeXml(value)}"`
    this.element(depth, xml.name, attrs, (d) => {
      for (const child of xml.children) this.opaque(d, child)
    })
  }

  primitiveBody(d: number, p: Cib.Primitive | Cib.Template) {
    this.nvsets(d, "instance_attributes", p.instanceAttributes)
    this.nvsets(d, "meta_attributes", p.metaAttributes)
    this.nvsets(d, "utilization", p.utilization)
    const ops = p.operations
    if (ops !== undefined) {
      this.element(d, "operations", this.attrs(specs.operations, ops), (dd) => {
        for (const op of ops.ops) {
          this.element(dd, "op", this.attrs(specs.op, op), (ddd) => {
            this.nvsets(ddd, "instance_attributes", op.instanceAttributes)
            this.nvsets(ddd, "meta_attributes", op.metaAttributes)
          })
        }
      })
    }
  }

  primitive(depth: number, p: Cib.Primitive) {
    this.element(depth, "primitive", this.attrs(specs.primitive, p), (d) => this.primitiveBody(d, p))
  }

  group(depth: number, g: Cib.Group) {
    this.element(depth, "group", this.attrs(specs.group, g), (d) => {
      this.nvsets(d, "instance_attributes", g.instanceAttributes)
      this.nvsets(d, "meta_attributes", g.metaAttributes)
      for (const m of g.members) this.primitive(d, m)
    })
  }

  resource(depth: number, r: Cib.Resource) {
    switch (r._tag) {
      case "Primitive":
        return this.primitive(depth, r)
      case "Group":
        return this.group(depth, r)
      case "Bundle":
        return this.opaque(depth, r.xml)
      case "Clone":
        return this.element(depth, r.legacyMaster ? "master" : "clone", this.attrs(specs.clone, r), (d) => {
          this.nvsets(d, "instance_attributes", r.instanceAttributes)
          this.nvsets(d, "meta_attributes", r.metaAttributes)
          if (r.child._tag === "Primitive") this.primitive(d, r.child)
          else this.group(d, r.child)
        })
    }
  }

  resourceSets(depth: number, sets: ReadonlyArray<Cib.ResourceSet>) {
    for (const set of sets) {
      this.element(depth, "resource_set", this.attrs(specs.resource_set, set), (d) => {
        for (const ref of set.resources) this.element(d, "resource_ref", ` id="${escapeXml(ref)}"`)
      })
    }
  }

  constraint(depth: number, c: Cib.Constraint) {
    switch (c._tag) {
      case "Location":
        return this.element(depth, "rsc_location", this.attrs(specs.rsc_location, c), (d) => {
          for (const rule of c.rules) this.rule(d, rule)
          this.resourceSets(d, c.resourceSets)
        })
      case "Colocation":
        return this.element(depth, "rsc_colocation", this.attrs(specs.rsc_colocation, c), (d) =>
          this.resourceSets(d, c.resourceSets)
        )
      case "Order":
        return this.element(depth, "rsc_order", this.attrs(specs.rsc_order, c), (d) =>
          this.resourceSets(d, c.resourceSets)
        )
      case "Ticket":
        return this.element(depth, "rsc_ticket", this.attrs(specs.rsc_ticket, c), (d) =>
          this.resourceSets(d, c.resourceSets)
        )
    }
  }

  configuration(depth: number, c: Cib.Configuration) {
    this.remembered(c, depth, () => this.configurationElement(depth, c))
  }

  private configurationElement(depth: number, c: Cib.Configuration) {
    this.element(depth, "configuration", "", (d) => {
      this.element(d, "crm_config", "", (dd) => this.nvsets(dd, "cluster_property_set", c.clusterProperties))
      this.element(d, "nodes", "", (dd) => {
        for (const node of c.nodes) {
          this.element(dd, "node", this.attrs(specs.node, node), (ddd) => {
            this.nvsets(ddd, "instance_attributes", node.instanceAttributes)
            this.nvsets(ddd, "utilization", node.utilization)
          })
        }
      })
      this.element(d, "resources", "", (dd) => {
        for (const t of c.templates)
          this.element(dd, "template", this.attrs(specs.template, t), (ddd) => this.primitiveBody(ddd, t))
        for (const r of c.resources) this.resource(dd, r)
      })
      this.element(d, "constraints", "", (dd) => {
        for (const constraint of c.constraints) this.constraint(dd, constraint)
      })
      if (c.rscDefaults.length > 0)
        this.element(d, "rsc_defaults", "", (dd) => this.nvsets(dd, "meta_attributes", c.rscDefaults))
      if (c.opDefaults.length > 0)
        this.element(d, "op_defaults", "", (dd) => this.nvsets(dd, "meta_attributes", c.opDefaults))
      if (c.fencingTopology.length > 0)
        this.element(d, "fencing-topology", "", (dd) => {
          for (const level of c.fencingTopology)
            this.element(dd, "fencing-level", this.attrs(specs["fencing-level"], level))
        })
      if (c.tags.length > 0)
        this.element(d, "tags", "", (dd) => {
          for (const tag of c.tags)
            this.element(dd, "tag", this.attrs(specs.tag, tag), (ddd) => {
              for (const ref of tag.refs) this.element(ddd, "obj_ref", ` id="${escapeXml(ref)}"`)
            })
        })
      if (c.alerts.length > 0)
        this.element(d, "alerts", "", (dd) => {
          for (const alert of c.alerts) {
            this.element(dd, "alert", this.attrs(specs.alert, alert), (ddd) => {
              if (alert.select !== undefined) this.opaque(ddd, alert.select)
              this.nvsets(ddd, "meta_attributes", alert.metaAttributes)
              this.nvsets(ddd, "instance_attributes", alert.instanceAttributes)
              for (const r of alert.recipients) {
                this.element(ddd, "recipient", this.attrs(specs.recipient, r), (d4) => {
                  this.nvsets(d4, "meta_attributes", r.metaAttributes)
                  this.nvsets(d4, "instance_attributes", r.instanceAttributes)
                })
              }
            })
          }
        })
      if (c.acls !== undefined) this.opaque(d, c.acls)
    })
  }

  status(depth: number, s: Cib.Status) {
    this.element(depth, "status", "", (d) => {
      for (const state of s.nodes) this.remembered(state, d, () => this.nodeState(d, state))
      if (s.tickets.length > 0)
        this.element(d, "tickets", "", (dd) => {
          for (const t of s.tickets) this.element(dd, "ticket_state", this.attrs(specs.ticket_state, t))
        })
    })
  }

  private nodeState(d: number, state: Cib.NodeState) {
    this.element(d, "node_state", this.attrs(specs.node_state, state), (dd) => {
      const t = state.transientAttributes
      if (t !== undefined)
        this.element(dd, "transient_attributes", this.attrs(specs.transient_attributes, t), (ddd) =>
          this.nvsets(ddd, "instance_attributes", t.sets)
        )
      const lrm = state.lrm
      if (lrm !== undefined)
        this.element(dd, "lrm", this.attrs(specs.lrm, lrm), (ddd) => {
          this.element(ddd, "lrm_resources", this.attrs(specs.lrm_resources, lrm), (d4) => {
            for (const r of lrm.resources)
              this.remembered(r, d4, () =>
                this.element(d4, "lrm_resource", this.attrs(specs.lrm_resource, r), (d5) => {
                  for (const op of r.ops) this.element(d5, "lrm_rsc_op", this.attrs(specs.lrm_rsc_op, op))
                })
              )
          })
        })
    })
  }
}

export const encode = (cib: Cib.Cib): string => {
  const w = new Writer()
  w.element(0, "cib", w.attrs(specs.cib, { ...cib, ...cib.version }), (d) => {
    w.configuration(d, cib.configuration)
    w.status(d, cib.status)
  })
  w.lines.push("")
  return w.lines.join("\n")
}
