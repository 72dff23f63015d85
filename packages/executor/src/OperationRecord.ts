/**
 * One operation result as the CIB status keeps it (Pacemaker's `lrm_rsc_op` element), in
 * camelCase; `toAttributes` gives Pacemaker's attribute names for writing the XML.
 */
import { Schema } from "effect"
import { parameterList } from "./Digest.ts"

export const OperationRecord = Schema.Struct({
  /** `<resource>_<operation>_<interval>`, Pacemaker's operation key (also its `id`). */
  id: Schema.String,
  operationKey: Schema.String,
  operation: Schema.String,
  resource: Schema.String,
  /** `ocf:heartbeat:IPaddr2` and the like (class/provider/type of the lrm_resource). */
  agent: Schema.String,
  /** Milliseconds; 0 for one-shot operations. */
  interval: Schema.Number,
  rcCode: Schema.Number,
  opStatus: Schema.Number,
  /** Increases with every operation this node's executor runs. */
  callId: Schema.Number,
  /** Unix time (s) the agent was started. */
  lastRun: Schema.Number,
  /** Unix time (s) this operation key last returned a different rc. */
  lastRcChange: Schema.Number,
  /** Milliseconds the agent ran. */
  execTime: Schema.Number,
  /** Milliseconds the operation waited for its resource and a node slot. */
  queueTime: Schema.Number,
  opDigest: Schema.String,
  /** Parameters that need a restart when they change; absent when the agent cannot reload. */
  opForceRestart: Schema.optional(Schema.Array(Schema.String)),
  /** Digest of the `opForceRestart` parameters (one-shot operations of reloadable agents). */
  opRestartDigest: Schema.optional(Schema.String),
  /** Parameters the agent marks private (passwords); absent when it marks none. */
  opSecureParams: Schema.optional(Schema.Array(Schema.String)),
  /** Digest of the parameters without the private ones. */
  opSecureDigest: Schema.optional(Schema.String),
  exitReason: Schema.String,
  onNode: Schema.String
})

export type OperationRecord = typeof OperationRecord.Type

export const operationKey = (resource: string, operation: string, intervalMs: number): string =>
  `${resource}_${operation}_${intervalMs}`

/** The record's fields under Pacemaker's lrm_rsc_op attribute names. */
export const toAttributes = (record: OperationRecord): Record<string, string> => ({
  id: record.id,
  operation_key: record.operationKey,
  operation: record.operation,
  "call-id": String(record.callId),
  "rc-code": String(record.rcCode),
  "op-status": String(record.opStatus),
  interval: String(record.interval),
  "last-rc-change": String(record.lastRcChange),
  "last-run": String(record.lastRun),
  "exec-time": String(record.execTime),
  "queue-time": String(record.queueTime),
  "op-digest": record.opDigest,
  ...(record.opForceRestart === undefined
    ? {}
    : { "op-force-restart": parameterList(record.opForceRestart) }),
  ...(record.opRestartDigest === undefined ? {} : { "op-restart-digest": record.opRestartDigest }),
  ...(record.opSecureParams === undefined
    ? {}
    : { "op-secure-params": parameterList(record.opSecureParams) }),
  ...(record.opSecureDigest === undefined ? {} : { "op-secure-digest": record.opSecureDigest }),
  "exit-reason": record.exitReason,
  on_node: record.onNode
})
