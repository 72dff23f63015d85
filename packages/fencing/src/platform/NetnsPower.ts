/**
 * The live NodePower for namespace nodes (a platform module: node:fs and process signals).
 * Off: host-side links down first (a dying node must not send anything more), then SIGKILL to
 * the node's pid-namespace init; the kernel then kills every process of that pid namespace, and
 * the init is gone (or a zombie) only once all of them are. On: the boot command, then links up.
 * The pid file is trusted only if it names the init (pid 1) of another pid namespace, so a stale
 * or wrong file can never make the agent kill a host process.
 *
 * `serve` puts a NodePower behind a filesystem unix socket (the lab's "BMC"): filesystem sockets
 * are not scoped by network namespace, so fence agents running inside the nodes reach it during a
 * split brain, like a separate management network. `layerRemote` is the NodePower those agents use.
 */
import { readFile, readlink, unlink } from "node:fs/promises"
import { createConnection, createServer, type Socket } from "node:net"
import { Clock, Duration, Effect, Layer, Ref, Runtime } from "effect"
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
          (link) =>
            run(
              node,
              `link ${state}`,
              ipCommand,
              [...(spec.linksNetns === undefined ? [] : ["-n", spec.linksNetns]), "link", "set", link, state],
              5000
            ),
          { discard: true }
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

/** One request the power switch carried out (or failed to), in the order they were received. */
export interface PowerEvent {
  readonly receivedAt: number
  readonly doneAt: number
  readonly operation: "off" | "on" | "status"
  readonly node: string
  /** The node whose agent asked (as it said), or "" if it did not say. */
  readonly by: string
  /** "ok on", "ok off", "ok", or "error: …". */
  readonly result: string
}

const operations = ["off", "on", "status"] as const

/**
 * Serves the NodePower of the context on the unix socket `socketPath` until the scope closes.
 * Protocol: one request line `OPERATION NODE [BY]` (off, on, status), one answer line `ok [on|off]`
 * or `error REASON`. A request is carried out once received, even if the asker dies meanwhile, as a
 * real power switch would. The returned journal lists every request.
 */
export const serve = (socketPath: string) =>
  Effect.gen(function* () {
    const power = yield* NodePower
    const runtime = yield* Effect.runtime<never>()
    const journal = yield* Ref.make<ReadonlyArray<PowerEvent>>([])
    const handle = (line: string) =>
      Effect.gen(function* () {
        const receivedAt = yield* Clock.currentTimeMillis
        const [word = "", node = "", by = ""] = line.trim().split(/\s+/)
        const operation = operations.find((o) => o === word)
        const done = (result: string) =>
          Effect.gen(function* () {
            const doneAt = yield* Clock.currentTimeMillis
            if (operation !== undefined)
              yield* Ref.update(journal, (list) => [
                ...list,
                { receivedAt, doneAt, operation, node, by, result }
              ])
            return result
          })
        if (operation === undefined) return yield* done(`error: unknown operation "${word}"`)
        const result = yield* (operation === "status" ? power.status(node) : power[operation](node)).pipe(
          Effect.map((status) => (typeof status === "string" ? `ok ${status}` : "ok")),
          Effect.catchAll((error) => Effect.succeed(`error: ${error.message.replace(/\n/g, " ")}`))
        )
        return yield* done(result)
      })
    const server = createServer((socket: Socket) => {
      let buffer = ""
      socket.on("error", () => {})
      socket.on("data", (chunk) => {
        buffer += chunk.toString("utf8")
        const end = buffer.indexOf("\n")
        if (end < 0) return
        const line = buffer.slice(0, end)
        buffer = ""
        socket.removeAllListeners("data")
        Runtime.runPromise(runtime)(handle(line)).then(
          (answer) => socket.end(`${answer}\n`),
          () => socket.destroy()
        )
      })
    })
    yield* Effect.tryPromise(() => unlink(socketPath)).pipe(Effect.ignore)
    yield* Effect.acquireRelease(
      Effect.async<void, NodePowerError>((resume) => {
        server.once("error", (error) =>
          resume(Effect.fail(new NodePowerError({ node: "*", operation: "serve", reason: error.message })))
        )
        server.listen(socketPath, () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
        }).pipe(Effect.zipRight(Effect.tryPromise(() => unlink(socketPath)).pipe(Effect.ignore)))
    )
    return { journal: Ref.get(journal) }
  })

/** One request to a power switch served by `serve`. */
const request = (socketPath: string, line: string, node: string, operation: string) =>
  Effect.async<string, NodePowerError>((resume) => {
    let answer = ""
    const fail = (reason: string) => resume(Effect.fail(new NodePowerError({ node, operation, reason })))
    const socket = createConnection(socketPath, () => socket.write(`${line}\n`))
    socket.on("data", (chunk) => {
      answer += chunk.toString("utf8")
    })
    socket.on("error", (error) => fail(`power switch at ${socketPath}: ${error.message}`))
    socket.on("close", () => {
      const text = answer.trim()
      if (text.startsWith("ok")) resume(Effect.succeed(text.slice(2).trim()))
      else fail(text === "" ? `power switch at ${socketPath} closed without answering` : text)
    })
    return Effect.sync(() => socket.destroy())
  })

/**
 * The NodePower of a power switch served by `serve` at `socketPath`, for fence agents that run
 * inside the nodes. `requester` is named in the switch's journal.
 */
export const layerRemote = (options: {
  readonly socketPath: string
  readonly nodes: ReadonlyArray<string>
  readonly requester: string
}) =>
  Layer.succeed(NodePower, {
    nodes: options.nodes,
    status: (node) =>
      request(options.socketPath, `status ${node} ${options.requester}`, node, "status").pipe(
        Effect.flatMap((answer) =>
          answer === "on" || answer === "off"
            ? Effect.succeed(answer)
            : Effect.fail(
                new NodePowerError({ node, operation: "status", reason: `unexpected answer "${answer}"` })
              )
        )
      ),
    off: (node) =>
      Effect.asVoid(request(options.socketPath, `off ${node} ${options.requester}`, node, "off")),
    on: (node) => Effect.asVoid(request(options.socketPath, `on ${node} ${options.requester}`, node, "on"))
  })
