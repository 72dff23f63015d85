/**
 * `fence-netns`: a native agent that powers a namespace node of this project's test clusters off
 * and on for real (../shared/lab/netns/README.md, "How a node is built" and "Power loss").
 * A node is a network namespace plus a long-lived init in its own pid (and mount) namespace.
 * Power off = the node's host-side links down, then SIGKILL to the pid-namespace init, upon which
 * the kernel kills every process of the node. Power on = the node's boot command, then links up.
 * The agent only talks to a NodePower service; the live one is platform/NetnsPower.ts, and the
 * harness that builds the nodes (e2e/netns) supplies the per-node NodePowerConfig.
 */
import { Context, Effect } from "effect"
import type { NodePowerError } from "./Errors.ts"
import type { AgentInfo, FenceAgent } from "./FenceAgent.ts"
import * as Native from "./Native.ts"

/** How to power one namespace node. */
export interface NetnsNode {
  /** A file holding the host pid of the node's pid-namespace init (written by the boot command). */
  readonly initPidFile: string
  /** Host-side ends of the node's veth links (e.g. `nsl1r0`, `nsl1r1`): down = no carrier inside. */
  readonly hostLinks: ReadonlyArray<string>
  /** The network namespace the host-side links live in (the lab's "switch"); default: the power service's own. */
  readonly linksNetns?: string
  /**
   * Boots the node (argv, no shell): must start a fresh init, write `initPidFile`, and flush the
   * netns' leftover addresses and fault rules before returning; the links go up afterwards.
   */
  readonly boot: { readonly command: string; readonly args: ReadonlyArray<string> }
}

export interface NodePowerConfig {
  readonly nodes: Readonly<Record<string, NetnsNode>>
  /** How long a boot command may take. */
  readonly bootTimeoutMs: number
}

/** Power control of namespace nodes. */
export class NodePower extends Context.Tag("@ha/fencing/NodePower")<
  NodePower,
  {
    readonly nodes: ReadonlyArray<string>
    readonly status: (node: string) => Effect.Effect<"on" | "off", NodePowerError>
    readonly off: (node: string) => Effect.Effect<void, NodePowerError>
    readonly on: (node: string) => Effect.Effect<void, NodePowerError>
  }
>() {}

export const name = "fence-netns"

export const info: AgentInfo = {
  hostParameter: "plug",
  parameters: ["plug", "nodename"],
  actions: ["off", "on", "reboot", "status", "monitor", "list", "metadata"]
}

export const metadata = `<?xml version="1.0" ?>
<resource-agent name="${name}" shortdesc="Powers namespace test nodes off and on">
<longdesc>Kills every process of a namespace node (its pid-namespace init) and drops its links; boots it again on "on".</longdesc>
<parameters>
	<parameter name="plug" unique="0" required="1"><content type="string"/><shortdesc lang="en">Node to act on</shortdesc></parameter>
	<parameter name="nodename" unique="0" required="0"><content type="string"/><shortdesc lang="en">Node to act on when plug is not given</shortdesc></parameter>
</parameters>
<actions>
${info.actions.map((action) => `	<action name="${action}"/>`).join("\n")}
</actions>
</resource-agent>
`

/** The agent over the given power service. */
export const make = (power: NodePower["Type"]): FenceAgent =>
  Native.make({
    name,
    info,
    handle: (action, params) =>
      Effect.gen(function* () {
        if (action === "metadata") return { code: 0, output: metadata }
        if (action === "list")
          return { code: 0, output: power.nodes.map((node) => `${node},${node}\n`).join("") }
        if (action === "monitor") return { code: 0 }
        const node = params.plug ?? params.port ?? params.nodename
        if (node === undefined || !power.nodes.includes(node)) {
          return { code: 1, output: `no such node: ${node ?? "(no plug given)"}` }
        }
        switch (action) {
          case "status":
            return { code: (yield* power.status(node)) === "on" ? 0 : 2, output: "" }
          case "off":
            yield* power.off(node)
            return { code: 0, output: `Success: ${node} powered OFF` }
          case "on":
            yield* power.on(node)
            return { code: 0, output: `Success: ${node} powered ON` }
          case "reboot":
            yield* power.off(node)
            yield* power.on(node)
            return { code: 0, output: `Success: ${node} rebooted` }
          default:
            return { code: 1, output: `unsupported action: ${action}` }
        }
      })
  })
