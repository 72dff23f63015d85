/**
 * Running `ha` in-process with its output captured: for this package's tests and for plugin authors'
 * (`Testing.run(["ra", "list"], Testing.withPlugin(plugin, "@me/ha-plugin-x"))`).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Console, Effect } from "effect"
import * as Cli from "./Cli.ts"
import * as Plugin from "./Plugin.ts"

export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const capture = (out: Array<string>, err: Array<string>): Console.Console => {
  const text = (args: ReadonlyArray<unknown>) => args.map(String).join(" ")
  const log = (...args: ReadonlyArray<unknown>) => Effect.sync(() => void out.push(text(args)))
  const error = (...args: ReadonlyArray<unknown>) => Effect.sync(() => void err.push(text(args)))
  return {
    [Console.TypeId]: Console.TypeId,
    assert: () => Effect.void,
    clear: Effect.void,
    count: () => Effect.void,
    countReset: () => Effect.void,
    debug: log,
    dir: log,
    dirxml: log,
    error,
    group: () => Effect.void,
    groupEnd: Effect.void,
    info: log,
    log,
    table: log,
    time: () => Effect.void,
    timeEnd: () => Effect.void,
    timeLog: () => Effect.void,
    trace: error,
    warn: error,
    unsafe: globalThis.console
  }
}

/** `ha ARGS…` in this process: exit code and what it printed. */
export const run = async (
  args: ReadonlyArray<string>,
  plugins: Plugin.PluginSet = Plugin.empty
): Promise<Ran> => {
  const out: Array<string> = []
  const err: Array<string> = []
  const code = await Effect.runPromise(
    Cli.run(args, { plugins, color: false }).pipe(
      Effect.withConsole(capture(out, err)),
      Effect.provide(NodeContext.layer)
    )
  )
  return { code, stdout: out.join("\n"), stderr: err.join("\n") }
}

/** The plugin set of one plugin, as if `ha` had discovered it under `source`. */
export const withPlugin = (plugin: Plugin.Plugin, source: string): Plugin.PluginSet => ({
  loaded: [{ plugin, source }],
  failed: []
})
