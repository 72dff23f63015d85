/** Small CIBs for the store's tests. */
import type { Cib } from "@ha/cib"

export const primitive = (id: string, type = "Dummy"): Cib.Primitive => ({
  _tag: "Primitive",
  id,
  class: "ocf",
  provider: "heartbeat",
  type,
  instanceAttributes: [],
  metaAttributes: [],
  utilization: []
})

export const node = (id: string, uname: string): Cib.Node => ({
  id,
  uname,
  instanceAttributes: [],
  utilization: []
})

export const withResources = (cib: Cib.Cib, ...resources: ReadonlyArray<Cib.Resource>): Cib.Cib => ({
  ...cib,
  configuration: { ...cib.configuration, resources: [...cib.configuration.resources, ...resources] }
})

export const withConstraint = (cib: Cib.Cib, constraint: Cib.Constraint): Cib.Cib => ({
  ...cib,
  configuration: { ...cib.configuration, constraints: [...cib.configuration.constraints, constraint] }
})

export const location = (id: string, rsc: string, nodeName: string, score = 100): Cib.Location => ({
  _tag: "Location",
  id,
  rsc,
  node: nodeName,
  score,
  rules: [],
  resourceSets: []
})

export const nodeState = (
  id: string,
  uname: string,
  ops: ReadonlyArray<[string, string, number]> = []
): Cib.NodeState => ({
  id,
  uname,
  inCcm: "true",
  crmd: "online",
  extra: {},
  lrm: {
    id,
    extra: {},
    resources: ops.map(([rsc, operation, callId]) => ({
      id: rsc,
      class: "ocf",
      provider: "heartbeat",
      type: "Dummy",
      ops: [
        {
          id: `${rsc}_last_0`,
          operationKey: `${rsc}_${operation}_0`,
          operation,
          interval: 0,
          rcCode: 0,
          opStatus: 0,
          callId,
          extra: {}
        }
      ]
    }))
  }
})

export const withNodeState = (cib: Cib.Cib, state: Cib.NodeState): Cib.Cib => ({
  ...cib,
  status: { ...cib.status, nodes: [...cib.status.nodes.filter((n) => n.id !== state.id), state] }
})

/** A CIB with two nodes, as the store's tests start from. */
export const twoNodes = (base: Cib.Cib): Cib.Cib => ({
  ...base,
  validateWith: "pacemaker-3.9",
  configuration: { ...base.configuration, nodes: [node("1", "node1"), node("2", "node2")] }
})

/** A CIB with three nodes (ids "1", "2", "3", as the replication tests' cluster node ids). */
export const threeNodes = (base: Cib.Cib): Cib.Cib => ({
  ...base,
  validateWith: "pacemaker-3.9",
  configuration: {
    ...base.configuration,
    nodes: [node("1", "node1"), node("2", "node2"), node("3", "node3")]
  }
})
