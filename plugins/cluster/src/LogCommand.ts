/**
 * `ha log`: what the cluster did and why, as this node recorded it (the transitions it ran as DC,
 * every action and result, failures, fencing), oldest first.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Schema } from "effect"
import * as Client from "./Client.ts"

const Entry = Schema.Struct({
  at: Schema.Number,
  node: Schema.NullOr(Schema.String),
  kind: Schema.String,
  text: Schema.String
})

export const renderLog = (entries: ReadonlyArray<typeof Entry.Type>): string =>
  entries.length === 0
    ? "nothing recorded yet"
    : entries.map((e) => `${new Date(e.at).toISOString()} ${e.node ?? "-"}: ${e.text}`).join("\n")

export const command = Command.make(
  "log",
  {
    socket: Client.socket,
    json: Client.json,
    limit: Options.integer("limit").pipe(
      Options.withDefault(200),
      Options.withDescription("the last N entries")
    )
  },
  ({ socket, json, limit }) =>
    Effect.gen(function* () {
      const answer = yield* Client.request(
        socket,
        "log",
        { limit },
        Schema.Struct({ node: Schema.String, entries: Schema.Array(Entry) })
      )
      yield* Console.log(json ? JSON.stringify(answer, null, 2) : renderLog(answer.entries))
    })
).pipe(Command.withDescription("Show what the cluster did and why: transitions, actions, failures, fencing."))
