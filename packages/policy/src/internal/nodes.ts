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
    // transient attributes (the status section) override the configured ones
    if (state?.transientAttributes)
      for (const [k, v] of resolveNvSets(state.transientAttributes.sets, ctx)) attributes.set(k, v)
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
      // Pacemaker's reading of node_state (in_ccm, crmd, join, expected) and of a termination request
      const inCluster = isMemberValue(state.inCcm)
      const crmdOnline = isOnlineValue(state.crmd)
      const join = state.join ?? "down"
      const expected = state.expected ?? "down"
      const terminateAttr = attributes.get("terminate")
      const terminate =
        terminateAttr !== undefined && (Cib.isTrue(terminateAttr) || /^[1-9]/.test(terminateAttr))
      const fence = (why: string) => {
        unclean = true
        uncleanReason = why
      }
      online = inCluster
      if (!options.stonithEnabled) {
        online = false
        if (!inCluster) {
          // down
        } else if (crmdOnline) online = join === "member"
        else if (expected === "member") fence("peer is unexpectedly down")
      } else if (shutdown) {
        // a peer shutting down cannot be dead: online means its controller is up
        online = crmdOnline
      } else if (state.inCcm === undefined) fence("peer has not been seen by the cluster")
      else if (join === "banned") fence("peer failed Pacemaker membership criteria")
      else if (!terminate && expected === "down") {
        if (inCluster || crmdOnline) pending = true
      } else if (terminate && join === "down" && !inCluster && !crmdOnline) online = false
      else if (!inCluster) fence("peer is no longer part of the cluster")
      else if (!crmdOnline) fence("peer process is no longer available")
      else if (terminate) fence("termination was requested")
      else if (join === "pending" || join === "down") pending = true
      else if (join !== "member") fence("peer was in an unknown state")
      if (pending) online = false
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
