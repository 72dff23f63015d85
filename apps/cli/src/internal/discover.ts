/**
 * Finds and loads plugins (the contract is in ../Plugin.ts). Every failure — a package.json that does
 * not parse, a module that throws while loading, an export of the wrong shape, a command name already
 * taken — becomes a FailedPlugin with its reason; discovery itself never fails.
 */
import { FileSystem, Path } from "@effect/platform"
import { Effect } from "effect"
import * as Plugin from "../Plugin.ts"

export interface DiscoverOptions {
  /** directories whose node_modules (and their parents') are searched */
  readonly searchFrom: ReadonlyArray<string>
  /** the directory `ha` runs from: packages in node_modules above it are imported by name */
  readonly installDir: string
  /** plugin package directories named explicitly (HA_PLUGINS) */
  readonly explicit: ReadonlyArray<string>
  /** command names already taken (the built-in commands) */
  readonly taken: ReadonlyArray<string>
}

interface Candidate {
  readonly dir: string
  readonly explicit: boolean
  /** import by package name (resolvable from ha itself) rather than by file */
  readonly byName: boolean
}

const pluginName = (scope: string | undefined, name: string) =>
  scope === undefined
    ? /^ha-plugin-/.test(name)
    : scope === "@ha"
      ? /^plugin-/.test(name)
      : /^ha-plugin-/.test(name)

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? ""

export const discover = (
  options: DiscoverOptions
): Effect.Effect<Plugin.PluginSet, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const list = (dir: string) => fs.readDirectory(dir).pipe(Effect.orElseSucceed(() => [] as Array<string>))
    const ancestors = (dir: string): Array<string> => {
      const out = [path.resolve(dir)]
      for (;;) {
        const up = path.dirname(out[out.length - 1] as string)
        if (up === out[out.length - 1]) return out
        out.push(up)
      }
    }
    const installAncestors = new Set(ancestors(options.installDir))
    const candidates: Array<Candidate> = options.explicit.map((dir) => ({
      dir: path.resolve(dir),
      explicit: true,
      byName: false
    }))
    const seenModules = new Set<string>()
    for (const start of options.searchFrom) {
      for (const dir of ancestors(start)) {
        const modules = path.join(dir, "node_modules")
        if (seenModules.has(modules)) continue
        seenModules.add(modules)
        const byName = installAncestors.has(dir)
        for (const entry of yield* list(modules)) {
          if (entry.startsWith("@")) {
            for (const inner of yield* list(path.join(modules, entry))) {
              if (pluginName(entry, inner))
                candidates.push({ dir: path.join(modules, entry, inner), explicit: false, byName })
            }
          } else if (pluginName(undefined, entry))
            candidates.push({ dir: path.join(modules, entry), explicit: false, byName })
        }
      }
    }

    const loaded: Array<Plugin.LoadedPlugin> = []
    const failed: Array<Plugin.FailedPlugin> = []
    const taken = new Set(options.taken)
    const names = new Set<string>()
    for (const candidate of candidates) {
      const manifest = yield* fs.readFileString(path.join(candidate.dir, "package.json")).pipe(
        Effect.map((text) => JSON.parse(text) as Record<string, unknown>),
        Effect.either
      )
      if (manifest._tag === "Left") {
        if (candidate.explicit)
          failed.push({
            source: candidate.dir,
            reason: `cannot read package.json: ${message(manifest.left)}`
          })
        continue
      }
      const pkg = manifest.right
      const name = typeof pkg.name === "string" ? pkg.name : candidate.dir
      const source = typeof pkg.version === "string" ? `${name}@${pkg.version}` : name
      const ha = pkg.ha as { plugin?: unknown } | undefined
      if (ha?.plugin === undefined) {
        if (candidate.explicit)
          failed.push({ source, reason: 'package.json does not declare "ha": { "plugin": 1 }' })
        continue
      }
      if (names.has(name)) continue
      names.add(name)
      if (ha.plugin !== Plugin.CONTRACT_VERSION) {
        failed.push({
          source,
          reason: `written for plugin contract ${String(ha.plugin)}; this ha implements ${Plugin.CONTRACT_VERSION}`
        })
        continue
      }
      const entry = entryOf(pkg)
      const specifier = candidate.byName
        ? name
        : (yield* path
            .toFileUrl(path.join(candidate.dir, entry))
            .pipe(Effect.orElseSucceed(() => new URL("file:///")))).href
      const module = yield* Effect.tryPromise(
        () => import(specifier) as Promise<Record<string, unknown>>
      ).pipe(Effect.either)
      if (module._tag === "Left") {
        failed.push({ source, reason: `failed to load: ${message(module.left.cause)}` })
        continue
      }
      const checked = Plugin.check(module.right.default ?? module.right.plugin, taken)
      if (typeof checked === "string") {
        failed.push({ source, reason: checked })
        continue
      }
      for (const c of checked.commands ?? []) taken.add(Plugin.commandName(c) as string)
      loaded.push({ plugin: checked, source })
    }
    return { loaded, failed }
  })

/** The module a package exports: `exports["."]` (its import/default condition), `main`, or index.js. */
const entryOf = (pkg: Record<string, unknown>): string => {
  const exports = pkg.exports as unknown
  const dot = typeof exports === "string" ? exports : (exports as Record<string, unknown> | undefined)?.["."]
  if (typeof dot === "string") return dot
  if (typeof dot === "object" && dot !== null) {
    const conditions = dot as Record<string, unknown>
    for (const key of ["import", "default"])
      if (typeof conditions[key] === "string") return conditions[key] as string
  }
  return typeof pkg.main === "string" ? pkg.main : "index.js"
}
