/**
 * The `native` class: fence agents written in TypeScript against the same interface as the
 * fence_* programs (same actions, same exit codes), so the fencer treats both alike. The run is
 * bounded by the request's timeout: a handler still running then is interrupted and reported
 * TimedOut, never as a success.
 */
import { Clock, Duration, Effect, Option } from "effect"
import type { AgentInfo, AgentOutcome, FenceAgent } from "./FenceAgent.ts"

/** What a native handler answers: an exit code in the fence-agents convention and its output. */
export interface NativeResult {
  readonly code: number
  readonly output?: string
}

export interface NativeAgentSpec {
  readonly name: string
  readonly info: AgentInfo
  /** Handles one action (the agent's own action names). Failures become exit code 1 with the error text. */
  readonly handle: (
    action: string,
    params: Readonly<Record<string, string>>
  ) => Effect.Effect<NativeResult, unknown>
}

export const make = (spec: NativeAgentSpec): FenceAgent => ({
  name: spec.name,
  agentClass: "native",
  info: spec.info,
  run: (request) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const result = yield* spec.handle(request.action, request.params).pipe(
        Effect.map((r) => ({ code: r.code, stdout: r.output ?? "", stderr: "" })),
        Effect.catchAll((error) =>
          Effect.succeed({
            code: 1,
            stdout: "",
            stderr: error instanceof Error ? error.message : String(error)
          })
        ),
        Effect.timeout(Duration.millis(request.timeoutMs)),
        Effect.option
      )
      const durationMs = (yield* Clock.currentTimeMillis) - started
      const outcome: AgentOutcome = Option.isSome(result)
        ? { _tag: "Exited", ...result.value, durationMs }
        : { _tag: "TimedOut", durationMs, detail: "native handler interrupted" }
      return outcome
    })
})
