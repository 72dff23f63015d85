/**
 * Agent meta-data: the XML an agent prints for `meta-data` (OCF RA API 1.1, "Meta-data"), parsed
 * into a typed model, and parameter validation against it (what `ha validate` and `ha ra info`
 * report).
 */
import { Option, Schema } from "effect"
import { SaxesParser } from "saxes"
import { parseMs } from "./Interval.ts"

export interface ParameterSpec {
  readonly name: string
  readonly required: boolean
  /** The value must be unique among resources of this agent (`unique="1"`). */
  readonly unique: boolean
  /** OCF 1.1 `unique-group`: the combination of values in the group must be unique. */
  readonly uniqueGroup: string | undefined
  readonly reloadable: boolean
  /** Pacemaker's `private="1"`: a secret (password) kept out of the secure digest and logs. */
  readonly private: boolean
  readonly deprecated: boolean
  /** `<content type=…>`: string, integer, boolean, select, … */
  readonly type: string
  readonly default: string | undefined
  /** Allowed values of a `select` parameter. */
  readonly options: ReadonlyArray<string>
  readonly shortdesc: string
  readonly longdesc: string
}

export interface ActionSpec {
  readonly name: string
  readonly timeoutMs: number | undefined
  readonly intervalMs: number | undefined
  readonly depth: number | undefined
  /** The role a monitor is defined for (`Promoted`, `Unpromoted`; legacy `Master`, `Slave`). */
  readonly role: string | undefined
  readonly startDelayMs: number | undefined
}

export interface AgentMetadata {
  readonly name: string
  readonly version: string | undefined
  /** The OCF resource agent API version the agent follows (`<version>`), e.g. `1.1`. */
  readonly ocfVersion: string | undefined
  readonly shortdesc: string
  readonly longdesc: string
  readonly parameters: ReadonlyArray<ParameterSpec>
  readonly actions: ReadonlyArray<ActionSpec>
}

/** Meta-data that is not well-formed XML or lacks what the OCF API requires. */
export class MetadataParseError extends Schema.TaggedError<MetadataParseError>()("MetadataParseError", {
  source: Schema.String,
  line: Schema.Number,
  column: Schema.Number,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.source}:${this.line}:${this.column}: invalid agent meta-data: ${this.reason}`
  }
}

interface Element {
  readonly name: string
  readonly attributes: Record<string, string>
  readonly children: Array<Element>
  text: string
  readonly line: number
}

const parseTree = (xml: string, source: string): Element => {
  const parser = new SaxesParser({ position: true })
  const fail = (reason: string) =>
    new MetadataParseError({ source, line: parser.line, column: parser.column, reason })
  let root: Element | undefined
  const stack: Array<Element> = []
  let error: MetadataParseError | undefined
  parser.on("error", (e) => {
    error ??= fail(e.message.replace(/^[^:]*:\d+:\d+: /, ""))
  })
  parser.on("opentag", (tag) => {
    const element: Element = {
      name: tag.name,
      attributes: Object.fromEntries(Object.entries(tag.attributes).map(([k, v]) => [k, String(v)])),
      children: [],
      text: "",
      line: parser.line
    }
    const parent = stack[stack.length - 1]
    if (parent) parent.children.push(element)
    else root = element
    stack.push(element)
  })
  parser.on("text", (text) => {
    const current = stack[stack.length - 1]
    if (current) current.text += text
  })
  parser.on("cdata", (text) => {
    const current = stack[stack.length - 1]
    if (current) current.text += text
  })
  parser.on("closetag", () => {
    stack.pop()
  })
  try {
    parser.write(xml).close()
  } catch (e) {
    error ??= fail(e instanceof Error ? e.message : String(e))
  }
  if (error) throw error
  if (root === undefined) throw fail("no root element")
  return root
}

const child = (element: Element, name: string): Element | undefined =>
  element.children.find((c) => c.name === name)

const description = (element: Element, name: string): string => {
  const candidates = element.children.filter((c) => c.name === name)
  const english = candidates.find((c) => (c.attributes.lang ?? "en").startsWith("en")) ?? candidates[0]
  return english?.text.trim().replace(/\s+/g, " ") ?? ""
}

const flag = (value: string | undefined): boolean => value === "1" || value === "true" || value === "yes"

const timeSpec = (value: string | undefined, source: string, line: number, field: string) => {
  if (value === undefined || value === "") return undefined
  return Option.getOrThrowWith(
    parseMs(value),
    () => new MetadataParseError({ source, line, column: 0, reason: `${field}="${value}" is not a time` })
  )
}

/**
 * Parses an agent's meta-data XML.
 * @param source names the agent in errors, e.g. `ocf:heartbeat:IPaddr2`
 */
export const parse = (xml: string, source: string): AgentMetadata => {
  const root = parseTree(xml, source)
  if (root.name !== "resource-agent") {
    throw new MetadataParseError({
      source,
      line: root.line,
      column: 0,
      reason: `root element is <${root.name}>, expected <resource-agent>`
    })
  }
  const parameters = (child(root, "parameters")?.children ?? [])
    .filter((p) => p.name === "parameter")
    .map((p): ParameterSpec => {
      const name = p.attributes.name
      if (!name) {
        throw new MetadataParseError({
          source,
          line: p.line,
          column: 0,
          reason: "<parameter> without a name"
        })
      }
      const content = child(p, "content")
      return {
        name,
        required: flag(p.attributes.required),
        unique: flag(p.attributes.unique),
        uniqueGroup: p.attributes["unique-group"],
        reloadable: flag(p.attributes.reloadable),
        private: flag(p.attributes.private),
        deprecated: flag(p.attributes.deprecated) || child(p, "deprecated") !== undefined,
        type: content?.attributes.type ?? "string",
        default: content?.attributes.default,
        options: (content?.children ?? [])
          .filter((o) => o.name === "option")
          .map((o) => o.attributes.value ?? ""),
        shortdesc: description(p, "shortdesc"),
        longdesc: description(p, "longdesc")
      }
    })
  const actions = (child(root, "actions")?.children ?? [])
    .filter((a) => a.name === "action")
    .map((a): ActionSpec => {
      const name = a.attributes.name
      if (!name) {
        throw new MetadataParseError({ source, line: a.line, column: 0, reason: "<action> without a name" })
      }
      const depth = a.attributes.depth
      return {
        name,
        timeoutMs: timeSpec(a.attributes.timeout, source, a.line, "timeout"),
        intervalMs: timeSpec(a.attributes.interval, source, a.line, "interval"),
        depth: depth === undefined ? undefined : Number(depth),
        role: a.attributes.role,
        startDelayMs: timeSpec(a.attributes["start-delay"], source, a.line, "start-delay")
      }
    })
  return {
    name: root.attributes.name ?? source,
    version: root.attributes.version ?? child(root, "version")?.text.trim(),
    ocfVersion: child(root, "version")?.text.trim(),
    shortdesc: description(root, "shortdesc"),
    longdesc: description(root, "longdesc"),
    parameters,
    actions
  }
}

/**
 * The parameters whose change needs a restart (Pacemaker's `op-force-restart`), or `undefined` when
 * the agent cannot reload at all (then every change restarts and Pacemaker records no list). OCF 1.1
 * agents mark reloadable parameters; for older agents the unique ones are those that cannot reload.
 */
export const forceRestartParameters = (metadata: AgentMetadata): ReadonlyArray<string> | undefined => {
  const modern = ocfVersionAtLeast(metadata.ocfVersion, 1, 1)
  const reloads = metadata.actions.some((a) => a.name === (modern ? "reload-agent" : "reload"))
  if (!reloads) return undefined
  return metadata.parameters.filter((p) => (modern ? !p.reloadable : p.unique)).map((p) => p.name)
}

/**
 * The secret parameters (Pacemaker's `op-secure-params`): those marked `private="1"`, and, as
 * Pacemaker has always done for agents that predate that mark, any named password, passwd or user.
 */
export const privateParameters = (metadata: AgentMetadata): ReadonlyArray<string> =>
  metadata.parameters.filter((p) => p.private || conventionallySecret.has(p.name)).map((p) => p.name)

const conventionallySecret = new Set(["password", "passwd", "user"])

const ocfVersionAtLeast = (version: string | undefined, major: number, minor: number): boolean => {
  const match = /^(\d+)\.(\d+)/.exec(version ?? "")
  if (!match) return false
  const [actualMajor, actualMinor] = [Number(match[1]), Number(match[2])]
  return actualMajor > major || (actualMajor === major && actualMinor >= minor)
}

/** The default timeout of an action from the meta-data, if it declares one. */
export const actionTimeoutMs = (meta: AgentMetadata, action: string): number | undefined =>
  meta.actions.find((a) => a.name === action)?.timeoutMs

export type ParameterIssue =
  | { readonly _tag: "UnknownParameter"; readonly name: string; readonly message: string }
  | { readonly _tag: "MissingRequiredParameter"; readonly name: string; readonly message: string }
  | {
      readonly _tag: "InvalidOption"
      readonly name: string
      readonly value: string
      readonly message: string
    }

/**
 * Checks resource parameters against an agent's meta-data: names the agent does not declare,
 * required parameters that are missing, and values outside a `select` parameter's options.
 * Returns the issues in a stable order (missing first, then by name); empty means valid.
 */
export const validateParameters = (
  meta: AgentMetadata,
  params: Readonly<Record<string, string>>
): ReadonlyArray<ParameterIssue> => {
  const declared = new Map(meta.parameters.map((p) => [p.name, p]))
  const issues: Array<ParameterIssue> = []
  for (const p of meta.parameters) {
    if (p.required && !(p.name in params)) {
      issues.push({
        _tag: "MissingRequiredParameter",
        name: p.name,
        message: `${meta.name}: required parameter "${p.name}" is missing`
      })
    }
  }
  for (const name of Object.keys(params).sort()) {
    const spec = declared.get(name)
    if (spec === undefined) {
      issues.push({
        _tag: "UnknownParameter",
        name,
        message: `${meta.name}: unknown parameter "${name}" (known: ${[...declared.keys()].join(", ") || "none"})`
      })
    } else if (spec.type === "select" && spec.options.length > 0 && !spec.options.includes(params[name]!)) {
      issues.push({
        _tag: "InvalidOption",
        name,
        value: params[name]!,
        message: `${meta.name}: parameter "${name}" is "${params[name]}", expected one of ${spec.options.join(", ")}`
      })
    }
  }
  return issues
}
