/**
 * How the cluster commands talk to the local daemon: the `--socket` and `--json` options they share,
 * one request per call, and the daemon's refusals turned into one-line errors with exit codes:
 *
 *   0 done · 1 refused by the cluster (no quorum, nothing to do, fencing failed, not settled in time)
 *   2 bad arguments (unknown resource or node, invalid parameters) · 3 an input file is invalid
 *   4 no daemon answers on the socket · 70 the daemon failed unexpectedly
 */
import { Options } from "@effect/cli"
import { NodeApi } from "@ha/daemon"
import { Effect, Schema } from "effect"

/** The daemon cannot be reached (exit code 4: the cluster, not the input). */
export class DaemonUnavailableError extends Schema.TaggedError<DaemonUnavailableError>()(
  "DaemonUnavailableError",
  {
    problem: Schema.String
  }
) {
  readonly exitCode = 4
  override get message() {
    return this.problem
  }
}

const exitCodes: Record<string, number> = {
  refused: 1,
  "not-found": 2,
  "invalid-params": 2,
  "unknown-method": 70,
  malformed: 70,
  "too-large": 70,
  internal: 70
}

/** The daemon answered with an error: its code decides the exit code. */
export class RequestError extends Schema.TaggedError<RequestError>()("RequestError", {
  code: Schema.String,
  problem: Schema.String
}) {
  get exitCode(): number {
    return exitCodes[this.code] ?? 70
  }
  override get message() {
    return this.problem
  }
}

/** The answer was not what the command expected (an older or newer daemon). */
export const unexpectedAnswer = (method: string, error: { readonly message: string }) =>
  new RequestError({
    code: "internal",
    problem: `the daemon's answer to ${method} is not understood: ${error.message}`
  })

export const socket = Options.text("socket").pipe(
  Options.withDefault("/run/ha/api.sock"),
  Options.withDescription("the daemon's API socket")
)

export const json = Options.boolean("json").pipe(Options.withDescription("print the answer as JSON"))

/** Sends one request; the answer is decoded with `schema`. */
export const request = <A, I>(
  path: string,
  method: string,
  params: unknown,
  schema: Schema.Schema<A, I>,
  timeoutMs = 30_000
): Effect.Effect<A, DaemonUnavailableError | RequestError> =>
  NodeApi.call(path, method, params, { timeoutMs }).pipe(
    Effect.mapError((error) =>
      // the daemon's error codes; anything else (ENOENT, EACCES, timeout…) is about reaching it
      Object.hasOwn(exitCodes, error.code)
        ? new RequestError({ code: error.code, problem: error.message })
        : new DaemonUnavailableError({ problem: error.message })
    ),
    Effect.flatMap((answer) =>
      Schema.decodeUnknown(schema)(answer).pipe(Effect.mapError((error) => unexpectedAnswer(method, error)))
    )
  )
