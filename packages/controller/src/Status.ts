/**
 * Pure edits of the CIB status section that the DC makes: operation results (`lrm_rsc_op`), node
 * membership and fencing (`node_state`), and fail-counts (transient attributes), in the shape the
 * scheduler reads back (packages/policy replays each resource's history in call-id order).
 */
import { Cib, Score } from "@ha/cib"
import type { OperationRecord } from "@ha/executor"

/** The lrm_resource an operation belongs to: its history id and agent. */
export interface LrmTarget {
  /** The history id: the primitive id, the bare child id for anonymous clone instances. */
  readonly id: string
  readonly class: string | undefined
  readonly provider: string | undefined
  readonly type: string | undefined
}

const configuredNode = (cib: Cib.Cib, name: string) => cib.configuration.nodes.find((n) => n.uname === name)

const sameNode = (cib: Cib.Cib, name: string) => (state: Cib.NodeState) =>
  state.uname === name || (state.uname === undefined && state.id === configuredNode(cib, name)?.id)

/** Applies `change` to the node's node_state, creating it when the node has none yet. */
export const updateNode = (
  cib: Cib.Cib,
  name: string,
  change: (state: Cib.NodeState) => Cib.NodeState
): Cib.Cib => {
  const existing = cib.status.nodes.find(sameNode(cib, name))
  const id = configuredNode(cib, name)?.id ?? name
  const base: Cib.NodeState = existing ?? { id, uname: name, extra: {} }
  const next = change(base)
  const nodes =
    existing === undefined
      ? [...cib.status.nodes, next]
      : cib.status.nodes.map((state) => (state === existing ? next : state))
  return { ...cib, status: { ...cib.status, nodes } }
}

/** The node is in the membership with a running controller. */
export const markMember = (cib: Cib.Cib, name: string): Cib.Cib =>
  updateNode(cib, name, (s) => ({ ...s, inCcm: "true", crmd: "online", join: "member", expected: "member" }))

/**
 * The node left the membership. Its `expected` state is kept: a node expected up that vanished is
 * unclean (the scheduler fences it), one that shut down cleanly (expected "down") is just offline.
 */
export const markLost = (cib: Cib.Cib, name: string): Cib.Cib =>
  updateNode(cib, name, (s) => ({ ...s, inCcm: "false", crmd: "offline", join: "down" }))

/** Fencing confirmed the node down: nothing runs there any more, its history and attributes go. */
export const markFenced = (cib: Cib.Cib, name: string): Cib.Cib =>
  updateNode(cib, name, (s) => {
    const { transientAttributes: _attributes, lrm: _lrm, ...rest } = s
    return { ...rest, inCcm: "false", crmd: "offline", join: "down", expected: "down" }
  })

/**
 * The CIB with the membership written into it: members marked in, members that left marked lost,
 * quorum, and `dc` as the DC. The same object when the CIB already says all of that.
 */
export const withMembership = (
  cib: Cib.Cib,
  dc: string,
  members: ReadonlySet<string>,
  quorate: boolean
): Cib.Cib => {
  const dcUuid = configuredNode(cib, dc)?.id
  let updated = cib
  if (cib.haveQuorum !== (quorate ? "1" : "0") || (dcUuid !== undefined && cib.dcUuid !== dcUuid))
    updated = { ...cib, haveQuorum: quorate ? "1" : "0", ...(dcUuid === undefined ? {} : { dcUuid }) }
  for (const node of cib.configuration.nodes) {
    const state = cib.status.nodes.find(sameNode(cib, node.uname))
    const member = state !== undefined && isMemberState(state) && state.crmd === "online"
    if (members.has(node.uname) && (!member || state?.expected !== "member"))
      updated = markMember(updated, node.uname)
    else if (!members.has(node.uname) && state !== undefined && isMemberState(state))
      updated = markLost(updated, node.uname)
  }
  return updated
}

/**
 * Forgets what the node's executor ran (its lrm history): when a node joins, or when this daemon
 * starts, the history on record may be stale (a node that was fenced); the scheduler probes the
 * node again and the probes say what really runs there. The same CIB when there is none.
 */
export const forgetHistory = (cib: Cib.Cib, name: string): Cib.Cib => {
  const state = cib.status.nodes.find(sameNode(cib, name))
  if (state?.lrm === undefined || state.lrm.resources.length === 0) return cib
  return updateNode(cib, name, (s) => {
    const { lrm: _lrm, ...rest } = s
    return rest
  })
}

/** Whether the node_state says the node is in the membership. */
export const isMemberState = (state: Cib.NodeState): boolean => Cib.isTrue(state.inCcm)

/** Whether the node left the membership while expected up (unclean until fenced). */
export const isUnclean = (cib: Cib.Cib, name: string): boolean => {
  const state = cib.status.nodes.find(sameNode(cib, name))
  return state !== undefined && state.expected === "member" && !Cib.isTrue(state.inCcm)
}

const OK = 0
const NOT_RUNNING = 7
const RUNNING_PROMOTED = 8
const DONE = 0

/** History ids of the resources the node's history says are active (a last successful start, etc.). */
export const activeResources = (cib: Cib.Cib, name: string): ReadonlySet<string> => {
  const state = cib.status.nodes.find(sameNode(cib, name))
  const active = new Set<string>()
  for (const resource of state?.lrm?.resources ?? []) {
    let running = false
    for (const op of [...resource.ops].sort((a, b) => a.callId - b.callId)) {
      if (op.opStatus !== DONE) continue
      if (op.operation === "stop" && op.rcCode === OK) running = false
      else if ((op.operation === "start" || op.operation === "promote") && op.rcCode === OK) running = true
      else if (op.operation === "monitor")
        running = op.rcCode === OK || op.rcCode === RUNNING_PROMOTED || (op.rcCode !== NOT_RUNNING && running)
    }
    if (running) active.add(resource.id)
  }
  return active
}

/**
 * Records an operation result under the node's lrm. A record replaces the one with the same
 * operation key; a successful stop also drops the resource's recurring monitors (the executor
 * cancelled them).
 */
export const recordOperation = (
  cib: Cib.Cib,
  target: LrmTarget,
  record: OperationRecord.OperationRecord,
  transitionKey: string | undefined
): Cib.Cib => {
  // notifications are not part of a resource's history (Pacemaker does not record them either)
  if (record.operation === "notify") return cib
  let op: Cib.LrmRscOp = {
    id: `${target.id}_${record.operation}_${record.interval}`,
    operationKey: `${target.id}_${record.operation}_${record.interval}`,
    operation: record.operation,
    interval: record.interval,
    rcCode: record.rcCode,
    opStatus: record.opStatus,
    callId: record.callId,
    lastRun: record.lastRun,
    lastRcChange: record.lastRcChange,
    execTime: record.execTime,
    queueTime: record.queueTime,
    opDigest: record.opDigest,
    onNode: record.onNode,
    ...(record.exitReason === "" ? {} : { exitReason: record.exitReason }),
    ...(transitionKey === undefined ? {} : { transitionKey }),
    extra: {}
  }
  const stopped = record.operation === "stop" && record.rcCode === OK && record.opStatus === DONE
  return updateNode(cib, record.onNode, (state) => {
    const lrm: Cib.Lrm = state.lrm ?? { id: state.id ?? record.onNode, extra: {}, resources: [] }
    const existing = lrm.resources.find((r) => r.id === target.id)
    // a recurring monitor's later results come without a transition key: the scheduler still
    // needs the one it was started with, which says what result is expected
    const previousKey = existing?.ops.find((o) => o.id === op.id)?.transitionKey
    if (op.transitionKey === undefined && previousKey !== undefined)
      op = { ...op, transitionKey: previousKey }
    const kept = (existing?.ops ?? []).filter(
      (o) => o.id !== op.id && !(stopped && o.operation === "monitor" && o.interval > 0)
    )
    const resource: Cib.LrmResource = {
      id: target.id,
      ...(target.class === undefined ? {} : { class: target.class }),
      ...(target.provider === undefined ? {} : { provider: target.provider }),
      ...(target.type === undefined ? {} : { type: target.type }),
      ops: [...kept, op]
    }
    const resources =
      existing === undefined
        ? [...lrm.resources, resource]
        : lrm.resources.map((r) => (r === existing ? resource : r))
    return { ...state, lrm: { ...lrm, resources } }
  })
}

/** Drops an operation's record (a cancelled recurring monitor no longer runs). */
export const removeOperation = (
  cib: Cib.Cib,
  node: string,
  resource: string,
  operationKey: string
): Cib.Cib =>
  updateNode(cib, node, (state) =>
    state.lrm === undefined
      ? state
      : {
          ...state,
          lrm: {
            ...state.lrm,
            resources: state.lrm.resources.map((r) =>
              r.id === resource ? { ...r, ops: r.ops.filter((o) => o.id !== operationKey) } : r
            )
          }
        }
  )

/** A transient node attribute (fail-counts, promotion scores, shutdown). */
export const attribute = (cib: Cib.Cib, node: string, name: string): string | undefined =>
  Cib.metaValue(cib.status.nodes.find(sameNode(cib, node))?.transientAttributes?.sets ?? [], name)

/** Sets a transient node attribute (in the node's first attribute set, created when missing). */
export const setAttribute = (cib: Cib.Cib, node: string, name: string, value: string): Cib.Cib =>
  updateNode(cib, node, (state) => withTransientAttributes(state, node, name, value))

/** Removes a transient node attribute (the same CIB when the node does not have it). */
export const removeAttribute = (cib: Cib.Cib, node: string, name: string): Cib.Cib =>
  attribute(cib, node, name) === undefined
    ? cib
    : updateNode(cib, node, (state) => withTransientAttributes(state, node, name, undefined))

const withTransientAttributes = (
  state: Cib.NodeState,
  node: string,
  name: string,
  value: string | undefined
): Cib.NodeState => {
  const nodeId = state.id ?? node
  return {
    ...state,
    transientAttributes: {
      id: state.transientAttributes?.id ?? nodeId,
      sets: Cib.setNvPair(state.transientAttributes?.sets ?? [], `status-${nodeId}`, name, value)
    }
  }
}

/**
 * Counts a failure of `operation` (interval ms) of `resource` on `node` at `now` (s): Pacemaker's
 * `fail-count-RSC#OP_INTERVAL` and `last-failure-RSC#OP_INTERVAL`. A failed start counts as
 * INFINITY (start-failure-is-fatal), so the resource moves away at once.
 */
export const countFailure = (
  cib: Cib.Cib,
  node: string,
  resource: string,
  operation: string,
  interval: number,
  now: number,
  infinite: boolean
): Cib.Cib => {
  const suffix = `${resource}#${operation}_${interval}`
  const previous = Score.parse(attribute(cib, node, `fail-count-${suffix}`) ?? "0") ?? 0
  const count = infinite ? Score.INFINITY : Score.add(previous, 1)
  const withCount = setAttribute(cib, node, `fail-count-${suffix}`, Score.format(count))
  return setAttribute(withCount, node, `last-failure-${suffix}`, String(now))
}
