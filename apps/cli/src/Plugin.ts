/**
 * The plugin contract (plugins/README.md is its guide). A plugin is an npm package whose package.json
 * says `"ha": { "plugin": 1 }` (the contract version) and whose module exports a {@link Plugin} as its
 * default export (or as `plugin`). It may contribute:
 * - `commands`: @effect/cli commands added under `ha` (e.g. `ha ra`), run with {@link CommandEnv};
 * - `validators`: checks `ha validate` runs on every configuration it reads;
 * - `resourceAgents` / `fenceAgents`: native agents (`@ha/executor`'s ResourceAgent) of new types;
 * - `liveCib`: where `ha plan --live` reads the running cluster's CIB (the cluster plugin: the daemon).
 *
 * Discovery: packages named `ha-plugin-*`, `@SCOPE/ha-plugin-*` or `@ha/plugin-*` in the `node_modules`
 * directories above the working directory and above the `ha` installation, plus the package directories
 * listed in `HA_PLUGINS` (separated by `:`). `HA_NO_PLUGINS=1` turns discovery off. A plugin that fails
 * to load, has the wrong shape or clashes with a command already there is reported and skipped.
 */
import { type CliApp, Command } from "@effect/cli"
import type { Cib } from "@ha/cib"
import type { ResourceAgent } from "@ha/executor"
import { Context, type Effect, HashSet } from "effect"
import type { Loaded } from "./Input.ts"

/** The contract version this `ha` implements (`"ha": { "plugin": 1 }` in a plugin's package.json). */
export const CONTRACT_VERSION = 1

/** What a plugin command's handler may use: the platform (files, paths, terminal) and the plugin list. */
export type CommandEnv = CliApp.CliApp.Environment | Plugins

/** One problem `ha validate` reports. */
export interface Issue {
  readonly severity: "error" | "warning"
  /** what it is about, e.g. `resource vip` */
  readonly where: string
  readonly message: string
}

export interface Validator {
  readonly name: string
  readonly validate: (target: {
    readonly file: string
    readonly cib: Cib.Cib
  }) => Effect.Effect<ReadonlyArray<Issue>, never, CommandEnv>
}

/**
 * A command contributed by a plugin. Its name and value types are the plugin's own (commands are
 * invariant in both), hence `any` here; its handler may need only {@link CommandEnv}.
 */
// biome-ignore lint/suspicious/noExplicitAny: see above; the CLI reads names through Command.getNames only
export type PluginCommand = Command.Command<any, CommandEnv, unknown, any>

/** The live cluster's CIB could not be read; the plugin chooses the exit code (e.g. 4: no daemon). */
export interface LiveCibError {
  readonly message: string
  readonly exitCode: number
}

/** Reads the running cluster's CIB, status included, for `ha plan --live`. */
export interface LiveCib {
  /** `socket`: the daemon's API socket given by `--socket`. */
  readonly load: (socket: string) => Effect.Effect<Loaded, LiveCibError, CommandEnv>
}

export interface Plugin {
  readonly name: string
  readonly description?: string
  readonly commands?: ReadonlyArray<PluginCommand>
  readonly validators?: ReadonlyArray<Validator>
  readonly resourceAgents?: ReadonlyArray<ResourceAgent.ResourceAgent>
  readonly fenceAgents?: ReadonlyArray<ResourceAgent.ResourceAgent>
  readonly liveCib?: LiveCib
}

export interface LoadedPlugin {
  readonly plugin: Plugin
  /** the package (name@version) or module path it came from */
  readonly source: string
}

export interface FailedPlugin {
  readonly source: string
  readonly reason: string
}

export interface PluginSet {
  readonly loaded: ReadonlyArray<LoadedPlugin>
  readonly failed: ReadonlyArray<FailedPlugin>
}

/** The plugins of this run, for commands that use other plugins' contributions. */
export class Plugins extends Context.Tag("@ha/cli/Plugins")<Plugins, PluginSet>() {}

export const empty: PluginSet = { loaded: [], failed: [] }

/** The native resource agents every loaded plugin contributes. */
export const resourceAgents = (set: PluginSet): ReadonlyArray<ResourceAgent.ResourceAgent> =>
  set.loaded.flatMap((l) => [...(l.plugin.resourceAgents ?? []), ...(l.plugin.fenceAgents ?? [])])

/** Checks a module's export against the contract; a reason when it does not fit. */
export const check = (value: unknown, taken: ReadonlySet<string>): Plugin | string => {
  if (typeof value !== "object" || value === null)
    return "its module exports no plugin (a default export or `plugin`)"
  const p = value as Record<string, unknown>
  if (typeof p.name !== "string" || p.name === "") return "the plugin has no name"
  const arrayField = (field: string) => p[field] === undefined || Array.isArray(p[field])
  for (const field of ["commands", "validators", "resourceAgents", "fenceAgents"]) {
    if (!arrayField(field)) return `"${field}" is not an array`
  }
  const live = p.liveCib as { load?: unknown } | undefined
  if (live !== undefined && (typeof live !== "object" || live === null || typeof live.load !== "function"))
    return '"liveCib" has no load function'
  for (const c of (p.commands ?? []) as ReadonlyArray<unknown>) {
    const name = commandName(c)
    if (name === undefined) return "a command is not an @effect/cli Command"
    if (taken.has(name)) return `its command "${name}" clashes with an existing command`
  }
  for (const v of (p.validators ?? []) as ReadonlyArray<{ name?: unknown; validate?: unknown }>) {
    if (typeof v !== "object" || v === null || typeof v.validate !== "function")
      return "a validator has no validate function"
  }
  for (const a of [
    ...((p.resourceAgents ?? []) as ReadonlyArray<unknown>),
    ...((p.fenceAgents ?? []) as ReadonlyArray<unknown>)
  ]) {
    if (typeof a !== "object" || a === null || !("ref" in a) || !("execute" in a))
      return "an agent is not a ResourceAgent"
  }
  return value as Plugin
}

/** The top-level name of an @effect/cli command, or undefined for anything else. */
export const commandName = (value: unknown): string | undefined => {
  if (typeof value !== "object" || value === null || !(Command.TypeId in value)) return undefined
  const [name] = HashSet.toValues(Command.getNames(value as PluginCommand))
  return name
}
