/**
 * The daemon's local API, as the `ha` command speaks it: one JSON object per line over a unix socket.
 *
 *   → {"id": 1, "method": "resource.move", "params": {"resource": "pg_stack", "node": "beta"}}
 *   ← {"id": 1, "result": {...}}            or   ← {"id": 1, "error": {"code": "not-found", "message": "..."}}
 *
 * Who may connect is decided by the socket file's owner, group and mode (root only by default).
 * Whatever arrives, the answer is a response line: malformed JSON, an unknown method, wrong parameters,
 * a refused request and even a bug in a handler are reported to that caller, and the daemon goes on.
 */
import { Cause, Effect, Either, ParseResult, Schema } from "effect"

export const ErrorCode = Schema.Literal(
  /** Not JSON, or not a request object. */
  "malformed",
  /** The line is longer than the server accepts; the connection is closed after this answer. */
  "too-large",
  "unknown-method",
  /** The parameters do not match the method's schema. */
  "invalid-params",
  /** Names a resource, node or device the cluster does not have. */
  "not-found",
  /** Valid, but not allowed now (no quorum, would violate a constraint, not the DC…). */
  "refused",
  /** A bug: the handler failed unexpectedly. Logged with its cause on the daemon side. */
  "internal"
)
export type ErrorCode = typeof ErrorCode.Type

export const RequestId = Schema.Union(Schema.Int, Schema.String)

export const Request = Schema.Struct({
  id: RequestId,
  method: Schema.String,
  params: Schema.optional(Schema.Unknown)
})
export type Request = typeof Request.Type

export const Response = Schema.Union(
  Schema.Struct({ id: Schema.NullOr(RequestId), result: Schema.Unknown }),
  Schema.Struct({
    id: Schema.NullOr(RequestId),
    error: Schema.Struct({ code: ErrorCode, message: Schema.String })
  })
)
export type Response = typeof Response.Type

/** A handler's way to refuse a request with a reason the caller sees. */
export class ApiFailure extends Schema.TaggedError<ApiFailure>()("ApiFailure", {
  code: Schema.Literal("not-found", "refused"),
  message: Schema.String
}) {}

/** One API method: how it reads its parameters and what it does with them. */
export interface Method<Env> {
  readonly run: (
    params: unknown
  ) => Either.Either<Effect.Effect<unknown, ApiFailure, Env>, ParseResult.ParseError>
}

/** A method whose parameters must match the schema (no unknown fields). */
export const method = <P, I, R, Env>(
  params: Schema.Schema<P, I>,
  handle: (params: P) => Effect.Effect<R, ApiFailure, Env>
): Method<Env> => {
  const decode = Schema.decodeUnknownEither(params, { onExcessProperty: "error" })
  return { run: (input) => Either.map(decode(input), handle) }
}

export type Methods<Env> = Readonly<Record<string, Method<Env>>>

const decodeRequest = Schema.decodeUnknownEither(Request)

const failure = (id: Request["id"] | null, code: ErrorCode, message: string): Response => ({
  id,
  error: { code, message }
})

/** Answers one request line. Never fails: every problem becomes an error response. */
export const answer = <Env>(methods: Methods<Env>, line: string): Effect.Effect<Response, never, Env> =>
  Effect.gen(function* () {
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch (error) {
      return failure(null, "malformed", `not JSON: ${(error as Error).message}`)
    }
    const request = decodeRequest(json)
    if (Either.isLeft(request)) {
      const id =
        typeof json === "object" && json !== null && "id" in json ? (json as { id: unknown }).id : null
      return failure(
        typeof id === "number" || typeof id === "string" ? id : null,
        "malformed",
        `not a request (want {"id", "method", "params"}): ${ParseResult.TreeFormatter.formatErrorSync(request.left)}`
      )
    }
    const { id, method: name, params } = request.right
    const found = Object.hasOwn(methods, name) ? methods[name] : undefined
    if (found === undefined) {
      return failure(
        id,
        "unknown-method",
        `unknown method "${name}"; known: ${Object.keys(methods).sort().join(", ")}`
      )
    }
    const run = found.run(params ?? {})
    if (Either.isLeft(run)) {
      return failure(id, "invalid-params", `${name}: ${ParseResult.TreeFormatter.formatErrorSync(run.left)}`)
    }
    return yield* run.right.pipe(
      Effect.map((result): Response => ({ id, result: result ?? null })),
      Effect.catchAllCause((cause) => {
        const refused = Cause.failureOption(cause)
        if (refused._tag === "Some")
          return Effect.succeed(failure(id, refused.value.code, refused.value.message))
        return Effect.logError(`api: ${name} failed`, cause).pipe(
          Effect.as(failure(id, "internal", `${name} failed unexpectedly; the daemon's log has the details`))
        )
      })
    )
  })

/** Splits a byte stream into lines, refusing any line longer than `maxLineBytes`. */
export class LineReader {
  private buffer = ""
  constructor(private readonly maxLineBytes: number) {}

  /** The complete lines in `chunk`, or `"too-large"` once a line exceeds the limit. */
  push(chunk: string): ReadonlyArray<string> | "too-large" {
    this.buffer += chunk
    const parts = this.buffer.split("\n")
    this.buffer = parts.pop()!
    if (this.buffer.length > this.maxLineBytes || parts.some((line) => line.length > this.maxLineBytes)) {
      return "too-large"
    }
    return parts.filter((line) => line.trim() !== "")
  }
}
