/**
 * The `ha` command: the built-in commands plus every loaded plugin's, run on an argument list, with
 * every failure turned into one line on stderr and a documented exit code (./ExitCode.ts).
 */
import { type CliApp, Command, ValidationError } from "@effect/cli"
import { Cause, Console, Effect, Layer } from "effect"
import * as ExitCode from "./ExitCode.ts"
import * as Commands from "./internal/commands.ts"
import { painter } from "./internal/text.ts"
import { type PluginCommand, type PluginSet, Plugins } from "./Plugin.ts"

export const VERSION = "0.1.0"

/** The names the built-in commands take (a plugin cannot take them). */
export const builtinCommands: ReadonlyArray<string> = ["plan", "show", "validate", "convert", "plugins"]

/**
 * Whether a command line may use a plugin. `ha plan` (without `--live`), `ha show` and `ha convert`
 * never do, so the executable does not load plugins for them: importing them (and the daemon client,
 * transport and simulator they bring) costs more than planning a large cluster.
 */
export const usesPlugins = (args: ReadonlyArray<string>): boolean =>
  !["plan", "show", "convert"].includes(args[0] ?? "") ||
  args.some((a) => a === "--live" || a.startsWith("--live="))

const root = Command.make("ha", {}, () =>
  Console.log(
    [
      `ha ${VERSION}: plan, check and inspect an HA cluster (Pacemaker CIBs and ha's YAML)`,
      "",
      "  ha plan [--cib FILE | --config FILE] [what-ifs…]   what will the cluster do?",
      "  ha show [FILE]                                    status: nodes, resources, failures",
      "  ha validate FILE                                  check a CIB or YAML configuration",
      "  ha convert FILE --to yaml|xml                     convert between formats",
      "  ha plugins                                        loaded plugins and their commands",
      "",
      "ha COMMAND --help shows a command's options; ha --completions bash|zsh|fish prints shell completions."
    ].join("\n")
  )
).pipe(
  Command.withDescription("Plan, check and inspect an HA cluster (Pacemaker CIBs and ha's native YAML).")
)

/** The command tree: built-ins and the plugins' commands. */
export const command = (plugins: PluginSet) => {
  const contributed: Array<PluginCommand> = plugins.loaded.flatMap((l) => [...(l.plugin.commands ?? [])])
  return Command.withSubcommands(root, [
    Commands.plan,
    Commands.show,
    Commands.validate,
    Commands.convert,
    Commands.plugins,
    ...contributed
  ] as unknown as readonly [PluginCommand, ...Array<PluginCommand>])
}

export interface RunOptions {
  readonly plugins: PluginSet
  /** colour the output (a terminal without NO_COLOR) */
  readonly color: boolean
  /** print the whole cause of an internal error */
  readonly debug?: boolean
}

const describeDefect = (defect: unknown) =>
  (defect instanceof Error ? defect.message : String(defect)).split("\n")[0]

/** Options of the built-in commands that take a value (@effect/cli ignores a repeated one left without it). */
const valueOptions = new Set([
  "--cib",
  "--config",
  "--status",
  "--node-fail",
  "--node-up",
  "--node-down",
  "--op-fail",
  "--standby",
  "--set-property",
  "--node-attribute",
  "--change",
  "--explain",
  "--graph",
  "--to",
  "--output"
])

/** Runs `ha ARGS…` and returns the exit code; never fails. */
export const run = (
  args: ReadonlyArray<string>,
  options: RunOptions
): Effect.Effect<ExitCode.ExitCode, never, CliApp.CliApp.Environment> => {
  const last = args[args.length - 1]
  if (last !== undefined && builtinCommands.includes(args[0] ?? "") && valueOptions.has(last)) {
    return Effect.as(Console.error(`ha: ${last} needs a value`), ExitCode.usage)
  }
  const cli = Command.run(command(options.plugins), { name: "ha", version: VERSION })
  return cli(["node", "ha", ...args]).pipe(
    Effect.provide(
      Layer.mergeAll(
        Layer.succeed(Plugins, options.plugins),
        Layer.succeed(Commands.Output, painter(options.color))
      )
    ),
    Effect.as<ExitCode.ExitCode>(ExitCode.ok),
    Effect.catchAllCause((cause) => {
      const failure = Cause.failureOption(cause)
      if (failure._tag === "Some") {
        const error = failure.value as unknown
        // @effect/cli has already printed its own message (with the usage) for a malformed command line.
        if (ValidationError.isValidationError(error)) return Effect.succeed<ExitCode.ExitCode>(ExitCode.usage)
        const tagged = error as {
          readonly _tag?: unknown
          readonly message?: unknown
          readonly exitCode?: unknown
        }
        const code =
          typeof tagged.exitCode === "number"
            ? (tagged.exitCode as ExitCode.ExitCode)
            : ExitCode.ofTag(typeof tagged._tag === "string" ? tagged._tag : "")
        if (tagged._tag === "ProblemsFound") return Effect.succeed(code)
        const message =
          typeof tagged.message === "string" && tagged.message !== "" ? tagged.message : String(error)
        return Effect.as(Console.error(`ha: ${message}`), code)
      }
      const detail = options.debug
        ? Cause.pretty(cause)
        : `${describeDefect(Cause.squash(cause))} (HA_DEBUG=1 for details)`
      return Effect.as(Console.error(`ha: internal error: ${detail}`), ExitCode.internal)
    })
  )
}
