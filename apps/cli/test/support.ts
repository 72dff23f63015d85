/** Runs `ha` in-process with its output captured, and reads crm_simulate's Transition Summaries. */
import { join } from "node:path"
import type * as Plan from "../src/Plan.ts"
import * as Testing from "../src/Testing.ts"

export const repo = join(import.meta.dirname, "../../..")
export const example = join(repo, "examples/pg-drbd")

export type Ran = Testing.Ran

/** `ha ARGS…` in this process: exit code and what it printed. */
export const ha = Testing.run

/** One decision, as both `ha plan --json` and crm_simulate's summary can state it. */
export type Decision = Omit<Plan.ActionJson, "reason" | "blocked">

const roles = new Set(["Started", "Stopped", "Promoted", "Unpromoted"])

/** Instance numbers are each scheduler's own (as in @ha/policy's conformance runner): compare without them. */
const base = (resource: string) => resource.replace(/:\d+$/, "")

/** `[Role] [node]` → its parts. */
const side = (text: string) => {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "")
  const role = words[0] !== undefined && roles.has(words[0]) ? words[0] : undefined
  const node = role === undefined ? words[0] : words[1]
  return { role, node }
}

/**
 * Reads the "Transition Summary" of crm_simulate's output into decisions:
 * `* Move fs ( alpha -> beta )`, `* Promote drbd_pg:1 ( Unpromoted -> Promoted beta )`, `* Fence (reboot) alpha '…'`.
 */
export const pacemakerDecisions = (summary: string): Array<Decision> => {
  const section = summary.split("Transition Summary:\n")[1]?.split("\n\n")[0] ?? ""
  const out: Array<Decision> = []
  for (const line of section.split("\n")) {
    const fence = /^\s*\* Fence \(([^)]+)\) (\S+)/.exec(line)
    if (fence) {
      out.push({ action: "fence", node: fence[2], role: fence[1] as string })
      continue
    }
    const match = /^\s*\* (\S+)\s+(\S+)\s+\(\s*(.*?)\s*\)/.exec(line)
    if (!match) continue
    const [, verb = "", resource = "", inner = ""] = match
    const action = verb.toLowerCase()
    const [left = "", right] = inner.split(" -> ")
    const from = side(left)
    const to = right === undefined ? undefined : side(right)
    const fromNode = from.node ?? to?.node
    const toNode = to?.node ?? fromNode
    const role = to?.role ?? from.role ?? "Started"
    if (action === "stop")
      out.push({
        action,
        resource: base(resource),
        node: fromNode,
        from: fromNode as string,
        role: "Stopped"
      })
    else if (action === "start")
      out.push({ action, resource: base(resource), node: toNode, to: toNode as string, role })
    else
      out.push({
        action,
        resource: base(resource),
        node: toNode,
        from: fromNode as string,
        to: toNode as string,
        role
      })
  }
  return sorted(out)
}

/** ha's `actions` (from `ha plan --json`) as decisions (reasons and the blocked flag left out). */
export const haDecisions = (actions: ReadonlyArray<Plan.ActionJson>) =>
  sorted(
    actions.map(({ reason: _r, blocked: _b, ...d }) =>
      d.resource === undefined ? d : { ...d, resource: base(d.resource) }
    )
  )

const key = (d: Decision) =>
  JSON.stringify([d.action, d.resource ?? "", d.node ?? "", d.from ?? "", d.to ?? "", d.role ?? ""])
const sorted = (ds: Array<Decision>) => ds.sort((a, b) => key(a).localeCompare(key(b)))

/** A resource running somewhere, as both crm_simulate's "Revised Cluster Status" and `ha` can state it. */
export interface Running {
  readonly resource: string
  readonly node: string
  readonly role: string
}

/**
 * Reads crm_simulate's "Revised Cluster Status": `* vip (ocf:heartbeat:IPaddr2): Started beta` and, in a
 * clone set of `drbd_pg`, `* Promoted: [ beta ]`; stopped resources are left out.
 */
export const pacemakerRevised = (summary: string): Array<Running> => {
  const section = summary.split("Revised Cluster Status:\n")[1] ?? ""
  const out: Array<Running> = []
  let clone: string | undefined
  for (const line of section.split("\n")) {
    const set = /^\s*\* Clone Set: \S+ \[(\S+)\]/.exec(line)
    if (set) {
      clone = set[1]
      continue
    }
    const members = /^\s*\* (Started|Promoted|Unpromoted): \[ (.*) \]/.exec(line)
    if (members && clone !== undefined) {
      for (const node of (members[2] ?? "").split(/\s+/))
        out.push({ resource: clone, node, role: members[1] as string })
      continue
    }
    const primitive = /^\s*\* (\S+)\s+\([^)]*\):\s+(Started|Promoted|Unpromoted) (\S+)/.exec(line)
    if (primitive) {
      clone = undefined
      out.push({
        resource: primitive[1] as string,
        node: primitive[3] as string,
        role: primitive[2] as string
      })
    }
  }
  return sortedRunning(out)
}

/** What runs where in one of ha's status views. */
export const haRunning = (status: {
  readonly resources: ReadonlyArray<{
    readonly resource: string
    readonly running: ReadonlyArray<{ node: string; role: string }>
  }>
}): Array<Running> =>
  sortedRunning(
    status.resources.flatMap((r) =>
      r.running.map((p) => ({ resource: base(r.resource), node: p.node, role: p.role }))
    )
  )

const sortedRunning = (rs: Array<Running>) =>
  rs.sort((a, b) => `${a.resource} ${a.node} ${a.role}`.localeCompare(`${b.resource} ${b.node} ${b.role}`))
