/**
 * The live NodePower for namespace nodes (a platform module: node:fs and process signals).
 * Off: host-side links down first (a dying node must not send anything more), then SIGKILL to
 * the node's pid-namespace init; the kernel then kills every process of that pid namespace, and
 * the init is gone (or a zombie) only once all of them are. On: the boot command, then links up.
 * The pid file is trusted only if it names the init (pid 1) of another pid namespace, so a stale
 * or wrong file can never make the agent kill a host process.
 */
import { readFile, readlink } from "node:fs/promises"
import { Duration, Effect, Layer } from "effect"
import { AgentProcess } from "../AgentProcess.ts"
import { NodePowerError } from "../Errors.ts"
import { type NetnsNode, NodePower, type NodePowerConfig } from "../FenceNetns.ts"

const ipCommand = "/usr/sbin/ip"
const deathWaitMs = 10_000
const pollMs = 20

const readText = (path: string) => Effect.tryPromise(() => readFile(path, "utf8")).pipe(Effect.option)

/** Running (not gone, not a zombie). */
const isAlive = (pid: number) =>
  readText(`/proc/${pid}/stat`).pipe(
    Effect.map((stat) => {
      if (stat._tag === "None") return false
      const state = stat.value.slice(stat.value.lastIndexOf(")") + 2, stat.value.lastIndexOf(")") + 3)
      return state !== "Z" && state !== "X"
    })
  )

/** The init pid of the node, if the file names a live init of a pid namespace other than ours. */
const nodeInit = (node: string, spec: NetnsNode) =>
  Effect.gen(function* () {
    const text = yield* readText(spec.initPidFile)
    if (text._tag === "None") return undefined
    const pid = Number.parseInt(text.value.trim(), 10)
    if (!Number.isInteger(pid) || pid <= 1) {
      return yield* new NodePowerError({
        node,
        operation: "status",
        reason: `${spec.initPidFile} holds no pid: "${text.value.trim()}"`
      })
    }
    if (!(yield* isAlive(pid))) return undefined
    const status = yield* readText(`/proc/${pid}/status`)
    const nsPid =
      status._tag === "Some" ? /^NSpid:\s*(.*)$/m.exec(status.value)?.[1]?.trim().split(/\s+/) : undefined
    const own = yield* Effect.tryPromise(() => readlink("/proc/self/ns/pid")).pipe(Effect.option)
    const its = yield* Effect.tryPromise(() => readlink(`/proc/${pid}/ns/pid`)).pipe(Effect.option)
    if (
      nsPid === undefined ||
      nsPid[nsPid.length - 1] !== "1" ||
      own._tag === "None" ||
      its._tag === "None" ||
      own.value === its.value
    ) {
      return yield* new NodePowerError({
        node,
        operation: "status",
        reason: `pid ${pid} from ${spec.initPidFile} is not the init of a separate pid namespace; refusing to act on it`
      })
    }
    return pid
  })

export const layer = (config: NodePowerConfig) =>
  Layer.effect(
    NodePower,
    Effect.gen(function* () {
      const runner = yield* AgentProcess
      const specOf = (node: string, operation: string) => {
        const spec = config.nodes[node]
        return spec === undefined
          ? Effect.fail(new NodePowerError({ node, operation, reason: "not a configured namespace node" }))
          : Effect.succeed(spec)
      }
      const run = (
        node: string,
        operation: string,
        command: string,
        args: ReadonlyArray<string>,
        timeoutMs: number
      ) =>
        runner.run({ command, args, stdin: "", env: {}, timeoutMs, outputCapBytes: 16 * 1024 }).pipe(
          Effect.mapError((error) => new NodePowerError({ node, operation, reason: error.message })),
          Effect.flatMap((result) =>
            result._tag === "Exited" && result.code === 0
              ? Effect.void
              : Effect.fail(
                  new NodePowerError({
                    node,
                    operation,
                    reason: `${command} ${args.join(" ")}: ${result._tag === "Exited" ? `exit ${result.code}: ${result.stderr.trim()}` : result._tag}`
                  })
                )
          )
        )
      const setLinks = (node: string, spec: NetnsNode, state: "up" | "down") =>
        Effect.forEach(
          spec.hostLinks,
          (link) => run(node, `link ${state}`, ipCommand, ["link", "set", link, state], 5000),
          {
            discard: true
          }
        )
      const status = (node: string) =>
        Effect.gen(function* () {
          const spec = yield* specOf(node, "status")
          return (yield* nodeInit(node, spec)) === undefined ? ("off" as const) : ("on" as const)
        })
      const off = (node: string) =>
        Effect.gen(function* () {
          const spec = yield* specOf(node, "off")
          yield* setLinks(node, spec, "down")
          const pid = yield* nodeInit(node, spec)
          if (pid === undefined) return
          yield* Effect.try({
            try: () => process.kill(pid, "SIGKILL"),
            catch: (error) =>
              new NodePowerError({ node, operation: "off", reason: `kill ${pid}: ${String(error)}` })
          })
          const dead = yield* Effect.gen(function* () {
            while (yield* isAlive(pid)) yield* Effect.sleep(Duration.millis(pollMs))
          }).pipe(Effect.timeout(Duration.millis(deathWaitMs)), Effect.option)
          if (dead._tag === "None") {
            return yield* new NodePowerError({
              node,
              operation: "off",
              reason: `init ${pid} still alive ${deathWaitMs} ms after SIGKILL`
            })
          }
        })
      const on = (node: string) =>
        Effect.gen(function* () {
          const spec = yield* specOf(node, "on")
          if ((yield* nodeInit(node, spec)) === undefined) {
            yield* run(node, "on", spec.boot.command, spec.boot.args, config.bootTimeoutMs)
            if ((yield* nodeInit(node, spec)) === undefined) {
              return yield* new NodePowerError({
                node,
                operation: "on",
                reason: `boot finished but ${spec.initPidFile} names no live init`
              })
            }
          }
          yield* setLinks(node, spec, "up")
        })
      return { nodes: Object.keys(config.nodes), status, off, on }
    })
  )
