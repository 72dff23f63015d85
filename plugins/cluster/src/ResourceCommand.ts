/**
 * `ha resource move|ban|clear|restart|cleanup|enable|disable RSC [NODE]`: change what the cluster
 * does with a resource, through the local daemon (see apps/daemon's API methods for the semantics).
 * `--wait` (and always for restart) waits until the cluster has carried the change out.
 */
import { Args, Command, Options } from "@effect/cli"
import type { Plugin } from "@ha/cli"
import { Console, Effect, Option, Schema } from "effect"
import * as Client from "./Client.ts"
import * as Progress from "./Progress.ts"

const resource = Args.text({ name: "RSC" }).pipe(
  Args.withDescription("the resource (primitive, group or clone) id")
)
const node = (description: string) =>
  Args.text({ name: "NODE" }).pipe(Args.withDescription(description), Args.optional)
const wait = Options.boolean("wait").pipe(
  Options.withDescription("wait until the cluster has carried the change out (see --timeout)")
)
const timeout = Options.integer("timeout").pipe(
  Options.withDefault(120),
  Options.withDescription("seconds to wait for the cluster to settle")
)

const Answer = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const verb = (
  name: string,
  description: string,
  nodeArg: string | undefined,
  says: (rsc: string, node: string | undefined, answer: typeof Answer.Type) => string
) =>
  Command.make(
    name,
    {
      socket: Client.socket,
      json: Client.json,
      wait,
      timeout,
      resource,
      ...(nodeArg === undefined ? {} : { node: node(nodeArg) })
    },
    (options) =>
      Effect.gen(function* () {
        const target =
          "node" in options ? Option.getOrUndefined(options.node as Option.Option<string>) : undefined
        const params = { resource: options.resource, ...(target === undefined ? {} : { node: target }) }
        const answer = yield* Client.request(options.socket, `resource.${name}`, params, Answer)
        yield* Console.log(
          options.json ? JSON.stringify(answer, null, 2) : says(options.resource, target, answer)
        )
        if (options.wait) yield* Progress.waitSettled(options.socket, options.timeout, options.json)
      })
  ).pipe(Command.withDescription(description))

const restart = Command.make(
  "restart",
  { socket: Client.socket, json: Client.json, timeout, resource },
  ({ socket, json, timeout, resource }) =>
    Effect.gen(function* () {
      if (!json) yield* Console.log(`restarting ${resource}: stopping it, then starting it again…`)
      const answer = yield* Client.request(
        socket,
        "resource.restart",
        { resource, timeoutMs: timeout * 1000 },
        Schema.Struct({ resource: Schema.String, stoppedMs: Schema.Number, startedMs: Schema.Number }),
        // the daemon waits twice (stop, start), each up to the timeout
        timeout * 2000 + 10_000
      )
      yield* Console.log(
        json
          ? JSON.stringify(answer, null, 2)
          : `${resource} restarted (stopped in ${answer.stoppedMs} ms, started in ${answer.startedMs} ms)`
      )
    })
).pipe(
  Command.withDescription(
    "Stop RSC and start it again where it runs; waits for both (exit 1 if not in time)."
  )
)

const list = (value: unknown) => (Array.isArray(value) ? value.join(", ") : String(value))

export const command: Plugin.PluginCommand = Command.make("resource").pipe(
  Command.withDescription(
    "Move, ban, restart, clean up, enable or disable a resource of the running cluster."
  ),
  Command.withSubcommands([
    verb(
      "move",
      "Move RSC to NODE (a cli-prefer constraint), or away from where it runs without NODE (a cli-ban).",
      "the node to move it to (default: away from where it runs)",
      (rsc, _node, a) =>
        a.to === undefined
          ? `${rsc} moves away from ${a.away} (${a.constraint})`
          : `${rsc} moves to ${a.to} (${a.constraint})`
    ),
    verb(
      "ban",
      "Keep RSC off NODE (default: the node it runs on) with a cli-ban constraint.",
      "the node to ban it from (default: where it runs)",
      (rsc, _node, a) => `${rsc} banned from ${a.from} (${a.constraint})`
    ),
    verb(
      "clear",
      "Remove the constraints move and ban made for RSC (on NODE only, when given).",
      "only the constraints for this node",
      (rsc, _node, a) => `${rsc}: removed ${list(a.removed)}`
    ),
    restart,
    verb(
      "cleanup",
      "Forget RSC's failures (fail-counts and failed operations) so the cluster probes it again.",
      "only on this node",
      (rsc, _node, a) => `${rsc}: failures cleaned up on ${list(a.nodes)}`
    ),
    verb(
      "enable",
      "Let the cluster run RSC again (removes target-role).",
      undefined,
      (rsc) => `${rsc} enabled`
    ),
    verb(
      "disable",
      "Stop RSC and keep it stopped (target-role Stopped).",
      undefined,
      (rsc) => `${rsc} disabled`
    )
  ])
)
