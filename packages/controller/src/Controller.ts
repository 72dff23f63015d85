/**
 * The controller of one node: it follows the membership, re-runs the DC election on every view,
 * and while this node is DC runs the DC loop: the pure Engine fed one input at a time, with its
 * I/O around it.
 *
 * The DC loop's inputs (one queue, handled in order): membership views, CIB commits made by
 * others, results reported by the executors (recurring monitors), results of its own dispatched
 * actions, and the recheck timer. All CIB writes happen in the loop itself, so it can tell its own
 * commits (status records, which need no replan) from everyone else's (which do).
 */
import { type Cib, CibReplica, CibStore, Version } from "@ha/cib"
import { Executor, ExitCode, type OperationRecord, type ResourceAgent } from "@ha/executor"
import { ClusterPort, FenceAgent, FencerService, FencingConfig, FencingSettings } from "@ha/fencing"
import { Policy, type Transition } from "@ha/policy"
import {
  Clock,
  Context,
  Duration,
  Effect,
  Either,
  Fiber,
  FiberHandle,
  Layer,
  PubSub,
  Queue,
  Ref,
  type Scope,
  Stream,
  SubscriptionRef
} from "effect"
import * as ControllerSettings from "./ControllerSettings.ts"
import * as Election from "./Election.ts"
import * as Engine from "./Engine.ts"
import * as MembershipModule from "./Membership.ts"
import { Membership, type View } from "./Membership.ts"
import * as NodeExecutorsModule from "./NodeExecutors.ts"
import { NodeExecutors } from "./NodeExecutors.ts"
import * as Operations from "./Operations.ts"
import * as Recheck from "./Recheck.ts"
import * as Status from "./Status.ts"

export type ControllerEvent =
  | { readonly _tag: "Elected"; readonly dc: string | undefined; readonly at: number }
  | {
      readonly _tag: "TransitionStarted"
      readonly graph: number
      readonly actions: number
      readonly reasons: ReadonlyArray<string>
      readonly at: number
    }
  | {
      readonly _tag: "Dispatched"
      readonly graph: number
      readonly key: string
      readonly node: string | undefined
      readonly at: number
    }
  | {
      readonly _tag: "Completed"
      readonly graph: number
      readonly key: string
      readonly node: string | undefined
      readonly ok: boolean
      readonly detail: string
      readonly at: number
    }
  | {
      readonly _tag: "TransitionFinished"
      readonly graph: number
      readonly outcome: Engine.Outcome
      readonly reasons: ReadonlyArray<string>
      readonly done: number
      readonly total: number
      readonly durationMs: number
      readonly at: number
    }
  | {
      readonly _tag: "FailureCounted"
      readonly node: string
      readonly resource: string
      readonly operation: string
      readonly rc: number
      readonly at: number
    }
  | { readonly _tag: "NodeFenced"; readonly node: string; readonly at: number }
  | { readonly _tag: "PlanFailed"; readonly reason: string; readonly at: number }

export interface ControllerStatus {
  readonly self: string
  readonly dc: string | undefined
  /** This node is DC and has nothing to do until the next event. */
  readonly idle: boolean
}

export interface ControllerService {
  readonly status: Effect.Effect<ControllerStatus>
  /** Everything the DC loop did, as it happens. */
  readonly events: Stream.Stream<ControllerEvent>
  /** The latest events (up to 1000), oldest first. */
  readonly history: Effect.Effect<ReadonlyArray<ControllerEvent>>
}

export class Controller extends Context.Tag("@ha/controller/Controller")<Controller, ControllerService>() {}

type Outcome =
  | { readonly _tag: "Record"; readonly record: OperationRecord.OperationRecord }
  /** A fence device's start/stop/monitor: the fencer owns devices, there is nothing to run. */
  | { readonly _tag: "Device" }
  /** A recurring monitor to cancel: the executor already runs only the monitors of the current role. */
  | { readonly _tag: "Cancelled"; readonly resource: string }
  | { readonly _tag: "Fenced" }
  | { readonly _tag: "NotRun"; readonly reason: string }

type Inbox =
  | { readonly _tag: "View"; readonly view: View }
  | { readonly _tag: "Commit"; readonly committed: CibStore.Committed }
  | { readonly _tag: "Reported"; readonly record: OperationRecord.OperationRecord }
  | {
      readonly _tag: "Done"
      readonly graph: number
      readonly action: Transition.Action
      readonly outcome: Outcome
    }
  | { readonly _tag: "Recheck" }

const HISTORY_LIMIT = 1000
/** How long a fencing action the DC refuses to run waits before it is reported failed. */
const REFUSED_FENCING_RETRY_MS = 5000
const PROBE_FOUND = new Set([0, 8])

/** What a controller runs over. */
export type Requirements =
  | ControllerSettings.ControllerSettings
  | Membership
  | CibReplica.CibReplica
  | NodeExecutors
  | FencerService.FencerService

export const make: Effect.Effect<ControllerService, never, Requirements | Scope.Scope> = Effect.gen(
  function* () {
    const settings = yield* ControllerSettings.ControllerSettings
    const membership = yield* Membership
    // the replicated CIB: every write goes through the cluster's CIB sequencer and reaches every node
    const store = yield* CibReplica.CibReplica
    const executors = yield* NodeExecutors
    const fencer = yield* FencerService.FencerService
    const self = settings.nodeName

    const published = yield* PubSub.unbounded<ControllerEvent>()
    const log = yield* Ref.make<ReadonlyArray<ControllerEvent>>([])
    const dc = yield* SubscriptionRef.make<string | undefined>(undefined)
    const idle = yield* Ref.make(false)
    const loop = yield* FiberHandle.make()
    /** Whether the history the CIB had for this node when this daemon started has been erased. */
    let ownHistoryForgotten = false

    const emit = (event: ControllerEvent) =>
      Ref.update(log, (all) => [...all.slice(Math.max(0, all.length - HISTORY_LIMIT + 1)), event]).pipe(
        Effect.zipRight(PubSub.publish(published, event))
      )
    const nowMs = Clock.currentTimeMillis

    /** The DC loop; runs while this node is DC (interrupted when it no longer is). */
    const runDc = Effect.gen(function* () {
      const inbox = yield* Queue.unbounded<Inbox>()
      let engine = Engine.initial
      let view: View | undefined
      const ours = new Set<string>()
      const inflight = new Map<
        string,
        {
          readonly node: string | undefined
          readonly graph: number
          readonly action: Transition.Action
          readonly fiber: Fiber.RuntimeFiber<void>
        }
      >()
      const counted = new Set<string>()
      const graphStarted = new Map<number, number>()
      const timer = yield* FiberHandle.make()

      // CIB writes are batched: every change made while handling the inputs that are waiting goes
      // into one commit (results arrive in bursts; a commit validates and persists the whole CIB).
      let pending: Array<(cib: Cib.Cib) => Cib.Cib> = []
      const write = (change: (cib: Cib.Cib) => Cib.Cib) => Effect.sync(() => void pending.push(change))
      const apply = (cib: Cib.Cib, changes: ReadonlyArray<(cib: Cib.Cib) => Cib.Cib>) =>
        changes.reduce((current, change) => change(current), cib)
      /** The CIB with the changes not committed yet. */
      const read = Effect.map(store.query, (cib) => apply(cib, pending))
      const flush = Effect.suspend(() => {
        if (pending.length === 0) return Effect.void
        const changes = pending
        pending = []
        // Status is rebuilt from the nodes when the cluster restarts, so it need not wait for the disk.
        return store
          .update((cib) => apply(cib, changes), { durable: false })
          .pipe(
            Effect.tap((committed) => Effect.sync(() => ours.add(Version.format(committed.after)))),
            Effect.asVoid,
            Effect.catchAll((error) => {
              // What the changes say (results, fencing, the view) stays true: dropped, a DC that kept its
              // role through a loss of quorum would go on believing the CIB's stale records (resources
              // it stopped meanwhile still running). They are written with the next commit.
              pending = [...changes, ...pending]
              return Effect.logError(`controller: CIB update refused: ${error.message}`)
            })
          )
      })

      const members = () => new Set((view?.members ?? []).map((m) => m.name))

      /** The CIB with the view written into its status (who is in, quorum, this DC). */
      const withView = (cib: Cib.Cib) =>
        view === undefined ? cib : Status.withMembership(cib, self, members(), view.quorate)
      /** Plus, until that is on record, this node's history forgotten: this daemon's executor started empty. */
      const asSeen = (cib: Cib.Cib) => withView(ownHistoryForgotten ? cib : Status.forgetHistory(cib, self))

      /** Writes the view into the status when the CIB does not say so yet. */
      const recordMembership = Effect.gen(function* () {
        const cib = yield* read
        if (withView(cib) !== cib) yield* write(withView)
      })

      const plan = (reasons: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          yield* flush
          // the CIB with what a refused write could not record yet
          let cib = yield* read
          // What this DC knows and the CIB does not say yet (nodes added to the configuration after the
          // view that brought them, this node's stale history) is written first; without quorum the
          // write is refused, and the plan is made on it all the same: a member without a node_state
          // would look never seen, and be fenced.
          if (asSeen(cib) !== cib) {
            yield* write(asSeen)
            yield* flush
            cib = yield* read
          }
          const committed = yield* store.query
          if (!ownHistoryForgotten) ownHistoryForgotten = Status.forgetHistory(committed, self) === committed
          cib = asSeen(cib)
          const now = yield* nowMs
          const scheduled = Policy.schedule(cib, { now: Math.floor(now / 1000) })
          if (Either.isLeft(scheduled)) {
            yield* emit({ _tag: "PlanFailed", reason: scheduled.left.message, at: now })
            return { _tag: "PlanFailed", reason: scheduled.left.message } as const
          }
          const nodes = members()
          const unfenced = new Map<string, ReadonlySet<string>>()
          for (const node of cib.configuration.nodes) {
            if (!nodes.has(node.uname) && Status.isUnclean(cib, node.uname))
              unfenced.set(node.uname, Status.activeResources(cib, node.uname))
          }
          const batch = Number(Operations.pairs(cib.configuration.clusterProperties)["batch-limit"] ?? "0")
          const transition = scheduled.right
          yield* emit({
            _tag: "TransitionStarted",
            graph: engine.lastId + 1,
            actions: transition.actions.length,
            reasons,
            at: now
          })
          graphStarted.set(engine.lastId + 1, now)
          return {
            _tag: "Planned",
            plan: {
              transition,
              batchLimit: Number.isInteger(batch) && batch > 0 ? batch : settings.defaultBatchLimit,
              members: nodes,
              unfenced
            }
          } as const
        })

      const fencingRefusal = Effect.gen(function* () {
        if (view?.quorate !== true) {
          const cib = yield* store.query
          const policy = Operations.pairs(cib.configuration.clusterProperties)["no-quorum-policy"]
          if (policy !== "ignore") return "no quorum: nobody is fenced (no-quorum-policy is not ignore)"
        }
        return undefined
      })

      const execute = (action: Transition.Action) =>
        Effect.gen(function* () {
          const node = action.node
          if (action.kind === "crm_event" && action.task === "stonith" && node !== undefined) {
            // Whatever the plan says, nobody is fenced without quorum unless told to ignore it: a node
            // that booted alone with an old CIB must not shoot anyone (itself included) before it has
            // joined the cluster. (With quorum, a member whose stop failed is fenced, the DC included.)
            const refusal = yield* fencingRefusal
            // reported after a pause: the replan that follows a failed action would otherwise ask again at once
            if (refusal !== undefined)
              return yield* Effect.sleep(Duration.millis(REFUSED_FENCING_RETRY_MS)).pipe(
                Effect.as<Outcome>({ _tag: "NotRun", reason: refusal })
              )
            const fenceAction = action.key.endsWith("-off") ? "off" : "reboot"
            return yield* fencer.fence(node, { action: fenceAction }).pipe(
              Effect.as<Outcome>({ _tag: "Fenced" }),
              Effect.catchAll((error) => Effect.succeed<Outcome>({ _tag: "NotRun", reason: error.message }))
            )
          }
          if (action.kind !== "rsc_op" || action.resource === undefined || node === undefined) {
            // Cluster events ha has nothing to run for (e.g. clear_failcount is folded into the CIB by the policy).
            return { _tag: "Device" } as Outcome
          }
          const cib = yield* store.query
          const located = Operations.locate(cib, action.resource)
          if (located === undefined)
            return { _tag: "NotRun", reason: `${action.resource} is not in the configuration` } as Outcome
          if (Operations.isStonith(located)) return { _tag: "Device" } as Outcome
          if (action.task === "cancel")
            return {
              _tag: "Cancelled",
              resource: Operations.lrmTarget(cib, action.resource, located).id
            } as Outcome
          const request = Operations.request(cib, action, located)
          if (request instanceof Operations.UnsupportedAgentClass)
            return { _tag: "NotRun", reason: request.message } as Outcome
          const result = yield* executors
            .execute(node, request)
            .pipe(
              Effect.timeout(
                Duration.millis((request.timeoutMs ?? Operations.DEFAULT_TIMEOUT_MS) + settings.resultGraceMs)
              ),
              Effect.either
            )
          if (Either.isLeft(result)) {
            const reason = result.left._tag === "TimeoutException" ? "no result in time" : result.left.message
            return { _tag: "NotRun", reason } as Outcome
          }
          const record = result.right
          if (
            action.task === "monitor" &&
            action.interval > 0 &&
            record.rcCode === Operations.expectedRc(cib, located, action)
          ) {
            yield* executors
              .define(node, {
                resource: request.resource,
                agent: request.agent,
                params: request.params ?? {},
                meta: request.meta ?? {},
                monitors: Operations.monitors(cib, located)
              })
              .pipe(Effect.ignore)
          }
          return { _tag: "Record", record } as Outcome
        })

      const dispatch = (graph: number, action: Transition.Action) =>
        Effect.gen(function* () {
          yield* emit({ _tag: "Dispatched", graph, key: action.key, node: action.node, at: yield* nowMs })
          const id = `${graph}/${action.id}`
          const fiber = yield* execute(action).pipe(
            Effect.flatMap((outcome) => Queue.offer(inbox, { _tag: "Done", graph, action, outcome })),
            Effect.asVoid,
            Effect.ensuring(Effect.sync(() => inflight.delete(id))),
            Effect.forkScoped
          )
          // Only operations run on the node itself; a fencing action names its target, which is gone by design.
          inflight.set(id, { node: action.kind === "rsc_op" ? action.node : undefined, graph, action, fiber })
        })

      const armTimer = Effect.gen(function* () {
        const cib = yield* read
        const now = yield* nowMs
        const next = Recheck.nextRecheck(cib, now, settings.recheckIntervalMs)
        if (next === undefined) return yield* FiberHandle.clear(timer)
        yield* FiberHandle.run(
          timer,
          Effect.sleep(Duration.millis(Math.max(0, next - now))).pipe(
            Effect.zipRight(Queue.offer(inbox, { _tag: "Recheck" }))
          )
        )
      })

      /** Steps the engine and carries out its outputs (a plan it asks for is fed straight back). */
      const feed = (input: Engine.Input): Effect.Effect<void, never, Scope.Scope> =>
        Effect.gen(function* () {
          const { state, outputs } = Engine.step(engine, input)
          engine = state
          for (const output of outputs) {
            switch (output._tag) {
              case "Schedule":
                yield* feed(yield* plan(output.reasons))
                break
              case "Dispatch":
                yield* dispatch(output.graph, output.action)
                break
              case "Implied":
                yield* emit({
                  _tag: "Completed",
                  graph: output.graph,
                  key: output.action.key,
                  node: output.action.node,
                  ok: true,
                  detail: "implied by fencing",
                  at: yield* nowMs
                })
                break
              case "Finished": {
                const at = yield* nowMs
                yield* emit({
                  _tag: "TransitionFinished",
                  graph: output.graph,
                  outcome: output.outcome,
                  reasons: output.reasons,
                  done: output.done,
                  total: output.total,
                  durationMs: at - (graphStarted.get(output.graph) ?? at),
                  at
                })
                graphStarted.delete(output.graph)
                yield* armTimer
                break
              }
            }
          }
          yield* Ref.set(idle, Engine.idle(engine))
        })

      const trigger = (reason: string) => feed({ _tag: "Trigger", reason })

      const onView = (next: View) =>
        Effect.gen(function* () {
          const first = view === undefined
          const before = members()
          view = next
          const after = members()
          yield* recordMembership
          // A node that joins the DC's view may come back from a reboot: its history is re-probed.
          if (!first) {
            const joined = [...after].filter((n) => !before.has(n) && n !== self)
            if (joined.length > 0)
              yield* write((cib) => joined.reduce((c, n) => Status.forgetHistory(c, n), cib))
          }
          // The first view is the one the DC was elected on: the election itself is the trigger.
          const changed = before.size !== after.size || [...after].some((n) => !before.has(n))
          if (changed && first === false)
            yield* trigger(`membership changed (ring ${next.ringId}: ${[...after].join(", ")})`)
          // Operations on nodes that left will never report: they did not complete.
          for (const [id, entry] of inflight) {
            if (entry.node !== undefined && !after.has(entry.node)) {
              inflight.delete(id)
              yield* Fiber.interrupt(entry.fiber)
              const reason = `${entry.node} left the membership`
              yield* emit({
                _tag: "Completed",
                graph: entry.graph,
                key: entry.action.key,
                node: entry.node,
                ok: false,
                detail: reason,
                at: yield* nowMs
              })
              yield* feed({
                _tag: "ActionDone",
                graph: entry.graph,
                action: entry.action.id,
                ok: false,
                reason
              })
            }
          }
        })

      /** Records an executor's result; counts a failure once (by node and call id). */
      const recordResult = (
        record: OperationRecord.OperationRecord,
        action: { readonly action: Transition.Action; readonly graph: number } | undefined
      ) =>
        Effect.gen(function* () {
          const cib = yield* read
          const resource = action?.action.resource ?? record.resource
          const located = Operations.locate(cib, resource)
          if (located === undefined) return { ok: false, reason: `${resource} is not in the configuration` }
          const target = Operations.lrmTarget(cib, resource, located)
          const expected = Operations.expectedRc(cib, located, {
            id: -1,
            key: record.operationKey,
            task: record.operation,
            resource,
            node: record.onNode,
            interval: record.interval,
            kind: "rsc_op"
          })
          // Pacemaker's transition key: action:transition:expected-rc:DC
          const key =
            action === undefined ? undefined : `${action.action.id}:${action.graph}:${expected}:${self}`
          const done = record.opStatus === ExitCode.ExecStatus.done
          const ok = done && record.rcCode === expected
          const probe = record.operation === "monitor" && record.interval === 0
          const failure = !ok && !(probe && done && PROBE_FOUND.has(record.rcCode))
          const countKey = `${record.onNode}/${record.callId}`
          const count = failure && !counted.has(countKey) && record.operation !== "stop"
          if (count) counted.add(countKey)
          const now = Math.floor((yield* nowMs) / 1000)
          yield* write((c) => {
            const recorded = Status.recordOperation(c, target, record, key)
            return count
              ? Status.countFailure(
                  recorded,
                  record.onNode,
                  target.id,
                  record.operation,
                  record.interval,
                  now,
                  record.operation === "start"
                )
              : recorded
          })
          if (count) {
            yield* emit({
              _tag: "FailureCounted",
              node: record.onNode,
              resource: target.id,
              operation: record.operationKey,
              rc: record.rcCode,
              at: yield* nowMs
            })
          }
          const reason = ok
            ? "ok"
            : probe && PROBE_FOUND.has(record.rcCode)
              ? `found active (rc ${record.rcCode})`
              : `rc ${record.rcCode}, status ${record.opStatus}${record.exitReason === "" ? "" : `: ${record.exitReason}`}`
          return { ok, reason }
        })

      /** A fence device operation: recorded as done so the scheduler sees the device where it placed it. */
      const recordDevice = (action: Transition.Action, graph: number) =>
        Effect.gen(function* () {
          const cib = yield* read
          const located = action.resource === undefined ? undefined : Operations.locate(cib, action.resource)
          if (located === undefined || action.node === undefined || action.resource === undefined) return
          const node = action.node
          const lastCall = Math.max(
            0,
            ...(cib.status.nodes.find((s) => s.uname === node)?.lrm?.resources ?? []).flatMap((r) =>
              r.ops.map((o) => o.callId)
            )
          )
          const now = Math.floor((yield* nowMs) / 1000)
          const expected = Operations.expectedRc(cib, located, action)
          const rc = action.task === "monitor" && action.interval === 0 ? 7 : expected
          const record: OperationRecord.OperationRecord = {
            id: action.key,
            operationKey: action.key,
            operation: action.task,
            resource: action.resource,
            agent: `stonith:${located.primitive.type ?? ""}`,
            interval: action.interval,
            rcCode: rc,
            opStatus: ExitCode.ExecStatus.done,
            callId: lastCall + 1,
            lastRun: now,
            lastRcChange: now,
            execTime: 0,
            queueTime: 0,
            opDigest: "",
            exitReason: "",
            onNode: node
          }
          yield* recordResult(record, { action, graph })
        })

      const handle = (message: Inbox): Effect.Effect<void, never, Scope.Scope> =>
        Effect.gen(function* () {
          switch (message._tag) {
            case "View":
              return yield* onView(message.view)
            case "Commit":
              if (ours.has(Version.format(message.committed.after))) return
              return yield* trigger(`CIB changed (${Version.format(message.committed.after)})`)
            case "Reported": {
              const record = message.record
              if (record.interval === 0 || !members().has(record.onNode)) return
              const { ok, reason } = yield* recordResult(record, undefined)
              if (!ok) yield* trigger(`${record.operationKey} on ${record.onNode}: ${reason}`)
              return
            }
            case "Recheck":
              return yield* trigger("recheck timer")
            case "Done": {
              const { action, graph, outcome } = message
              let ok = true
              let detail = "ok"
              switch (outcome._tag) {
                case "Record": {
                  const result = yield* recordResult(outcome.record, { action, graph })
                  ok = result.ok
                  detail = result.reason
                  break
                }
                case "Device":
                  yield* recordDevice(action, graph)
                  break
                case "Cancelled":
                  yield* write((cib) =>
                    Status.removeOperation(
                      cib,
                      action.node!,
                      outcome.resource,
                      `${outcome.resource}_monitor_${action.interval}`
                    )
                  )
                  detail = "cancelled"
                  break
                case "Fenced":
                  yield* write((cib) => Status.markFenced(cib, action.node!))
                  yield* emit({ _tag: "NodeFenced", node: action.node!, at: yield* nowMs })
                  detail = "fenced"
                  break
                case "NotRun":
                  ok = false
                  detail = outcome.reason
                  break
              }
              yield* emit({
                _tag: "Completed",
                graph,
                key: action.key,
                node: action.node,
                ok,
                detail,
                at: yield* nowMs
              })
              return yield* feed({ _tag: "ActionDone", graph, action: action.id, ok, reason: detail })
            }
          }
        })

      yield* Effect.forkScoped(
        Stream.runForEach(membership.views, (v) => Queue.offer(inbox, { _tag: "View", view: v }))
      )
      yield* Effect.forkScoped(
        Stream.runForEach(store.changes, (c) => Queue.offer(inbox, { _tag: "Commit", committed: c }))
      )
      yield* Effect.forkScoped(
        Stream.runForEach(executors.records, (r) => Queue.offer(inbox, { _tag: "Reported", record: r }))
      )
      yield* Effect.logInfo(`controller: ${self} is DC`)
      // The first view arrives first; the election itself is the first reason to plan.
      yield* handle(yield* Queue.take(inbox))
      yield* trigger(`${self} elected DC`)
      yield* flush
      while (true) {
        const first = yield* Queue.take(inbox)
        const rest = yield* Queue.takeAll(inbox)
        yield* handle(first)
        for (const message of rest) yield* handle(message)
        yield* flush
      }
    }).pipe(Effect.scoped)

    let election = Election.initial
    const onView = (view: View) =>
      Effect.gen(function* () {
        const { state, outputs } = Election.step(election, view)
        election = state
        if (outputs.length === 0) return
        const next = state.dc
        yield* SubscriptionRef.set(dc, next)
        yield* emit({ _tag: "Elected", dc: next, at: yield* nowMs })
        if (next === self) {
          yield* Ref.set(idle, false)
          yield* FiberHandle.run(loop, runDc)
        } else {
          yield* FiberHandle.clear(loop)
          yield* Ref.set(idle, false)
        }
      })

    yield* Effect.forkScoped(Stream.runForEach(membership.views, onView))

    return {
      status: Effect.all({ dc: SubscriptionRef.get(dc), idle: Ref.get(idle) }).pipe(
        Effect.map(({ dc, idle }) => ({ self, dc, idle: dc === self && idle }))
      ),
      events: Stream.fromPubSub(published),
      history: Ref.get(log)
    }
  }
)

/** The controller over the live services of this node (the daemon wires them). */
export const layer: Layer.Layer<Controller, never, Requirements> = Layer.scoped(Controller, make)

export interface TestOptions {
  /** The node this controller runs on; the CIB's only node (or the first) when omitted. */
  readonly node?: string
  /** The agents of this node's executor (e.g. scripted agents: `ScriptedAgent.make(...).agent`). */
  readonly agents: ReadonlyArray<ResourceAgent.ResourceAgent>
  /** Rewrites the agents the CIB names onto the given ones (default: unchanged). */
  readonly mapAgent?: (agent: ResourceAgent.AgentRef) => ResourceAgent.AgentRef
  readonly settings?: Partial<ControllerSettings.Settings>
}

/**
 * A one-node cluster in memory: this node is member and DC of a fixed view, its executor runs the
 * given agents, the CIB starts from `cib`, and its fencer has no devices (a single node has
 * nobody to fence). Provides the CIB too, to look at what the DC recorded.
 */
export const layerTest = (
  cib: Cib.Cib,
  options: TestOptions
): Layer.Layer<Controller | CibReplica.CibReplica> => {
  const node = options.node ?? cib.configuration.nodes[0]?.uname ?? "localhost"
  const id = cib.configuration.nodes.find((n) => n.uname === node)?.id ?? node
  const executors = Layer.effect(
    NodeExecutors,
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const memory = yield* NodeExecutorsModule.makeMemory(
        new Map([[node, executor]]),
        options.mapAgent === undefined ? {} : { mapAgent: options.mapAgent }
      )
      return memory.service
    })
  ).pipe(Layer.provide(Executor.layerTest(options.agents, { nodeName: node })))
  const fencer = Layer.unwrapEffect(
    Effect.map(ClusterPort.makeMemoryCluster([node]), (cluster) =>
      FencerService.layer(FencingConfig.empty).pipe(
        Layer.provide(
          Layer.mergeAll(
            Layer.succeed(ClusterPort.ClusterPort, cluster.port(node)),
            FenceAgent.layerAgents([]),
            FencingSettings.FencingSettings.layer()
          )
        )
      )
    )
  )
  const store = CibReplica.layerLocal.pipe(Layer.provide(CibStore.layerTestFrom(cib)))
  const controller = layer.pipe(
    Layer.provide(
      Layer.mergeAll(
        ControllerSettings.layer({ ...options.settings, nodeName: node }),
        MembershipModule.layerTest({
          ringId: 1,
          quorate: true,
          members: [MembershipModule.member(node, id)]
        }),
        executors,
        fencer
      )
    )
  )
  return Layer.provideMerge(controller, store)
}
