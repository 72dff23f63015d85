/**
 * Running agent programs as child processes: the service interface (no platform API here), the
 * timeout/kill sequence every class of agent shares, and a scripted test layer driven by the
 * Clock. The live layer over node:child_process is in NodeProcessRunner.ts.
 */
import { Clock, Context, Deferred, Duration, Effect, Layer, Option, Schema } from "effect"

export interface ProcessSpec {
  /** Program to run, an absolute path; never interpreted by a shell. */
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** The complete environment of the child (nothing is inherited). */
  readonly env: Readonly<Record<string, string>>
  /** Bytes of stdout and of stderr kept each (the head, plus a short tail); the rest is read, counted and discarded. */
  readonly outputCapBytes: number
}

export type Termination =
  | { readonly _tag: "Exited"; readonly code: number }
  | { readonly _tag: "Signaled"; readonly signal: string }

export interface CapturedOutput {
  readonly text: string
  /** Bytes read beyond the cap and discarded. */
  readonly droppedBytes: number
}

export type KillSignal = "SIGTERM" | "SIGKILL"

/**
 * How long NodeProcessRunner waits for the pipes to reach EOF after the leader exits (a daemon it
 * started may hold them). The fork server needs no wait: it reads what the pipes hold when the child exits.
 */
export const outputDrainMs = 100

export interface RunningProcess {
  readonly pid: number
  /** Completes when the process (the group leader) has exited. */
  readonly exit: Effect.Effect<Termination>
  /** Signals every process of the child's process group. */
  readonly killGroup: (signal: KillSignal) => Effect.Effect<void>
  /** The captured output; call after `exit` (waits briefly for the pipes to drain). */
  readonly output: Effect.Effect<{ readonly stdout: CapturedOutput; readonly stderr: CapturedOutput }>
}

/** The program could not be started. */
export class SpawnError extends Schema.TaggedError<SpawnError>()("SpawnError", {
  command: Schema.String,
  reason: Schema.Literal("NotFound", "NotExecutable", "Other"),
  detail: Schema.String
}) {
  override get message(): string {
    const what = {
      NotFound: "does not exist",
      NotExecutable: "is not executable",
      Other: "could not be started"
    }
    return `${this.command} ${what[this.reason]}: ${this.detail}`
  }
}

export class ProcessRunner extends Context.Tag("@ha/executor/ProcessRunner")<
  ProcessRunner,
  { readonly spawn: (spec: ProcessSpec) => Effect.Effect<RunningProcess, SpawnError> }
>() {}

export interface RunOptions {
  readonly timeoutMs: number
  /** Time between SIGTERM and SIGKILL to the group once the timeout has passed. */
  readonly killGraceMs: number
}

export interface ProcessResult {
  /** `undefined` when the process was killed at its timeout. */
  readonly termination: Termination
  readonly timedOut: boolean
  /** The last signal sent to the group at the timeout or on interruption. */
  readonly killedWith: KillSignal | undefined
  readonly stdout: CapturedOutput
  readonly stderr: CapturedOutput
  readonly durationMs: number
}

/** Waits for the exit at most `ms`; interruptible so that the timeout can end the wait inside the kill sequence. */
const exitWithin = (proc: RunningProcess, ms: number) =>
  proc.exit.pipe(Effect.interruptible, Effect.timeout(Duration.millis(ms)), Effect.option)

/**
 * Kills the group: SIGTERM, then SIGKILL if the leader has not exited after the grace period.
 * Returns the last signal sent and how the leader ended.
 */
const killSequence = (proc: RunningProcess, graceMs: number) =>
  Effect.gen(function* () {
    yield* proc.killGroup("SIGTERM")
    const afterTerm = yield* exitWithin(proc, graceMs)
    if (Option.isSome(afterTerm)) return { signal: "SIGTERM" as const, termination: afterTerm.value }
    yield* proc.killGroup("SIGKILL")
    // SIGKILL cannot be caught; only a process stuck in the kernel outlives it, so stop waiting then.
    const afterKill = yield* exitWithin(proc, graceMs)
    return {
      signal: "SIGKILL" as const,
      termination: Option.getOrElse(afterKill, (): Termination => ({ _tag: "Signaled", signal: "SIGKILL" }))
    }
  })

/**
 * Runs a program to completion or to its timeout. On timeout, and when the calling fiber is
 * interrupted, the child's whole process group is killed (TERM, then KILL after the grace period).
 * A leader that exits normally leaves the rest of its group alone: agents start daemons.
 */
export const run = (spec: ProcessSpec, options: RunOptions) =>
  Effect.gen(function* () {
    const runner = yield* ProcessRunner
    return yield* Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        const proc = yield* runner.spawn(spec)
        const waited = yield* restore(
          proc.exit.pipe(Effect.timeout(Duration.millis(options.timeoutMs)), Effect.option)
        ).pipe(Effect.onInterrupt(() => killSequence(proc, options.killGraceMs)))
        const killed = Option.isNone(waited) ? yield* killSequence(proc, options.killGraceMs) : undefined
        const output = yield* proc.output
        const finished = yield* Clock.currentTimeMillis
        const result: ProcessResult = {
          termination: Option.isSome(waited) ? waited.value : killed!.termination,
          timedOut: killed !== undefined,
          killedWith: killed?.signal,
          stdout: output.stdout,
          stderr: output.stderr,
          durationMs: finished - started
        }
        return result
      })
    )
  })

/** A scripted process for the test layer: what it prints, how long it runs, how it ends. */
export interface ScriptedProcess {
  readonly durationMs: number
  readonly exitCode: number
  readonly stdout?: string
  readonly stderr?: string
  /** A process that traps SIGTERM and keeps running (only SIGKILL ends it). */
  readonly ignoresTerm?: boolean
}

const capture = (text: string, cap: number): CapturedOutput => {
  const bytes = new TextEncoder().encode(text)
  return bytes.length <= cap
    ? { text, droppedBytes: 0 }
    : { text: new TextDecoder().decode(bytes.slice(0, cap)), droppedBytes: bytes.length - cap }
}

/**
 * Test layer: programs are functions of their spec, `Effect.sleep` stands in for their run time
 * (so TestClock drives them), and commands without a script fail like a missing file.
 */
export const layerTest = (scripts: Readonly<Record<string, (spec: ProcessSpec) => ScriptedProcess>>) =>
  Layer.succeed(ProcessRunner, {
    spawn: (spec) =>
      Effect.gen(function* () {
        const script = scripts[spec.command]
        if (script === undefined) {
          return yield* new SpawnError({
            command: spec.command,
            reason: "NotFound",
            detail: "no such script"
          })
        }
        const behaviour = script(spec)
        const done = yield* Deferred.make<Termination>()
        yield* Effect.sleep(Duration.millis(behaviour.durationMs)).pipe(
          Effect.zipRight(Deferred.succeed(done, { _tag: "Exited", code: behaviour.exitCode })),
          Effect.forkDaemon
        )
        const proc: RunningProcess = {
          pid: 0,
          exit: Deferred.await(done),
          killGroup: (signal) =>
            signal === "SIGTERM" && behaviour.ignoresTerm
              ? Effect.void
              : Deferred.succeed(done, { _tag: "Signaled", signal }).pipe(Effect.asVoid),
          output: Effect.succeed({
            stdout: capture(behaviour.stdout ?? "", spec.outputCapBytes),
            stderr: capture(behaviour.stderr ?? "", spec.outputCapBytes)
          })
        }
        return proc
      })
  })
