/**
 * Fence devices: stonith resources as the fencer uses them, and the pure decisions about them:
 * which targets a device can fence (pcmk_host_check), which port names a target
 * (pcmk_host_map), what the agent is asked (pcmk_<action>_action, pcmk_host_argument), with what
 * timeout and retries, the fencing delay (pcmk_delay_base, pcmk_delay_max) and its monitor.
 */
import type { FenceAction } from "./FenceAgent.ts"

export type HostCheck = "static-list" | "dynamic-list" | "status" | "none"

/** The fencer-level actions a device attribute can rename or time. */
export type DeviceAction = Exclude<FenceAction, "metadata">
export const deviceActions: ReadonlyArray<DeviceAction> = ["off", "on", "reboot", "status", "monitor", "list"]

export interface Device {
  readonly id: string
  /** The stonith resource's `type`: a fence_* program or a native agent. */
  readonly agent: string
  /** Where it is configured, for errors. */
  readonly path: string
  /** Instance attributes passed to the agent (everything but the fencer's own pcmk_* and priority). */
  readonly params: Readonly<Record<string, string>>
  readonly hostList: ReadonlyArray<string>
  /** Target → port (pcmk_host_map). */
  readonly hostMap: Readonly<Record<string, string>>
  readonly hostCheck: HostCheck
  /** The agent parameter that carries the target's port; undefined: none is passed. */
  readonly hostArgument: string | undefined
  readonly delayBaseMs: number
  /** Per-target pcmk_delay_base (`node1:5s;node2:0`). */
  readonly delayBaseByTarget: Readonly<Record<string, number>>
  readonly delayMaxMs: number
  /** Concurrent actions allowed on this device from one node; -1 is unlimited. */
  readonly actionLimit: number
  /** Devices without a topology are tried highest priority first. */
  readonly priority: number
  readonly actionNames: Readonly<Record<DeviceAction, string>>
  readonly timeoutsMs: Readonly<Partial<Record<DeviceAction, number>>>
  readonly retries: Readonly<Partial<Record<DeviceAction, number>>>
  /** Nodes that may not run this device (location constraints with -INFINITY). */
  readonly bannedNodes: ReadonlyArray<string>
  /** The recurring monitor (`op monitor interval=…`): every node that may run the device runs it. */
  readonly monitor: { readonly intervalMs: number; readonly timeoutMs: number | undefined } | undefined
}

/** What a device's agent answered earlier about its targets (list / status), used by dynamic checks. */
export interface DeviceKnowledge {
  readonly list?: ReadonlyArray<string>
  readonly status?: Readonly<Record<string, "on" | "off" | "unknown">>
}

export type Capability =
  | { readonly _tag: "Yes" }
  | { readonly _tag: "No"; readonly reason: string }
  /** The agent must be asked first (the `list` action, or `status` for this target). */
  | { readonly _tag: "Ask"; readonly action: "list" | "status" }

export const portOf = (device: Device, target: string): string => device.hostMap[target] ?? target

/** Whether `device` can fence `target`, given what its agent answered so far. */
export const canFence = (device: Device, target: string, knowledge: DeviceKnowledge = {}): Capability => {
  switch (device.hostCheck) {
    case "none":
      return { _tag: "Yes" }
    case "static-list":
      return device.hostList.includes(target) || device.hostMap[target] !== undefined
        ? { _tag: "Yes" }
        : { _tag: "No", reason: `${target} is not in pcmk_host_list/pcmk_host_map` }
    case "dynamic-list": {
      if (knowledge.list === undefined) return { _tag: "Ask", action: "list" }
      return knowledge.list.includes(target) || knowledge.list.includes(portOf(device, target))
        ? { _tag: "Yes" }
        : { _tag: "No", reason: `${target} is not in the device's list output` }
    }
    case "status": {
      const status = knowledge.status?.[target]
      if (status === undefined) return { _tag: "Ask", action: "status" }
      return status === "unknown"
        ? { _tag: "No", reason: `the device does not know ${target} (status failed)` }
        : { _tag: "Yes" }
    }
  }
}

/** A device that is possibly able to fence the target, before any agent was asked. */
export const mayFence = (device: Device, target: string): boolean => canFence(device, target)._tag !== "No"

export const canRunOn = (device: Device, node: string): boolean => !device.bannedNodes.includes(node)

/** The agent's parameters for an action on `target` (no target for list and monitor). */
export const agentParams = (device: Device, target: string | undefined): Record<string, string> => {
  const params: Record<string, string> = { ...device.params }
  if (target !== undefined) {
    if (device.hostArgument !== undefined) params[device.hostArgument] = portOf(device, target)
    params.nodename = target
  }
  return params
}

export const timeoutMs = (device: Device, action: DeviceAction, defaultMs: number): number =>
  device.timeoutsMs[action] ?? defaultMs

/** Attempts of one action on one device: the first plus pcmk_<action>_retries (default 2). */
export const attempts = (device: Device, action: DeviceAction): number => 1 + (device.retries[action] ?? 2)

/**
 * The fencing delay before the first action on this device: pcmk_delay_base (per target if
 * mapped) plus a random part that keeps the total at most pcmk_delay_max. `random` is in [0, 1).
 */
export const delayMs = (device: Device, target: string, random: number): number => {
  const base = device.delayBaseByTarget[target] ?? device.delayBaseMs
  const spread = Math.max(0, device.delayMaxMs - base)
  return base + Math.floor(random * (spread + 1))
}
