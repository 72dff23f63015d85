/**
 * Resource history (the status section's lrm_rsc_op records): replays each resource's operations on each
 * node in call order to find its current role there, whether it failed, and how to react to the failure.
 */
import type { Cib } from "@ha/cib"
import type { Role } from "../Transition.ts"

/** How to react to a failed operation (Pacemaker Explained, on-fail). */
export type OnFail = "ignore" | "block" | "stop" | "restart" | "standby" | "fence" | "demote"

export interface NodeHistory {
  readonly node: string
  /** the role the resource has on the node now (Stopped if not active) */
  role: Role
  /** an operation failed and the resource needs recovery there */
  failed: boolean
  /** the reaction to the last failure */
  onFail: OnFail | undefined
  /** a stop failed: the node must be fenced (or the resource blocked) */
  stopFailed: boolean
  /** a hard error: the resource may never run on this node again (or anywhere, for `everywhere`) */
  banned: "node" | "everywhere" | undefined
  /** recurring monitors recorded as active (interval in ms → role they were started for) */
  readonly monitors: Set<number>
  /** the operation that failed last, for explanations */
  failedOperation: string | undefined
  /** an operation (start, stop, promote, demote, migrate) still in flight */
  pending: string | undefined
  /** a failure happened whose on-fail is ignore: it does not count against migration-threshold */
  failureIgnored: boolean
  /** the operations since the resource last started here (none if it stopped since), in call order */
  sinceStart: ReadonlyArray<Cib.LrmRscOp>
  /** the id the history was recorded under (a clone instance's may differ from the instance's id) */
  readonly recordedAs: string
}

/** Extracts the expected rc from a transition key `action:transition:expected_rc:uuid`. */
const expectedRc = (op: Cib.LrmRscOp): number | undefined => {
  const key = op.transitionKey ?? op.transitionMagic?.split(";")[1]
  if (key === undefined) return undefined
  const parts = key.split(":")
  if (parts.length < 4) return undefined
  const rc = Number(parts[2])
  return Number.isNaN(rc) ? undefined : rc
}

const OK = 0
const NOT_RUNNING = 7
const RUNNING_PROMOTED = 8
const FAILED_PROMOTED = 9
const DEGRADED = 190
const DEGRADED_PROMOTED = 191

const STATUS_PENDING = -1
const STATUS_DONE = 0
const STATUS_CANCELLED = 1
const STATUS_NOT_SUPPORTED = 3
const STATUS_ERROR_HARD = 5
const STATUS_ERROR_FATAL = 6
const STATUS_NOT_INSTALLED = 7

/** Looks up the configured on-fail of an operation; `undefined` when not configured. */
export type OnFailLookup = (operation: string, interval: number) => OnFail | undefined

export interface ReplayOptions {
  readonly stonithEnabled: boolean
  readonly onFail: OnFailLookup
  /** failures older than this (seconds; 0 = never) have expired */
  readonly failureTimeout: number
  /** seconds since the epoch */
  readonly now: number
}

const defaultOnFail = (operation: string, o: ReplayOptions): OnFail =>
  operation === "stop" ? (o.stonithEnabled ? "fence" : "block") : "restart"

/** Replays one resource's operation history on one node. */
export const replay = (
  node: string,
  recordedAs: string,
  ops: ReadonlyArray<Cib.LrmRscOp>,
  o: ReplayOptions
): NodeHistory => {
  const h: NodeHistory = {
    node,
    role: "Stopped",
    failed: false,
    onFail: undefined,
    stopFailed: false,
    banned: undefined,
    monitors: new Set(),
    failedOperation: undefined,
    pending: undefined,
    failureIgnored: false,
    sinceStart: [],
    recordedAs
  }
  const sorted = [...ops].sort((a, b) => {
    // pending operations (call-id -1) are the most recent
    const ca = a.callId < 0 ? Number.MAX_SAFE_INTEGER : a.callId
    const cb = b.callId < 0 ? Number.MAX_SAFE_INTEGER : b.callId
    // a last_failure record shares the call of the record it failed: the failure is the later word
    const fa = a.id.endsWith("_last_failure_0") ? 1 : 0
    const fb = b.id.endsWith("_last_failure_0") ? 1 : 0
    return ca - cb || fa - fb || (a.lastRcChange ?? 0) - (b.lastRcChange ?? 0)
  })
  const clearFailure = () => {
    if (
      h.onFail === undefined ||
      h.onFail === "restart" ||
      h.onFail === "ignore" ||
      h.onFail === "demote" ||
      h.onFail === "block"
    ) {
      if (h.onFail !== "block") {
        h.failed = false
        h.onFail = undefined
      }
    }
  }
  for (const op of sorted) {
    const task = op.operation
    if (op.opStatus === STATUS_CANCELLED) continue
    if (task === "notify" || task === "meta-data" || task === "cancel" || task === "delete") continue
    if (op.opStatus === STATUS_PENDING) {
      h.pending = task
      if (task === "start" || task === "migrate_from") h.role = "Started"
      else if (task === "promote") h.role = "Promoted"
      else if (task === "demote") h.role = "Unpromoted"
      continue
    }
    const isProbe = task === "monitor" && op.interval === 0
    const expected = expectedRc(op) ?? (isProbe ? NOT_RUNNING : OK)
    // degraded (OCF 190/191) is success with a warning: running, or running promoted
    let rc = op.rcCode === DEGRADED ? OK : op.rcCode === DEGRADED_PROMOTED ? RUNNING_PROMOTED : op.rcCode
    const hardStatus =
      op.opStatus === STATUS_ERROR_HARD ||
      op.opStatus === STATUS_ERROR_FATAL ||
      op.opStatus === STATUS_NOT_INSTALLED
    const success =
      op.opStatus === STATUS_DONE &&
      (rc === expected ||
        (isProbe && (rc === OK || rc === NOT_RUNNING || rc === RUNNING_PROMOTED)) ||
        (task === "monitor" && rc === RUNNING_PROMOTED && expected === OK) ||
        (task === "monitor" && rc === OK && expected === RUNNING_PROMOTED))
    if (op.opStatus === STATUS_NOT_SUPPORTED) continue
    if (success) {
      h.pending = undefined
      switch (task) {
        case "start":
        case "migrate_from":
          h.role = "Started"
          clearFailure()
          break
        case "stop":
          h.role = "Stopped"
          h.monitors.clear()
          h.stopFailed = false
          clearFailure()
          break
        case "promote":
          h.role = "Promoted"
          clearFailure()
          break
        case "demote":
          h.role = "Unpromoted"
          if (h.onFail === "demote") clearFailure()
          break
        case "migrate_to":
          break
        case "monitor":
          if (rc === NOT_RUNNING) {
            h.role = "Stopped"
            h.monitors.clear()
          } else if (rc === RUNNING_PROMOTED) h.role = "Promoted"
          else if (h.role === "Stopped" || (rc === OK && h.role === "Promoted" && isProbe)) h.role = "Started"
          if (op.interval > 0) h.monitors.add(op.interval)
          break
      }
      continue
    }
    // a failure, unless it expired (failure-timeout)
    const failedAt = op.lastRcChange ?? op.lastRun
    if (o.failureTimeout > 0 && failedAt !== undefined && o.now >= failedAt + o.failureTimeout) continue
    if (rc === FAILED_PROMOTED) rc = RUNNING_PROMOTED
    const configured = o.onFail(task, op.interval)
    let onFail = configured ?? defaultOnFail(task, o)
    if (onFail === "fence" && !o.stonithEnabled) onFail = "block"
    h.failedOperation = `${task}${op.interval > 0 ? ` (${op.interval / 1000}s)` : ""}`
    if (op.interval > 0 && task === "monitor") h.monitors.add(op.interval)
    if (hardStatus || rc === 5 || rc === 6 || rc === 2 || rc === 3 || rc === 4) {
      h.banned = rc === 6 || op.opStatus === STATUS_ERROR_FATAL ? "everywhere" : "node"
    }
    // a missing or broken agent is never ignored
    if (onFail === "ignore" && hardStatus) onFail = "restart"
    if (onFail === "ignore") {
      h.failureIgnored = true
      continue
    }
    if (isProbe && rc === NOT_RUNNING) continue
    h.failed = true
    h.onFail = onFail
    switch (task) {
      case "stop":
        h.stopFailed = true
        h.role = h.role === "Stopped" ? "Started" : h.role
        break
      case "start":
        h.role = "Started"
        break
      case "promote":
        h.role = "Promoted"
        break
      case "demote":
        h.role = onFail === "block" ? "Promoted" : "Unpromoted"
        break
      case "monitor":
        if (rc === RUNNING_PROMOTED) h.role = "Promoted"
        else if (h.role === "Stopped") h.role = "Started"
        break
      default:
        if (h.role === "Stopped") h.role = "Started"
    }
    // a probe that failed with "not installed" means the resource is not active there
    if (isProbe && (rc === 5 || op.opStatus === STATUS_NOT_INSTALLED)) {
      h.role = "Stopped"
      h.failed = false
    }
  }
  // (only an active resource's parameters are checked)
  if (h.role !== "Stopped") h.sinceStart = sinceLastStart(sorted)
  return h
}

/**
 * The operations from the last start on, as Pacemaker finds them to check parameter changes: the last
 * start or migrate_from, else the last promote or demote, else the last probe or monitor that found the
 * resource running after the last stop; none when a successful stop came after it.
 */
const sinceLastStart = (sorted: ReadonlyArray<Cib.LrmRscOp>): ReadonlyArray<Cib.LrmRscOp> => {
  let start = -1
  let stop = -1
  let impliedByMonitor = -1
  let impliedByRole = -1
  sorted.forEach((op, i) => {
    const task = op.operation
    if (task === "stop" && op.opStatus === STATUS_DONE) stop = i
    else if (task === "start" || task === "migrate_from") start = i
    else if (task === "monitor" && impliedByMonitor <= stop) {
      if (op.rcCode === OK || op.rcCode === RUNNING_PROMOTED) impliedByMonitor = i
    } else if (task === "promote" || task === "demote") impliedByRole = i
  })
  if (start === -1) start = impliedByRole !== -1 ? impliedByRole : impliedByMonitor
  return start === -1 || start < stop ? [] : sorted.slice(start)
}
