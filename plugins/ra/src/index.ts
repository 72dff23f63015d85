/**
 * The `ra` plugin for `ha`: `ha ra list`, `ha ra info AGENT`, and the agent-parameter check of
 * `ha validate`. Its default export is the plugin (see plugins/README.md).
 */
import type { Plugin } from "@ha/cli"
import { validator } from "./ParameterCheck.ts"
import { command } from "./RaCommand.ts"

export * as Agents from "./Agents.ts"
export * as ParameterCheck from "./ParameterCheck.ts"
export * as RaCommand from "./RaCommand.ts"

const plugin: Plugin.Plugin = {
  name: "ra",
  description: "resource agents: ha ra list|info, parameter checks for ha validate",
  commands: [command],
  validators: [validator]
}

export default plugin
