/**
 * The fencing configuration read from a CIB: devices (primitives of class stonith), the fencing
 * topology, the nodes and the cluster properties the fencer uses. Everything that can be checked
 * is checked here, at configuration time, with an error naming the element and attribute.
 */
import { type Cib, Duration, Score } from "@ha/cib"
import { Effect } from "effect"
import type { Device, DeviceAction, HostCheck } from "./Device.ts"
import { deviceActions, mayFence } from "./Device.ts"
import {
  DeviceWithoutHostsError,
  type FencingConfigError,
  InvalidDeviceAttributeError,
  InvalidTopologyLevelError,
  MissingTopologyDeviceError
} from "./Errors.ts"
import { type AgentInfo, AgentRegistry, supports } from "./FenceAgent.ts"

export type LevelTarget =
  | { readonly _tag: "Name"; readonly name: string }
  | { readonly _tag: "Pattern"; readonly pattern: string }
  | { readonly _tag: "Attribute"; readonly name: string; readonly value: string }

/** One fencing-topology level: all its devices must succeed for the level to succeed. */
export interface Level {
  readonly id: string
  readonly index: number
  readonly target: LevelTarget
  readonly devices: ReadonlyArray<string>
}

export interface NodeInfo {
  readonly name: string
  readonly attributes: Readonly<Record<string, string>>
}

export interface FencingConfig {
  readonly devices: ReadonlyArray<Device>
  readonly levels: ReadonlyArray<Level>
  readonly nodes: ReadonlyArray<NodeInfo>
  /** stonith-timeout: the default timeout of an agent action. */
  readonly stonithTimeoutMs: number
  /** stonith-action: what a cluster-requested fence does (reboot or off). */
  readonly stonithAction: "reboot" | "off"
  /** priority-fencing-delay: extra delay for fencing the node that runs the most important resources. */
  readonly priorityFencingDelayMs: number
  /** stonith-max-attempts: rounds of the whole topology before a request is reported failed. */
  readonly maxAttempts: number
}

export const empty: FencingConfig = {
  devices: [],
  levels: [],
  nodes: [],
  stonithTimeoutMs: 60_000,
  stonithAction: "reboot",
  priorityFencingDelayMs: 0,
  maxAttempts: 10
}

/** Attributes the fencer consumes itself; all other instance attributes go to the agent. */
const isFencerAttribute = (name: string) =>
  name.startsWith("pcmk_") || name === "priority" || name === "stonith-timeout"

const primitivePath = (id: string) => `/cib/configuration/resources/primitive[@id='${id}']`
const nvpairPath = (id: string, name: string) =>
  `${primitivePath(id)}/instance_attributes/nvpair[@name='${name}']`

/** Rule-less pairs of the sets, the first value of a name winning (as Pacemaker orders sets). */
const pairsOf = (sets: ReadonlyArray<Cib.NvSet>): Map<string, string> => {
  const pairs = new Map<string, string>()
  for (const set of sets) {
    if (set.rules.length > 0) continue
    for (const pair of set.nvpairs) {
      if (pair.name !== undefined && pair.value !== undefined && !pairs.has(pair.name))
        pairs.set(pair.name, pair.value)
    }
  }
  return pairs
}

/** Stonith primitives, top-level or in groups, in document order. */
export const stonithPrimitives = (cib: Cib.Cib): ReadonlyArray<Cib.Primitive> => {
  const out: Array<Cib.Primitive> = []
  const visit = (resource: Cib.Resource) => {
    if (resource._tag === "Primitive" && resource.class === "stonith") out.push(resource)
    else if (resource._tag === "Group") resource.members.forEach(visit)
    else if (resource._tag === "Clone") visit(resource.child)
  }
  cib.configuration.resources.forEach(visit)
  return out
}

const splitList = (value: string) => value.split(/[\s,;]+/).filter((s) => s !== "")

/** `node1:port1;node2=port2,3` → node → port (the value after the first ':' or '=' is the port, commas kept). */
const parseMap = (value: string): Map<string, string> | string => {
  const map = new Map<string, string>()
  for (const entry of value.split(/[;\s]+/).filter((s) => s !== "")) {
    const match = /^([^:=]+)[:=](.+)$/.exec(entry)
    if (match === null) return `entry "${entry}" is not node:port`
    map.set(match[1]!, match[2]!)
  }
  return map
}

const duration = (device: string, name: string, value: string) =>
  Effect.gen(function* () {
    const ms = Duration.parse(value)
    if (ms === undefined) {
      return yield* new InvalidDeviceAttributeError({
        device,
        attribute: name,
        value,
        path: nvpairPath(device, name),
        reason: "is not a duration (e.g. 5s, 500ms, PT1M)"
      })
    }
    return ms
  })

const integer = (device: string, name: string, value: string, check: (n: number) => string | undefined) =>
  Effect.gen(function* () {
    const n = /^\s*[+-]?[0-9]+\s*$/.test(value) ? Number.parseInt(value, 10) : Number.NaN
    const problem = Number.isNaN(n) ? "is not an integer" : check(n)
    if (problem !== undefined) {
      return yield* new InvalidDeviceAttributeError({
        device,
        attribute: name,
        value,
        path: nvpairPath(device, name),
        reason: problem
      })
    }
    return n
  })

const parseDevice = (primitive: Cib.Primitive, info: AgentInfo, bans: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const id = primitive.id
    const attrs = pairsOf(primitive.instanceAttributes)
    const invalid = (attribute: string, value: string, reason: string) =>
      new InvalidDeviceAttributeError({
        device: id,
        attribute,
        value,
        path: nvpairPath(id, attribute),
        reason
      })

    const params: Record<string, string> = {}
    for (const [name, value] of attrs) {
      if (isFencerAttribute(name)) continue
      if (/[\r\n]/.test(value))
        return yield* invalid(name, value, "contains a line break (agents read one key=value per line)")
      if (name === "action" || name === "port" || name === "plug" || name === "nodename") {
        return yield* invalid(name, value, "is set by the fencer for each request; remove it from the device")
      }
      params[name] = value
    }

    const hostList = splitList(attrs.get("pcmk_host_list") ?? "")
    const mapText = attrs.get("pcmk_host_map")
    const parsedMap = mapText === undefined ? new Map<string, string>() : parseMap(mapText)
    if (typeof parsedMap === "string") return yield* invalid("pcmk_host_map", mapText ?? "", parsedMap)
    const hostMap = Object.fromEntries(parsedMap)

    const checkText = attrs.get("pcmk_host_check")
    let hostCheck: HostCheck
    if (checkText === undefined) {
      hostCheck =
        hostList.length > 0 || parsedMap.size > 0
          ? "static-list"
          : supports(info, "list")
            ? "dynamic-list"
            : supports(info, "status")
              ? "status"
              : "none"
    } else if (
      checkText === "static-list" ||
      checkText === "dynamic-list" ||
      checkText === "status" ||
      checkText === "none"
    ) {
      hostCheck = checkText
    } else {
      return yield* invalid("pcmk_host_check", checkText, "must be static-list, dynamic-list, status or none")
    }
    if (hostCheck === "static-list" && hostList.length === 0 && parsedMap.size === 0) {
      return yield* new DeviceWithoutHostsError({
        device: id,
        path: primitivePath(id),
        reason: "pcmk_host_check is static-list but neither pcmk_host_list nor pcmk_host_map names a host"
      })
    }
    if (hostCheck === "dynamic-list" && !supports(info, "list")) {
      return yield* invalid(
        "pcmk_host_check",
        "dynamic-list",
        `needs the list action, which agent ${primitive.type} does not have`
      )
    }
    if (hostCheck === "status" && !supports(info, "status")) {
      return yield* invalid(
        "pcmk_host_check",
        "status",
        `needs the status action, which agent ${primitive.type} does not have`
      )
    }

    const argumentText = attrs.get("pcmk_host_argument")
    const hostArgument =
      argumentText === undefined ? info.hostParameter : argumentText === "none" ? undefined : argumentText

    let delayBaseMs = 0
    const delayBaseByTarget: Record<string, number> = {}
    const baseText = attrs.get("pcmk_delay_base")
    if (baseText !== undefined) {
      if (/[:=]/.test(baseText)) {
        const map = parseMap(baseText)
        if (typeof map === "string") return yield* invalid("pcmk_delay_base", baseText, map)
        for (const [node, text] of map) delayBaseByTarget[node] = yield* duration(id, "pcmk_delay_base", text)
      } else {
        delayBaseMs = yield* duration(id, "pcmk_delay_base", baseText)
      }
    }
    const maxText = attrs.get("pcmk_delay_max")
    const delayMaxMs = maxText === undefined ? 0 : yield* duration(id, "pcmk_delay_max", maxText)

    const limitText = attrs.get("pcmk_action_limit")
    const actionLimit =
      limitText === undefined
        ? 1
        : yield* integer(id, "pcmk_action_limit", limitText, (n) =>
            n === -1 || n >= 1 ? undefined : "must be -1 (unlimited) or at least 1"
          )
    const priorityText = attrs.get("priority")
    const priority =
      priorityText === undefined ? 0 : yield* integer(id, "priority", priorityText, () => undefined)

    const actionNames = {} as Record<DeviceAction, string>
    const timeoutsMs: Partial<Record<DeviceAction, number>> = {}
    const retries: Partial<Record<DeviceAction, number>> = {}
    for (const action of deviceActions) {
      // Pacemaker's old name for pcmk_off_action is pcmk_poweroff_action.
      const renamed =
        attrs.get(`pcmk_${action}_action`) ??
        (action === "off" ? attrs.get("pcmk_poweroff_action") : undefined)
      actionNames[action] = renamed ?? action
      const timeoutText = attrs.get(`pcmk_${action}_timeout`)
      if (timeoutText !== undefined)
        timeoutsMs[action] = yield* duration(id, `pcmk_${action}_timeout`, timeoutText)
      const retriesText = attrs.get(`pcmk_${action}_retries`)
      if (retriesText !== undefined) {
        retries[action] = yield* integer(id, `pcmk_${action}_retries`, retriesText, (n) =>
          n >= 0 ? undefined : "must be 0 or more"
        )
      }
    }
    // A renamed action is the administrator's word (agents do not always list it); the plain one must exist.
    if (actionNames.off === "off" && !supports(info, "off")) {
      return yield* new InvalidDeviceAttributeError({
        device: id,
        attribute: "type",
        value: primitive.type ?? "",
        path: primitivePath(id),
        reason: "names an agent without the off action; set pcmk_off_action"
      })
    }

    const monitorOp = primitive.operations?.ops.find(
      (op) => op.name === "monitor" && op.interval > 0 && op.enabled !== "false"
    )
    const device: Device = {
      id,
      agent: primitive.type ?? "",
      path: primitivePath(id),
      params,
      hostList,
      hostMap,
      hostCheck,
      hostArgument,
      delayBaseMs,
      delayBaseByTarget,
      delayMaxMs,
      actionLimit,
      priority,
      actionNames,
      timeoutsMs,
      retries,
      bannedNodes: bans,
      monitor:
        monitorOp === undefined ? undefined : { intervalMs: monitorOp.interval, timeoutMs: monitorOp.timeout }
    }
    return device
  })

const levelPath = (id: string) => `/cib/configuration/fencing-topology/fencing-level[@id='${id}']`

const parseLevel = (level: Cib.FencingLevel, deviceIds: ReadonlySet<string>) =>
  Effect.gen(function* () {
    const path = levelPath(level.id)
    const invalid = (reason: string) => new InvalidTopologyLevelError({ level: level.id, path, reason })
    if (level.index < 1) return yield* invalid(`index ${level.index} must be 1 or more`)
    let target: LevelTarget
    if (level.target !== undefined) target = { _tag: "Name", name: level.target }
    else if (level.targetPattern !== undefined) {
      try {
        new RegExp(level.targetPattern)
      } catch {
        return yield* invalid(`target-pattern "${level.targetPattern}" is not a valid regular expression`)
      }
      target = { _tag: "Pattern", pattern: level.targetPattern }
    } else if (level.targetAttribute !== undefined) {
      if (level.targetValue === undefined)
        return yield* invalid(`target-attribute ${level.targetAttribute} has no target-value`)
      target = { _tag: "Attribute", name: level.targetAttribute, value: level.targetValue }
    } else return yield* invalid("has no target, target-pattern or target-attribute")
    if (level.devices.length === 0) return yield* invalid("names no devices")
    for (const device of level.devices) {
      if (!deviceIds.has(device))
        return yield* new MissingTopologyDeviceError({ level: level.id, device, path: `${path}/@devices` })
    }
    const parsed: Level = { id: level.id, index: level.index, target, devices: level.devices }
    return parsed
  })

const propertyDuration = (props: Map<string, string>, name: string, fallback: number) => {
  const text = props.get(name)
  return text === undefined ? fallback : (Duration.parse(text) ?? fallback)
}

/**
 * The fencing configuration of `cib`, given the meta-data of every agent the stonith resources
 * name (`agents`; resolve them with `load`, which also reports unknown agents).
 */
export const fromCib = (
  cib: Cib.Cib,
  agents: ReadonlyMap<string, AgentInfo>
): Effect.Effect<FencingConfig, FencingConfigError> =>
  Effect.gen(function* () {
    const bans = new Map<string, Array<string>>()
    for (const constraint of cib.configuration.constraints) {
      if (constraint._tag !== "Location" || constraint.rsc === undefined || constraint.node === undefined)
        continue
      if (constraint.score !== undefined && constraint.score <= -Score.INFINITY) {
        bans.set(constraint.rsc, [...(bans.get(constraint.rsc) ?? []), constraint.node])
      }
    }
    const nodes: Array<NodeInfo> = cib.configuration.nodes.map((node) => ({
      name: node.uname,
      attributes: Object.fromEntries(pairsOf(node.instanceAttributes))
    }))
    const devices: Array<Device> = []
    for (const primitive of stonithPrimitives(cib)) {
      const info = agents.get(primitive.type ?? "")
      if (info === undefined) {
        return yield* new InvalidDeviceAttributeError({
          device: primitive.id,
          attribute: "type",
          value: primitive.type ?? "",
          path: primitivePath(primitive.id),
          reason: "has no agent meta-data (resolve agents with FencingConfig.load)"
        })
      }
      const device = yield* parseDevice(primitive, info, bans.get(primitive.id) ?? [])
      const known = nodes.map((node) => node.name)
      if (
        device.hostCheck === "static-list" &&
        known.length > 0 &&
        !known.some((node) => mayFence(device, node))
      ) {
        return yield* new DeviceWithoutHostsError({
          device: device.id,
          path: device.path,
          reason: `none of its hosts (${[...device.hostList, ...Object.keys(device.hostMap)].join(", ")}) is a cluster node (${known.join(", ")})`
        })
      }
      devices.push(device)
    }
    const ids = new Set(devices.map((device) => device.id))
    const levels: Array<Level> = []
    for (const level of cib.configuration.fencingTopology) levels.push(yield* parseLevel(level, ids))

    const props = pairsOf(cib.configuration.clusterProperties)
    const actionText = props.get("stonith-action")
    const attemptsText = props.get("stonith-max-attempts")
    const attempts = attemptsText === undefined ? Number.NaN : Number.parseInt(attemptsText, 10)
    return {
      devices,
      levels,
      nodes,
      stonithTimeoutMs: propertyDuration(props, "stonith-timeout", empty.stonithTimeoutMs),
      stonithAction: actionText === "off" || actionText === "poweroff" ? "off" : "reboot",
      priorityFencingDelayMs: propertyDuration(props, "priority-fencing-delay", 0),
      maxAttempts: Number.isInteger(attempts) && attempts > 0 ? attempts : empty.maxAttempts
    }
  })

/** Resolves every stonith resource's agent through the registry (UnknownAgentError if missing), then `fromCib`. */
export const load = (cib: Cib.Cib) =>
  Effect.gen(function* () {
    const registry = yield* AgentRegistry
    const agents = new Map<string, AgentInfo>()
    for (const primitive of stonithPrimitives(cib)) {
      const name = primitive.type ?? ""
      if (agents.has(name)) continue
      const agent = yield* registry.get(name, primitive.id, primitivePath(primitive.id))
      agents.set(name, agent.info)
    }
    return yield* fromCib(cib, agents)
  })
