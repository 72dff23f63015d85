/**
 * Running a fence agent program: the service interface only (no platform API here). The live
 * layer over node:child_process is platform/NodeAgentProcess.ts: each program runs in its own
 * process group, gets its arguments on stdin, and on timeout or interruption the whole group is
 * killed (SIGTERM, then SIGKILL after a grace period).
 */
import { Context, type Effect, Schema } from "effect"

export interface ProgramSpec {
  /** Absolute path of the program; never run through a shell. */
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** Written to the program's stdin, which is then closed. */
  readonly stdin: string
  /** Added to a minimal environment (PATH, LANG=C). */
  readonly env: Readonly<Record<string, string>>
  readonly timeoutMs: number
  /** Bytes kept of stdout and of stderr each; the rest is read and dropped. */
  readonly outputCapBytes: number
}

export type ProgramResult =
  | {
      readonly _tag: "Exited"
      readonly code: number
      readonly stdout: string
      readonly stderr: string
      readonly durationMs: number
    }
  | {
      readonly _tag: "Signaled"
      readonly signal: string
      readonly stdout: string
      readonly stderr: string
      readonly durationMs: number
    }
  /** The timeout passed: the process group was sent `killedWith` (SIGKILL when SIGTERM was not enough). */
  | { readonly _tag: "TimedOut"; readonly killedWith: "SIGTERM" | "SIGKILL"; readonly durationMs: number }

/** The program could not be started. */
export class SpawnError extends Schema.TaggedError<SpawnError>()("SpawnError", {
  command: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.command} could not be started: ${this.reason}`
  }
}

export class AgentProcess extends Context.Tag("@ha/fencing/AgentProcess")<
  AgentProcess,
  { readonly run: (spec: ProgramSpec) => Effect.Effect<ProgramResult, SpawnError> }
>() {}
