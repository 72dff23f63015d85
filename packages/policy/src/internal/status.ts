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
    // a cleanly stopped node runs nothing: its history no longer matters (unless the node is in
    // maintenance: what ran there is left alone, as it was)
    if (state?.lrm === undefined || (!node.online && !node.unclean && !node.maintenance)) return
    const byInstance = new Map<string, Set<number>>()
    for (const lrmRsc of state.lrm.resources) {
      const direct = resources.byId.get(lrmRsc.id)
      const base = baseId(lrmRsc.id)
      const instances = instancesOf.get(base)
      const target = direct?.kind === "primitive" ? direct : undefined
      const replayFor = (r: Resource) =>
        replay(node.name, lrmRsc.id, lrmRsc.ops, {
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
        const free = (i: Resource) =>
          !i.history.some((x) => x.role !== "Stopped") &&
          (i.parent?.kind !== "group" ||
            !i.parent.children.some((m) => m.history.some((x) => x.role !== "Stopped")))
        const preferred = target && !used.has(target.index) && free(target) ? target : undefined
        const pick =
          groupInstancePick(instances, node.name) ??
          preferred ??
          instances.find((i) => !used.has(i.index) && free(i)) ??
          instances.find((i) => !used.has(i.index))
        if (pick) {
          used.add(pick.index)
          pick.history.push(h)
        }
        continue
      }
      const h = replay(node.name, lrmRsc.id, lrmRsc.ops, {
        stonithEnabled: options.stonithEnabled,
        onFail: () => undefined,
        failureTimeout: 0,
        now
      })
      if (h.role !== "Stopped") orphans.push({ id: lrmRsc.id, node: ni, history: h })
    }
    // fail counts from transient attributes (after the history, which tells ignored failures)
    for (const [name, value] of node.attributes) {
      const m = /^fail-count-(.+?)(?:#(.+))?$/.exec(name)
      if (!m) continue
      const rid = m[1]!
      const count = Score.parse(value) ?? 0
      const direct = resources.byId.get(rid)
      // an anonymous clone's fail count counts against every instance on the node
      const anonymous = direct?.instance !== undefined && !direct.globallyUnique
      const targets = direct && !anonymous ? [direct] : (instancesOf.get(baseId(rid)) ?? [])
      for (const t of targets) {
        if (failureExpired(t, node, rid, m[2], now)) continue
        // failures of operations configured with on-fail=ignore do not count
        if (failureIgnored(t, node.name, m[2])) continue
        const perNode = failCounts.get(t.id) ?? new Map<number, number>()
        perNode.set(ni, Score.add(perNode.get(ni) ?? 0, count))
        failCounts.set(t.id, perNode)
      }
    }
  })
  return { failCounts, known, orphans }
}

/**
 * For a member of a cloned group: the member in the group instance already active on this node (the
 * members found on one node belong to one instance).
 */
const groupInstancePick = (instances: ReadonlyArray<Resource>, node: string): Resource | undefined => {
  if (instances[0]?.parent?.kind !== "group") return undefined
  const active = (g: Resource | undefined, where?: string) =>
    g?.children.some((m) =>
      m.history.some((h) => h.role !== "Stopped" && (where === undefined || h.node === where))
    )
  const here = instances.find((i) => active(i.parent, node))
  return here?.history.some((h) => h.node === node) ? undefined : here
}

/** Whether the failures a fail-count attribute counts were ignored (on-fail=ignore). */
const failureIgnored = (r: Resource, node: string, opSuffix: string | undefined): boolean => {
  if (opSuffix !== undefined) {
    const m = /^(.+)_(\d+)$/.exec(opSuffix)
    if (m) return configuredOnFail(r, m[1]!, Number(m[2])) === "ignore"
  }
  const h = r.history.find((x) => x.node === node)
  return h?.failureIgnored === true && !h.failed
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
