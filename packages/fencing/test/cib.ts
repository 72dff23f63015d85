/** Builders for the small CIBs the tests need (the XML codec is not needed to state them). */
import { Cib } from "@ha/cib"
import { Effect } from "effect"
import { type FenceAgent, FencingConfig } from "../src/index.ts"

export const nvset = (pairs: Record<string, string>): Cib.NvSet => ({
  rules: [],
  nvpairs: Object.entries(pairs).map(([name, value]) => ({ name, value }))
})

export const stonith = (id: string, type: string, attrs: Record<string, string> = {}): Cib.Primitive => ({
  _tag: "Primitive",
  id,
  class: "stonith",
  type,
  instanceAttributes: [nvset(attrs)],
  metaAttributes: [],
  utilization: []
})

/** The same with a recurring monitor op. */
export const monitored = (
  primitive: Cib.Primitive,
  intervalMs: number,
  timeoutMs?: number
): Cib.Primitive => ({
  ...primitive,
  operations: {
    ops: [
      {
        id: `${primitive.id}-monitor`,
        name: "monitor",
        interval: intervalMs,
        ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
        instanceAttributes: [],
        metaAttributes: []
      }
    ]
  }
})

export const level = (
  id: string,
  index: number,
  target: string,
  devices: ReadonlyArray<string>
): Cib.FencingLevel => ({
  id,
  index,
  target,
  devices
})

export const cibOf = (parts: {
  readonly nodes?: ReadonlyArray<string>
  readonly resources?: ReadonlyArray<Cib.Resource>
  readonly levels?: ReadonlyArray<Cib.FencingLevel>
  readonly properties?: Record<string, string>
  readonly constraints?: ReadonlyArray<Cib.Constraint>
  readonly status?: Cib.Status
}): Cib.Cib => ({
  ...Cib.empty,
  configuration: {
    ...Cib.empty.configuration,
    nodes: (parts.nodes ?? []).map((uname, i) => ({
      id: String(i + 1),
      uname,
      instanceAttributes: [],
      utilization: []
    })),
    resources: parts.resources ?? [],
    fencingTopology: parts.levels ?? [],
    clusterProperties: parts.properties === undefined ? [] : [nvset(parts.properties)],
    constraints: parts.constraints ?? []
  },
  status: parts.status ?? Cib.empty.status
})

/** Meta-data of an agent with a port parameter and every action, and of one like fence_dummy (no port, no list). */
export const fullAgent: FenceAgent.AgentInfo = {
  hostParameter: "port",
  parameters: ["port", "plug", "ip"],
  actions: ["on", "off", "reboot", "status", "list", "monitor", "metadata"]
}
export const dummyLike: FenceAgent.AgentInfo = {
  hostParameter: undefined,
  parameters: ["status_file"],
  actions: ["on", "off", "reboot", "status", "monitor", "metadata"]
}

export const configOf = (cib: Cib.Cib, agents: Record<string, FenceAgent.AgentInfo>) =>
  FencingConfig.fromCib(cib, new Map(Object.entries(agents)))

export const configOrDie = (cib: Cib.Cib, agents: Record<string, FenceAgent.AgentInfo>) =>
  Effect.runSync(configOf(cib, agents))
