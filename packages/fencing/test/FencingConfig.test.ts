import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Device, FenceAgent, FencingConfig, Native, Priority, Topology } from "../src/index.ts"
import {
  cibOf,
  configOf,
  configOrDie,
  dummyLike,
  fullAgent,
  level,
  monitored,
  nvset,
  stonith
} from "./cib.ts"

const agents = { fence_pdu: fullAgent, fence_dummy: dummyLike }

describe("devices from the CIB", () => {
  it("reads host list, host map, delays, limits, action names and timeouts", () => {
    const config = configOrDie(
      cibOf({
        nodes: ["n1", "n2", "n3"],
        resources: [
          stonith("pdu", "fence_pdu", {
            ip: "192.0.2.1",
            pcmk_host_map: "n1:1;n2:2,3",
            pcmk_delay_base: "2s",
            pcmk_delay_max: "10s",
            pcmk_action_limit: "3",
            pcmk_off_action: "poweroff-now",
            pcmk_reboot_timeout: "90s",
            pcmk_off_retries: "5",
            priority: "7"
          })
        ],
        properties: { "stonith-timeout": "45s", "stonith-action": "off", "priority-fencing-delay": "15s" }
      }),
      agents
    )
    const pdu = config.devices[0]!
    expect(pdu.hostCheck).toBe("static-list")
    expect(pdu.hostMap).toEqual({ n1: "1", n2: "2,3" })
    expect(pdu.params).toEqual({ ip: "192.0.2.1" })
    expect(pdu.delayBaseMs).toBe(2000)
    expect(pdu.delayMaxMs).toBe(10_000)
    expect(pdu.actionLimit).toBe(3)
    expect(pdu.actionNames.off).toBe("poweroff-now")
    expect(pdu.actionNames.reboot).toBe("reboot")
    expect(Device.timeoutMs(pdu, "reboot", config.stonithTimeoutMs)).toBe(90_000)
    expect(Device.timeoutMs(pdu, "off", config.stonithTimeoutMs)).toBe(45_000)
    expect(Device.attempts(pdu, "off")).toBe(6)
    expect(Device.attempts(pdu, "reboot")).toBe(3)
    expect(config.stonithAction).toBe("off")
    expect(config.priorityFencingDelayMs).toBe(15_000)
    expect(Device.agentParams(pdu, "n2")).toEqual({ ip: "192.0.2.1", port: "2,3", nodename: "n2" })
    expect(Device.canFence(pdu, "n1")._tag).toBe("Yes")
    expect(Device.canFence(pdu, "n3")._tag).toBe("No")
  })

  it("defaults pcmk_host_check from the agent: dynamic-list with list, status without, none without both", () => {
    const config = configOrDie(
      cibOf({
        resources: [stonith("a", "fence_pdu"), stonith("b", "fence_dummy"), stonith("c", "fence_min")]
      }),
      { ...agents, fence_min: { hostParameter: undefined, parameters: [], actions: ["off", "reboot"] } }
    )
    expect(config.devices.map((d) => d.hostCheck)).toEqual(["dynamic-list", "status", "none"])
    const [a, b, c] = config.devices
    expect(Device.canFence(a!, "n1")).toEqual({ _tag: "Ask", action: "list" })
    expect(Device.canFence(a!, "n1", { list: ["n1", "n2"] })._tag).toBe("Yes")
    expect(Device.canFence(a!, "n3", { list: ["n1", "n2"] })._tag).toBe("No")
    expect(Device.canFence(b!, "n1")).toEqual({ _tag: "Ask", action: "status" })
    expect(Device.canFence(b!, "n1", { status: { n1: "off" } })._tag).toBe("Yes")
    expect(Device.canFence(b!, "n1", { status: { n1: "unknown" } })._tag).toBe("No")
    expect(Device.canFence(c!, "anything")._tag).toBe("Yes")
    // fence_dummy has no port parameter: only nodename is passed.
    expect(Device.agentParams(b!, "n1")).toEqual({ nodename: "n1" })
  })

  it("computes delays within [base, max] from the random draw", () => {
    const config = configOrDie(
      cibOf({
        resources: [
          stonith("d", "fence_pdu", {
            pcmk_host_list: "n1 n2",
            pcmk_delay_base: "n1:5s;n2:0",
            pcmk_delay_max: "8s"
          })
        ]
      }),
      agents
    )
    const d = config.devices[0]!
    expect(Device.delayMs(d, "n1", 0)).toBe(5000)
    expect(Device.delayMs(d, "n1", 0.999999)).toBe(8000)
    expect(Device.delayMs(d, "n2", 0)).toBe(0)
    expect(Device.delayMs(d, "n2", 0.5)).toBe(4000)
  })

  it("bans a device from nodes with -INFINITY location constraints", () => {
    const config = configOrDie(
      cibOf({
        resources: [stonith("d", "fence_pdu", { pcmk_host_list: "n1" })],
        constraints: [
          {
            _tag: "Location",
            id: "ban",
            rsc: "d",
            node: "n1",
            score: -1_000_000,
            resourceSets: [],
            rules: []
          }
        ]
      }),
      agents
    )
    expect(Device.canRunOn(config.devices[0]!, "n1")).toBe(false)
    expect(Device.canRunOn(config.devices[0]!, "n2")).toBe(true)
  })

  it("reads the recurring monitor op of a device (interval 0 or disabled: none)", () => {
    const disabled = monitored(stonith("c", "fence_pdu", { pcmk_host_list: "n1" }), 30_000)
    const config = configOrDie(
      cibOf({
        resources: [
          monitored(stonith("a", "fence_pdu", { pcmk_host_list: "n1" }), 60_000, 20_000),
          monitored(stonith("b", "fence_pdu", { pcmk_host_list: "n1" }), 0),
          {
            ...disabled,
            operations: { ops: disabled.operations!.ops.map((op) => ({ ...op, enabled: "false" })) }
          },
          stonith("d", "fence_pdu", { pcmk_host_list: "n1" })
        ]
      }),
      agents
    )
    expect(config.devices.map((d) => d.monitor)).toEqual([
      { intervalMs: 60_000, timeoutMs: 20_000 },
      undefined,
      undefined,
      undefined
    ])
  })
})

describe("bad configurations are typed errors naming the place", () => {
  const fail = (cib: Parameters<typeof configOf>[0], extra: Record<string, FenceAgent.AgentInfo> = {}) =>
    Effect.runSync(Effect.flip(configOf(cib, { ...agents, ...extra })))

  it("an unknown agent (through the registry)", () => {
    const registry = FenceAgent.registryOf([
      Native.make({ name: "fence-x", info: dummyLike, handle: () => Effect.succeed({ code: 0 }) })
    ])
    const error = Effect.runSync(
      FencingConfig.load(cibOf({ resources: [stonith("f1", "fence_nosuch")] })).pipe(
        Effect.provideService(FenceAgent.AgentRegistry, registry),
        Effect.flip
      )
    )
    expect(error._tag).toBe("UnknownAgentError")
    expect(error.message).toBe(
      `/cib/configuration/resources/primitive[@id='f1']: fence device f1 uses agent "fence_nosuch", which is not installed (looked in native agents: fence-x)`
    )
  })

  it("a static-list device without hosts", () => {
    const error = fail(cibOf({ resources: [stonith("f1", "fence_pdu", { pcmk_host_check: "static-list" })] }))
    expect(error._tag).toBe("DeviceWithoutHostsError")
    expect(error.message).toContain("primitive[@id='f1']")
    expect(error.message).toContain("neither pcmk_host_list nor pcmk_host_map")
  })

  it("a device whose hosts are none of the cluster's nodes", () => {
    const error = fail(
      cibOf({ nodes: ["n1", "n2"], resources: [stonith("f1", "fence_pdu", { pcmk_host_list: "old1 old2" })] })
    )
    expect(error._tag).toBe("DeviceWithoutHostsError")
    expect(error.message).toContain("old1, old2")
  })

  it("a topology level naming a missing device", () => {
    const error = fail(
      cibOf({
        resources: [stonith("ipmi", "fence_pdu", { pcmk_host_list: "n1" })],
        levels: [level("l1", 1, "n1", ["ipmi"]), level("l2", 2, "n1", ["pdu-a", "pdu-b"])]
      })
    )
    expect(error._tag).toBe("MissingTopologyDeviceError")
    expect(error.message).toBe(
      `/cib/configuration/fencing-topology/fencing-level[@id='l2']/@devices: fencing level l2 names device "pdu-a", which is not a configured stonith resource`
    )
  })

  it("invalid attribute values", () => {
    const check = fail(cibOf({ resources: [stonith("f1", "fence_pdu", { pcmk_host_check: "dynamic" })] }))
    expect(check.message).toContain(`nvpair[@name='pcmk_host_check']`)
    expect(check.message).toContain("must be static-list, dynamic-list, status or none")
    const delay = fail(
      cibOf({ resources: [stonith("f1", "fence_pdu", { pcmk_host_list: "n1", pcmk_delay_max: "soon" })] })
    )
    expect(delay.message).toContain(`pcmk_delay_max="soon" is not a duration`)
    const limit = fail(
      cibOf({ resources: [stonith("f1", "fence_pdu", { pcmk_host_list: "n1", pcmk_action_limit: "0" })] })
    )
    expect(limit.message).toContain("must be -1 (unlimited) or at least 1")
    const dynamic = fail(
      cibOf({ resources: [stonith("f1", "fence_dummy", { pcmk_host_check: "dynamic-list" })] })
    )
    expect(dynamic.message).toContain("needs the list action")
    const injected = fail(
      cibOf({ resources: [stonith("f1", "fence_pdu", { pcmk_host_list: "n1", ip: "x\naction=on" })] })
    )
    expect(injected.message).toContain("contains a line break")
    const pattern = fail(
      cibOf({
        resources: [stonith("f1", "fence_pdu", { pcmk_host_list: "n1" })],
        levels: [{ id: "l1", index: 1, targetPattern: "n[", devices: ["f1"] }]
      })
    )
    expect(pattern._tag).toBe("InvalidTopologyLevelError")
  })
})

describe("topology", () => {
  it("orders levels by index for the target; without levels, devices by priority", () => {
    const config = configOrDie(
      cibOf({
        nodes: ["n1", "n2"],
        resources: [
          stonith("ipmi", "fence_pdu", { pcmk_host_list: "n1 n2" }),
          stonith("pdu-a", "fence_pdu", { pcmk_host_list: "n1 n2" }),
          stonith("pdu-b", "fence_pdu", { pcmk_host_list: "n1 n2", priority: "5" })
        ],
        levels: [level("l2", 2, "n1", ["pdu-a", "pdu-b"]), level("l1", 1, "n1", ["ipmi"])]
      }),
      agents
    )
    expect(Topology.levelsFor(config, "n1")).toEqual([["ipmi"], ["pdu-a", "pdu-b"]])
    expect(Topology.levelsFor(config, "n2")).toEqual([["pdu-b"], ["ipmi"], ["pdu-a"]])
    expect(Topology.levelsFor(config, "n9")).toEqual([])
  })

  it("matches levels by pattern and by node attribute", () => {
    const cib = cibOf({
      nodes: ["web1", "db1"],
      resources: [
        stonith("a", "fence_pdu", { pcmk_host_check: "none" }),
        stonith("b", "fence_pdu", { pcmk_host_check: "none" })
      ],
      levels: [
        { id: "p", index: 1, targetPattern: "^web", devices: ["a"] },
        { id: "t", index: 1, targetAttribute: "rack", targetValue: "r2", devices: ["b"] }
      ]
    })
    const withRack = {
      ...cib,
      configuration: {
        ...cib.configuration,
        nodes: cib.configuration.nodes.map((n) =>
          n.uname === "db1" ? { ...n, instanceAttributes: [nvset({ rack: "r2" })] } : n
        )
      }
    }
    const config = configOrDie(withRack, agents)
    expect(Topology.levelsFor(config, "web1")).toEqual([["a"]])
    expect(Topology.levelsFor(config, "db1")).toEqual([["b"]])
  })
})

describe("node priorities for priority-fencing-delay", () => {
  it("sums the priority of active resources per node, promoted instances one more", () => {
    const primitive = (id: string, priority: string) => ({
      _tag: "Primitive" as const,
      id,
      class: "ocf",
      provider: "heartbeat",
      type: "Dummy",
      instanceAttributes: [],
      metaAttributes: [nvset({ priority })],
      utilization: []
    })
    const op = (operation: string, callId: number, rcCode: number, interval = 0) => ({
      id: `${operation}-${callId}`,
      operation,
      interval,
      rcCode,
      opStatus: 0,
      callId,
      extra: {}
    })
    const cib = cibOf({
      nodes: ["n1", "n2"],
      resources: [
        primitive("db", "10"),
        primitive("web", "3"),
        {
          _tag: "Clone",
          id: "ms",
          child: primitive("drbd", "1"),
          legacyMaster: false,
          metaAttributes: [nvset({ promotable: "true" })]
        } as never
      ],
      status: {
        tickets: [],
        nodes: [
          {
            id: "1",
            uname: "n1",
            extra: {},
            lrm: {
              resources: [
                { id: "db", ops: [op("start", 3, 0), op("monitor", 4, 0, 10000)] },
                { id: "drbd:0", ops: [op("start", 1, 0), op("promote", 2, 0)] }
              ]
            }
          },
          {
            id: "2",
            uname: "n2",
            extra: {},
            lrm: {
              resources: [
                { id: "web", ops: [op("start", 1, 0), op("stop", 2, 0)] },
                { id: "drbd:1", ops: [op("start", 1, 0)] }
              ]
            }
          }
        ]
      } as never
    })
    const priorities = Priority.nodePriorities(cib)
    expect(priorities).toEqual({ n1: 12, n2: 1 })
    expect(Priority.priorityDelayApplies(priorities, ["n1", "n2"], "n1")).toBe(true)
    expect(Priority.priorityDelayApplies(priorities, ["n1", "n2"], "n2")).toBe(false)
    expect(Priority.priorityDelayApplies({ n1: 5, n2: 5 }, ["n1", "n2"], "n1")).toBe(false)
  })
})
