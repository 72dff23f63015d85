/**
 * `ha node standby|online|maintenance NODE`: take a node out of service (its resources move away),
 * put it back, or leave its resources alone while it is worked on.
 */
import { Args, Command } from "@effect/cli"
import type { Plugin } from "@ha/cli"
import { Console, Effect, Schema } from "effect"
import * as Client from "./Client.ts"

const says = {
  standby: (node: string) => `${node} is in standby: its resources move to other nodes`,
  online: (node: string) => `${node} is online: it may run resources again`,
  maintenance: (node: string) => `${node} is in maintenance: the cluster leaves its resources as they are`
}

const mode = (name: keyof typeof says, description: string) =>
  Command.make(
    name,
    { socket: Client.socket, json: Client.json, node: Args.text({ name: "NODE" }) },
    ({ socket, json, node }) =>
      Effect.gen(function* () {
        const answer = yield* Client.request(
          socket,
          `node.${name}`,
          { node },
          Schema.Struct({ node: Schema.String, mode: Schema.String, version: Schema.String })
        )
        yield* Console.log(json ? JSON.stringify(answer, null, 2) : says[name](node))
      })
  ).pipe(Command.withDescription(description))

export const command: Plugin.PluginCommand = Command.make("node").pipe(
  Command.withDescription("Put a node of the running cluster in standby or maintenance, or back online."),
  Command.withSubcommands([
    mode("standby", "Move every resource off NODE and keep them off (node attribute standby=on)."),
    mode("online", "End standby and maintenance of NODE."),
    mode("maintenance", "Stop managing NODE's resources: nothing is started, stopped or monitored there.")
  ])
)
