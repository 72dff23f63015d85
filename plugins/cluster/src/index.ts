/**
 * The `cluster` plugin for `ha`: `ha init` and `ha join` (the bootstrap) and `ha status` (the running
 * cluster, through the local daemon's API). Its default export is
 * the plugin (see plugins/README.md).
 */
import type { Plugin } from "@ha/cli"
import { init, join, keygen } from "./Bootstrap.ts"
import { command as status } from "./StatusCommand.ts"

export * as Bootstrap from "./Bootstrap.ts"
export * as StatusCommand from "./StatusCommand.ts"

const plugin: Plugin.Plugin = {
  name: "cluster",
  description: "the cluster: ha init, ha join, ha keygen, ha status",
  commands: [init, join, keygen, status]
}

export default plugin
