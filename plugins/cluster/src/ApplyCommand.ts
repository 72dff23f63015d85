/**
 * `ha apply FILE`: replace the running cluster's configuration with FILE (ha YAML or CIB XML). It
 * shows first what would change and what the cluster would then do (the plan, on the live CIB),
 * asks (unless `--yes`), applies it only if nobody changed the CIB meanwhile, and waits with
 * progress until the cluster has carried it out.
 */
import { Args, Command, Options, Prompt } from "@effect/cli"
import { Input } from "@ha/cli"
import { Console, Effect, Either, Schema } from "effect"
import * as Client from "./Client.ts"
import * as Progress from "./Progress.ts"

/** Not applied: nobody said yes (exit code 2). */
export class NotConfirmedError extends Schema.TaggedError<NotConfirmedError>()("NotConfirmedError", {
  problem: Schema.String
}) {
  readonly exitCode = 2
  override get message() {
    return this.problem
  }
}

export const Plan = Schema.Struct({
  version: Schema.String,
  changes: Schema.Array(Schema.String),
  actions: Schema.Number,
  decisions: Schema.Array(Schema.String)
})
export type Plan = typeof Plan.Type

/** The plan for people: the configuration changes, then what the cluster will do. */
export const renderPlan = (file: string, plan: Plan): string =>
  [
    `Changes to the configuration (CIB ${plan.version}) from ${file}:`,
    ...plan.changes.filter((l) => !l.startsWith("~ version")).map((l) => `  ${l}`),
    plan.decisions.length === 0 ? "The cluster will then have nothing to do." : "The cluster will then:",
    ...plan.decisions.map((d) => `  ${d}`)
  ].join("\n")

export const command = Command.make(
  "apply",
  {
    socket: Client.socket,
    json: Client.json,
    yes: Options.boolean("yes").pipe(Options.withAlias("y"), Options.withDescription("apply without asking")),
    timeout: Options.integer("timeout").pipe(
      Options.withDefault(300),
      Options.withDescription("seconds to wait for the cluster to carry the change out")
    ),
    file: Args.file({ name: "FILE", exists: "yes" }).pipe(Args.withDescription("ha YAML or CIB XML"))
  },
  ({ socket, json, yes, timeout, file }) =>
    Effect.gen(function* () {
      const text = yield* Input.readText(file)
      // checked here first, so a bad file is an input error (exit 3) with its line and field
      const loaded = yield* Input.decode(file, text)
      const config = { text, file, format: loaded.format }
      const plan = yield* Client.request(socket, "plan", { config }, Plan)
      if (plan.changes.filter((l) => !l.startsWith("~ version")).length === 0) {
        return yield* Console.log(
          json
            ? JSON.stringify({ plan, applied: null }, null, 2)
            : "The cluster already has this configuration."
        )
      }
      if (!json) yield* Console.log(renderPlan(file, plan))
      if (!yes) {
        if (process.stdin.isTTY !== true)
          return yield* new NotConfirmedError({
            problem: "not applied: nobody to ask (stdin is not a terminal); add --yes to apply"
          })
        const go = yield* Prompt.confirm({ message: "Apply this configuration?", initial: false })
        if (!go) return yield* new NotConfirmedError({ problem: "not applied" })
      }
      const applied = yield* Client.request(
        socket,
        "cib.apply",
        { ...config, expectedVersion: plan.version },
        Schema.Struct({ version: Schema.String, changes: Schema.Array(Schema.String) })
      )
      if (!json) yield* Console.log(`applied: the CIB is now at ${applied.version}`)
      const settled = yield* Effect.either(Progress.waitSettled(socket, timeout, json))
      if (json)
        yield* Console.log(JSON.stringify({ plan, applied, settled: Either.isRight(settled) }, null, 2))
      if (Either.isLeft(settled)) return yield* settled.left
    })
).pipe(
  Command.withDescription(
    "Apply a configuration (ha YAML or CIB XML) to the running cluster: show the plan, ask, apply, wait until done."
  )
)
