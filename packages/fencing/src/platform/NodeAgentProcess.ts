/**
 * The live AgentProcess over node:child_process (a platform module: Node API allowed here).
 * Children are spawned `detached`, which makes each the leader of a new process group, so that
 * `process.kill(-pid)` reaches everything the agent forked (ssh, curl, sleep …).
 */
import { spawn } from "node:child_process"
import { Clock, Deferred, Duration, Effect, Layer, Option } from "effect"
import { AgentProcess, type ProgramResult, SpawnError } from "../AgentProcess.ts"

/** Time between SIGTERM and SIGKILL to a timed-out group. */
const killGraceMs = 1000
/** How long to wait for the output pipes to close after the agent exited. */
const drainMs = 200

class Capped {
  private readonly chunks: Array<Buffer> = []
  private kept = 0
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    const room = this.cap - this.kept
    if (room <= 0) return
    const part = chunk.subarray(0, room)
    this.chunks.push(part)
    this.kept += part.length
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8")
  }
}

const killGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: the group is gone already.
  }
}

export const layer = Layer.succeed(AgentProcess, {
  run: (spec) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        const exited = yield* Deferred.make<{ code: number | null; signal: NodeJS.Signals | null }>()
        const stdout = new Capped(spec.outputCapBytes)
        const stderr = new Capped(spec.outputCapBytes)
        const child = yield* Effect.async<ReturnType<typeof spawn>, SpawnError>((resume) => {
          const handle = spawn(spec.command, [...spec.args], {
            env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C", LC_ALL: "C", ...spec.env },
            detached: true,
            stdio: ["pipe", "pipe", "pipe"],
            shell: false
          })
          let settled = false
          handle.on("error", (error) => {
            if (settled) return
            settled = true
            resume(Effect.fail(new SpawnError({ command: spec.command, reason: error.message })))
          })
          handle.once("spawn", () => {
            settled = true
            resume(Effect.succeed(handle))
          })
        })
        child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk))
        child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk))
        child.stdin!.on("error", () => {})
        // "exit", not "close": a helper the agent left behind may hold the pipes open.
        child.once("exit", (code, signal) => Deferred.unsafeDone(exited, Effect.succeed({ code, signal })))
        const drained = yield* Deferred.make<void>()
        child.once("close", () => Deferred.unsafeDone(drained, Effect.void))
        child.stdin!.end(spec.stdin)
        const pid = child.pid!
        const waitExit = (ms: number) =>
          Deferred.await(exited).pipe(
            Effect.interruptible,
            Effect.timeout(Duration.millis(ms)),
            Effect.option
          )
        const finished = yield* restore(waitExit(spec.timeoutMs)).pipe(
          // Interrupted (the fencer cancelled the action): the group must not outlive the request.
          Effect.onInterrupt(() => Effect.sync(() => killGroup(pid, "SIGKILL")))
        )
        if (Option.isSome(finished)) {
          const { code, signal } = finished.value
          yield* Deferred.await(drained).pipe(Effect.timeout(Duration.millis(drainMs)), Effect.ignore)
          const durationMs = (yield* Clock.currentTimeMillis) - started
          const result: ProgramResult =
            code === null
              ? {
                  _tag: "Signaled",
                  signal: signal ?? "unknown",
                  stdout: stdout.text(),
                  stderr: stderr.text(),
                  durationMs
                }
              : { _tag: "Exited", code, stdout: stdout.text(), stderr: stderr.text(), durationMs }
          return result
        }
        killGroup(pid, "SIGTERM")
        const afterTerm = yield* waitExit(killGraceMs)
        if (Option.isNone(afterTerm)) {
          killGroup(pid, "SIGKILL")
          yield* waitExit(killGraceMs)
        }
        // Whatever else of the group ignored SIGTERM goes now too (the leader may have exited alone).
        killGroup(pid, "SIGKILL")
        const result: ProgramResult = {
          _tag: "TimedOut",
          killedWith: Option.isNone(afterTerm) ? "SIGKILL" : "SIGTERM",
          durationMs: (yield* Clock.currentTimeMillis) - started
        }
        return result
      })
    )
})
