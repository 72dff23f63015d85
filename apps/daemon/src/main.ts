/**
 * `ha-daemon [--config /etc/ha/ha.yaml] [--check]`: the node daemon's entry point. SIGTERM and SIGINT
 * interrupt it (the runtime's signal handling), which runs every finalizer: the API socket is removed
 * and the node leaves the membership. A configuration it cannot use is one line on stderr and exit 3.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect } from "effect"
import * as Daemon from "./Daemon.ts"
import * as DaemonConfig from "./DaemonConfig.ts"

const config = Options.file("config").pipe(
  Options.withDefault(DaemonConfig.defaultPath),
  Options.withDescription("the configuration file")
)
const check = Options.boolean("check").pipe(Options.withDescription("check the configuration file and exit"))

const command = Command.make("ha-daemon", { config, check }, ({ config, check }) =>
  check
    ? Daemon.loadConfig(config).pipe(Effect.flatMap(() => Console.log(`${config}: ok`)))
    : Daemon.run(config)
)

const cli = Command.run(command, { name: "ha-daemon", version: "0.1.0" })

cli(process.argv).pipe(
  Effect.catchTag("StartupError", (error) =>
    Console.error(`ha-daemon: ${error.message}`).pipe(Effect.zipRight(Effect.sync(() => process.exit(3))))
  ),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: false, disablePrettyLogger: true })
)
