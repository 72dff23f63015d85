/**
 * The fencer service: the pure Fencer machine with its I/O around it. Cluster events, agent
 * results and ticks (all time from Clock) go in through one queue and are stepped one at a time;
 * outputs are carried out: broadcasts through the ClusterPort, agent runs through the
 * AgentRegistry (each in its own fiber, cancellable), replies to waiting callers.
 */
import { Clock, Context, Deferred, Duration, Effect, Fiber, Layer, Queue, Random, Ref, Stream } from "effect"
import { ClusterPort } from "./ClusterPort.ts"
import { FenceFailedError } from "./Errors.ts"
import { type AgentOutcome, AgentRegistry } from "./FenceAgent.ts"
import * as Fencer from "./Fencer.ts"
import type { FencingConfig } from "./FencingConfig.ts"
import { FencingSettings } from "./FencingSettings.ts"

export interface FenceOptions {
  /** Defaults to the cluster's stonith-action. */
  readonly action?: Fencer.RequestAction
  /** An administrator's request (no priority-fencing-delay). Default false. */
  readonly manual?: boolean
}

export interface FenceSucceeded {
  readonly target: string
  readonly executor: string | undefined
  readonly devices: ReadonlyArray<string>
  readonly at: number
  readonly manual: boolean
}

export class FencerService extends Context.Tag("@ha/fencing/FencerService")<
  FencerService,
  {
    /** Fences `target` cluster-wide; succeeds only when an agent confirmed it (or it was confirmed manually). */
    readonly fence: (
      target: string,
      options?: FenceOptions
    ) => Effect.Effect<FenceSucceeded, FenceFailedError>
    /** Records that an administrator confirmed `target` down (see Manual.confirmWarning). */
    readonly confirm: (target: string) => Effect.Effect<void>
    readonly history: (target?: string) => Effect.Effect<ReadonlyArray<Fencer.HistoryEntry>>
    readonly status: (target: string) => Effect.Effect<Fencer.TargetStatus>
    readonly isSafelyDown: (target: string, since: number) => Effect.Effect<boolean>
    readonly setPriorities: (priorities: Readonly<Record<string, number>>) => Effect.Effect<void>
    /** Replaces the devices, levels and properties (the CIB's fencing configuration changed). */
    readonly configure: (config: FencingConfig) => Effect.Effect<void>
    /** The last monitor result of each monitored device on each node (device → node → health). */
    readonly deviceHealth: Effect.Effect<Fencer.State["health"]>
    /** The machine's state (for diagnostics and tests). */
    readonly state: Effect.Effect<Fencer.State>
  }
>() {}

/** The fencer of this node over `config`; it runs until its scope closes. */
export const layer = (config: FencingConfig) =>
  Layer.scoped(
    FencerService,
    Effect.gen(function* () {
      const port = yield* ClusterPort
      const registry = yield* AgentRegistry
      const settings = yield* FencingSettings
      const seed = yield* Random.nextInt
      const state = yield* Ref.make(
        Fencer.init(port.self, config, seed, {
          watchdogGraceMs: settings.watchdogGraceMs,
          historyLimit: settings.historyLimit
        })
      )
      const inputs = yield* Queue.unbounded<(now: number) => Fencer.Input>()
      const waiting = new Map<string, Deferred.Deferred<Fencer.Reply>>()
      const running = new Map<string, Fiber.RuntimeFiber<void>>()
      const sequence = yield* Ref.make(0)

      const runAgent = (output: Extract<Fencer.Output, { _tag: "RunAgent" }>) =>
        Effect.gen(function* () {
          const { config } = yield* Ref.get(state)
          const path = config.devices.find((d) => d.id === output.device)?.path ?? output.device
          const outcome: AgentOutcome = yield* registry.get(output.agent, output.device, path).pipe(
            Effect.flatMap((agent) => agent.run(output.request)),
            Effect.catchAll((error) => Effect.succeed<AgentOutcome>({ _tag: "Error", reason: error.message }))
          )
          running.delete(output.invocationId)
          yield* Queue.offer(inputs, (now) => ({
            _tag: "AgentDone",
            invocationId: output.invocationId,
            outcome,
            now
          }))
        })

      const perform = (output: Fencer.Output) =>
        Effect.gen(function* () {
          switch (output._tag) {
            case "Broadcast":
              return yield* port.broadcast(output.message)
            case "RunAgent": {
              const fiber = yield* Effect.forkDaemon(runAgent(output))
              running.set(output.invocationId, fiber)
              return
            }
            case "CancelAgent": {
              const fiber = running.get(output.invocationId)
              running.delete(output.invocationId)
              if (fiber !== undefined) yield* Fiber.interrupt(fiber)
              return
            }
            case "Reply": {
              const deferred = waiting.get(output.requestId)
              waiting.delete(output.requestId)
              if (deferred !== undefined) yield* Deferred.succeed(deferred, output.reply)
              return
            }
            case "Recorded":
              return yield* Effect.logInfo(
                `fencing ${output.entry.target} (${output.entry.action}) ${output.entry.state}: ${output.entry.reason}`
              )
            case "HealthChanged": {
              const text = `fence device ${output.device} on ${output.node}: ${output.health.reason}`
              return yield* output.health.ok ? Effect.logInfo(text) : Effect.logWarning(text)
            }
          }
        })

      const loop = Effect.gen(function* () {
        const make = yield* Queue.take(inputs)
        const now = yield* Clock.currentTimeMillis
        const { outputs, state: next } = Fencer.step(yield* Ref.get(state), make(now))
        yield* Ref.set(state, next)
        yield* Effect.forEach(outputs, perform, { discard: true })
      }).pipe(Effect.forever)

      yield* Effect.addFinalizer(() =>
        Effect.forEach([...running.values()], Fiber.interrupt, { discard: true })
      )
      yield* Effect.forkScoped(loop)
      yield* Effect.forkScoped(
        Stream.runForEach(port.events, (event) =>
          Queue.offer(
            inputs,
            (now): Fencer.Input =>
              event._tag === "Delivered"
                ? { _tag: "Deliver", message: event.message, now }
                : { _tag: "Membership", members: event.members, now }
          )
        )
      )
      yield* Effect.forkScoped(
        Queue.offer(inputs, (now): Fencer.Input => ({ _tag: "Tick", now })).pipe(
          Effect.zipRight(Effect.sleep(Duration.millis(settings.tickMs))),
          Effect.forever
        )
      )

      const newRequestId = Effect.gen(function* () {
        const n = yield* Ref.updateAndGet(sequence, (k) => k + 1)
        return `${port.self}:${yield* Clock.currentTimeMillis}:${n}`
      })

      const fence = (target: string, options: FenceOptions = {}) =>
        Effect.gen(function* () {
          const requestId = yield* newRequestId
          const action = options.action ?? (yield* Ref.get(state)).config.stonithAction
          const deferred = yield* Deferred.make<Fencer.Reply>()
          waiting.set(requestId, deferred)
          yield* port.broadcast({
            _tag: "FenceRequest",
            requestId,
            origin: port.self,
            target,
            action,
            requestedAt: yield* Clock.currentTimeMillis,
            manual: options.manual ?? false
          })
          const reply = yield* Deferred.await(deferred)
          if (!reply.succeeded) {
            return yield* new FenceFailedError({
              target,
              action,
              attempts: reply.attempts,
              reason: reply.reason
            })
          }
          const done: FenceSucceeded = {
            target,
            executor: reply.executor,
            devices: reply.devices,
            at: reply.at,
            manual: reply.manual
          }
          return done
        })

      const confirm = (target: string) =>
        Effect.gen(function* () {
          const requestId = yield* newRequestId
          const deferred = yield* Deferred.make<Fencer.Reply>()
          waiting.set(requestId, deferred)
          yield* port.broadcast({
            _tag: "ManualConfirm",
            requestId,
            origin: port.self,
            target,
            at: yield* Clock.currentTimeMillis
          })
          yield* Deferred.await(deferred)
        })

      return {
        fence,
        confirm,
        history: (target) =>
          Ref.get(state).pipe(
            Effect.map((s) =>
              target === undefined ? s.history : s.history.filter((e) => e.target === target)
            )
          ),
        status: (target) => Ref.get(state).pipe(Effect.map((s) => Fencer.targetStatus(s, target))),
        isSafelyDown: (target, since) =>
          Ref.get(state).pipe(Effect.map((s) => Fencer.isSafelyDown(s, target, since))),
        configure: (next) =>
          Queue.offer(inputs, (now): Fencer.Input => ({ _tag: "Configure", config: next, now })),
        setPriorities: (priorities) =>
          Queue.offer(inputs, (now): Fencer.Input => ({ _tag: "Priorities", priorities, now })),
        deviceHealth: Ref.get(state).pipe(Effect.map((s) => s.health)),
        state: Ref.get(state)
      }
    })
  )
