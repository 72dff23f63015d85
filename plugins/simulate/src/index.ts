/**
 * The `simulate` plugin for `ha`: `ha simulate`, a deterministic whole-cluster simulation with
 * fault injection (see @ha/simulator). Its default export is the plugin (see plugins/README.md).
 */
import type { Plugin } from "@ha/cli"
import { command } from "./SimulateCommand.ts"

export * as SimulateCommand from "./SimulateCommand.ts"

const plugin: Plugin.Plugin = {
  name: "simulate",
  description: "ha simulate: whole-cluster simulation under faults drawn from a seed",
  commands: [command]
}

export default plugin
