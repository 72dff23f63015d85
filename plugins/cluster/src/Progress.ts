/**
 * Waiting for the cluster to carry a change out, with progress: the daemon is asked to wait a
 * little at a time, and each time the list of what is still to be done changes it is printed.
 */
import { Clock, Console, Effect, Schema } from "effect"
import * as Client from "./Client.ts"

const Waited = Schema.Struct({
  settled: Schema.Boolean,
  waitedMs: Schema.Number,
  actions: Schema.Number,
  pending: Schema.Array(Schema.String)
})

/** The cluster did not settle in time (exit code 1). */
export class NotSettledError extends Schema.TaggedError<NotSettledError>()("NotSettledError", {
  seconds: Schema.Number,
  pending: Schema.Array(Schema.String)
}) {
  readonly exitCode = 1
  override get message() {
    return `the cluster did not settle within ${this.seconds} s; still to do: ${this.pending.join("; ") || "(the DC is busy)"}`
  }
}

/** Waits until the cluster is settled, printing what is left whenever it changes (not with `quiet`). */
export const waitSettled = (socket: string, seconds: number, quiet: boolean) =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    let shown = ""
    while (true) {
      const left = seconds * 1000 - ((yield* Clock.currentTimeMillis) - start)
      const waited = yield* Client.request(
        socket,
        "transition.wait",
        { timeoutMs: Math.max(0, Math.min(1000, left)) },
        Waited
      )
      if (waited.settled) {
        if (!quiet) yield* Console.log("cluster settled")
        return
      }
      if (left <= 0) return yield* new NotSettledError({ seconds, pending: waited.pending })
      const text = waited.pending.join("\n  ")
      if (!quiet && text !== shown) {
        shown = text
        yield* Console.log(`waiting for ${waited.actions} action(s):\n  ${text || "(the DC is busy)"}`)
      }
    }
  })
