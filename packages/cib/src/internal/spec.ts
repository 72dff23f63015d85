/**
 * Attribute tables of every CIB element the model names: XML attribute → model key and how the
 * value is read. The decoder and the encoder both run off these tables, so every attribute the
 * decoder accepts is written back.
 */

export type AttributeKind =
  /** kept as written */
  | "string"
  /** an id that must be unique within the configuration */
  | "id"
  /** Score.parse */
  | "score"
  /** Duration.parse (milliseconds) */
  | "duration"
  /** Duration.parse, but unparseable text is kept under `invalidTimeout` (Pacemaker uses the default) */
  | "timeout"
  /** a decimal integer */
  | "integer"
  /** a reference to a resource, template or tag id */
  | "resource"
  /** a reference to a node name */
  | "node"
  /** a reference to a template id */
  | "template"
  /** a reference to any configuration id */
  | "idref"
  /** a comma-separated list of fencing device (resource) ids */
  | "devices"

export interface AttributeSpec {
  readonly xml: string
  readonly key: string
  readonly kind: AttributeKind
}

export interface ElementSpec {
  readonly attributes: ReadonlyArray<AttributeSpec>
  readonly byXml: ReadonlyMap<string, AttributeSpec>
  readonly required: ReadonlyArray<string>
  /** Unknown attributes go to `extra` instead of being rejected. */
  readonly extra: boolean
}

const camel = (xml: string) => xml.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase())

/** `"name"`, `"name:kind"` or `"name=key:kind"`; a leading "!" marks the attribute required. */
const element = (fields: string, options: { readonly extra?: boolean } = {}): ElementSpec => {
  const attributes: Array<AttributeSpec> = []
  const required: Array<string> = []
  for (const field of fields.split(/\s+/).filter((f) => f !== "")) {
    const isRequired = field.startsWith("!")
    const [nameKey = "", kind = "string"] = (isRequired ? field.slice(1) : field).split(":")
    const [xml = "", key = camel(xml)] = nameKey.split("=")
    attributes.push({ xml, key, kind: kind as AttributeKind })
    if (isRequired) required.push(xml)
  }
  return {
    attributes,
    byXml: new Map(attributes.map((a) => [a.xml, a])),
    required,
    extra: options.extra ?? false
  }
}

const timeFields = "years months weeks days hours minutes seconds"

export const specs = {
  cib: element(
    "!admin_epoch:integer !epoch:integer !num_updates:integer validate-with crm_feature_set have-quorum dc-uuid " +
      "execution-date:integer cib-last-written update-origin update-client update-user",
    { extra: true }
  ),
  nvpair: element("id:id id-ref=idRef:idref name value"),
  nvset: element("id:id id-ref=idRef:idref score:score"),
  rule: element("id:id id-ref=idRef:idref score:score score-attribute boolean-op role"),
  expression: element("!id:id !attribute !operation value type value-source"),
  date_expression: element("!id:id !operation start end"),
  date_spec: element(`id:id ${timeFields} monthdays weekdays yeardays weekyears moon`),
  duration: element(`id:id ${timeFields}`),
  rsc_expression: element("!id:id class provider type"),
  op_expression: element("!id:id !name interval:duration"),
  node: element("!id !uname type score:score description"),
  op: element(
    "!id:id !name !interval:duration timeout:timeout description role on-fail start-delay:duration " +
      "interval-origin record-pending enabled requires"
  ),
  operations: element("id:id id-ref=idRef:idref"),
  primitive: element("!id:id class provider type template:template description"),
  template: element("!id:id class provider type description"),
  group: element("!id:id description"),
  clone: element("!id:id description"),
  resource_set: element(
    "id:id id-ref=idRef:idref sequential require-all ordering action role score:score kind"
  ),
  resource_ref: element("!id=ref:resource"),
  rsc_location: element("!id:id rsc:resource rsc-pattern role score:score node:node resource-discovery"),
  rsc_colocation: element(
    "!id:id score:score rsc:resource with-rsc=withRsc:resource rsc-role with-rsc-role node-attribute influence"
  ),
  rsc_order: element(
    "!id:id kind score:score symmetrical first:resource then:resource first-action then-action require-all"
  ),
  rsc_ticket: element("!id:id !ticket rsc:resource rsc-role loss-policy"),
  "fencing-level": element(
    "!id:id !index:integer target:node target-pattern target-attribute target-value !devices:devices"
  ),
  tag: element("!id:id"),
  obj_ref: element("!id=ref:idref"),
  alert: element("!id:id !path description"),
  recipient: element("!id:id !value description"),
  node_state: element(
    "id uname in_ccm crmd join expected crm-debug-origin remote_node node_fenced shutdown clear_shutdown " +
      "node_in_maintenance",
    { extra: true }
  ),
  transient_attributes: element("id"),
  lrm: element("id", { extra: true }),
  lrm_resources: element("id=resourcesId"),
  lrm_resource: element("!id class provider type container"),
  lrm_rsc_op: element(
    "!id operation_key=operationKey !operation !interval:integer !rc-code:integer !op-status:integer " +
      "!call-id:integer last-run:integer last-rc-change:integer exec-time:integer queue-time:integer op-digest " +
      "op-force-restart op-restart-digest op-secure-params op-secure-digest transition-key transition-magic " +
      "crm_feature_set crm-debug-origin on_node exit-reason migrate_source migrate_target",
    { extra: true }
  ),
  ticket_state: element("!id granted standby last-granted:integer", { extra: true })
} as const

export type ElementName = keyof typeof specs
