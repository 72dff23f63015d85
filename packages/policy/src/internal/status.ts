/**
 * Status unpacking: each node's lrm history is replayed per resource (history.ts) and attached to the
 * primitive it belongs to; anonymous clone histories (recorded under the bare child id) are spread over
 * the clone's instances. Fail-counts come from the transient attributes fail-count-RSC[#OP_INTERVAL].
 */
import type { Cib } from "@ha/cib"
import { Score } from "@ha/cib"
import type { ClusterOptions } from "./config.ts"
import { type NodeHistory, replay } from "./history.ts"
import type { NodeInfo } from "./nodes.ts"
import { baseId, configuredOnFail, type Resource, type ResourceSet } from "./resources.ts"

export interface StatusResult {
  /** fail count per primitive id per node index */
  readonly failCounts: Map<string, Map<number, number>>
  /** node indexes where each primitive has any recorded history (no probe needed) */
  readonly known: Map<string, Set<number>>
  /** history ids that match no configured resource and are active somewhere */
  readonly orphans: ReadonlyArray<{
    readonly id: string
    readonly node: number
    readonly history: NodeHistory
  }>
}

export const unpackStatus = (
  nodes: ReadonlyArray<NodeInfo>,
  resources: ResourceSet,
  options: ClusterOptions,
  now: number
): StatusResult => {
  const failCounts = new Map<string, Map<number, number>>()
  const known = new Map<string, Set<number>>()
  const orphans: Array<{ id: string; node: number; history: NodeHistory }> = []
  const markKnown = (id: string, node: number) => {
    const set = known.get(id) ?? new Set<number>()
    set.add(node)
    known.set(id, set)
  }
  // instances of each anonymous clone child, by the child's base id
  const instancesOf = new Map<string, Array<Resource>>()
  for (const p of resources.primitives) {
    if (p.instance === undefined) continue
    const list = instancesOf.get(baseId(p.id)) ?? []
    list.push(p)
    instancesOf.set(baseId(p.id), list)
  }

  nodes.forEach((node, ni) => {
    const state: Cib.NodeState | undefined = node.state
    // a cleanly stopped node runs nothing: its history no longer matters
    if (state?.lrm === undefined || (!node.online && !node.unclean)) return
    // fail counts and last failures from transient attributes
    for (const [name, value] of node.attributes) {
      const m = /^fail-count-(.+?)(?:#(.+))?$/.exec(name)
      if (!m) continue
      const rid = m[1]!
      const count = Score.parse(value) ?? 0
      const targets = resources.byId.get(rid)
        ? [resources.byId.get(rid)!]
        : (instancesOf.get(baseId(rid)) ?? [])
      for (const t of targets) {
        if (failureExpired(t, node, rid, m[2], now)) continue
        const perNode = failCounts.get(t.id) ?? new Map<number, number>()
        perNode.set(ni, Score.add(perNode.get(ni) ?? 0, count))
        failCounts.set(t.id, perNode)
      }
    }
    const byInstance = new Map<string, Set<number>>()
    for (const lrmRsc of state.lrm.resources) {
      const direct = resources.byId.get(lrmRsc.id)
      const base = baseId(lrmRsc.id)
      const instances = instancesOf.get(base)
      const target = direct?.kind === "primitive" ? direct : undefined
      const replayFor = (r: Resource) =>
        replay(node.name, lrmRsc.ops, {
          stonithEnabled: options.stonithEnabled,
          onFail: (op, interval) => configuredOnFail(r, op, interval),
          failureTimeout: r.failureTimeout,
          now
        })
      if (target && target.instance === undefined) {
        target.history.push(replayFor(target))
        markKnown(target.id, ni)
        continue
      }
      if (instances && instances.length > 0) {
        for (const i of instances) markKnown(i.id, ni)
        const h = replayFor(instances[0]!)
        if (h.role === "Stopped" && !h.failed) continue
        // prefer the instance with the recorded number, else the first instance not active here yet
        const used = byInstance.get(base) ?? new Set<number>()
        byInstance.set(base, used)
        const preferred =
          target && !used.has(target.index) && !target.history.some((x) => x.role !== "Stopped")
            ? target
            : undefined
        const pick =
          preferred ??
          instances.find((i) => !used.has(i.index) && !i.history.some((x) => x.role !== "Stopped")) ??
          instances.find((i) => !used.has(i.index))
        if (pick) {
          used.add(pick.index)
          pick.history.push(h)
        }
        continue
      }
      const h = replay(node.name, lrmRsc.ops, {
        stonithEnabled: options.stonithEnabled,
        onFail: () => undefined,
        failureTimeout: 0,
        now
      })
      if (h.role !== "Stopped") orphans.push({ id: lrmRsc.id, node: ni, history: h })
    }
  })
  return { failCounts, known, orphans }
}

/** A fail-count whose last failure is older than the resource's failure-timeout no longer counts. */
const failureExpired = (
  r: Resource,
  node: NodeInfo,
  rid: string,
  opSuffix: string | undefined,
  now: number
): boolean => {
  if (r.failureTimeout <= 0) return false
  const last = node.attributes.get(`last-failure-${rid}${opSuffix !== undefined ? `#${opSuffix}` : ""}`)
  if (last === undefined) return false
  return now >= Number(last) + r.failureTimeout
}
