import { describe, expect, it } from "@effect/vitest"
import { Cib } from "@ha/cib"
import type { OperationRecord } from "@ha/executor"
import { Policy } from "@ha/policy"
import { Either } from "effect"
import { Operations, Recheck, Status } from "../src/index.ts"

const nvset = (id: string, pairs: Record<string, string>): Cib.NvSet => ({
  id,
  rules: [],
  nvpairs: Object.entries(pairs).map(([name, value]) => ({ id: `${id}-${name}`, name, value }))
})

const primitive = (id: string, meta: Record<string, string> = {}): Cib.Primitive => ({
  _tag: "Primitive",
  id,
  class: "ocf",
  provider: "heartbeat",
  type: "Dummy",
  instanceAttributes: [nvset(`${id}-params`, { state: `/run/${id}` })],
  metaAttributes: Object.keys(meta).length === 0 ? [] : [nvset(`${id}-meta`, meta)],
  utilization: [],
  operations: {
    ops: [
      {
        id: `${id}-monitor`,
        name: "monitor",
        interval: 10_000,
        timeout: 15_000,
        instanceAttributes: [],
        metaAttributes: []
      },
      {
        id: `${id}-start`,
        name: "start",
        interval: 0,
        timeout: 60_000,
        instanceAttributes: [],
        metaAttributes: []
      }
    ]
  }
})

const base: Cib.Cib = {
  ...Cib.empty,
  configuration: {
    ...Cib.empty.configuration,
    clusterProperties: [nvset("opts", { "stonith-enabled": "true", "cluster-recheck-interval": "5min" })],
    nodes: [
      { id: "1", uname: "n1", instanceAttributes: [], utilization: [] },
      { id: "2", uname: "n2", instanceAttributes: [], utilization: [] }
    ],
    resources: [primitive("a", { "failure-timeout": "2min" })]
  }
}

let callId = 0
const record = (
  node: string,
  operation: string,
  interval: number,
  rc: number
): OperationRecord.OperationRecord => {
  callId += 1
  return {
    id: `a_${operation}_${interval}`,
    operationKey: `a_${operation}_${interval}`,
    operation,
    resource: "a",
    agent: "ocf:heartbeat:Dummy",
    interval,
    rcCode: rc,
    opStatus: 0,
    callId,
    lastRun: 1000,
    lastRcChange: 1000,
    execTime: 5,
    queueTime: 0,
    opDigest: "",
    exitReason: "",
    onNode: node
  }
}

const target: Status.LrmTarget = { id: "a", class: "ocf", provider: "heartbeat", type: "Dummy" }

const online = (cib: Cib.Cib) => Status.markMember(Status.markMember(cib, "n1"), "n2")

const actionsOf = (cib: Cib.Cib) => {
  const plan = Policy.schedule(cib, { now: 1000 })
  if (Either.isLeft(plan)) throw plan.left
  return plan.right.actions.filter((a) => a.kind !== "pseudo_event").map((a) => `${a.key}@${a.node}`)
}

describe("Status", () => {
  it("records results so that the scheduler reads the resource as running", () => {
    let cib = online(base)
    cib = Status.recordOperation(cib, target, record("n1", "monitor", 0, 7), "1:1:7:n1")
    cib = Status.recordOperation(cib, target, record("n2", "monitor", 0, 7), "2:1:7:n1")
    cib = Status.recordOperation(cib, target, record("n1", "start", 0, 0), "3:1:0:n1")
    cib = Status.recordOperation(cib, target, record("n1", "monitor", 10_000, 0), "4:1:0:n1")
    expect(actionsOf(cib)).toEqual([])
    expect(Status.activeResources(cib, "n1")).toEqual(new Set(["a"]))
    expect(Status.activeResources(cib, "n2")).toEqual(new Set())
    // a successful stop drops the recurring monitor's record
    const stopped = Status.recordOperation(cib, target, record("n1", "stop", 0, 0), undefined)
    const ops = stopped.status.nodes.find((s) => s.uname === "n1")!.lrm!.resources[0]!.ops.map((o) => o.id)
    expect(ops).toEqual(["a_monitor_0", "a_start_0", "a_stop_0"])
  })

  it("marks a lost node unclean until it is fenced, and fencing forgets what ran there", () => {
    let cib = online(base)
    cib = Status.recordOperation(cib, target, record("n1", "start", 0, 0), undefined)
    cib = Status.markLost(cib, "n1")
    expect(Status.isUnclean(cib, "n1")).toBe(true)
    expect(actionsOf(cib)).toContain("stonith-n1-reboot@n1")
    cib = Status.markFenced(cib, "n1")
    expect(Status.isUnclean(cib, "n1")).toBe(false)
    expect(Status.activeResources(cib, "n1")).toEqual(new Set())
    expect(actionsOf(cib)).toContain("a_start_0@n2")
  })

  it("counts failures, INFINITY for a failed start", () => {
    let cib = online(base)
    cib = Status.countFailure(cib, "n1", "a", "monitor", 10_000, 1000, false)
    cib = Status.countFailure(cib, "n1", "a", "monitor", 10_000, 1010, false)
    expect(Status.attribute(cib, "n1", "fail-count-a#monitor_10000")).toBe("2")
    expect(Status.attribute(cib, "n1", "last-failure-a#monitor_10000")).toBe("1010")
    cib = Status.countFailure(cib, "n2", "a", "start", 0, 1000, true)
    expect(Status.attribute(cib, "n2", "fail-count-a#start_0")).toBe("INFINITY")
  })
})

describe("Recheck", () => {
  it("wakes up at the cluster-recheck-interval, or earlier when a failure expires", () => {
    const cib = online(base)
    expect(Recheck.nextRecheck(cib, 1_000_000, 60_000)).toBe(1_000_000 + 300_000)
    const failed = Status.countFailure(cib, "n1", "a", "monitor", 10_000, 1000, false)
    // last failure at 1000 s, failure-timeout 2 min: expires at 1120 s
    expect(Recheck.nextRecheck(failed, 1_000_000, 60_000)).toBe(1_120_000)
    expect(Recheck.nextRecheck(failed, 1_130_000, 60_000)).toBe(1_130_000 + 300_000)
    expect(Recheck.failureTimeoutMs(cib, "a")).toBe(120_000)
  })
})

describe("Operations", () => {
  it("builds the executor request from the primitive and its operation", () => {
    const located = Operations.locate(base, "a")!
    const request = Operations.request(
      base,
      { id: 1, key: "a_start_0", task: "start", resource: "a", node: "n1", interval: 0, kind: "rsc_op" },
      located
    )
    expect(request).toEqual({
      resource: "a",
      agent: { class: "ocf", provider: "heartbeat", type: "Dummy" },
      operation: "start",
      params: { state: "/run/a" },
      meta: {},
      intervalMs: 0,
      timeoutMs: 60_000
    })
    expect(Operations.monitors(base, located)).toEqual([{ intervalMs: 10_000, timeoutMs: 15_000 }])
    expect(
      Operations.expectedRc(base, located, {
        id: 2,
        key: "a_monitor_0",
        task: "monitor",
        resource: "a",
        node: "n1",
        interval: 0,
        kind: "rsc_op"
      })
    ).toBe(7)
  })

  it("refuses agent classes the executor cannot run", () => {
    const cib: Cib.Cib = {
      ...base,
      configuration: { ...base.configuration, resources: [{ ...primitive("a"), class: "heartbeat" }] }
    }
    const request = Operations.request(
      cib,
      { id: 1, key: "a_start_0", task: "start", resource: "a", node: "n1", interval: 0, kind: "rsc_op" },
      Operations.locate(cib, "a")!
    )
    expect(request).toBeInstanceOf(Operations.UnsupportedAgentClass)
  })
})
