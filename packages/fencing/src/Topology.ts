/**
 * Which devices are tried, in which order, to fence a target. With fencing-topology levels for
 * the target: the levels in index order, each needing all its devices. Without: every device that
 * may fence the target, one at a time, highest `priority` first (then configuration order).
 */
import { mayFence } from "./Device.ts"
import type { FencingConfig, Level, NodeInfo } from "./FencingConfig.ts"

export const levelMatches = (level: Level, target: string, nodes: ReadonlyArray<NodeInfo>): boolean => {
  switch (level.target._tag) {
    case "Name":
      return level.target.name === target
    case "Pattern":
      return new RegExp(level.target.pattern).test(target)
    case "Attribute": {
      const { name, value } = level.target
      return nodes.find((node) => node.name === target)?.attributes[name] === value
    }
  }
}

/** The device ids of each level to try for `target`, in order. Empty: nothing can fence it. */
export const levelsFor = (config: FencingConfig, target: string): ReadonlyArray<ReadonlyArray<string>> => {
  const matching = config.levels.filter((level) => levelMatches(level, target, config.nodes))
  if (matching.length > 0) {
    const byIndex = new Map<number, Array<string>>()
    for (const level of matching) {
      const devices = byIndex.get(level.index) ?? []
      for (const device of level.devices) if (!devices.includes(device)) devices.push(device)
      byIndex.set(level.index, devices)
    }
    return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, devices]) => devices)
  }
  return config.devices
    .map((device, order) => ({ device, order }))
    .filter(({ device }) => mayFence(device, target))
    .sort((a, b) => b.device.priority - a.device.priority || a.order - b.order)
    .map(({ device }) => [device.id])
}
