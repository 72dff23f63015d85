/**
 * The fencer as a pure state machine. Every node runs one; they see the same cluster messages in
 * the same order (the membership layer's totally ordered broadcast), so they agree on every
 * decision without further talk: which operation a request joins, which node executes it, and its
 * result. Inputs: delivered cluster messages, membership changes, agent results, ticks and node
 * priorities, each with the current time. Outputs: messages to broadcast, agent runs to start or
 * cancel, replies to local requesters and history entries.
 *
 * Rules it keeps:
 * - concurrent requests for the same target and action merge into one operation;
 * - one node executes an operation: the first member (by name) other than the target that may run
 *   the devices of some level for the target (location bans);
 * - topology levels are tried in order, a level needing all its devices; a device is retried
 *   pcmk_<action>_retries times;
 * - success only when an agent confirmed it (exit 0). A timeout is a failure: the round is
 *   recorded as failed and the operation retried, up to stonith-max-attempts rounds;
 * - the executor waits the fencing delays first: pcmk_delay_base/pcmk_delay_max of the first
 *   device, and priority-fencing-delay when the target runs the most important resources;
 * - devices with a monitor op are monitored on every node that may run them; a change in a node's
 *   result is broadcast, and nodes whose devices fail their monitor are passed over as executors
 *   while a healthy node can do the job.
 */

import type { DeviceKnowledge } from "./Device.ts"
import * as Device from "./Device.ts"
import {
  type AgentOutcome,
  type AgentRequest,
  describe,
  parseList,
  powerStatus,
  succeeded
} from "./FenceAgent.ts"
import type { FencingConfig } from "./FencingConfig.ts"
import * as Prng from "./internal/prng.ts"
import { priorityDelayApplies } from "./Priority.ts"
import { levelsFor } from "./Topology.ts"

export type RequestAction = "off" | "reboot" | "on"

export type ClusterMessage =
  | {
      readonly _tag: "FenceRequest"
      readonly requestId: string
      readonly origin: string
      readonly target: string
      readonly action: RequestAction
      readonly requestedAt: number
      /** Asked by an administrator (`ha fence`): no priority-fencing-delay. */
      readonly manual: boolean
    }
  | {
      readonly _tag: "FenceResult"
      readonly opId: string
      readonly round: number
      readonly target: string
      readonly action: RequestAction
      /** Undefined when no node could execute the operation. */
      readonly executor: string | undefined
      readonly succeeded: boolean
      readonly devices: ReadonlyArray<string>
      readonly reason: string
      readonly at: number
    }
  | {
      readonly _tag: "ManualConfirm"
      readonly requestId: string
      readonly origin: string
      readonly target: string
      readonly at: number
    }
  | {
      /** A node's monitor of a device changed result (or gave its first one). */
      readonly _tag: "DeviceHealth"
      readonly device: string
      readonly node: string
      readonly ok: boolean
      readonly reason: string
      readonly at: number
    }

/** The last monitor result of a device on a node. */
export interface DeviceHealth {
  readonly ok: boolean
  readonly reason: string
  readonly at: number
}

export type Input =
  | { readonly _tag: "Deliver"; readonly message: ClusterMessage; readonly now: number }
  | { readonly _tag: "Membership"; readonly members: ReadonlyArray<string>; readonly now: number }
  | {
      readonly _tag: "AgentDone"
      readonly invocationId: string
      readonly outcome: AgentOutcome
      readonly now: number
    }
  | { readonly _tag: "Tick"; readonly now: number }
  /** The CIB's fencing configuration changed: later steps use the new devices and levels. */
  | { readonly _tag: "Configure"; readonly config: FencingConfig; readonly now: number }
  | {
      readonly _tag: "Priorities"
      readonly priorities: Readonly<Record<string, number>>
      readonly now: number
    }

export interface HistoryEntry {
  readonly opId: string
  readonly target: string
  readonly action: RequestAction
  /** The nodes that asked (merged requests: several). */
  readonly origins: ReadonlyArray<string>
  readonly executor: string | undefined
  readonly devices: ReadonlyArray<string>
  readonly state: "succeeded" | "failed" | "confirmed"
  readonly reason: string
  readonly round: number
  readonly requestedAt: number
  readonly completedAt: number
}

export type Reply =
  | {
      readonly succeeded: true
      readonly executor: string | undefined
      readonly devices: ReadonlyArray<string>
      readonly at: number
      /** Confirmed by an administrator, not by an agent. */
      readonly manual: boolean
    }
  | { readonly succeeded: false; readonly reason: string; readonly attempts: number }

export type Output =
  | { readonly _tag: "Broadcast"; readonly message: ClusterMessage }
  | {
      readonly _tag: "RunAgent"
      readonly invocationId: string
      readonly device: string
      readonly agent: string
      readonly action: Device.DeviceAction
      readonly request: AgentRequest
    }
  | { readonly _tag: "CancelAgent"; readonly invocationId: string }
  | { readonly _tag: "Reply"; readonly requestId: string; readonly target: string; readonly reply: Reply }
  | { readonly _tag: "Recorded"; readonly entry: HistoryEntry }
  | {
      readonly _tag: "HealthChanged"
      readonly device: string
      readonly node: string
      readonly health: DeviceHealth
    }

interface Operation {
  readonly id: string
  readonly target: string
  readonly action: RequestAction
  readonly requests: Array<{ readonly requestId: string; readonly origin: string }>
  readonly requestedAt: number
  readonly manual: boolean
  round: number
  /** Chosen when the operation is the head of its target's queue; null: nobody can. */
  executor: string | null | undefined
}

interface Step {
  readonly device: string
  readonly action: Device.DeviceAction
}

interface Invocation {
  readonly id: string
  readonly device: string
  readonly purpose: "fence" | "list" | "status"
  readonly deadline: number
}

interface MonitorRun {
  readonly invocationId: string
  readonly device: string
  readonly deadline: number
}

interface Execution {
  readonly opId: string
  readonly round: number
  readonly target: string
  readonly levels: ReadonlyArray<ReadonlyArray<string>>
  levelIndex: number
  stepIndex: number
  attempt: number
  delayUntil: number
  invocation: Invocation | undefined
  errors: Array<string>
  /** The result was broadcast; waiting for its delivery. */
  finished: boolean
}

export interface Options {
  /** How long past an agent's timeout the machine waits before declaring it timed out itself. */
  readonly watchdogGraceMs: number
  readonly historyLimit: number
}

export const defaultOptions: Options = { watchdogGraceMs: 5000, historyLimit: 1000 }

export interface State {
  readonly self: string
  readonly config: FencingConfig
  readonly options: Options
  readonly members: ReadonlyArray<string>
  readonly priorities: Readonly<Record<string, number>>
  readonly rng: number
  readonly ops: ReadonlyArray<Readonly<Operation>>
  readonly executions: ReadonlyArray<Readonly<Execution>>
  readonly knowledge: Readonly<Record<string, DeviceKnowledge>>
  readonly history: ReadonlyArray<HistoryEntry>
  readonly invocationSeq: number
  /** device → node → last monitor result, as broadcast. */
  readonly health: Readonly<Record<string, Readonly<Record<string, DeviceHealth>>>>
  readonly monitors: ReadonlyArray<MonitorRun>
  /** device → when this node runs its next monitor. */
  readonly monitorDue: Readonly<Record<string, number>>
}

export const init = (
  self: string,
  config: FencingConfig,
  seed: number,
  options: Options = defaultOptions,
  members: ReadonlyArray<string> = [self]
): State => ({
  self,
  config,
  options,
  members: [...members].sort(),
  priorities: {},
  rng: seed | 0,
  ops: [],
  executions: [],
  knowledge: {},
  history: [],
  invocationSeq: 0,
  health: {},
  monitors: [],
  monitorDue: {}
})

/** Mutable working copy of a state for one step (the config is shared, never changed). */
interface Work {
  readonly self: string
  readonly config: FencingConfig
  readonly options: Options
  members: Array<string>
  priorities: Record<string, number>
  rng: number
  ops: Array<Operation>
  executions: Array<Execution>
  knowledge: Record<string, DeviceKnowledge>
  history: Array<HistoryEntry>
  invocationSeq: number
  health: Record<string, Record<string, DeviceHealth>>
  monitors: Array<MonitorRun>
  monitorDue: Record<string, number>
}

const device = (work: Work, id: string) => work.config.devices.find((d) => d.id === id)

const monitorFailed = (work: Work, deviceId: string, node: string) =>
  work.health[deviceId]?.[node]?.ok === false

/**
 * The node that executes fencing of `target`: the first member but the target that may run all
 * devices of some level, preferring nodes where none of those devices failed its last monitor
 * (a failed monitor does not prove the device cannot fence, so such a node is still better than none).
 */
const chooseExecutor = (work: Work, target: string): string | null => {
  const levels = levelsFor(work.config, target)
  const able = (node: string, healthyOnly: boolean) =>
    levels.some((level) =>
      level.every((id) => {
        const d = device(work, id)
        return d !== undefined && Device.canRunOn(d, node) && !(healthyOnly && monitorFailed(work, id, node))
      })
    )
  const candidates = work.members.filter((node) => node !== target)
  return candidates.find((node) => able(node, true)) ?? candidates.find((node) => able(node, false)) ?? null
}

const random = (work: Work) => {
  const drawn = Prng.next(work.rng)
  work.rng = drawn.seed
  return drawn.value
}

const record = (work: Work, out: Array<Output>, entry: HistoryEntry) => {
  work.history.push(entry)
  if (work.history.length > work.options.historyLimit)
    work.history.splice(0, work.history.length - work.options.historyLimit)
  out.push({ _tag: "Recorded", entry })
}

const replyAll = (work: Work, out: Array<Output>, op: Operation, reply: Reply) => {
  for (const request of op.requests) {
    if (request.origin === work.self)
      out.push({ _tag: "Reply", requestId: request.requestId, target: op.target, reply })
  }
}

const stepsOf = (exec: Execution, action: RequestAction): ReadonlyArray<Step> => {
  const level = exec.levels[exec.levelIndex] ?? []
  if (action !== "reboot" || level.length === 1) return level.map((id) => ({ device: id, action }))
  // A reboot over several devices (e.g. two power supplies): all off, then all on.
  return [
    ...level.map((id) => ({ device: id, action: "off" as const })),
    ...level.map((id) => ({ device: id, action: "on" as const }))
  ]
}

const startExecution = (work: Work, op: Operation, now: number) => {
  const levels = levelsFor(work.config, op.target)
  let delay = 0
  const firstDevice = levels[0]?.[0] === undefined ? undefined : device(work, levels[0][0])
  if (firstDevice !== undefined && op.action !== "on")
    delay += Device.delayMs(firstDevice, op.target, random(work))
  const known =
    work.config.nodes.length > 0 ? work.config.nodes.map((n) => n.name) : [...work.members, op.target]
  // As in Pacemaker: only a partition without a majority of the nodes waits (a split it may lose).
  if (
    !op.manual &&
    op.action !== "on" &&
    work.config.priorityFencingDelayMs > 0 &&
    work.members.length * 2 <= known.length &&
    priorityDelayApplies(work.priorities, known, op.target)
  ) {
    delay += work.config.priorityFencingDelayMs
  }
  work.executions.push({
    opId: op.id,
    round: op.round,
    target: op.target,
    levels,
    levelIndex: 0,
    stepIndex: 0,
    attempt: 0,
    delayUntil: now + delay,
    invocation: undefined,
    errors: [],
    finished: false
  })
}

/** Makes the head operation of each target active: picks its executor (and starts it if that is us). */
const activate = (work: Work, out: Array<Output>, now: number) => {
  const heads = new Set<string>()
  for (const op of work.ops) {
    if (heads.has(op.target)) continue
    heads.add(op.target)
    if (op.executor !== undefined) continue
    op.executor = chooseExecutor(work, op.target)
    if (op.executor === work.self) startExecution(work, op, now)
    else if (op.executor === null && work.members[0] === work.self) {
      // Everyone sees that nobody can; the first member says so for all.
      out.push({
        _tag: "Broadcast",
        message: {
          _tag: "FenceResult",
          opId: op.id,
          round: op.round,
          target: op.target,
          action: op.action,
          executor: undefined,
          succeeded: false,
          devices: [],
          reason: `no node in the membership (${work.members.join(", ")}) can run a device that fences ${op.target}`,
          at: now
        }
      })
    }
  }
}

const finish = (
  work: Work,
  out: Array<Output>,
  exec: Execution,
  op: Operation,
  ok: boolean,
  devices: ReadonlyArray<string>,
  now: number
) => {
  exec.finished = true
  out.push({
    _tag: "Broadcast",
    message: {
      _tag: "FenceResult",
      opId: op.id,
      round: exec.round,
      target: op.target,
      action: op.action,
      executor: work.self,
      succeeded: ok,
      devices,
      reason: ok
        ? `confirmed by the agent${exec.errors.length > 0 ? ` (after: ${exec.errors.join("; ")})` : ""}`
        : exec.errors.join("; ") || "no device could fence the target",
      at: now
    }
  })
}

const inFlightOn = (work: Work, deviceId: string) =>
  work.executions.filter((e) => e.invocation !== undefined && e.invocation.device === deviceId).length +
  work.monitors.filter((m) => m.device === deviceId).length

const failStep = (
  exec: Execution,
  d: Device.Device | undefined,
  action: Device.DeviceAction,
  error: string
) => {
  exec.errors.push(error)
  exec.invocation = undefined
  exec.attempt += 1
  if (d === undefined || exec.attempt >= Device.attempts(d, action)) nextLevel(exec)
}

const nextLevel = (exec: Execution) => {
  exec.levelIndex += 1
  exec.stepIndex = 0
  exec.attempt = 0
}

/** Moves one local execution as far as it can go without waiting. */
const advance = (work: Work, out: Array<Output>, exec: Execution, now: number) => {
  const op = work.ops.find((o) => o.id === exec.opId)
  if (op === undefined || exec.finished) return
  while (exec.invocation === undefined) {
    if (now < exec.delayUntil) return
    if (exec.levelIndex >= exec.levels.length) return finish(work, out, exec, op, false, [], now)
    const steps = stepsOf(exec, op.action)
    const step = steps[exec.stepIndex]
    if (step === undefined) return finish(work, out, exec, op, true, exec.levels[exec.levelIndex] ?? [], now)
    const d = device(work, step.device)
    if (d === undefined) {
      failStep(exec, d, step.action, `${step.device}: not configured`)
      continue
    }
    const capability = Device.canFence(d, op.target, work.knowledge[d.id])
    if (capability._tag === "No") {
      exec.errors.push(`${d.id}: ${capability.reason}`)
      nextLevel(exec)
      continue
    }
    if (d.actionLimit !== -1 && inFlightOn(work, d.id) >= d.actionLimit) return
    const action: Device.DeviceAction = capability._tag === "Ask" ? capability.action : step.action
    const timeout = Device.timeoutMs(d, action, work.config.stonithTimeoutMs)
    work.invocationSeq += 1
    const invocationId = `${work.self}/${work.invocationSeq}`
    exec.invocation = {
      id: invocationId,
      device: d.id,
      purpose: capability._tag === "Ask" ? capability.action : "fence",
      deadline: now + timeout + work.options.watchdogGraceMs
    }
    out.push({
      _tag: "RunAgent",
      invocationId,
      device: d.id,
      agent: d.agent,
      action,
      request: {
        action: d.actionNames[action],
        params: Device.agentParams(d, action === "list" ? undefined : op.target),
        timeoutMs: timeout
      }
    })
  }
}

const advanceAll = (work: Work, out: Array<Output>, now: number) => {
  for (const exec of work.executions) advance(work, out, exec, now)
}

/** Starts the monitors that are due on this node (each device's first one at once). */
const runMonitors = (work: Work, out: Array<Output>, now: number) => {
  for (const d of work.config.devices) {
    if (d.monitor === undefined || !Device.canRunOn(d, work.self)) continue
    if (work.monitors.some((m) => m.device === d.id)) continue
    if (now < (work.monitorDue[d.id] ?? now)) continue
    if (d.actionLimit !== -1 && inFlightOn(work, d.id) >= d.actionLimit) continue
    const timeout = d.monitor.timeoutMs ?? Device.timeoutMs(d, "monitor", work.config.stonithTimeoutMs)
    work.invocationSeq += 1
    const invocationId = `${work.self}/${work.invocationSeq}`
    work.monitors.push({ invocationId, device: d.id, deadline: now + timeout + work.options.watchdogGraceMs })
    out.push({
      _tag: "RunAgent",
      invocationId,
      device: d.id,
      agent: d.agent,
      action: "monitor",
      request: { action: d.actionNames.monitor, params: Device.agentParams(d, undefined), timeoutMs: timeout }
    })
  }
}

/** A monitor finished: schedule the next one, and tell the cluster if the result changed. */
const onMonitorDone = (
  work: Work,
  out: Array<Output>,
  run: MonitorRun,
  outcome: AgentOutcome,
  now: number
) => {
  work.monitors = work.monitors.filter((m) => m !== run)
  const d = device(work, run.device)
  if (d?.monitor === undefined) return
  work.monitorDue[d.id] = now + d.monitor.intervalMs
  const ok = succeeded(outcome)
  const previous = work.health[d.id]?.[work.self]
  if (previous !== undefined && previous.ok === ok) return
  out.push({
    _tag: "Broadcast",
    message: {
      _tag: "DeviceHealth",
      device: d.id,
      node: work.self,
      ok,
      reason: ok ? "monitor succeeded" : `monitor failed: ${describe(outcome)}`,
      at: now
    }
  })
}

const onAgentDone = (
  work: Work,
  out: Array<Output>,
  invocationId: string,
  outcome: AgentOutcome,
  now: number
) => {
  const monitor = work.monitors.find((m) => m.invocationId === invocationId)
  if (monitor !== undefined) return onMonitorDone(work, out, monitor, outcome, now)
  const exec = work.executions.find((e) => e.invocation?.id === invocationId)
  if (exec === undefined || exec.invocation === undefined) return
  const invocation = exec.invocation
  const op = work.ops.find((o) => o.id === exec.opId)
  if (op === undefined) return
  const d = device(work, invocation.device)
  if (invocation.purpose !== "fence") {
    exec.invocation = undefined
    // Only answers are cached; a failed query fails this level now and is asked again next time.
    const status = powerStatus(outcome)
    if (invocation.purpose === "list" && succeeded(outcome) && outcome._tag === "Exited") {
      work.knowledge[invocation.device] = {
        ...work.knowledge[invocation.device],
        list: parseList(outcome.stdout)
      }
    } else if (invocation.purpose === "status" && status !== "unknown") {
      const previous = work.knowledge[invocation.device]
      work.knowledge[invocation.device] = {
        ...previous,
        status: { ...previous?.status, [op.target]: status }
      }
    } else {
      exec.errors.push(`${invocation.device}: ${invocation.purpose} failed: ${describe(outcome)}`)
      nextLevel(exec)
    }
    return
  }
  const step = stepsOf(exec, op.action)[exec.stepIndex]
  if (succeeded(outcome)) {
    exec.invocation = undefined
    exec.stepIndex += 1
    exec.attempt = 0
  } else {
    failStep(
      exec,
      d,
      step?.action ?? "off",
      `${invocation.device} ${step?.action ?? ""}: ${describe(outcome)}`
    )
  }
}

const removeOp = (work: Work, out: Array<Output>, opId: string) => {
  work.ops = work.ops.filter((o) => o.id !== opId)
  removeExecutions(work, out, opId)
}

const onDeliver = (work: Work, out: Array<Output>, message: ClusterMessage) => {
  switch (message._tag) {
    case "FenceRequest": {
      const same = work.ops.find((o) => o.target === message.target && o.action === message.action)
      if (same !== undefined) same.requests.push({ requestId: message.requestId, origin: message.origin })
      else {
        work.ops.push({
          id: message.requestId,
          target: message.target,
          action: message.action,
          requests: [{ requestId: message.requestId, origin: message.origin }],
          requestedAt: message.requestedAt,
          manual: message.manual,
          round: 1,
          executor: undefined
        })
      }
      return
    }
    case "FenceResult": {
      const op = work.ops.find((o) => o.id === message.opId)
      if (op === undefined || op.round !== message.round) return
      const base = {
        opId: op.id,
        target: op.target,
        action: op.action,
        origins: [...new Set(op.requests.map((r) => r.origin))],
        executor: message.executor,
        devices: message.devices,
        reason: message.reason,
        round: op.round,
        requestedAt: op.requestedAt,
        completedAt: message.at
      }
      if (message.succeeded) {
        record(work, out, { ...base, state: "succeeded" })
        replyAll(work, out, op, {
          succeeded: true,
          executor: message.executor,
          devices: message.devices,
          at: message.at,
          manual: false
        })
        removeOp(work, out, op.id)
        return
      }
      record(work, out, { ...base, state: "failed" })
      removeExecutions(work, out, op.id)
      // Nobody could execute it: retrying the same membership changes nothing.
      if (message.executor !== undefined && op.round < work.config.maxAttempts) {
        op.round += 1
        op.executor = undefined
      } else {
        replyAll(work, out, op, { succeeded: false, reason: message.reason, attempts: op.round })
        removeOp(work, out, op.id)
      }
      return
    }
    case "DeviceHealth": {
      const health: DeviceHealth = { ok: message.ok, reason: message.reason, at: message.at }
      work.health[message.device] = { ...work.health[message.device], [message.node]: health }
      out.push({ _tag: "HealthChanged", device: message.device, node: message.node, health })
      return
    }
    case "ManualConfirm": {
      const pending = work.ops.filter((o) => o.target === message.target)
      for (const op of pending) {
        replyAll(work, out, op, {
          succeeded: true,
          executor: undefined,
          devices: [],
          at: message.at,
          manual: true
        })
        removeOp(work, out, op.id)
      }
      record(work, out, {
        opId: message.requestId,
        target: message.target,
        action: "off",
        origins: [message.origin],
        executor: undefined,
        devices: [],
        state: "confirmed",
        reason: `confirmed manually from ${message.origin}`,
        round: 0,
        requestedAt: message.at,
        completedAt: message.at
      })
      if (message.origin === work.self) {
        out.push({
          _tag: "Reply",
          requestId: message.requestId,
          target: message.target,
          reply: { succeeded: true, executor: undefined, devices: [], at: message.at, manual: true }
        })
      }
      return
    }
  }
}

const onMembership = (work: Work, out: Array<Output>, members: ReadonlyArray<string>) => {
  work.members = [...members].sort()
  for (const op of work.ops) {
    if (op.executor === undefined || op.executor === null || work.members.includes(op.executor)) continue
    // The executor left: its late result must not count, and someone else takes over.
    op.round += 1
    op.executor = undefined
    removeExecutions(work, out, op.id)
  }
}

const removeExecutions = (work: Work, out: Array<Output>, opId: string) => {
  for (const exec of work.executions.filter((e) => e.opId === opId)) {
    if (exec.invocation !== undefined) out.push({ _tag: "CancelAgent", invocationId: exec.invocation.id })
  }
  work.executions = work.executions.filter((e) => e.opId !== opId)
}

const onTick = (work: Work, out: Array<Output>, now: number) => {
  const overdue = [
    ...work.executions.flatMap((e) => (e.invocation === undefined ? [] : [e.invocation])),
    ...work.monitors.map((m) => ({ id: m.invocationId, deadline: m.deadline }))
  ].filter((invocation) => now >= invocation.deadline)
  for (const invocation of overdue) {
    // The agent runner should have reported its own timeout long ago; never wait forever on it.
    out.push({ _tag: "CancelAgent", invocationId: invocation.id })
    onAgentDone(
      work,
      out,
      invocation.id,
      {
        _tag: "TimedOut",
        durationMs: now - (invocation.deadline - work.options.watchdogGraceMs),
        detail: "no answer from the agent runner"
      },
      now
    )
  }
}

/** One step: the new state and what to do. */
export const step = (
  state: State,
  input: Input
): { readonly state: State; readonly outputs: ReadonlyArray<Output> } => {
  const { config: current, ...rest } = state
  const config = input._tag === "Configure" ? input.config : current
  const work: Work = { ...(structuredClone(rest) as Omit<Work, "config">), config }
  const out: Array<Output> = []
  switch (input._tag) {
    case "Deliver":
      onDeliver(work, out, input.message)
      break
    case "Membership":
      onMembership(work, out, input.members)
      break
    case "AgentDone":
      onAgentDone(work, out, input.invocationId, input.outcome, input.now)
      break
    case "Tick":
      onTick(work, out, input.now)
      break
    case "Priorities":
      work.priorities = { ...input.priorities }
      break
    case "Configure":
      break
  }
  activate(work, out, input.now)
  advanceAll(work, out, input.now)
  runMonitors(work, out, input.now)
  return { state: work, outputs: out }
}

export type TargetStatus =
  | { readonly _tag: "Fencing"; readonly round: number; readonly executor: string | null | undefined }
  | { readonly _tag: "Fenced"; readonly at: number; readonly manual: boolean }
  | { readonly _tag: "FenceFailed"; readonly at: number; readonly reason: string }
  | { readonly _tag: "Unknown" }

/**
 * What is known about a target. Only `Fenced` (an agent confirmed off/reboot, or an administrator
 * confirmed) allows its resources to be recovered elsewhere.
 */
export const targetStatus = (state: State, target: string): TargetStatus => {
  const op = state.ops.find((o) => o.target === target)
  if (op !== undefined) return { _tag: "Fencing", round: op.round, executor: op.executor }
  for (let i = state.history.length - 1; i >= 0; i--) {
    const entry = state.history[i]!
    if (entry.target !== target || entry.action === "on") continue
    if (entry.state === "failed") return { _tag: "FenceFailed", at: entry.completedAt, reason: entry.reason }
    return { _tag: "Fenced", at: entry.completedAt, manual: entry.state === "confirmed" }
  }
  return { _tag: "Unknown" }
}

/** True only when the target was fenced (agent-confirmed or manually confirmed) at or after `since`. */
export const isSafelyDown = (state: State, target: string, since: number): boolean => {
  const status = targetStatus(state, target)
  return status._tag === "Fenced" && status.at >= since
}

/** Whether the machine has work in progress (for tests and benchmarks that drive it). */
export const busy = (state: State): boolean => state.ops.length > 0
