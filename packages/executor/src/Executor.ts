/**
 * The node's executor: runs operations on resources through their agents (one at a time per
 * resource, up to `maxConcurrentOperations` at once on the node), keeps the recurring monitors of
 * each resource running for its current role, and reports every result as an OperationRecord.
 */
import {
  Clock,
  Context,
  Effect,
  FiberMap,
  Layer,
  Option,
  PubSub,
  type Queue,
  Ref,
  type Scope,
  Stream
} from "effect"
import * as AgentRegistryModule from "./AgentRegistry.ts"
import { AgentRegistry } from "./AgentRegistry.ts"
import { opDigest, restartDigest, secureDigest } from "./Digest.ts"
import * as ExecutorSettings from "./ExecutorSettings.ts"
import { Settings } from "./ExecutorSettings.ts"
import { ExecStatus, Ocf } from "./ExitCode.ts"
import { type AgentMetadata, forceRestartParameters, privateParameters } from "./Metadata.ts"
import { type OperationRecord, operationKey } from "./OperationRecord.ts"
import {
  type Action,
  type ActionResult,
  type AgentError,
  type AgentRef,
  format,
  type ResourceAgent
} from "./ResourceAgent.ts"

export interface OperationRequest {
  readonly resource: string
  readonly agent: AgentRef
  readonly operation: Action
  readonly params?: Readonly<Record<string, string>>
  /** Meta-attributes without `CRM_meta_` (clone, clone_max, notify_*, …). */
  readonly meta?: Readonly<Record<string, string>>
  /** 0 (the default) for a one-shot operation. */
  readonly intervalMs?: number
  /** Defaults to the settings' `defaultTimeoutMs` (Pacemaker's default op timeout, 20 s). */
  readonly timeoutMs?: number
}

/**
 * The role a recurring monitor is defined for. `Started` and `Unpromoted` monitors run while the
 * resource is active and not promoted, `Promoted` ones while it is promoted.
 */
export type MonitorRole = "Started" | "Unpromoted" | "Promoted"

export interface MonitorDefinition {
  readonly intervalMs: number
  readonly timeoutMs?: number
  readonly role?: MonitorRole
  /** Extra parameters of this monitor only (e.g. `OCF_CHECK_LEVEL`). */
  readonly params?: Readonly<Record<string, string>>
}

export interface ResourceDefinition {
  readonly resource: string
  readonly agent: AgentRef
  readonly params: Readonly<Record<string, string>>
  readonly meta?: Readonly<Record<string, string>>
  readonly monitors: ReadonlyArray<MonitorDefinition>
}

/** What the executor believes the resource's state is, from the results of its operations. */
export type ResourceRole = "Stopped" | "Started" | "Promoted"

export interface ExecutorService {
  /** Runs one operation and reports it (agent errors become records, e.g. rc 5 "not installed"). */
  readonly execute: (request: OperationRequest) => Effect.Effect<OperationRecord>
  /** Defines (or redefines) a resource's recurring monitors; they run while its role matches. */
  readonly define: (definition: ResourceDefinition) => Effect.Effect<void>
  /** Cancels the resource's monitors and forgets its definition. */
  readonly forget: (resource: string) => Effect.Effect<void>
  readonly role: (resource: string) => Effect.Effect<ResourceRole>
  /** Every one-shot result, and each recurring monitor's first result and rc changes. */
  readonly records: Stream.Stream<OperationRecord>
  /** Like `records`, subscribed now (nothing published after this call is missed). */
  readonly subscribe: Effect.Effect<Queue.Dequeue<OperationRecord>, never, Scope.Scope>
  /** The latest record of each operation key: this node's part of the CIB status. */
  readonly history: Effect.Effect<ReadonlyArray<OperationRecord>>
}

export class Executor extends Context.Tag("@ha/executor/Executor")<Executor, ExecutorService>() {}

const statusOfError = (error: AgentError): { rc: number; status: number } => {
  switch (error._tag) {
    case "AgentNotInstalled":
      return { rc: Ocf.notInstalled, status: ExecStatus.notInstalled }
    case "InvalidParameter":
      return { rc: Ocf.invalidParameter, status: ExecStatus.errorHard }
    case "MetadataParseError":
      return { rc: Ocf.error, status: ExecStatus.error }
  }
}

const monitorRuns = (monitor: MonitorDefinition, role: ResourceRole): boolean =>
  role === "Promoted" ? monitor.role === "Promoted" : role === "Started" && monitor.role !== "Promoted"

/** The role after a completed operation, or `undefined` when the operation says nothing about it. */
const roleAfter = (operation: Action, intervalMs: number, rc: number): ResourceRole | undefined => {
  if (operation === "stop") return "Stopped"
  if (rc !== Ocf.ok && !(operation === "monitor" && rc === Ocf.runningPromoted)) {
    return operation === "monitor" && intervalMs === 0 && rc === Ocf.notRunning ? "Stopped" : undefined
  }
  switch (operation) {
    case "start":
    case "demote":
    case "migrate_from":
      return "Started"
    case "promote":
      return "Promoted"
    case "monitor":
      return intervalMs === 0 ? (rc === Ocf.runningPromoted ? "Promoted" : "Started") : undefined
    default:
      return undefined
  }
}

export const make = Effect.gen(function* () {
  const settings = yield* Settings
  const registry = yield* AgentRegistry
  const nodeSlots = yield* Effect.makeSemaphore(settings.maxConcurrentOperations)
  const resourceLocks = new Map<string, Effect.Semaphore>()
  const callIds = yield* Ref.make(0)
  const pubsub = yield* PubSub.unbounded<OperationRecord>()
  const latest = yield* Ref.make(new Map<string, OperationRecord>())
  const roles = yield* Ref.make(new Map<string, ResourceRole>())
  const definitions = yield* Ref.make(new Map<string, ResourceDefinition>())
  const monitors = yield* FiberMap.make<string>()
  const monitorKeys = new Map<string, Set<string>>()

  const lockOf = (resource: string) =>
    Effect.gen(function* () {
      const existing = resourceLocks.get(resource)
      if (existing) return existing
      const created = yield* Effect.makeSemaphore(1)
      resourceLocks.set(resource, created)
      return created
    })

  /** Meta-data per agent, read once (like Pacemaker's controller cache); `undefined` if unreadable. */
  const metadataCache = new Map<string, AgentMetadata | undefined>()
  const metadataOf = (ref: AgentRef) =>
    Effect.gen(function* () {
      const name = format(ref)
      if (metadataCache.has(name)) return metadataCache.get(name)
      const metadata = yield* registry.resolve(ref).pipe(
        Effect.flatMap((agent: ResourceAgent) => agent.metadata),
        Effect.option,
        Effect.map(Option.getOrUndefined)
      )
      metadataCache.set(name, metadata)
      return metadata
    })

  /** The restart and secure digests the scheduler uses to choose between reload and restart. */
  const reloadDigests = (ref: AgentRef, params: Readonly<Record<string, string>>, intervalMs: number) =>
    Effect.gen(function* () {
      const metadata = yield* metadataOf(ref)
      if (metadata === undefined) return {}
      const forceRestart = forceRestartParameters(metadata)
      const secure = privateParameters(metadata)
      return {
        ...(forceRestart === undefined || intervalMs > 0
          ? {}
          : { opForceRestart: forceRestart, opRestartDigest: restartDigest(params, forceRestart) }),
        ...(secure.length === 0
          ? {}
          : {
              opSecureParams: secure,
              // fence devices are run by @ha/fencing, never by this executor
              opSecureDigest: secureDigest(params, secure, false)
            })
      }
    })

  /** Runs the operation under the resource lock and a node slot; records but does not publish. */
  const runOperation = (request: OperationRequest) =>
    Effect.gen(function* () {
      const intervalMs = request.intervalMs ?? 0
      const timeoutMs = request.timeoutMs ?? settings.defaultTimeoutMs
      const params = request.params ?? {}
      const submitted = yield* Clock.currentTimeMillis
      const callId = yield* Ref.updateAndGet(callIds, (n) => n + 1)
      const lock = yield* lockOf(request.resource)
      const { result, started } = yield* Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        const result = yield* registry.resolve(request.agent).pipe(
          Effect.flatMap((agent: ResourceAgent) =>
            agent.execute({
              resource: request.resource,
              action: request.operation,
              params,
              meta: request.meta ?? {},
              intervalMs,
              timeoutMs
            })
          ),
          Effect.catchAll((error) =>
            Effect.succeed<ActionResult>({
              ...statusOfError(error),
              status: statusOfError(error).status as ActionResult["status"],
              exitReason: error.message,
              stdout: "",
              stderr: "",
              droppedBytes: 0,
              execTimeMs: 0
            })
          )
        )
        return { result, started }
      }).pipe(nodeSlots.withPermits(1), lock.withPermits(1))
      const key = operationKey(request.resource, request.operation, intervalMs)
      const previous = (yield* Ref.get(latest)).get(key)
      const lastRun = Math.floor(started / 1000)
      const record: OperationRecord = {
        id: key,
        operationKey: key,
        operation: request.operation,
        resource: request.resource,
        agent: format(request.agent),
        interval: intervalMs,
        rcCode: result.rc,
        opStatus: result.status,
        callId,
        lastRun,
        lastRcChange:
          previous !== undefined && previous.rcCode === result.rc ? previous.lastRcChange : lastRun,
        execTime: result.execTimeMs,
        queueTime: started - submitted,
        opDigest: opDigest(params, intervalMs, timeoutMs),
        ...(yield* reloadDigests(request.agent, params, intervalMs)),
        exitReason: result.exitReason ?? "",
        onNode: settings.nodeName
      }
      yield* Ref.update(latest, (m) => new Map(m).set(key, record))
      if (result.droppedBytes > 0) {
        yield* Effect.logWarning(
          `${key}: agent output over ${settings.outputCapBytes} bytes, ${result.droppedBytes} bytes discarded`
        )
      }
      if (result.stdout !== "" || result.stderr !== "") {
        yield* Effect.logDebug(`${key} (call ${callId}) output`).pipe(
          Effect.annotateLogs({ stdout: result.stdout, stderr: result.stderr })
        )
      }
      return record
    })

  const monitorKey = (resource: string, monitor: MonitorDefinition) =>
    `${resource}\u0000${monitor.intervalMs}`

  /** Stops the resource's recurring monitors and, like Pacemaker's controller, drops their history entries. */
  const cancelMonitors = (resource: string) =>
    Effect.gen(function* () {
      const keys = monitorKeys.get(resource) ?? new Set()
      monitorKeys.delete(resource)
      yield* Effect.forEach(keys, (key) => FiberMap.remove(monitors, key), { discard: true })
      const definition = (yield* Ref.get(definitions)).get(resource)
      const cancelled = (definition?.monitors ?? [])
        .filter((m) => keys.has(monitorKey(resource, m)))
        .map((m) => operationKey(resource, "monitor", m.intervalMs))
      if (cancelled.length > 0) {
        yield* Ref.update(latest, (m) => {
          const next = new Map(m)
          for (const key of cancelled) next.delete(key)
          return next
        })
      }
    })

  const recurring = (definition: ResourceDefinition, monitor: MonitorDefinition) =>
    Effect.gen(function* () {
      let previous: OperationRecord | undefined
      while (true) {
        const record = yield* runOperation({
          resource: definition.resource,
          agent: definition.agent,
          operation: "monitor",
          params: { ...definition.params, ...monitor.params },
          meta:
            monitor.role === undefined ? (definition.meta ?? {}) : { ...definition.meta, role: monitor.role },
          intervalMs: monitor.intervalMs,
          timeoutMs: monitor.timeoutMs ?? settings.defaultTimeoutMs
        })
        if (
          previous === undefined ||
          previous.rcCode !== record.rcCode ||
          previous.opStatus !== record.opStatus
        ) {
          yield* PubSub.publish(pubsub, record)
        }
        previous = record
        yield* Effect.sleep(monitor.intervalMs)
      }
    })

  /** Restarts the resource's monitors for its current role. */
  const reconcile = (resource: string) =>
    Effect.gen(function* () {
      yield* cancelMonitors(resource)
      const definition = (yield* Ref.get(definitions)).get(resource)
      const role = (yield* Ref.get(roles)).get(resource) ?? "Stopped"
      if (definition === undefined) return
      const keys = new Set<string>()
      for (const monitor of definition.monitors.filter((m) => monitorRuns(m, role))) {
        const key = monitorKey(resource, monitor)
        keys.add(key)
        yield* FiberMap.run(monitors, key, recurring(definition, monitor))
      }
      monitorKeys.set(resource, keys)
    })

  const execute = (request: OperationRequest) =>
    Effect.gen(function* () {
      // Like Pacemaker's controller: recurring monitors are cancelled before the resource is stopped.
      if (request.operation === "stop") yield* cancelMonitors(request.resource)
      const record = yield* runOperation(request)
      yield* PubSub.publish(pubsub, record)
      const before = (yield* Ref.get(roles)).get(request.resource) ?? "Stopped"
      const after =
        record.opStatus === ExecStatus.done || request.operation === "stop"
          ? roleAfter(request.operation, record.interval, record.rcCode)
          : undefined
      if (after !== undefined) yield* Ref.update(roles, (m) => new Map(m).set(request.resource, after))
      if (after !== undefined && (after !== before || !monitorKeys.has(request.resource))) {
        yield* reconcile(request.resource)
      }
      return record
    })

  const service: ExecutorService = {
    execute,
    define: (definition) =>
      cancelMonitors(definition.resource).pipe(
        Effect.zipRight(Ref.update(definitions, (m) => new Map(m).set(definition.resource, definition))),
        Effect.zipRight(reconcile(definition.resource))
      ),
    forget: (resource) =>
      cancelMonitors(resource).pipe(
        Effect.zipRight(
          Ref.update(definitions, (m) => {
            const next = new Map(m)
            next.delete(resource)
            return next
          })
        )
      ),
    role: (resource) => Ref.get(roles).pipe(Effect.map((m) => m.get(resource) ?? "Stopped")),
    records: Stream.fromPubSub(pubsub),
    subscribe: PubSub.subscribe(pubsub),
    history: Ref.get(latest).pipe(Effect.map((m) => [...m.values()].sort((a, b) => a.callId - b.callId)))
  }
  return service
})

/** The executor over an AgentRegistry and Settings (live agents come from the registry's layer). */
export const layer: Layer.Layer<Executor, never, AgentRegistry | Settings> = Layer.scoped(Executor, make)

/**
 * Executor over the given native (e.g. scripted) agents with default settings (or the given
 * overrides), for tests of the controller and the simulator under TestClock.
 */
export const layerTest = (
  agents: ReadonlyArray<ResourceAgent>,
  settings: Partial<ExecutorSettings.ExecutorSettings> = {}
): Layer.Layer<Executor> =>
  layer.pipe(
    Layer.provide(AgentRegistryModule.layerTest(agents)),
    Layer.provide(ExecutorSettings.layer(settings))
  )
