// Live layers for the tests that run real agents.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { Layer } from "effect"
import { AgentRegistry, Executor, ExecutorSettings, type ProcessRunner } from "../src/index.ts"
import * as NodeProcessRunner from "../src/NodeProcessRunner.ts"

export const testdata = new URL("../testdata/", import.meta.url).pathname

export const tempDir = (label: string): string => mkdtempSync(join(tmpdir(), `ha-executor-${label}-`))

export const isRoot = process.getuid?.() === 0

/** Registry and executor over real processes with the given settings. */
export const live = (
  settings: Partial<ExecutorSettings.ExecutorSettings>,
  runner: Layer.Layer<ProcessRunner.ProcessRunner> = NodeProcessRunner.layer
) => {
  const base = Layer.mergeAll(
    ExecutorSettings.layer({ nodeName: "node1", killGraceMs: 1000, ...settings }),
    runner,
    NodeFileSystem.layer
  )
  const registry = AgentRegistry.layer().pipe(Layer.provideMerge(base))
  return Executor.layer.pipe(Layer.provideMerge(registry))
}
