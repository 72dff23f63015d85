/**
 * The Transition Summary: one decision per resource whose state changes (Start, Stop, Move, Recover,
 * Restart …) and one per fenced node, read off the settled action flags as crm_simulate prints them.
 */
import type { Decision, Reason, Role } from "../Transition.ts"
import type { NodeInfo } from "./nodes.ts"
import type { PrimitivePlan } from "./primitive.ts"

const at = (nodes: ReadonlyArray<NodeInfo>, i: number, role: Role) => ({ node: nodes[i]!.name, role })

export const summarizePrimitive = (
  p: PrimitivePlan,
  nodes: ReadonlyArray<NodeInfo>,
  reasons: ReadonlyArray<Reason>
): ReadonlyArray<Decision> => {
  if (p.frozen || !p.resource.managed) return []
  const id = p.resource.id
  const roleOn = (i: number): Role => p.roles.get(i) ?? "Started"
  const nextRole: Role = p.targetRole
  const decide = (
    verb: Decision["verb"],
    from: Decision["from"],
    to: Decision["to"],
    blocked: boolean,
    reason: string | undefined
  ): Decision => ({ verb, resource: id, from, to, blocked, reason, reasons })
  const { active, target, start, promote } = p
  const out: Array<Decision> = []
  if (active.length === 0) {
    if (target !== undefined && start.required) {
      if (nextRole === "Promoted" && promote) {
        out.push(
          decide("Promote", undefined, at(nodes, target, "Promoted"), !promote.runnable, start.blockedBy)
        )
      } else
        out.push(decide("Start", undefined, at(nodes, target, nextRole), !start.runnable, start.blockedBy))
    }
    return out
  }
  const startsThere = start.required && start.runnable
  // a resource active on several nodes is stopped everywhere and started once: one decision
  const primary = active.includes(target ?? -1) ? target! : active[0]!
  const stop = p.stops.get(primary)!
  const failed = active.length > 1 ? p.failed.size > 0 : p.failed.has(primary)
  const from = at(nodes, primary, roleOn(primary))
  if (target === primary) {
    const demote = p.demotes.get(primary)
    if (stop.required && startsThere) {
      out.push(
        decide(
          failed ? "Recover" : "Restart",
          from,
          at(nodes, primary, nextRole),
          !stop.runnable,
          start.requiredBy
        )
      )
    } else if (stop.required) {
      out.push(decide("Stop", from, undefined, !stop.runnable, start.blockedBy ?? stop.requiredBy))
    } else if (from.role === "Promoted" && nextRole === "Promoted" && demote?.required && promote?.required) {
      out.push(
        decide("Re-promote", from, at(nodes, primary, nextRole), !promote.runnable, promote.requiredBy)
      )
    } else if (from.role !== "Promoted" && nextRole === "Promoted" && promote?.required) {
      out.push(decide("Promote", from, at(nodes, primary, nextRole), !promote.runnable, promote.blockedBy))
    } else if (from.role === "Promoted" && nextRole !== "Promoted" && demote?.required) {
      out.push(decide("Demote", from, at(nodes, primary, nextRole), !demote.runnable, demote.requiredBy))
    }
  } else if (target !== undefined && startsThere) {
    const verb = failed ? "Recover" : p.migrating ? "Migrate" : "Move"
    out.push(decide(verb, from, at(nodes, target, nextRole), !stop.runnable, stop.requiredBy))
  } else if (stop.required) {
    out.push(decide("Stop", from, undefined, !stop.runnable, start.blockedBy ?? stop.requiredBy))
  }
  return out
}

export const fenceDecision = (node: NodeInfo, action: string, reason: string): Decision => ({
  verb: "Fence",
  resource: node.name,
  from: undefined,
  to: undefined,
  fenceAction: action,
  blocked: false,
  reason,
  reasons: [{ _tag: "NodeUnavailable", node: node.name, why: reason }]
})
