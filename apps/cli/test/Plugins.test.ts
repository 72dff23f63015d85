import { join } from "node:path"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { builtinCommands } from "../src/Cli.ts"
import * as ExitCode from "../src/ExitCode.ts"
import { discover } from "../src/internal/discover.ts"
import * as Plugin from "../src/Plugin.ts"
import { example, ha } from "./support.ts"

const testPlugins = join(import.meta.dirname, "../testdata/plugins")
const dirs = ["echo", "throws", "no-export", "clash", "old-contract", "not-declared"].map((d) =>
  join(testPlugins, d)
)

const load = (options: { explicit: Array<string>; searchFrom: Array<string> }) =>
  Effect.runPromise(
    discover({ ...options, installDir: import.meta.dirname, taken: builtinCommands }).pipe(
      Effect.provide(NodeContext.layer)
    )
  )

describe("plugins", () => {
  it("a broken plugin is reported with its reason and skipped; the others work", async () => {
    const set = await load({ explicit: dirs, searchFrom: [] })
    expect(set.loaded.map((l) => l.source)).toEqual(["ha-plugin-echo@1.0.0"])
    const reasons = Object.fromEntries(set.failed.map((f) => [f.source, f.reason]))
    expect(reasons).toEqual({
      "ha-plugin-throws@1.0.0": "failed to load: this plugin is broken on purpose",
      "ha-plugin-no-export@1.0.0": "its module exports no plugin (a default export or `plugin`)",
      "ha-plugin-clash@1.0.0": 'its command "plan" clashes with an existing command',
      "ha-plugin-old-contract@1.0.0": "written for plugin contract 0; this ha implements 1",
      "ha-plugin-not-declared@1.0.0": 'package.json does not declare "ha": { "plugin": 1 }'
    })
    const echoed = await ha(["echo", "hello", "cluster"], set)
    expect(echoed).toEqual({ code: ExitCode.ok, stdout: "hello cluster", stderr: "" })
    const boom = await ha(["boom"], set)
    expect(boom.code).toBe(ExitCode.internal)
    expect(boom.stderr).toBe("ha: internal error: kaput (HA_DEBUG=1 for details)")
    const plan = await ha(["plan"], set)
    expect(plan.stdout).toContain("Plan: nothing to do")
  })

  it("a liveCib must have a load function", () => {
    expect(Plugin.check({ name: "live", liveCib: {} }, new Set())).toBe('"liveCib" has no load function')
    const fits = { name: "live", liveCib: { load: () => undefined } }
    expect(Plugin.check(fits, new Set())).toBe(fits)
  })

  it("ha plugins lists what loaded and what failed", async () => {
    const set = await load({ explicit: dirs, searchFrom: [] })
    const ran = await ha(["plugins", "--json"], set)
    const listed = JSON.parse(ran.stdout) as {
      loaded: Array<{ name: string; commands: Array<string>; validators: Array<string> }>
      failed: Array<unknown>
    }
    expect(listed.loaded).toEqual([
      expect.objectContaining({ name: "echo", commands: ["echo", "boom"], validators: ["no-dummies"] })
    ])
    expect(listed.failed).toHaveLength(5)
    const text = await ha(["plugins"], set)
    expect(text.stdout).toMatch(/^echo\s+ha-plugin-echo@1.0.0\s+says what it is told/m)
    expect(text.stdout).toMatch(
      /^failed\s+ha-plugin-throws@1.0.0: failed to load: this plugin is broken on purpose$/m
    )
  })

  it("ha validate runs the plugins' validators", async () => {
    const set = await load({ explicit: [join(testPlugins, "echo")], searchFrom: [] })
    const yaml = join(import.meta.dirname, "../testdata/dummy.yaml")
    const ran = await ha(["validate", yaml], set)
    expect(ran.code).toBe(ExitCode.problems)
    expect(ran.stdout).toContain("error resource dummy1: no dummies here")
    expect((await ha(["validate", join(example, "cib.xml")], set)).code).toBe(ExitCode.ok)
  })

  it("workspace plugins are found in node_modules by their package name", async () => {
    const set = await load({ explicit: [], searchFrom: [import.meta.dirname] })
    expect(set.loaded.map((l) => l.plugin.name)).toContain("ra")
    // Other workspace plugins may come and go; the ra plugin must not be among the failures.
    expect(set.failed.filter((f) => f.source.startsWith("@ha/plugin-ra@"))).toEqual([])
  })
})
