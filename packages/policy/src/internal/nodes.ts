/**
 * Node states (Pacemaker Explained, "Cluster Nodes"; crm_simulate's node list): online, offline, pending,
 * unclean (must be fenced), standby, maintenance, shutting down; plus the attributes rules see.
 */
import { Cib } from "@ha/cib"
import type { ClusterOptions } from "./config.ts"
import { resolveNvSets } from "./rules.ts"

export interface NodeInfo {
  readonly id: string
  readonly name: string
  /** position in the configuration: Pacemaker's tie-breaker between equal nodes */
  readonly index: number
  readonly online: boolean
  /** must be fenced before its resources can be recovered elsewhere */
  readonly unclean: boolean
  /** why it is unclean, as crm_simulate words it */
  readonly uncleanReason: string | undefined
  readonly pending: boolean
  readonly standby: boolean
  readonly maintenance: boolean
  readonly shutdown: boolean
  /** node attributes (configuration instance attributes, then transient attributes) and built-ins */
  readonly attributes: ReadonlyMap<string, string>
  readonly utilization: ReadonlyMap<string, number>
  readonly state: Cib.NodeState | undefined
}

/** Whether resources may be placed on the node. */
export const canHostResources = (n: NodeInfo): boolean =>
  n.online && !n.unclean && !n.standby && !n.maintenance && !n.shutdown && !n.pending

export const unavailableReason = (n: NodeInfo): string | undefined =>
  n.unclean
    ? "unclean"
    : !n.online
      ? n.pending
        ? "pending"
        : "offline"
      : n.standby
        ? "standby"
        : n.maintenance
          ? "maintenance"
          : n.shutdown
            ? "shutting down"
            : undefined

const isOnlineValue = (v: string | undefined) =>
  v !== undefined && (v === "online" || (/^\d+$/.test(v) && v !== "0"))
const isMemberValue = (v: string | undefined) =>
  v !== undefined && (Cib.isTrue(v) || (/^\d+$/.test(v) && v !== "0"))

export const unpackNodes = (cib: Cib.Cib, options: ClusterOptions, now: number): ReadonlyArray<NodeInfo> => {
  const states = new Map<string, Cib.NodeState>()
  for (const s of cib.status.nodes) {
    if (s.id !== undefined) states.set(s.id, s)
    if (s.uname !== undefined && !states.has(s.uname)) states.set(s.uname, s)
  }
  return cib.configuration.nodes.map((node, index) => {
    const state = states.get(node.id) ?? states.get(node.uname)
    const attributes = new Map<string, string>([
      ["#uname", node.uname],
      ["#id", node.id],
      ["#kind", node.type === "remote" ? "remote" : "cluster"],
      ["#is_dc", cib.dcUuid === node.id ? "true" : "false"]
    ])
    const ctx = { attributes, now }
    resolveNvSets(node.instanceAttributes, ctx, attributes)
    if (state?.transientAttributes) resolveNvSets(state.transientAttributes.sets, ctx, attributes)
    const utilization = new Map<string, number>()
    for (const [k, v] of resolveNvSets(node.utilization, ctx)) utilization.set(k, Number(v) || 0)

    let online = false
    let unclean = false
    let uncleanReason: string | undefined
    let pending = false
    const shutdownAttr = attributes.get("shutdown")
    const shutdown = shutdownAttr !== undefined && shutdownAttr !== "0"
    if (state === undefined) {
      // never seen: unclean until proven otherwise when startup fencing is on
      if (options.stonithEnabled && options.startupFencing) {
        unclean = true
        uncleanReason = "node is unclean"
      }
    } else {
      const inCluster = isMemberValue(state.inCcm)
      const crmdOnline = isOnlineValue(state.crmd)
      const join = state.join ?? "down"
      const expected = state.expected
      if (inCluster && crmdOnline && join === "member") online = true
      else if (inCluster && crmdOnline && join === "banned" && options.stonithEnabled) {
        unclean = true
        uncleanReason = "peer failed Pacemaker membership criteria"
      } else if (inCluster && crmdOnline) pending = true
      else if (!inCluster && expected === "member" && options.stonithEnabled) {
        unclean = true
        uncleanReason = "peer is no longer part of the cluster"
      } else if (inCluster && !crmdOnline && expected === "member" && options.stonithEnabled) {
        unclean = true
        uncleanReason = "peer process is no longer available"
      }
    }
    const standby = Cib.isTrue(attributes.get("standby"))
    const maintenance = Cib.isTrue(attributes.get("maintenance")) || Cib.isTrue(state?.nodeInMaintenance)
    return {
      id: node.id,
      name: node.uname,
      index,
      online,
      unclean,
      uncleanReason,
      pending,
      standby,
      maintenance,
      shutdown: online && shutdown,
      attributes,
      utilization,
      state
    }
  })
}
