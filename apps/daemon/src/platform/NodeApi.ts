/**
 * The local API over a unix socket with Node's `net`: the daemon's server and the `ha` command's
 * client. The socket file's owner, group and mode are the access control (root only by default).
 */
import { chmodSync, chownSync, existsSync, readFileSync, unlinkSync } from "node:fs"
import { createConnection, createServer, type Socket } from "node:net"
import { Effect, Runtime, Schema, type Scope } from "effect"
import { answer, LineReader, type Methods, type Response } from "../Api.ts"

export class ApiServerError extends Schema.TaggedError<ApiServerError>()("ApiServerError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `API socket ${this.path}: ${this.reason}`
  }
}

export interface ServerOptions {
  readonly path: string
  /** File mode of the socket, e.g. 0o600. */
  readonly mode: number
  /** A group name (from /etc/group) or gid allowed in besides root. */
  readonly group?: string | number | undefined
  /** Longest request line accepted; default 1 MiB. */
  readonly maxLineBytes?: number
}

const gidOf = (group: string | number, path: string): Effect.Effect<number, ApiServerError> =>
  Effect.suspend(() => {
    if (typeof group === "number") return Effect.succeed(group)
    const line = readFileSync("/etc/group", "utf8")
      .split("\n")
      .find((entry) => entry.split(":")[0] === group)
    const gid = line === undefined ? Number.NaN : Number(line.split(":")[2])
    return Number.isInteger(gid)
      ? Effect.succeed(gid)
      : Effect.fail(new ApiServerError({ path, reason: `group "${group}" does not exist` }))
  })

/** Whether a daemon already answers on the socket (then we must not take it over). */
const inUse = (path: string) =>
  Effect.async<boolean>((resume) => {
    const probe = createConnection(path)
    probe.once("connect", () => {
      probe.destroy()
      resume(Effect.succeed(true))
    })
    probe.once("error", () => resume(Effect.succeed(false)))
  })

/** Serves the methods on the socket until the scope closes; then the socket file is removed. */
export const serve = <Env>(
  methods: Methods<Env>,
  options: ServerOptions
): Effect.Effect<void, ApiServerError, Scope.Scope | Env> =>
  Effect.gen(function* () {
    const { path } = options
    const runtime = yield* Effect.runtime<Env>()
    if (existsSync(path)) {
      if (yield* inUse(path))
        return yield* new ApiServerError({ path, reason: "another daemon is listening on it" })
      unlinkSync(path) // left by a daemon that died
    }
    const gid = options.group === undefined ? undefined : yield* gidOf(options.group, path)
    const connections = new Set<Socket>()
    const server = createServer((socket) => {
      connections.add(socket)
      socket.setEncoding("utf8")
      const reader = new LineReader(options.maxLineBytes ?? 1024 * 1024)
      // one request at a time per connection, so answers come back in order
      let queue: Promise<unknown> = Promise.resolve()
      const reply = (response: Response) => {
        if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`)
      }
      socket.on("data", (chunk: string) => {
        const lines = reader.push(chunk)
        if (lines === "too-large") {
          reply({ id: null, error: { code: "too-large", message: "request line too long" } })
          socket.end()
          return
        }
        for (const line of lines) {
          queue = queue.then(() => Runtime.runPromise(runtime)(answer(methods, line)).then(reply))
        }
      })
      socket.on("error", () => socket.destroy())
      socket.on("close", () => connections.delete(socket))
    })
    yield* Effect.acquireRelease(
      Effect.async<void, ApiServerError>((resume) => {
        server.once("error", (error) =>
          resume(Effect.fail(new ApiServerError({ path, reason: error.message })))
        )
        // the socket must never be reachable with a wider mode than asked, not even for a moment
        const previous = process.umask(0o777 & ~options.mode)
        server.listen(path, () => {
          process.umask(previous)
          resume(Effect.void)
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const socket of connections) socket.destroy()
          server.close(() => resume(Effect.void))
        }).pipe(Effect.tap(() => Effect.sync(() => existsSync(path) && unlinkSync(path))))
    )
    yield* Effect.try({
      try: () => {
        chmodSync(path, options.mode)
        if (gid !== undefined) chownSync(path, 0, gid)
      },
      catch: (error) => new ApiServerError({ path, reason: (error as Error).message })
    })
  })

export class ApiClientError extends Schema.TaggedError<ApiClientError>()("ApiClientError", {
  code: Schema.String,
  message: Schema.String
}) {}

/** Sends one request and waits for its answer; an error response becomes an `ApiClientError`. */
export const call = (
  path: string,
  method: string,
  params?: unknown,
  options: { readonly timeoutMs?: number } = {}
) =>
  Effect.async<unknown, ApiClientError>((resume) => {
    const socket = createConnection(path)
    socket.setEncoding("utf8")
    let received = ""
    const timer = setTimeout(() => {
      socket.destroy()
      resume(Effect.fail(new ApiClientError({ code: "timeout", message: `no answer from ${path}` })))
    }, options.timeoutMs ?? 30_000)
    socket.once("connect", () => socket.write(`${JSON.stringify({ id: 1, method, params })}\n`))
    socket.on("data", (chunk: string) => {
      received += chunk
      const end = received.indexOf("\n")
      if (end < 0) return
      clearTimeout(timer)
      socket.end()
      const response = JSON.parse(received.slice(0, end)) as Response
      resume(
        "error" in response
          ? Effect.fail(new ApiClientError(response.error))
          : Effect.succeed((response as { result: unknown }).result)
      )
    })
    socket.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      const reason =
        error.code === "EACCES"
          ? `permission denied on ${path} (the API is for root and its configured group)`
          : error.code === "ENOENT" || error.code === "ECONNREFUSED"
            ? `no daemon listening on ${path}`
            : error.message
      resume(Effect.fail(new ApiClientError({ code: error.code ?? "connect", message: reason })))
    })
    return Effect.sync(() => {
      clearTimeout(timer)
      socket.destroy()
    })
  })
