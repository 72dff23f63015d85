/**
 * Parsers for Pacemaker's recorded scheduler output (NAME.summary and NAME.exp of the regression corpus)
 * and the normalization that makes them comparable with ha's Transition.
 *
 * Normalization (documented in the package README):
 * - clone instance numbers are Pacemaker's own, so every `:N` suffix is stripped from resource names and
 *   decisions/actions/edges are compared as multisets (counts per normalized key);
 * - summary decisions keep verb, resource, the bracketed placement text (roles and nodes, whitespace
 *   collapsed) and whether the line is blocked; the "due to" explanation is not compared;
 * - fencing keeps action and node, not the quoted reason;
 * - graph actions are (task, resource, node, interval): ids, uuids and attributes are ignored.
 */
import { SaxesParser } from "saxes"

export interface ParseError {
  readonly file: string
  readonly line: number
  readonly message: string
}

export class ExpectedOutputError extends Error {
  constructor(readonly detail: ParseError) {
    super(`${detail.file}:${detail.line}: ${detail.message}`)
  }
}

/** Strips clone instance numbers (`rsc:3` → `rsc`), also inside operation keys. */
export const stripInstance = (name: string): string => name.replace(/:\d+(?=$|_)/g, "")

// ---------------------------------------------------------------------------------------------------------
// Transition Summary

export interface SummaryDecision {
  readonly verb: string
  /** resource id as printed (with Pacemaker's instance number), or the node for Fence */
  readonly resource: string
  /** the bracketed placement text, whitespace collapsed; for Fence the fencing action */
  readonly placement: string
  readonly blocked: boolean
  readonly reason: string | undefined
}

const summaryLine = /^\s*\* (\S+)\s+(\S+)\s+\(\s*(.*?)\s*\)\s*(.*)$/
const fenceLine = /^\s*\* Fence \((\S+)\) (\S+)(?: \(resource: \S+\))? '(.*)'\s*$/

/** Parses the Transition Summary section of a crm_simulate summary. */
export const parseSummary = (text: string, file = "<summary>"): ReadonlyArray<SummaryDecision> => {
  const lines = text.split("\n")
  const start = lines.findIndex((l) => l.trim() === "Transition Summary:")
  if (start < 0) throw new ExpectedOutputError({ file, line: 1, message: "no 'Transition Summary:' section" })
  const decisions: Array<SummaryDecision> = []
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === "" || !line.startsWith(" ")) break
    const fence = fenceLine.exec(line)
    if (fence) {
      decisions.push({
        verb: "Fence",
        resource: fence[2]!,
        placement: fence[1]!,
        blocked: false,
        reason: fence[3]
      })
      continue
    }
    const m = summaryLine.exec(line)
    if (!m)
      throw new ExpectedOutputError({ file, line: i + 1, message: `unrecognized summary line: ${line}` })
    const rest = m[4]!.trim()
    const blocked = /(^|\s|\()blocked\)?$/.test(rest)
    const reason = rest.startsWith("due to ") ? rest.slice(7).replace(/\s*\(blocked\)$/, "") : undefined
    decisions.push({
      verb: m[1]!,
      resource: m[2]!,
      placement: m[3]!.replace(/\s+/g, " "),
      blocked,
      reason
    })
  }
  return decisions
}

/** The comparable key of one decision. */
export const summaryKey = (d: SummaryDecision): string =>
  `${d.verb} ${stripInstance(d.resource)} (${d.placement})${d.blocked ? " blocked" : ""}`

// ---------------------------------------------------------------------------------------------------------
// Transition graph

export type ActionKind = "rsc_op" | "pseudo_event" | "crm_event"

export interface GraphAction {
  readonly kind: ActionKind
  readonly operation: string
  readonly key: string
  readonly node: string | undefined
}

export interface Graph {
  readonly actions: ReadonlyArray<GraphAction>
  /** ordering edges as [before, after] indexes into `actions` */
  readonly edges: ReadonlyArray<readonly [number, number]>
}

const actionTags = new Set<string>(["rsc_op", "pseudo_event", "crm_event"])

/** Parses a transition graph (`<transition_graph>` of synapses with action sets and input triggers). */
export const parseGraph = (xml: string, file = "<exp>"): Graph => {
  const parser = new SaxesParser({ position: true })
  const actions: Array<GraphAction> = []
  const byId = new Map<string, number>()
  const edges: Array<readonly [number, number]> = []
  // per synapse: the action it defines and the trigger actions it waits for
  let synapseAction: number | undefined
  let triggers: Array<number> = []
  let section: "action_set" | "inputs" | undefined
  let depth = 0
  let actionDepth = -1
  const fail = (message: string): never => {
    throw new ExpectedOutputError({ file, line: parser.line, message })
  }
  const intern = (attrs: Record<string, string>, tag: ActionKind): number => {
    const id = attrs.id ?? fail(`<${tag}> without id`)
    const known = byId.get(id)
    if (known !== undefined) return known
    const index = actions.length
    actions.push({
      kind: tag,
      operation: attrs.operation ?? fail(`<${tag} id="${id}"> without operation`),
      key: attrs.operation_key ?? fail(`<${tag} id="${id}"> without operation_key`),
      node: attrs.on_node
    })
    byId.set(id, index)
    return index
  }
  parser.on("error", (e) => fail(e.message))
  parser.on("opentag", (tag) => {
    depth++
    const attrs = tag.attributes as Record<string, string>
    if (tag.name === "synapse") {
      synapseAction = undefined
      triggers = []
    } else if (tag.name === "action_set" || tag.name === "inputs") {
      section = tag.name
    } else if (actionTags.has(tag.name) && actionDepth < 0) {
      actionDepth = depth
      const index = intern(attrs, tag.name as ActionKind)
      if (section === "action_set") synapseAction = index
      else if (section === "inputs") triggers.push(index)
    }
  })
  parser.on("closetag", (tag) => {
    if (depth === actionDepth) actionDepth = -1
    depth--
    if (tag.name === "action_set" || tag.name === "inputs") section = undefined
    else if (tag.name === "synapse") {
      if (synapseAction === undefined) fail("synapse without an action")
      for (const t of triggers) edges.push([t, synapseAction!])
    }
  })
  parser.write(xml).close()
  return { actions, edges }
}

const notifyTask = /^(?:confirmed-)?(?:pre|post)_notify_[a-z]+$/
const opKey =
  /^(.+?)_((?:confirmed-)?(?:pre|post)_notify_[a-z]+|migrate_to|migrate_from|clear_failcount|reload-agent|[a-z]+)_(\d+)$/

/** The comparable key of one graph action: task, resource (instance stripped), node, interval. */
export const actionKey = (a: GraphAction): string => {
  if (a.operation === "stonith") {
    const fenceAction = /-([a-z]+)$/.exec(a.key)?.[1] ?? "reboot"
    return `stonith-${fenceAction} - ${a.node ?? "-"} 0`
  }
  const m = opKey.exec(a.key)
  if (!m) return `${a.operation} - ${a.node ?? "-"} 0`
  const keyTask = m[2]!
  const task =
    notifyTask.test(keyTask) || a.operation === "cancel" ? `${a.operation}:${keyTask}` : a.operation
  return `${task} ${stripInstance(m[1]!)} ${a.node ?? "-"} ${m[3]}`
}

export const edgeKey = (before: string, after: string): string => `${before} => ${after}`

// ---------------------------------------------------------------------------------------------------------
// Multisets

export type Multiset = ReadonlyMap<string, number>

export const multiset = (keys: Iterable<string>): Multiset => {
  const m = new Map<string, number>()
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1)
  return m
}

/** The first difference between two multisets, described in words, or undefined when equal. */
export const firstDifference = (expected: Multiset, actual: Multiset): string | undefined => {
  const missing: Array<string> = []
  const extra: Array<string> = []
  for (const [k, n] of expected) {
    const got = actual.get(k) ?? 0
    if (got < n) missing.push(n - got > 1 ? `${k} ×${n - got}` : k)
  }
  for (const [k, n] of actual) {
    const want = expected.get(k) ?? 0
    if (want < n) extra.push(n - want > 1 ? `${k} ×${n - want}` : k)
  }
  if (missing.length === 0 && extra.length === 0) return undefined
  missing.sort()
  extra.sort()
  const parts: Array<string> = []
  if (missing.length > 0)
    parts.push(`missing ${missing[0]}${missing.length > 1 ? ` (+${missing.length - 1})` : ""}`)
  if (extra.length > 0) parts.push(`extra ${extra[0]}${extra.length > 1 ? ` (+${extra.length - 1})` : ""}`)
  return parts.join("; ")
}
