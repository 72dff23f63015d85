/**
 * Scripted agents for tests of the controller and the simulator: native agents that behave like
 * ocf:pacemaker:Stateful (start/stop/promote/demote/monitor keep per-instance state) with
 * programmable run times (slept on the Clock, so TestClock drives them) and programmable results.
 */
import { Clock, Effect, Ref } from "effect"
import { Ocf } from "./ExitCode.ts"
import type { AgentMetadata } from "./Metadata.ts"
import * as Native from "./Native.ts"
import type { Action, ActionRequest, ResourceAgent } from "./ResourceAgent.ts"

export interface Step {
  /** How long the action runs (`Infinity` for an agent that hangs). */
  readonly durationMs: number
  /** The rc it ends with; omitted: what the stateful default gives. */
  readonly rc?: number
  readonly exitReason?: string
}

export interface Call {
  readonly resource: string
  readonly action: Action
  readonly intervalMs: number
  readonly at: number
}

export type InstanceState = "stopped" | "started" | "promoted"

export interface ScriptedAgent {
  readonly agent: ResourceAgent
  /** Sets how an action behaves from now on (`undefined` restores the default). */
  readonly script: (action: Action, step: Step | undefined) => Effect.Effect<void>
  /** Sets an instance's state as if it had changed outside the cluster (e.g. a crash). */
  readonly setState: (resource: string, state: InstanceState) => Effect.Effect<void>
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
}

/** The actions a scripted agent runs (meta-data is answered from {@link metadata}). */
const handled = ["start", "stop", "monitor", "promote", "demote", "notify", "reload", "validate-all"] as const

const metadata = (type: string): AgentMetadata => ({
  name: type,
  version: "1.0",
  ocfVersion: "1.0",
  shortdesc: `scripted agent ${type}`,
  longdesc: "A scripted test agent with programmable durations and results.",
  parameters: [
    {
      name: "state",
      required: false,
      unique: false,
      uniqueGroup: undefined,
      reloadable: false,
      private: false,
      deprecated: false,
      type: "string",
      default: undefined,
      options: [],
      shortdesc: "unused",
      longdesc: "unused"
    }
  ],
  actions: [...handled, "meta-data" as const].map((name) => ({
    name,
    timeoutMs: 20_000,
    intervalMs: name === "monitor" ? 10_000 : undefined,
    depth: undefined,
    role: undefined,
    startDelayMs: undefined
  }))
})

const defaultRc = (action: Action, state: InstanceState): { rc: number; next: InstanceState } => {
  switch (action) {
    case "start":
      return { rc: Ocf.ok, next: state === "stopped" ? "started" : state }
    case "stop":
      return { rc: Ocf.ok, next: "stopped" }
    case "promote":
      return { rc: Ocf.ok, next: "promoted" }
    case "demote":
      return { rc: Ocf.ok, next: state === "promoted" ? "started" : state }
    case "monitor":
      return {
        rc: state === "stopped" ? Ocf.notRunning : state === "promoted" ? Ocf.runningPromoted : Ocf.ok,
        next: state
      }
    default:
      return { rc: Ocf.ok, next: state }
  }
}

export const make = (type: string, defaultDurationMs = 0) =>
  Effect.gen(function* () {
    const steps = yield* Ref.make(new Map<Action, Step>())
    const states = yield* Ref.make(new Map<string, InstanceState>())
    const calls = yield* Ref.make<ReadonlyArray<Call>>([])
    const run = (action: Action) => (request: ActionRequest) =>
      Effect.gen(function* () {
        const at = yield* Clock.currentTimeMillis
        yield* Ref.update(calls, (all) => [
          ...all,
          { resource: request.resource, action, intervalMs: request.intervalMs, at }
        ])
        const step = (yield* Ref.get(steps)).get(action)
        const durationMs = step?.durationMs ?? defaultDurationMs
        if (durationMs === Number.POSITIVE_INFINITY) yield* Effect.never
        if (durationMs > 0) yield* Effect.sleep(durationMs)
        const state = (yield* Ref.get(states)).get(request.resource) ?? "stopped"
        const natural = defaultRc(action, state)
        const rc = step?.rc ?? natural.rc
        if (rc === Ocf.ok || rc === Ocf.runningPromoted) {
          yield* Ref.update(states, (m) => new Map(m).set(request.resource, natural.next))
        }
        const outcome: Native.NativeOutcome =
          step?.exitReason === undefined ? { rc } : { rc, exitReason: step.exitReason }
        return outcome
      })
    const agent = Native.make(type, {
      metadata: metadata(type),
      actions: Object.fromEntries(handled.map((action) => [action, run(action)]))
    })
    const scripted: ScriptedAgent = {
      agent,
      script: (action, step) =>
        Ref.update(steps, (m) => {
          const next = new Map(m)
          if (step === undefined) next.delete(action)
          else next.set(action, step)
          return next
        }),
      setState: (resource, state) => Ref.update(states, (m) => new Map(m).set(resource, state)),
      calls: Ref.get(calls)
    }
    return scripted
  })
