/**
 * `ha fence NODE`, `ha fence history [NODE]`, `ha fence confirm NODE --verified`: manual fencing
 * through the cluster's fencer, its history, and the operator's confirmation that a node is down
 * (which the cluster then trusts as if it had fenced it; hence the warning and the flag).
 */
import { Args, Command, Options } from "@effect/cli"
import type { Plugin } from "@ha/cli"
import { Console, Effect, Option, Schema } from "effect"
import * as Client from "./Client.ts"

/** A malformed `ha fence` command line (exit code 2). */
export class FenceUsageError extends Schema.TaggedError<FenceUsageError>()("FenceUsageError", {
  problem: Schema.String
}) {
  readonly exitCode = 2
  override get message() {
    return this.problem
  }
}

const Entry = Schema.Struct({
  target: Schema.String,
  action: Schema.String,
  origins: Schema.Array(Schema.String),
  executor: Schema.NullOr(Schema.String),
  devices: Schema.Array(Schema.String),
  state: Schema.String,
  reason: Schema.String,
  completedAt: Schema.Number
})

/** One line per fencing operation, oldest first. */
export const renderHistory = (entries: ReadonlyArray<typeof Entry.Type>): string =>
  entries.length === 0
    ? "no fencing on record"
    : entries
        .map(
          (e) =>
            `${new Date(e.completedAt).toISOString()} ${e.action} of ${e.target}: ${e.state}${
              e.executor === null ? "" : ` by ${e.executor}`
            }${e.devices.length > 0 ? ` with ${e.devices.join("+")}` : ""} (asked by ${e.origins.join(", ")}): ${e.reason}`
        )
        .join("\n")

export const command: Plugin.PluginCommand = Command.make(
  "fence",
  {
    socket: Client.socket,
    json: Client.json,
    action: Options.choice("action", ["reboot", "off", "on"]).pipe(
      Options.optional,
      Options.withDescription("what the fence device does (default: the cluster's stonith-action)")
    ),
    verified: Options.boolean("verified").pipe(
      Options.withDescription("with confirm: you made sure yourself that NODE is powered off or cut off")
    ),
    timeout: Options.integer("timeout").pipe(
      Options.withDefault(300),
      Options.withDescription("seconds to wait for the fencing to be done")
    ),
    what: Args.text({ name: "NODE|history|confirm" }),
    node: Args.text({ name: "NODE" }).pipe(Args.optional)
  },
  ({ socket, json, action, verified, timeout, what, node }) =>
    Effect.gen(function* () {
      const target = Option.getOrUndefined(node)
      const show = (value: unknown, text: string) => Console.log(json ? JSON.stringify(value, null, 2) : text)
      if (what === "history") {
        const answer = yield* Client.request(
          socket,
          "fence.history",
          target === undefined ? {} : { node: target },
          Schema.Struct({ entries: Schema.Array(Entry) })
        )
        return yield* show(answer, renderHistory(answer.entries))
      }
      if (what === "confirm") {
        if (target === undefined)
          return yield* new FenceUsageError({ problem: "ha fence confirm NODE --verified: which node?" })
        // the daemon refuses without "verified" and says why (the warning); the flag is the operator's word
        const answer = yield* Client.request(
          socket,
          "fence.confirm",
          { node: target, verified },
          Schema.Struct({ node: Schema.String, confirmed: Schema.Boolean })
        )
        return yield* show(
          answer,
          `${target} confirmed down: the cluster may now recover its resources elsewhere`
        )
      }
      if (target !== undefined)
        return yield* new FenceUsageError({
          problem: `ha fence ${what} ${target}: one node at a time (ha fence NODE)`
        })
      if (!json) yield* Console.log(`fencing ${what}…`)
      const answer = yield* Client.request(
        socket,
        "fence.node",
        { node: what, ...(Option.isSome(action) ? { action: action.value } : {}) },
        Schema.Struct({
          target: Schema.String,
          executor: Schema.NullOr(Schema.String),
          devices: Schema.Array(Schema.String),
          at: Schema.Number
        }),
        timeout * 1000
      )
      yield* show(
        answer,
        `${answer.target} fenced${answer.executor === null ? "" : ` by ${answer.executor}`}${
          answer.devices.length > 0 ? ` with ${answer.devices.join("+")}` : ""
        }`
      )
    })
).pipe(
  Command.withDescription(
    "Fence NODE now (ha fence NODE [--action off]), show the fencing history (ha fence history [NODE]), or confirm by hand that NODE is down (ha fence confirm NODE --verified)."
  )
)
