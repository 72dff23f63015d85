/**
 * Native agents: resource agents written in TypeScript against the same interface. Actions are
 * effects; the executor applies the operation's timeout by interrupting them.
 */
import { Clock, Effect, Option } from "effect"
import { ExecStatus, Ocf } from "./ExitCode.ts"
import type { AgentMetadata } from "./Metadata.ts"
import type { Action, ActionRequest, ActionResult, ResourceAgent } from "./ResourceAgent.ts"

export interface NativeOutcome {
  readonly rc: number
  readonly exitReason?: string
  readonly output?: string
}

export interface NativeImplementation {
  readonly metadata: AgentMetadata
  /** Actions the agent implements; the others answer rc 3 (unimplemented feature). */
  readonly actions: Partial<Record<Action, (request: ActionRequest) => Effect.Effect<NativeOutcome>>>
}

export const make = (type: string, implementation: NativeImplementation): ResourceAgent => ({
  ref: { class: "native", type },
  metadata: Effect.succeed(implementation.metadata),
  execute: (request) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const action = implementation.actions[request.action]
      const outcome: Option.Option<NativeOutcome> =
        action === undefined
          ? Option.some({
              rc: Ocf.unimplementedFeature,
              exitReason: `${type} has no ${request.action} action`
            })
          : yield* action(request).pipe(
              Effect.catchAllDefect((defect) =>
                Effect.succeed<NativeOutcome>({
                  rc: Ocf.error,
                  exitReason: `agent failed: ${String(defect)}`
                })
              ),
              Effect.timeoutOption(request.timeoutMs)
            )
      const finished = yield* Clock.currentTimeMillis
      const result: ActionResult = Option.match(outcome, {
        onNone: () => ({
          rc: Ocf.error,
          status: ExecStatus.timeout,
          exitReason: `timed out after ${request.timeoutMs} ms; action interrupted`,
          stdout: "",
          stderr: "",
          droppedBytes: 0,
          execTimeMs: finished - started
        }),
        onSome: (o) => ({
          rc: o.rc,
          status: ExecStatus.done,
          exitReason: o.exitReason,
          stdout: o.output ?? "",
          stderr: "",
          droppedBytes: 0,
          execTimeMs: finished - started
        })
      })
      return result
    })
})
