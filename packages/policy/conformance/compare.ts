/**
 * Runs one regression case: reads Pacemaker's expected output, schedules the input CIB with ha, and
 * compares the two at three levels (summary decisions, graph actions, ordering edges).
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { Transition } from "../src/Transition.ts"
import { placementText } from "../src/Transition.ts"
import {
  actionKey,
  edgeKey,
  firstDifference,
  type Multiset,
  multiset,
  parseGraph,
  parseSummary,
  stripInstance,
  summaryKey
} from "./expected.ts"

/** What ha made of a case's input: a transition, or the reason it cannot plan it. */
export type Outcome =
  | { readonly _tag: "Planned"; readonly transition: Transition }
  | { readonly _tag: "Unsupported"; readonly feature: string }
  | { readonly _tag: "Failed"; readonly error: string }

export type Scheduler = (xml: string, file: string) => Outcome

export interface CaseResult {
  readonly name: string
  readonly status: "compared" | "unsupported" | "error"
  readonly summary: boolean
  readonly actions: boolean
  readonly edges: boolean
  /** short reason for the first failing level */
  readonly reason: string | undefined
}

export interface Expected {
  readonly summary: Multiset
  readonly actions: Multiset
  readonly edges: Multiset
}

export const readExpected = (dir: string, name: string): Expected => {
  const summaryFile = join(dir, `${name}.summary`)
  const expFile = join(dir, `${name}.exp`)
  const decisions = parseSummary(readFileSync(summaryFile, "utf8"), summaryFile)
  const graph = parseGraph(readFileSync(expFile, "utf8"), expFile)
  const keys = graph.actions.map(actionKey)
  return {
    summary: multiset(decisions.map(summaryKey)),
    actions: multiset(keys),
    edges: multiset(graph.edges.map(([b, a]) => edgeKey(keys[b]!, keys[a]!)))
  }
}

/** ha's transition in the same normalized form as Pacemaker's expected output. */
export const normalize = (t: Transition): Expected => {
  const keyById = new Map<number, string>()
  for (const a of t.actions) {
    keyById.set(a.id, actionKey({ kind: a.kind, operation: a.task, key: a.key, node: a.node }))
  }
  return {
    summary: multiset(
      t.summary.map(
        (d) => `${d.verb} ${stripInstance(d.resource)} (${placementText(d)})${d.blocked ? " blocked" : ""}`
      )
    ),
    actions: multiset(keyById.values()),
    edges: multiset(t.edges.map((e) => edgeKey(keyById.get(e.before)!, keyById.get(e.after)!)))
  }
}

export const runCase = (dir: string, name: string, schedule: Scheduler): CaseResult => {
  const xmlFile = join(dir, `${name}.xml`)
  let outcome: Outcome
  try {
    outcome = schedule(readFileSync(xmlFile, "utf8"), xmlFile)
  } catch (e) {
    outcome = { _tag: "Failed", error: e instanceof Error ? (e.stack ?? e.message) : String(e) }
  }
  if (outcome._tag === "Unsupported") {
    return {
      name,
      status: "unsupported",
      summary: false,
      actions: false,
      edges: false,
      reason: `unsupported: ${outcome.feature}`
    }
  }
  if (outcome._tag === "Failed") {
    return {
      name,
      status: "error",
      summary: false,
      actions: false,
      edges: false,
      reason: `error: ${outcome.error.split("\n").slice(0, 2).join(" ")}`
    }
  }
  const expected = readExpected(dir, name)
  const actual = normalize(outcome.transition)
  const summaryDiff = firstDifference(expected.summary, actual.summary)
  const actionsDiff = firstDifference(expected.actions, actual.actions)
  const edgesDiff = firstDifference(expected.edges, actual.edges)
  const reason =
    summaryDiff !== undefined
      ? `summary: ${summaryDiff}`
      : actionsDiff !== undefined
        ? `actions: ${actionsDiff}`
        : edgesDiff !== undefined
          ? `edges: ${edgesDiff}`
          : undefined
  return {
    name,
    status: "compared",
    summary: summaryDiff === undefined,
    actions: actionsDiff === undefined,
    edges: edgesDiff === undefined,
    reason
  }
}

/** Allocation scores that differ from Pacemaker's NAME.scores (pcmk__primitive_assign lines). */
export const scoreDifferences = (dir: string, name: string, schedule: Scheduler): ReadonlyArray<string> => {
  const outcome = schedule(readFileSync(join(dir, `${name}.xml`), "utf8"), name)
  if (outcome._tag !== "Planned") return [outcome._tag === "Failed" ? outcome.error : outcome.feature]
  const out: Array<string> = []
  const line = /^pcmk__primitive_assign: (\S+) allocation score on (\S+): (\S+)$/
  for (const text of readFileSync(join(dir, `${name}.scores`), "utf8").split("\n")) {
    const m = line.exec(text)
    if (!m) continue
    const [, rsc, node, score] = m
    const ours = outcome.transition.scores.get(rsc!)?.get(node!)
    if (ours === undefined) continue
    const expected = score === "INFINITY" ? 1_000_000 : score === "-INFINITY" ? -1_000_000 : Number(score)
    if (ours !== expected) out.push(`${rsc} ${node}: ${score} / ${ours}`)
  }
  return out
}
