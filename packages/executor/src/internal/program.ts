import { Effect } from "effect"
import type { ExecutorSettings } from "../ExecutorSettings.ts"
import { ExecStatus, Ocf } from "../ExitCode.ts"
import * as ProcessRunner from "../ProcessRunner.ts"
import { type ActionResult, AgentNotInstalled } from "../ResourceAgent.ts"

const exitReasonPrefix = "ocf-exit-reason:"

/** The last `ocf-exit-reason:` line an agent wrote to stderr (what ocf_exit_reason prints). */
export const exitReason = (stderr: string): string | undefined => {
  const lines = stderr.split("\n").filter((line) => line.startsWith(exitReasonPrefix))
  const last = lines[lines.length - 1]
  return last === undefined ? undefined : last.slice(exitReasonPrefix.length).trim()
}

export interface ProgramCall {
  readonly agent: string
  readonly path: string
  readonly args: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly timeoutMs: number
  /** Maps the program's exit code onto the OCF scale. */
  readonly toOcf: (code: number) => number
}

/** Runs an agent program under the settings' wrapper and turns its ending into an ActionResult. */
export const runProgram = (call: ProgramCall, settings: ExecutorSettings) =>
  Effect.gen(function* () {
    const [wrapper, ...wrapperArgs] = settings.agentWrapper
    const spec: ProcessRunner.ProcessSpec = {
      command: wrapper ?? call.path,
      args: wrapper === undefined ? call.args : [...wrapperArgs, call.path, ...call.args],
      env: call.env,
      outputCapBytes: settings.outputCapBytes
    }
    const result = yield* ProcessRunner.run(spec, {
      timeoutMs: call.timeoutMs,
      killGraceMs: settings.killGraceMs
    }).pipe(
      Effect.mapError(
        (e) =>
          new AgentNotInstalled({ agent: call.agent, path: e.command, reason: e.reason, detail: e.message })
      )
    )
    const common = {
      stdout: result.stdout.text,
      stderr: result.stderr.text,
      droppedBytes: result.stdout.droppedBytes + result.stderr.droppedBytes,
      execTimeMs: result.durationMs
    }
    if (result.timedOut) {
      const ended: ActionResult = {
        ...common,
        rc: Ocf.error,
        status: ExecStatus.timeout,
        exitReason: `timed out after ${call.timeoutMs} ms; process group killed with ${result.killedWith}`
      }
      return ended
    }
    if (result.termination._tag === "Signaled") {
      const ended: ActionResult = {
        ...common,
        rc: Ocf.error,
        status: ExecStatus.error,
        exitReason: `agent was killed by ${result.termination.signal}`
      }
      return ended
    }
    const ended: ActionResult = {
      ...common,
      rc: call.toOcf(result.termination.code),
      status: ExecStatus.done,
      exitReason: exitReason(result.stderr.text)
    }
    return ended
  })
