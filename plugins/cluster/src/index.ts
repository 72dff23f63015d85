/**
 * The `cluster` plugin for `ha`: `ha init` and `ha join` (the bootstrap), and the running cluster
 * through the local daemon's API: `ha status`, `ha apply`, `ha resource …`, `ha node …`, `ha fence …`,
 * `ha log`. Its default export is the plugin (see plugins/README.md).
 */
import type { Plugin } from "@ha/cli"
import { command as apply } from "./ApplyCommand.ts"
import { init, join, keygen } from "./Bootstrap.ts"
import { command as fence } from "./FenceCommand.ts"
import { liveCib } from "./LiveCib.ts"
import { command as log } from "./LogCommand.ts"
import { command as node } from "./NodeCommand.ts"
import { command as resource } from "./ResourceCommand.ts"
import { command as status } from "./StatusCommand.ts"

export * as ApplyCommand from "./ApplyCommand.ts"
export * as Bootstrap from "./Bootstrap.ts"
export * as Client from "./Client.ts"
export * as FenceCommand from "./FenceCommand.ts"
export * as LiveCib from "./LiveCib.ts"
export * as LogCommand from "./LogCommand.ts"
export * as NodeCommand from "./NodeCommand.ts"
export * as Progress from "./Progress.ts"
export * as ResourceCommand from "./ResourceCommand.ts"
export * as StatusCommand from "./StatusCommand.ts"

const plugin: Plugin.Plugin = {
  name: "cluster",
  description:
    "the cluster: ha init, join, keygen; against the running cluster: ha status, apply, resource, node, fence, log, plan --live",
  commands: [init, join, keygen, status, apply, resource, node, fence, log],
  liveCib
}

export default plugin
