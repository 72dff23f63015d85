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
  const roleOn = (i: number): Role => {
    const h = p.resource.history.find((x) => x.node === nodes[i]!.name)
    return h?.role ?? "Started"
  }
  const decide = (
    verb: Decision["verb"],
    from: Decision["from"],
    to: Decision["to"],
    blocked: boolean,
    reason: string | undefined
  ): Decision => ({ verb, resource: id, from, to, blocked, reason, reasons })
  const { active, target, start } = p
  const out: Array<Decision> = []
  if (active.length === 0) {
    if (target !== undefined && start.required) {
      out.push(decide("Start", undefined, at(nodes, target, "Started"), !start.runnable, start.blockedBy))
    }
    return out
  }
  const moving = start.required && start.runnable
  // a resource active on several nodes: stopped everywhere but where it goes
  const primary = active.includes(target ?? -1) ? target! : active[0]!
  for (const i of active) {
    if (i === primary) continue
    const stop = p.stops.get(i)!
    if (stop.required) out.push(decide("Stop", at(nodes, i, roleOn(i)), undefined, !stop.runnable, stop.requiredBy))
  }
  const stop = p.stops.get(primary)!
  const failed = p.failed.has(primary)
  if (target === primary) {
    if (stop.required && moving) {
      out.push(
        decide(failed ? "Recover" : "Restart", at(nodes, primary, roleOn(primary)), at(nodes, primary, roleOn(primary)), !stop.runnable, start.requiredBy)
      )
    } else if (stop.required) {
      out.push(decide("Stop", at(nodes, primary, roleOn(primary)), undefined, !stop.runnable, start.blockedBy ?? stop.requiredBy))
    }
  } else if (target !== undefined && moving) {
    out.push(
      decide(
        failed ? "Recover" : "Move",
        at(nodes, primary, roleOn(primary)),
        at(nodes, target, "Started"),
        !stop.runnable,
        stop.requiredBy
      )
    )
  } else if (stop.required) {
    out.push(
      decide("Stop", at(nodes, primary, roleOn(primary)), undefined, !stop.runnable, start.blockedBy ?? stop.requiredBy)
    )
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
