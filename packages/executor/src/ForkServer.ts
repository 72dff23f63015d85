/// <reference types="node" />
/**
 * A live ProcessRunner that forks agents from a small helper process (internal/forkServer.pl.ts)
 * instead of from the daemon itself. Forking copies the parent's page tables, so its cost grows with
 * the parent's memory: a few milliseconds of CPU per agent run for a Node process of a few hundred MB,
 * a quarter of a millisecond for the helper. The behaviour is that of NodeProcessRunner (new process
 * group per child, no shell, exact environment, capped output with a tail, typed spawn errors); the
 * helper is started on first use and again if it dies, and stopped with the layer's scope.
 */

import { Buffer } from "node:buffer"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { constants } from "node:os"
import { Deferred, Effect, Layer } from "effect"
import { forkServerProgram } from "./internal/forkServer.pl.ts"
import {
  type CapturedOutput,
  type KillSignal,
  ProcessRunner,
  type RunningProcess,
  SpawnError,
  type Termination
} from "./ProcessRunner.ts"

interface Pending {
  readonly command: string
  readonly started: Deferred.Deferred<number, SpawnError>
  readonly exited: Deferred.Deferred<Termination>
  readonly output: Deferred.Deferred<{ readonly stdout: CapturedOutput; readonly stderr: CapturedOutput }>
}

const hex = (text: string) => Buffer.from(text, "utf8").toString("hex")
const text = (hexText: string) => Buffer.from(hexText, "hex").toString("utf8")

const captured = (dropped: string, head: string, tail: string): CapturedOutput => {
  const droppedBytes = Number(dropped)
  return droppedBytes === 0
    ? { text: text(head) + text(tail), droppedBytes: 0 }
    : { text: `${text(head)}\n[… ${droppedBytes} bytes discarded …]\n${text(tail)}`, droppedBytes }
}

const errnoReason = (errno: number): SpawnError["reason"] =>
  errno === 2 || errno === 20 ? "NotFound" : errno === 13 ? "NotExecutable" : "Other"

const signalName = (number: string) =>
  Object.entries(constants.signals).find(([, value]) => value === Number(number))?.[0] ?? `signal ${number}`

/** One helper process and the children it runs for us. */
class Server {
  private readonly pending = new Map<number, Pending>()
  private buffered = ""
  readonly process: ChildProcessWithoutNullStreams
  dead = false

  constructor() {
    this.process = spawn("perl", ["-e", forkServerProgram], { stdio: ["pipe", "pipe", "pipe"] })
    this.process.stdout.setEncoding("utf8")
    this.process.stdout.on("data", (chunk: string) => this.receive(chunk))
    this.process.stderr.on("data", () => {})
    const die = (reason: string) => {
      this.dead = true
      for (const [, p] of this.pending) {
        Deferred.unsafeDone(
          p.started,
          Effect.fail(new SpawnError({ command: p.command, reason: "Other", detail: reason }))
        )
        Deferred.unsafeDone(p.exited, Effect.succeed({ _tag: "Signaled", signal: "unknown" }))
        Deferred.unsafeDone(
          p.output,
          Effect.succeed({ stdout: captured("0", "", ""), stderr: captured("0", "", "") })
        )
      }
      this.pending.clear()
    }
    this.process.on("error", (error) => die(`fork server: ${error.message}`))
    this.process.on("exit", () => die("fork server exited"))
    this.process.stdin.on("error", () => {})
  }

  private receive(chunk: string) {
    this.buffered += chunk
    let newline = this.buffered.indexOf("\n")
    while (newline >= 0) {
      const [kind, id, ...fields] = this.buffered.slice(0, newline).split(" ")
      this.buffered = this.buffered.slice(newline + 1)
      newline = this.buffered.indexOf("\n")
      const p = this.pending.get(Number(id))
      if (p === undefined) continue
      if (kind === "pid") Deferred.unsafeDone(p.started, Effect.succeed(Number(fields[0])))
      else if (kind === "error") {
        this.pending.delete(Number(id))
        Deferred.unsafeDone(
          p.started,
          Effect.fail(
            new SpawnError({
              command: p.command,
              reason: errnoReason(Number(fields[0])),
              detail: text(fields[1] ?? "")
            })
          )
        )
      } else if (kind === "exit") {
        const [code, signal] = fields
        Deferred.unsafeDone(
          p.exited,
          Effect.succeed<Termination>(
            code === "-"
              ? { _tag: "Signaled", signal: signalName(signal!) }
              : { _tag: "Exited", code: Number(code) }
          )
        )
      } else if (kind === "output") {
        this.pending.delete(Number(id))
        const [outDropped, outHead, outTail, errDropped, errHead, errTail] = fields
        Deferred.unsafeDone(
          p.output,
          Effect.succeed({
            stdout: captured(outDropped!, outHead!, outTail!),
            stderr: captured(errDropped!, errHead!, errTail!)
          })
        )
      }
    }
  }

  send(id: number, pending: Pending, line: string) {
    this.pending.set(id, pending)
    this.process.stdin.write(`${line}\n`)
  }
}

export const layer = Layer.scoped(
  ProcessRunner,
  Effect.gen(function* () {
    let server: Server | undefined
    let nextId = 0
    yield* Effect.addFinalizer(() => Effect.sync(() => server?.process.kill("SIGKILL")))
    const current = () => {
      if (server === undefined || server.dead) server = new Server()
      return server
    }
    return {
      spawn: (spec) =>
        Effect.gen(function* () {
          const id = ++nextId
          const pending: Pending = {
            command: spec.command,
            started: yield* Deferred.make<number, SpawnError>(),
            exited: yield* Deferred.make<Termination>(),
            output: yield* Deferred.make<{
              readonly stdout: CapturedOutput
              readonly stderr: CapturedOutput
            }>()
          }
          const owner = current()
          const env = Object.entries(spec.env).map(([name, value]) => hex(`${name}=${value}`))
          owner.send(
            id,
            pending,
            [
              "spawn",
              id,
              spec.outputCapBytes,
              hex(spec.command),
              spec.args.length,
              ...spec.args.map(hex),
              env.length,
              ...env
            ].join(" ")
          )
          const pid = yield* Deferred.await(pending.started)
          const proc: RunningProcess = {
            pid,
            exit: Deferred.await(pending.exited),
            killGroup: (signal: KillSignal) =>
              Effect.sync(() => {
                try {
                  process.kill(-pid, signal)
                } catch {
                  // ESRCH: the group is already gone.
                }
              }),
            // the helper reports the output as soon as the child exits (it does not wait for pipes
            // that a process the child left behind holds open)
            output: Deferred.await(pending.output)
          }
          return proc
        })
    }
  })
)
