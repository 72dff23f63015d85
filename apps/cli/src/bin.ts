#!/usr/bin/env node
/**
 * The `ha` executable: discovers plugins (for the command lines that may use one), runs the command
 * line, exits with the command's code.
 */
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect } from "effect"
import { builtinCommands, run, usesPlugins } from "./Cli.ts"
import { discover } from "./internal/discover.ts"
import { empty } from "./Plugin.ts"

const env = process.env
const args = process.argv.slice(2)
const program = Effect.gen(function* () {
  const plugins =
    env.HA_NO_PLUGINS === "1" || !usesPlugins(args)
      ? empty
      : yield* discover({
          searchFrom: [process.cwd(), dirname(fileURLToPath(import.meta.url))],
          installDir: dirname(fileURLToPath(import.meta.url)),
          explicit: (env.HA_PLUGINS ?? "").split(":").filter((dir) => dir !== ""),
          taken: builtinCommands
        })
  for (const failed of plugins.failed) {
    if (args[0] !== "plugins")
      console.error(`ha: plugin ${failed.source} skipped: ${failed.reason} (see ha plugins)`)
  }
  const color =
    env.FORCE_COLOR !== undefined
      ? env.FORCE_COLOR !== "0"
      : process.stdout.isTTY === true && env.NO_COLOR === undefined
  return yield* run(args, { plugins, color, debug: env.HA_DEBUG === "1" })
})

Effect.runPromise(program.pipe(Effect.provide(NodeContext.layer))).then((code) => {
  process.exitCode = code
})
