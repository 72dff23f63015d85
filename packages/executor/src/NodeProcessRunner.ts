/// <reference types="node" />
/**
 * The live ProcessRunner over node:child_process (the only module of this package that uses a
 * Node API). Each child is spawned `detached`, which on POSIX makes it the leader of a new process
 * group (and session), so `process.kill(-pid)` reaches every process the agent forked.
 */
import { spawn } from "node:child_process"
import type { Readable } from "node:stream"
import { Deferred, Duration, Effect, Layer } from "effect"
import {
  type CapturedOutput,
  type KillSignal,
  outputDrainMs,
  ProcessRunner,
  type RunningProcess,
  SpawnError,
  type Termination
} from "./ProcessRunner.ts"

/**
 * Keeps the first `cap` bytes of a stream and a rolling tail of the last `tailBytes` (agents print
 * their `ocf-exit-reason:` last); everything between is read, counted and discarded.
 */
class Capture {
  private readonly head: Array<Buffer> = []
  private kept = 0
  private tail: Buffer = Buffer.alloc(0)
  private readonly tailBytes: number
  dropped = 0
  closed = false
  constructor(
    stream: Readable,
    private readonly cap: number,
    onClose: () => void
  ) {
    this.tailBytes = Math.min(4096, Math.floor(cap / 4))
    stream.on("data", (chunk: Buffer) => {
      const room = this.cap - this.kept
      const headPart = room > 0 ? chunk.subarray(0, room) : chunk.subarray(0, 0)
      if (headPart.length > 0) {
        this.head.push(headPart)
        this.kept += headPart.length
      }
      const rest = chunk.subarray(headPart.length)
      if (rest.length > 0) {
        const joined = Buffer.concat([this.tail, rest])
        const keep = joined.subarray(Math.max(0, joined.length - this.tailBytes))
        this.dropped += joined.length - keep.length
        this.tail = Buffer.from(keep)
      }
    })
    stream.on("close", () => {
      this.closed = true
      onClose()
    })
    stream.on("error", () => {})
  }
  result(): CapturedOutput {
    const head = Buffer.concat(this.head).toString("utf8")
    if (this.dropped === 0) return { text: head + this.tail.toString("utf8"), droppedBytes: 0 }
    const tail = this.tail.toString("utf8")
    return { text: `${head}\n[… ${this.dropped} bytes discarded …]\n${tail}`, droppedBytes: this.dropped }
  }
}

const spawnReason = (code: string | undefined): SpawnError["reason"] =>
  code === "ENOENT" || code === "ENOTDIR" ? "NotFound" : code === "EACCES" ? "NotExecutable" : "Other"

export const layer = Layer.succeed(ProcessRunner, {
  spawn: (spec) =>
    Effect.gen(function* () {
      const exited = yield* Deferred.make<Termination>()
      const drained = yield* Deferred.make<void>()
      const child = yield* Effect.async<ReturnType<typeof spawn>, SpawnError>((resume) => {
        const handle = spawn(spec.command, [...spec.args], {
          env: { ...spec.env },
          detached: true,
          stdio: ["ignore", "pipe", "pipe"],
          shell: false
        })
        let settled = false
        handle.on("error", (error: NodeJS.ErrnoException) => {
          if (settled) return
          settled = true
          resume(
            Effect.fail(
              new SpawnError({
                command: spec.command,
                reason: spawnReason(error.code),
                detail: error.message
              })
            )
          )
        })
        handle.once("spawn", () => {
          settled = true
          resume(Effect.succeed(handle))
        })
      })
      const onClose = () => {
        if (stdout.closed && stderr.closed) Deferred.unsafeDone(drained, Effect.void)
      }
      const stdout = new Capture(child.stdout!, spec.outputCapBytes, onClose)
      const stderr = new Capture(child.stderr!, spec.outputCapBytes, onClose)
      child.once("exit", (code, signal) => {
        Deferred.unsafeDone(
          exited,
          Effect.succeed<Termination>(
            code === null ? { _tag: "Signaled", signal: signal ?? "unknown" } : { _tag: "Exited", code }
          )
        )
      })
      const pid = child.pid!
      const proc: RunningProcess = {
        pid,
        exit: Deferred.await(exited),
        killGroup: (signal: KillSignal) =>
          Effect.sync(() => {
            try {
              process.kill(-pid, signal)
            } catch {
              // ESRCH: the group is already gone.
            }
          }),
        output: Deferred.await(drained).pipe(
          Effect.interruptible,
          Effect.timeout(Duration.millis(outputDrainMs)),
          Effect.ignore,
          Effect.map(() => {
            child.stdout!.destroy()
            child.stderr!.destroy()
            return { stdout: stdout.result(), stderr: stderr.result() }
          })
        )
      }
      return proc
    })
})
