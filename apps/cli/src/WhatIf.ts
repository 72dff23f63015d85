/**
 * What-ifs: pure functions CIB → CIB that change a cluster's status or configuration the way
 * `crm_simulate` (and `crm_attribute`) would, so that `ha plan` can answer "what will the cluster do if…".
 *
 * The changes were checked against crm_simulate 2.1.5's `-O` output (see testdata/whatif/): a node going
 * up, down or failing rewrites its `node_state`; an injected operation result is recorded in the node's
 * resource history (`RSC_last_0` / `RSC_TASK_INTERVAL` / `RSC_last_failure_0`) and a failure increments
 * the `fail-count-RSC#TASK_INTERVAL` transient attribute and sets `last-failure-…` to now.
 */
import { Cib } from "@ha/cib"
import { Either, Schema } from "effect"

/** A what-if names a node that is not in the configuration. */
export class UnknownNodeError extends Schema.TaggedError<UnknownNodeError>()("UnknownNodeError", {
  option: Schema.String,
  node: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message() {
    return `${this.option}: unknown node "${this.node}" (nodes: ${this.known.join(", ") || "none"})`
  }
}

/** A what-if names a resource that is not a configured primitive. */
export class UnknownResourceError extends Schema.TaggedError<UnknownResourceError>()("UnknownResourceError", {
  option: Schema.String,
  resource: Schema.String
}) {
  override get message() {
    return `${this.option}: unknown resource "${this.resource}" (not a configured primitive)`
  }
}

/** A what-if argument that does not have the expected form. */
export class MalformedWhatIfError extends Schema.TaggedError<MalformedWhatIfError>()("MalformedWhatIfError", {
  option: Schema.String,
  value: Schema.String,
  expected: Schema.String
}) {
  override get message() {
    return `${this.option}: malformed value "${this.value}" (expected ${this.expected})`
  }
}

export type WhatIfError = UnknownNodeError | UnknownResourceError | MalformedWhatIfError

/** An operation result to record, as crm_simulate's `--op-inject RSC_TASK_INTERVAL@NODE=RC`. */
export interface OpResult {
  /** the resource as written (an anonymous clone instance keeps its `:N`) */
  readonly resource: string
  readonly task: string
  /** milliseconds */
  readonly interval: number
  readonly node: string
  readonly rc: number
}

export type WhatIf =
  | { readonly _tag: "NodeUp"; readonly node: string }
  | { readonly _tag: "NodeDown"; readonly node: string }
  | { readonly _tag: "NodeFail"; readonly node: string }
  | { readonly _tag: "OpResult"; readonly op: OpResult }
  | { readonly _tag: "Standby"; readonly node: string }
  | { readonly _tag: "SetProperty"; readonly name: string; readonly value: string }
  | { readonly _tag: "NodeAttribute"; readonly node: string; readonly name: string; readonly value: string }

/** Tasks whose names contain an underscore, which an operation key cannot otherwise split. */
const compoundTasks = ["migrate_to", "migrate_from"]

const OP_SPEC = "RSC_TASK_INTERVAL@NODE=RC, e.g. db_monitor_20000@alpha=1 (interval in milliseconds)"

/** Parses `RSC_TASK_INTERVAL@NODE=RC` (crm_simulate's --op-inject syntax). */
export const parseOpSpec = (
  text: string,
  option = "--op-fail"
): Either.Either<OpResult, MalformedWhatIfError> => {
  const malformed = () => Either.left(new MalformedWhatIfError({ option, value: text, expected: OP_SPEC }))
  const match = /^(.+)@([^@=]+)=(\d{1,3})$/.exec(text)
  if (!match) return malformed()
  const [, key = "", node = "", rcText = ""] = match
  const rc = Number(rcText)
  if (rc > 255) return malformed()
  const intervalAt = key.lastIndexOf("_")
  if (intervalAt <= 0 || !/^\d+$/.test(key.slice(intervalAt + 1))) return malformed()
  const interval = Number(key.slice(intervalAt + 1))
  const rest = key.slice(0, intervalAt)
  const compound = compoundTasks.find((t) => rest.endsWith(`_${t}`))
  const taskAt = compound ? rest.length - compound.length - 1 : rest.lastIndexOf("_")
  if (taskAt <= 0) return malformed()
  const resource = rest.slice(0, taskAt)
  const task = rest.slice(taskAt + 1)
  if (task === "") return malformed()
  return Either.right({ resource, task, interval, node, rc })
}

/** Parses `NAME=VALUE`. */
export const parseAssignment = (
  text: string,
  option: string
): Either.Either<{ readonly name: string; readonly value: string }, MalformedWhatIfError> => {
  const at = text.indexOf("=")
  return at <= 0
    ? Either.left(new MalformedWhatIfError({ option, value: text, expected: "NAME=VALUE" }))
    : Either.right({ name: text.slice(0, at), value: text.slice(at + 1) })
}

/** Parses `NODE:NAME=VALUE` (a transient node attribute). */
export const parseNodeAttribute = (
  text: string,
  option = "--node-attribute"
): Either.Either<
  { readonly node: string; readonly name: string; readonly value: string },
  MalformedWhatIfError
> => {
  const match = /^([^:=]+):([^=]+)=(.*)$/.exec(text)
  if (!match)
    return Either.left(new MalformedWhatIfError({ option, value: text, expected: "NODE:NAME=VALUE" }))
  const [, node = "", name = "", value = ""] = match
  return Either.right({ node, name, value })
}

/** Cluster options Pacemaker knows; `--set-property` refuses others (they would silently do nothing). */
export const clusterOptions: ReadonlyArray<string> = [
  "batch-limit",
  "cluster-delay",
  "cluster-infrastructure",
  "cluster-ipc-limit",
  "cluster-name",
  "cluster-recheck-interval",
  "concurrent-fencing",
  "dc-deadtime",
  "dc-version",
  "election-timeout",
  "enable-acl",
  "enable-startup-probes",
  "fence-reaction",
  "have-watchdog",
  "join-finalization-timeout",
  "join-integration-timeout",
  "load-threshold",
  "maintenance-mode",
  "migration-limit",
  "no-quorum-policy",
  "node-action-limit",
  "node-health-base",
  "node-health-green",
  "node-health-red",
  "node-health-strategy",
  "node-health-yellow",
  "node-pending-timeout",
  "pe-error-series-max",
  "pe-input-series-max",
  "pe-warn-series-max",
  "placement-strategy",
  "priority-fencing-delay",
  "remove-after-stop",
  "shutdown-escalation",
  "shutdown-lock",
  "shutdown-lock-limit",
  "start-failure-is-fatal",
  "startup-fencing",
  "stonith-action",
  "stonith-enabled",
  "stonith-max-attempts",
  "stonith-timeout",
  "stonith-watchdog-timeout",
  "stop-all-resources",
  "stop-orphan-actions",
  "stop-orphan-resources",
  "symmetric-cluster",
  "transition-delay"
]

/** Who made the change, recorded as crm-debug-origin. */
export const ORIGIN = "ha-plan"

const FAKE_UUID = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"

/** Pacemaker's XML id sanitizing: characters not allowed in an id become dots. */

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const findNode = (cib: Cib.Cib, node: string, option: string): Either.Either<Cib.Node, UnknownNodeError> => {
  const found = cib.configuration.nodes.find((n) => n.uname === node)
  return found
    ? Either.right(found)
    : Either.left(new UnknownNodeError({ option, node, known: cib.configuration.nodes.map((n) => n.uname) }))
}

const primitives = function* (resources: ReadonlyArray<Cib.Resource>): Generator<Cib.Primitive> {
  for (const r of resources) {
    if (r._tag === "Primitive") yield r
    else if (r._tag === "Group") yield* r.members
    else if (r._tag === "Clone") yield* primitives([r.child])
  }
}

/** The configured primitive a (possibly instance-numbered) resource name refers to. */
export const findPrimitive = (cib: Cib.Cib, name: string): Cib.Primitive | undefined => {
  const base = name.replace(/:\d+$/, "")
  for (const p of primitives(cib.configuration.resources)) if (p.id === base) return p
  return undefined
}

const sameNode = (state: Cib.NodeState, node: Cib.Node) =>
  state.id !== undefined ? state.id === node.id : state.uname === node.uname

const bumpStatus = (cib: Cib.Cib): Cib.Cib["version"] => ({
  ...cib.version,
  numUpdates: cib.version.numUpdates + 1
})
const bumpConfiguration = (cib: Cib.Cib): Cib.Cib["version"] => ({
  adminEpoch: cib.version.adminEpoch,
  epoch: cib.version.epoch + 1,
  numUpdates: 0
})

/** Replaces (or adds) a node's node_state. */
const updateNodeState = (
  cib: Cib.Cib,
  node: Cib.Node,
  update: (state: Cib.NodeState) => Cib.NodeState
): Cib.Cib => {
  const states = cib.status.nodes
  const index = states.findIndex((s) => sameNode(s, node))
  const current: Cib.NodeState =
    index >= 0 ? (states[index] as Cib.NodeState) : { id: node.id, uname: node.uname, extra: {} }
  const next = update(current)
  const nodes = index >= 0 ? states.map((s, i) => (i === index ? next : s)) : [...states, next]
  return { ...cib, version: bumpStatus(cib), status: { ...cib.status, nodes } }
}

/** crm_simulate --node-up: the node is a cluster member, its controller online. */
export const nodeUp = (cib: Cib.Cib, node: string): Either.Either<Cib.Cib, UnknownNodeError> =>
  Either.map(findNode(cib, node, "--node-up"), (n) =>
    updateNodeState(cib, n, (s) => ({
      ...s,
      inCcm: "true",
      crmd: "online",
      join: "member",
      expected: "member",
      crmDebugOrigin: ORIGIN
    }))
  )

/** crm_simulate --node-down: the node left cleanly; its history and transient attributes are gone. */
export const nodeDown = (cib: Cib.Cib, node: string): Either.Either<Cib.Cib, UnknownNodeError> =>
  Either.map(findNode(cib, node, "--node-down"), (n) =>
    updateNodeState(cib, n, (s) => {
      const { transientAttributes: _t, lrm: _l, ...rest } = s
      return {
        ...rest,
        inCcm: "false",
        crmd: "offline",
        join: "down",
        expected: "down",
        crmDebugOrigin: ORIGIN
      }
    })
  )

/** crm_simulate --node-fail: the node dropped out of membership without leaving (it must be fenced). */
export const nodeFail = (cib: Cib.Cib, node: string): Either.Either<Cib.Cib, UnknownNodeError> =>
  Either.map(findNode(cib, node, "--node-fail"), (n) =>
    updateNodeState(cib, n, (s) => ({ ...s, inCcm: "false", crmDebugOrigin: ORIGIN }))
  )

/** Sets a value in the first rule-less set (creating the set and the pair as needed). */
/** Sets a transient (status) attribute of a node, as `crm_attribute -t status` / attrd do. */
const withTransientAttribute = (
  state: Cib.NodeState,
  node: Cib.Node,
  name: string,
  value: string
): Cib.NodeState => {
  const current = state.transientAttributes ?? { id: node.id, sets: [] }
  const sets = Cib.setNvPair(current.sets, `status-${node.id}`, name, value)
  return { ...state, transientAttributes: { ...current, sets } }
}

/** Sets a transient node attribute (e.g. a fail-count or a promotion score), as `crm_attribute -t status`. */
export const setNodeAttribute = (
  cib: Cib.Cib,
  node: string,
  name: string,
  value: string
): Either.Either<Cib.Cib, UnknownNodeError> =>
  Either.map(findNode(cib, node, "--node-attribute"), (n) =>
    updateNodeState(cib, n, (s) => withTransientAttribute(s, n, name, value))
  )

/** Puts a node in standby (the permanent node attribute standby=on, as `crm_attribute -N NODE -n standby -v on`). */
export const standby = (cib: Cib.Cib, node: string): Either.Either<Cib.Cib, UnknownNodeError> =>
  Either.map(findNode(cib, node, "--standby"), (n) => {
    const nodes = cib.configuration.nodes.map((candidate) =>
      candidate === n
        ? {
            ...n,
            instanceAttributes: Cib.setNvPair(n.instanceAttributes, `nodes-${n.id}`, "standby", "on")
          }
        : candidate
    )
    return { ...cib, version: bumpConfiguration(cib), configuration: { ...cib.configuration, nodes } }
  })

/** Sets a cluster property (as `crm_attribute -n NAME -v VALUE`). */
export const setProperty = (
  cib: Cib.Cib,
  name: string,
  value: string
): Either.Either<Cib.Cib, MalformedWhatIfError> => {
  if (!clusterOptions.includes(name)) {
    return Either.left(
      new MalformedWhatIfError({
        option: "--set-property",
        value: `${name}=${value}`,
        expected: "a Pacemaker cluster option such as stonith-enabled, no-quorum-policy or maintenance-mode"
      })
    )
  }
  const sets = cib.configuration.clusterProperties
  const bootstrap = sets.findIndex((s) => s.id === "cib-bootstrap-options")
  // crm_attribute writes into cib-bootstrap-options when it exists, whatever its position.
  const ordered =
    bootstrap > 0 ? [sets[bootstrap] as Cib.NvSet, ...sets.filter((_, i) => i !== bootstrap)] : sets
  const updated = Cib.setNvPair(ordered, "cib-bootstrap-options", name, value)
  const clusterProperties =
    bootstrap > 0
      ? [...updated.slice(1, bootstrap + 1), updated[0] as Cib.NvSet, ...updated.slice(bootstrap + 1)]
      : updated
  return Either.right({
    ...cib,
    version: bumpConfiguration(cib),
    configuration: { ...cib.configuration, clusterProperties }
  })
}

/**
 * Records an operation result in a node's resource history (crm_simulate --op-inject): success replaces
 * the operation's record; any rc other than 0 adds `RSC_last_failure_0` and, except for a probe finding
 * the resource stopped (rc 7), increments the operation's fail-count and sets its last-failure to `now`.
 */
export const injectOp = (cib: Cib.Cib, op: OpResult, now: number): Either.Either<Cib.Cib, WhatIfError> =>
  Either.flatMap(findNode(cib, op.node, "--op-fail"), (node) => {
    const primitive = findPrimitive(cib, op.resource)
    if (!primitive)
      return Either.left(new UnknownResourceError({ option: "--op-fail", resource: op.resource }))
    return Either.right(
      updateNodeState(cib, node, (state) => {
        const lrm: Cib.Lrm = state.lrm ?? { id: node.id, extra: {}, resources: [] }
        const index = lrm.resources.findIndex((r) => r.id === op.resource)
        const entry: Cib.LrmResource =
          index >= 0
            ? (lrm.resources[index] as Cib.LrmResource)
            : {
                id: op.resource,
                ...(primitive.class === undefined ? {} : { class: primitive.class }),
                ...(primitive.provider === undefined ? {} : { provider: primitive.provider }),
                ...(primitive.type === undefined ? {} : { type: primitive.type }),
                ops: []
              }
        const callId = entry.ops.reduce((max, o) => Math.max(max, o.callId), 0) + 1
        const transitionKey = `${callId}:-1:0:${FAKE_UUID}`
        const failed = op.rc !== 0
        const record = (id: string, digest: string | undefined): Cib.LrmRscOp => {
          const r: Mutable<Cib.LrmRscOp> = {
            id,
            operationKey: `${op.resource}_${op.task}_${op.interval}`,
            operation: op.task,
            interval: op.interval,
            rcCode: op.rc,
            opStatus: 0,
            callId,
            lastRcChange: now,
            execTime: 0,
            queueTime: 0,
            transitionKey,
            transitionMagic: `0:${op.rc};${transitionKey}`,
            crmFeatureSet: cib.crmFeatureSet ?? "3.16.1",
            crmDebugOrigin: ORIGIN,
            exitReason: failed ? "Simulated action result" : "",
            extra: {}
          }
          if (digest !== undefined) r.opDigest = digest
          return r
        }
        let ops = entry.ops
        const put = (id: string, withDigest: boolean) => {
          const at = ops.findIndex((o) => o.id === id)
          const digest = withDigest ? (at >= 0 ? ops[at]?.opDigest : undefined) : undefined
          const next = record(id, digest)
          ops = at >= 0 ? ops.map((o, i) => (i === at ? next : o)) : [...ops, next]
        }
        if (op.interval > 0) {
          if (!failed) put(`${op.resource}_${op.task}_${op.interval}`, true)
        } else put(`${op.resource}_last_0`, true)
        if (failed) put(`${op.resource}_last_failure_0`, false)
        const resources =
          index >= 0
            ? lrm.resources.map((r, i) => (i === index ? { ...entry, ops } : r))
            : [...lrm.resources, { ...entry, ops }]
        const withHistory: Cib.NodeState = { ...state, lrm: { ...lrm, resources } }
        const probeFoundStopped = op.task === "monitor" && op.interval === 0 && op.rc === 7
        if (!failed || probeFoundStopped) return withHistory
        const suffix = `${op.resource}#${op.task}_${op.interval}`
        const previous = Number.parseInt(
          Cib.metaValue(state.transientAttributes?.sets ?? [], `fail-count-${suffix}`) ?? "0",
          10
        )
        const count = Number.isNaN(previous) ? 1 : previous + 1
        return withTransientAttribute(
          withTransientAttribute(withHistory, node, `fail-count-${suffix}`, String(count)),
          node,
          `last-failure-${suffix}`,
          String(now)
        )
      })
    )
  })

/** The order crm_simulate applies modifications in (attributes are set before it runs, as with crm_attribute). */
const order: ReadonlyArray<WhatIf["_tag"]> = [
  "SetProperty",
  "Standby",
  "NodeAttribute",
  "NodeUp",
  "NodeDown",
  "NodeFail",
  "OpResult"
]

/** Applies one what-if. */
export const apply = (cib: Cib.Cib, whatIf: WhatIf, now: number): Either.Either<Cib.Cib, WhatIfError> => {
  switch (whatIf._tag) {
    case "NodeUp":
      return nodeUp(cib, whatIf.node)
    case "NodeDown":
      return nodeDown(cib, whatIf.node)
    case "NodeFail":
      return nodeFail(cib, whatIf.node)
    case "OpResult":
      return injectOp(cib, whatIf.op, now)
    case "Standby":
      return standby(cib, whatIf.node)
    case "SetProperty":
      return setProperty(cib, whatIf.name, whatIf.value)
    case "NodeAttribute":
      return setNodeAttribute(cib, whatIf.node, whatIf.name, whatIf.value)
  }
}

/** Applies what-ifs in crm_simulate's order (by kind; in the given order within a kind). */
export const applyAll = (
  cib: Cib.Cib,
  whatIfs: ReadonlyArray<WhatIf>,
  now: number
): Either.Either<Cib.Cib, WhatIfError> => {
  const sorted = [...whatIfs].sort((a, b) => order.indexOf(a._tag) - order.indexOf(b._tag))
  let current: Either.Either<Cib.Cib, WhatIfError> = Either.right(cib)
  for (const w of sorted) current = Either.flatMap(current, (c) => apply(c, w, now))
  return current
}

/** A what-if in words, as crm_simulate's "Performing Requested Modifications". */
export const describe = (w: WhatIf): string => {
  switch (w._tag) {
    case "NodeUp":
      return `Bringing node ${w.node} online`
    case "NodeDown":
      return `Taking node ${w.node} offline`
    case "NodeFail":
      return `Failing node ${w.node}`
    case "OpResult":
      return `Injecting ${w.op.resource}_${w.op.task}_${w.op.interval}@${w.op.node}=${w.op.rc}`
    case "Standby":
      return `Putting node ${w.node} in standby`
    case "SetProperty":
      return `Setting cluster property ${w.name}=${w.value}`
    case "NodeAttribute":
      return `Setting node attribute ${w.name}=${w.value} on ${w.node}`
  }
}
