/**
 * Node priorities for priority-fencing-delay: the sum of the `priority` meta attribute of the
 * resources active on each node (a promoted instance counts one more), read from the CIB status.
 * The fencer takes these numbers as input, so the controller can feed its own assignment instead.
 */
import { Cib } from "@ha/cib"

type Parent = Cib.Group | Cib.Clone | undefined

const primitivesWithParent = (resources: ReadonlyArray<Cib.Resource>) => {
  const out = new Map<string, { primitive: Cib.Primitive; parents: ReadonlyArray<Cib.Group | Cib.Clone> }>()
  const visit = (resource: Cib.Resource, parents: ReadonlyArray<Cib.Group | Cib.Clone>) => {
    if (resource._tag === "Primitive") out.set(resource.id, { primitive: resource, parents })
    else if (resource._tag === "Group")
      for (const member of resource.members) visit(member, [resource, ...parents])
    else if (resource._tag === "Clone") visit(resource.child, [resource, ...parents])
  }
  for (const resource of resources) visit(resource, [])
  return out
}

const numberOr0 = (text: string | undefined) => {
  const n = text === undefined ? Number.NaN : Number.parseInt(text, 10)
  return Number.isNaN(n) ? 0 : n
}

/** Whether the recorded operations leave the resource active on the node, and in which role. */
const activeRole = (ops: ReadonlyArray<Cib.LrmRscOp>): "Started" | "Promoted" | undefined => {
  const ordered = [...ops].filter((op) => op.callId >= 0).sort((a, b) => a.callId - b.callId)
  let role: "Started" | "Promoted" | undefined
  for (const op of ordered) {
    const ok = op.rcCode === 0
    switch (op.operation) {
      case "start":
      case "migrate_from":
        if (ok) role = "Started"
        break
      case "promote":
        if (ok) role = "Promoted"
        break
      case "demote":
        if (ok) role = "Started"
        break
      case "stop":
      case "migrate_to":
        if (ok) role = undefined
        break
      case "monitor":
        role =
          op.rcCode === 8
            ? "Promoted"
            : op.rcCode === 0
              ? (role ?? "Started")
              : op.rcCode === 7
                ? undefined
                : role
        break
    }
  }
  return role
}

export const nodePriorities = (cib: Cib.Cib): Record<string, number> => {
  const primitives = primitivesWithParent(cib.configuration.resources)
  const defaultPriority = numberOr0(Cib.metaValue(cib.configuration.rscDefaults, "priority"))
  const result: Record<string, number> = {}
  for (const node of cib.configuration.nodes) result[node.uname] = 0
  for (const state of cib.status.nodes) {
    const node = state.uname ?? cib.configuration.nodes.find((n) => n.id === state.id)?.uname
    if (node === undefined) continue
    for (const lrm of state.lrm?.resources ?? []) {
      const found = primitives.get(lrm.id.replace(/:[0-9]+$/, ""))
      if (found === undefined || found.primitive.class === "stonith") continue
      const role = activeRole(lrm.ops)
      if (role === undefined) continue
      const parent: Parent = found.parents[0]
      const text =
        Cib.metaValue(found.primitive.metaAttributes, "priority") ??
        found.parents.map((p) => Cib.metaValue(p.metaAttributes, "priority")).find((v) => v !== undefined)
      const priority = text === undefined ? defaultPriority : numberOr0(text)
      result[node] = (result[node] ?? 0) + priority + (role === "Promoted" && parent !== undefined ? 1 : 0)
    }
  }
  return result
}

/**
 * priority-fencing-delay applies to fencing `target` when its priority is higher than that of every
 * other node in `nodes` (equal priorities: no delay, as in Pacemaker).
 */
export const priorityDelayApplies = (
  priorities: Readonly<Record<string, number>>,
  nodes: ReadonlyArray<string>,
  target: string
): boolean => {
  const own = priorities[target] ?? 0
  const others = nodes.filter((node) => node !== target)
  return others.length > 0 && others.every((node) => (priorities[node] ?? 0) < own)
}
