/**
 * The `cluster` plugin for `ha`: `ha init` and `ha join`, the cluster bootstrap. Its default export is
 * the plugin (see plugins/README.md).
 */
import type { Plugin } from "@ha/cli"
import { init, join } from "./Bootstrap.ts"

export * as Bootstrap from "./Bootstrap.ts"

const plugin: Plugin.Plugin = {
  name: "cluster",
  description: "cluster bootstrap: ha init, ha join",
  commands: [init, join]
}

export default plugin
