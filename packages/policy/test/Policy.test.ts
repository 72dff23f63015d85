import { describe, expect, it } from "@effect/vitest"
import { Cib } from "@ha/cib"
import { Either } from "effect"
import { Explain, Policy } from "../src/index.ts"
import type { Transition } from "../src/Transition.ts"

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
  instanceAttributes: [],
  metaAttributes: Object.keys(meta).length > 0 ? [nvset(`${id}-meta`, meta)] : [],
  utilization: [],
  operations: {
    ops: [{ id: `${id}-mon`, name: "monitor", interval: 10000, instanceAttributes: [], metaAttributes: [] }]
  }
})

const op = (rsc: string, operation: string, rc: number, callId: number, interval = 0): Cib.LrmRscOp => ({
  id: `${rsc}_${operation}_${interval}`,
  operation,
  interval,
  rcCode: rc,
  opStatus: 0,
  callId,
  transitionKey: `1:1:${operation === "monitor" && interval === 0 ? 7 : 0}:uuid`,
  extra: {}
})

const onlineNode = (name: string, lrm: ReadonlyArray<Cib.LrmResource> = []): Cib.NodeState => ({
  id: name,
  uname: name,
  inCcm: "true",
  crmd: "online",
  join: "member",
  expected: "member",
  extra: {},
  lrm: { extra: {}, resources: lrm }
})

const running = (rsc: string): Cib.LrmResource => ({
  id: rsc,
  class: "ocf",
  provider: "heartbeat",
  type: "Dummy",
  ops: [op(rsc, "start", 0, 2), op(rsc, "monitor", 0, 3, 10000)]
})
const notRunning = (rsc: string): Cib.LrmResource => ({ id: rsc, ops: [op(rsc, "monitor", 7, 1)] })

const cloneOf = (id: string, child: Cib.Primitive, meta: Record<string, string> = {}): Cib.Clone => ({
  _tag: "Clone",
  id,
  legacyMaster: false,
  instanceAttributes: [],
  metaAttributes: Object.keys(meta).length > 0 ? [nvset(`${id}-meta`, meta)] : [],
  child
})

/** A node state with transient node attributes (promotion scores, fail counts, health). */
const withAttributes = (state: Cib.NodeState, attrs: Record<string, string>): Cib.NodeState => ({
  ...state,
  transientAttributes: { sets: [nvset(`${state.id}-attrs`, attrs)] }
})

const cib = (
  resources: ReadonlyArray<Cib.Resource>,
  constraints: ReadonlyArray<Cib.Constraint>,
  status: ReadonlyArray<Cib.NodeState>,
  nodes = ["n1", "n2"]
): Cib.Cib => ({
  ...Cib.empty,
  configuration: {
    ...Cib.empty.configuration,
    clusterProperties: [nvset("opts", { "stonith-enabled": "true" })],
    nodes: nodes.map((n) => ({ id: n, uname: n, instanceAttributes: [], utilization: [] })),
    resources,
    constraints
  },
  status: { nodes: status, tickets: [] }
})

const plan = (c: Cib.Cib): Transition => {
  const result = Policy.schedule(c, { now: 0 })
  if (Either.isLeft(result)) throw result.left
  return result.right
}

const summary = (t: Transition) =>
  t.summary.map((d) => `${d.verb} ${d.resource} ${d.from?.node ?? ""}->${d.to?.node ?? ""}`)

/** The summary without clone instance numbers (which instance goes where is not asserted). */
const instanceSummary = (t: Transition) => summary(t).map((line) => line.replace(/:\d+/, ""))

describe("Policy.schedule", () => {
  it("starts a new resource on the preferred node and probes it everywhere first", () => {
    const t = plan(
      cib(
        [primitive("db")],
        [
          { _tag: "Location", id: "prefer-n2", rsc: "db", node: "n2", score: 50, rules: [], resourceSets: [] }
        ],
        [onlineNode("n1"), onlineNode("n2")]
      )
    )
    expect(summary(t)).toEqual(["Start db ->n2"])
    const keys = t.actions.map((a) => `${a.key}@${a.node}`).sort()
    expect(keys).toEqual(["db_monitor_0@n1", "db_monitor_0@n2", "db_monitor_10000@n2", "db_start_0@n2"])
    const byId = new Map(t.actions.map((a) => [a.id, a]))
    const edges = t.edges.map(
      (e) => `${byId.get(e.before)!.key}@${byId.get(e.before)!.node}>${byId.get(e.after)!.key}`
    )
    expect(edges).toContain("db_monitor_0@n1>db_start_0")
    expect(edges).toContain("db_start_0@n2>db_monitor_10000")
    // the explanation names the constraint and its score
    const placement = t.placements.find((p) => p.resource === "db")!
    expect(placement.node).toBe("n2")
    expect(placement.reasons).toContainEqual({
      _tag: "Location",
      constraint: "prefer-n2",
      node: "n2",
      score: 50
    })
    expect(t.scores.get("db")?.get("n2")).toBe(50)
    // the scores read as a map of every node, in node order
    const dbScores = t.scores.get("db")!
    expect([...dbScores]).toEqual([
      ["n1", 0],
      ["n2", 50]
    ])
    expect([...dbScores.keys(), ...dbScores.values()]).toEqual(["n1", "n2", 0, 50])
    expect([dbScores.size, dbScores.has("n1"), dbScores.has("n3"), dbScores.get("n3")]).toEqual([
      2,
      true,
      false,
      undefined
    ])
    expect(Explain.resource(t, "db")).toEqual([
      "db will run on n2 as Started",
      "decision: Start db (n2)",
      "scores: n2 +50, n1 0",
      "because location constraint prefer-n2 gives n2 +50"
    ])
  })

  it("keeps a running resource where it is when stickiness outweighs a preference", () => {
    const t = plan(
      cib(
        [primitive("db", { "resource-stickiness": "100" })],
        [
          { _tag: "Location", id: "prefer-n2", rsc: "db", node: "n2", score: 50, rules: [], resourceSets: [] }
        ],
        [onlineNode("n1", [running("db")]), onlineNode("n2", [notRunning("db")])]
      )
    )
    expect(t.summary).toEqual([])
    expect(t.actions).toEqual([])
    expect(t.placements.find((p) => p.resource === "db")!.reasons).toContainEqual({
      _tag: "Stickiness",
      node: "n1",
      score: 100
    })
  })

  it("fences a lost node and recovers its resources elsewhere, after the fencing", () => {
    const lost: Cib.NodeState = { ...onlineNode("n1", [running("db")]), inCcm: "false", crmd: "offline" }
    const t = plan(cib([primitive("db")], [], [lost, onlineNode("n2", [notRunning("db")])]))
    expect(summary(t)).toEqual(["Fence n1 ->", "Move db n1->n2"])
    expect(Explain.decision(t.summary[0]!)).toBe(
      "Fence n1 (reboot) due to peer is no longer part of the cluster"
    )
    const fence = t.actions.find((a) => a.task === "stonith")!
    expect(fence).toMatchObject({ key: "stonith-n1-reboot", node: "n1", kind: "crm_event" })
    const stop = t.actions.find((a) => a.key === "db_stop_0")!
    expect(stop.kind).toBe("pseudo_event")
    const start = t.actions.find((a) => a.key === "db_start_0")!
    expect(t.edges).toContainEqual({ before: fence.id, after: stop.id })
    expect(t.edges).toContainEqual({ before: stop.id, after: start.id })
  })

  it("starts group members in order on one node and explains a ban", () => {
    const group: Cib.Group = {
      _tag: "Group",
      id: "g",
      instanceAttributes: [],
      metaAttributes: [],
      members: [primitive("fs"), primitive("ip")]
    }
    const t = plan(
      cib(
        [group],
        [
          {
            _tag: "Location",
            id: "ban-n1",
            rsc: "ip",
            node: "n1",
            score: -1_000_000,
            rules: [],
            resourceSets: []
          }
        ],
        [
          onlineNode("n1", [notRunning("fs"), notRunning("ip")]),
          onlineNode("n2", [notRunning("fs"), notRunning("ip")])
        ]
      )
    )
    expect(summary(t)).toEqual(["Start fs ->n2", "Start ip ->n2"])
    const byKey = new Map(t.actions.map((a) => [a.key, a.id]))
    expect(t.edges).toContainEqual({ before: byKey.get("fs_start_0")!, after: byKey.get("ip_start_0")! })
    expect(t.edges).toContainEqual({ before: byKey.get("g_start_0")!, after: byKey.get("fs_start_0")! })
    expect(t.edges).toContainEqual({ before: byKey.get("ip_start_0")!, after: byKey.get("g_running_0")! })
  })

  it("restarts the dependent of a mandatory order when the first resource moves", () => {
    const t = plan(
      cib(
        [primitive("a"), primitive("b")],
        [
          { _tag: "Location", id: "a-n2", rsc: "a", node: "n2", score: 100, rules: [], resourceSets: [] },
          { _tag: "Location", id: "b-n1", rsc: "b", node: "n1", score: 100, rules: [], resourceSets: [] },
          // biome-ignore lint/suspicious/noThenProperty: the CIB model names rsc_order's attribute "then"
          { _tag: "Order", id: "a-then-b", first: "a", then: "b", resourceSets: [] }
        ],
        [onlineNode("n1", [running("a"), running("b")]), onlineNode("n2", [notRunning("a"), notRunning("b")])]
      )
    )
    expect(summary(t)).toEqual(["Move a n1->n2", "Restart b n1->n1"])
    expect(t.summary[1]!.reason).toBe("required a start")
  })

  it("refuses features it does not model", () => {
    const c = cib(
      [primitive("db")],
      [{ _tag: "Ticket", id: "t", ticket: "T", rsc: "db", resourceSets: [] }],
      []
    )
    const result = Policy.schedule(c, { now: 0 })
    expect(Either.isLeft(result) && result.left._tag).toBe("UnsupportedFeatureError")
  })

  it("spreads an anonymous clone over the nodes and promotes the instance with the best promotion score", () => {
    const clone = cloneOf("ms", primitive("drbd"), { promotable: "true" })
    const withScore = (state: Cib.NodeState, score: string) => withAttributes(state, { "master-drbd": score })
    const t = plan(
      cib(
        [clone],
        [],
        [
          withScore(onlineNode("n1", [running("drbd")]), "5"),
          withScore(onlineNode("n2", [running("drbd")]), "10")
        ]
      )
    )
    expect(instanceSummary(t)).toEqual(["Promote drbd n2->n2"])
    expect(t.summary[0]!.from?.role).toBe("Unpromoted")
    expect(t.summary[0]!.to?.role).toBe("Promoted")
    // the monitor configured without a role is for the unpromoted role: cancelled on promotion
    expect(t.actions.map((a) => a.task).sort()).toEqual(["cancel", "promote", "promote", "promoted"])
    expect(t.actions.find((a) => a.task === "cancel")).toMatchObject({ node: "n2", interval: 10000 })
  })

  it("migrates a resource that allows it instead of stopping and starting it", () => {
    const t = plan(
      cib(
        [primitive("vm", { "allow-migrate": "true" })],
        [{ _tag: "Location", id: "vm-n2", rsc: "vm", node: "n2", score: 100, rules: [], resourceSets: [] }],
        [onlineNode("n1", [running("vm")]), onlineNode("n2", [notRunning("vm")])]
      )
    )
    expect(summary(t)).toEqual(["Migrate vm n1->n2"])
    expect(t.actions.map((a) => `${a.task}@${a.node ?? "-"}`).sort()).toEqual([
      "migrate_from@n2",
      "migrate_to@n1",
      "monitor@n2",
      "start@-",
      "stop@n1"
    ])
  })

  it("stops everything without quorum under no-quorum-policy=stop and blocks starts", () => {
    const base = cib(
      [primitive("a"), primitive("b")],
      [],
      [
        onlineNode("n1", [running("a"), notRunning("b")]),
        onlineNode("n2", [notRunning("a"), notRunning("b")])
      ]
    )
    const t = plan({ ...base, haveQuorum: "0" })
    expect(t.summary.map((d) => `${d.verb} ${d.resource} ${d.blocked ? "blocked" : ""}`.trim())).toEqual([
      "Stop a",
      "Start b blocked"
    ])
  })
  it("keeps resources off a node whose health is red under node-health-strategy=migrate-on-red", () => {
    const base = cib(
      [primitive("web")],
      [],
      [onlineNode("n1", [running("web")]), onlineNode("n2", [notRunning("web")])]
    )
    const red = withAttributes(onlineNode("n1", [running("web")]), { "#health-disk": "red" })
    const c: Cib.Cib = {
      ...base,
      configuration: {
        ...base.configuration,
        clusterProperties: [
          nvset("opts", { "stonith-enabled": "true", "node-health-strategy": "migrate-on-red" })
        ]
      },
      status: { nodes: [red, onlineNode("n2", [notRunning("web")])], tickets: [] }
    }
    const t = plan(c)
    expect(summary(t)).toEqual(["Move web n1->n2"])
    expect(Explain.resource(t, "web")).toContain("because location constraint health:n1 gives n1 -INFINITY")
    // with the strategy off, the same attribute changes nothing
    expect(summary(plan({ ...c, configuration: base.configuration }))).toEqual([])
  })

  it("cannot fence a lost node without quorum: its resources' stops are blocked", () => {
    const lost: Cib.NodeState = { ...onlineNode("n1", [running("db")]), inCcm: "false", crmd: "offline" }
    const base = cib([primitive("db")], [], [lost, onlineNode("n2", [notRunning("db")])])
    const t = plan({ ...base, haveQuorum: "false" })
    expect(t.summary.map((d) => `${d.verb} ${d.resource} ${d.blocked}`)).toEqual(["Stop db true"])
    expect(t.actions.some((a) => a.task === "stonith")).toBe(false)
  })

  it("moves (not recovers) a resource whose stop failed on a node that is fenced anyway", () => {
    const failedStop: Cib.LrmResource = {
      ...running("db"),
      ops: [op("db", "start", 0, 2), { ...op("db", "stop", 1, 4), opStatus: 4 }]
    }
    const lost: Cib.NodeState = { ...onlineNode("n1", [failedStop]), inCcm: "false", crmd: "offline" }
    const t = plan(cib([primitive("db")], [], [lost, onlineNode("n2", [notRunning("db")])]))
    expect(summary(t)).toEqual(["Fence n1 ->", "Move db n1->n2"])
  })
  it("recovers (not moves) a resource whose failed stop is why its node is fenced", () => {
    const failedStop: Cib.LrmResource = {
      ...running("db"),
      ops: [op("db", "start", 0, 2), { ...op("db", "stop", 1, 4), opStatus: 4 }]
    }
    const t = plan(
      cib([primitive("db")], [], [onlineNode("n1", [failedStop]), onlineNode("n2", [notRunning("db")])])
    )
    expect(summary(t)).toEqual(["Fence n1 ->", "Recover db n1->n2"])
  })
  it("starts an interleaved clone's instance only after the other clone's instance on its node", () => {
    const t = plan(
      cib(
        [
          cloneOf("base-clone", primitive("base")),
          cloneOf("app-clone", primitive("app"), { interleave: "true" })
        ],
        [
          {
            _tag: "Location",
            id: "no-base-n1",
            rsc: "base-clone",
            node: "n1",
            score: -1_000_000,
            rules: [],
            resourceSets: []
          },
          // biome-ignore lint/suspicious/noThenProperty: the CIB model names rsc_order's attribute "then"
          { _tag: "Order", id: "base-then-app", first: "base-clone", then: "app-clone", resourceSets: [] }
        ],
        [
          onlineNode("n1", [notRunning("base"), notRunning("app")]),
          onlineNode("n2", [notRunning("base"), notRunning("app")])
        ]
      )
    )
    // no base instance can run on n1, so no app instance starts there (and none is reported blocked)
    expect(instanceSummary(t)).toEqual(["Start base ->n2", "Start app ->n2"])
    const key = (a: Transition["actions"][number]) => `${a.key.replace(/:\d+/, "")}@${a.node ?? ""}`
    const byKey = new Map(t.actions.map((a) => [key(a), a.id]))
    expect(t.edges).toContainEqual({
      before: byKey.get("base_start_0@n2"),
      after: byKey.get("app_start_0@n2")
    })
  })
  it("restarts a resource whose parameters changed since it started (op-digest), not one unchanged", () => {
    const withParams = (ip: string): Cib.Primitive => ({
      ...primitive("vip"),
      instanceAttributes: [nvset("vip-params", { ip })]
    })
    // the digest Pacemaker records for ip=10.0.0.1: md5(' <parameters ip="10.0.0.1"/>\n')
    const startedWith = (digest: string): Cib.LrmResource => ({
      ...running("vip"),
      ops: [{ ...op("vip", "start", 0, 2), opDigest: digest }, op("vip", "monitor", 0, 3, 10000)]
    })
    const digest = "ba6a72f3ccfb84f58fad1ff6a1d34598"
    const status = [onlineNode("n1", [startedWith(digest)]), onlineNode("n2", [notRunning("vip")])]
    expect(summary(plan(cib([withParams("10.0.0.1")], [], status)))).toEqual([])
    const changed = plan(cib([withParams("10.0.0.2")], [], status))
    expect(summary(changed)).toEqual(["Restart vip n1->n1"])
    expect(changed.summary[0]!.reason).toBe("resource definition change")
    // a masked secret (a sanitized CIB) is compared through op-secure-digest
    const secret = (passwd: string): Cib.Primitive => ({
      ...primitive("vip"),
      instanceAttributes: [nvset("vip-params", { ip: "10.0.0.1", passwd })]
    })
    const sanitized: Cib.LrmResource = {
      ...running("vip"),
      ops: [
        {
          ...op("vip", "start", 0, 2),
          opDigest: "0123456789abcdef0123456789abcdef",
          opSecureParams: " passwd ",
          opSecureDigest: digest
        }
      ]
    }
    const masked = [onlineNode("n1", [sanitized]), onlineNode("n2", [notRunning("vip")])]
    expect(summary(plan(cib([secret("****")], [], masked)))).toEqual([])
  })

  it("promotes where the stack colocated with the Promoted role can run (a failure bans a member)", () => {
    // drbd promotable, group fs+db colocated with the Promoted role and ordered after the promotion;
    // db reached migration-threshold on n1: Pacemaker moves the whole stack and the Promoted role to n2
    const clone = cloneOf("drbd-clone", primitive("drbd"), { promotable: "true" })
    const group: Cib.Group = {
      _tag: "Group",
      id: "stack",
      instanceAttributes: [],
      metaAttributes: [],
      members: [primitive("fs"), primitive("db", { "migration-threshold": "3" })]
    }
    const promotedDrbd: Cib.LrmResource = {
      ...running("drbd"),
      ops: [op("drbd", "start", 0, 2), op("drbd", "promote", 0, 4)]
    }
    const node = (name: string, lrm: ReadonlyArray<Cib.LrmResource>, attrs: Record<string, string>) =>
      withAttributes(onlineNode(name, lrm), attrs)
    const constraints: ReadonlyArray<Cib.Constraint> = [
      {
        _tag: "Colocation",
        id: "stack-with-promoted",
        rsc: "stack",
        withRsc: "drbd-clone",
        withRscRole: "Promoted",
        score: 1_000_000,
        resourceSets: []
      },
      {
        _tag: "Order",
        id: "promote-then-stack",
        first: "drbd-clone",
        firstAction: "promote",
        // biome-ignore lint/suspicious/noThenProperty: the CIB model names rsc_order's attribute "then"
        then: "stack",
        thenAction: "start",
        resourceSets: []
      }
    ]
    const status = (failCount: string) => [
      node("n1", [promotedDrbd, running("fs"), running("db")], {
        "master-drbd": "100",
        "fail-count-db#monitor_10000": failCount
      }),
      node("n2", [running("drbd"), notRunning("fs"), notRunning("db")], { "master-drbd": "100" })
    ]
    expect(instanceSummary(plan(cib([clone, group], constraints, status("2"))))).toEqual([])
    const t = plan(cib([clone, group], constraints, status("3")))
    expect(instanceSummary(t).sort()).toEqual(
      ["Demote drbd n1->n1", "Promote drbd n2->n2", "Move fs n1->n2", "Move db n1->n2"].sort()
    )
    // the explanation of the demoted instance names the colocation that lowered n1
    const demoted = t.placements.find((p) => p.resource.startsWith("drbd") && p.node === "n1")!
    const lowered = demoted.reasons.find(
      (r) => r._tag === "Colocation" && r.constraint === "stack-with-promoted"
    )
    expect(lowered).toMatchObject({ with: "stack", node: "n1" })
    expect(lowered?._tag === "Colocation" && lowered.score < 0).toBe(true)
  })

  it("does not restart what is ordered after a clone when the clone only starts on another node", () => {
    const clone = cloneOf("ping-clone", primitive("ping"))
    const t = plan(
      cib(
        [clone, primitive("web")],
        [
          { _tag: "Location", id: "web-n1", rsc: "web", node: "n1", score: 100, rules: [], resourceSets: [] },
          // biome-ignore lint/suspicious/noThenProperty: the CIB model names rsc_order's attribute "then"
          { _tag: "Order", id: "ping-then-web", first: "ping-clone", then: "web", resourceSets: [] }
        ],
        [
          onlineNode("n1", [running("ping"), running("web")]),
          onlineNode("n2", [notRunning("ping"), notRunning("web")])
        ]
      )
    )
    expect(instanceSummary(t)).toEqual(["Start ping ->n2"])
  })
  it("reacts to on-fail=standby by moving everything off the node, and to on-fail=demote by demoting", () => {
    const failing = (onFail: string): Cib.Primitive => ({
      ...primitive("db"),
      operations: {
        ops: [
          {
            id: "db-mon",
            name: "monitor",
            interval: 10000,
            onFail,
            instanceAttributes: [],
            metaAttributes: []
          }
        ]
      }
    })
    const monitorFailed: Cib.LrmResource = {
      ...running("db"),
      ops: [op("db", "start", 0, 2), { ...op("db", "monitor", 1, 3, 10000), transitionKey: "1:1:0:uuid" }]
    }
    const t = plan(
      cib(
        [failing("standby"), primitive("web")],
        [],
        [
          onlineNode("n1", [monitorFailed, running("web")]),
          onlineNode("n2", [notRunning("db"), notRunning("web")])
        ]
      )
    )
    expect(summary(t)).toEqual(["Recover db n1->n2", "Move web n1->n2"])

    const promotedMonitor: Cib.Operation = {
      id: "drbd-mon",
      name: "monitor",
      interval: 10000,
      role: "Promoted",
      onFail: "demote",
      instanceAttributes: [],
      metaAttributes: []
    }
    const clone = cloneOf(
      "ms",
      { ...primitive("drbd"), operations: { ops: [promotedMonitor] } },
      { promotable: "true" }
    )
    const promotedFailed: Cib.LrmResource = {
      ...running("drbd"),
      ops: [
        op("drbd", "start", 0, 2),
        op("drbd", "promote", 0, 3),
        { ...op("drbd", "monitor", 1, 4, 10000), transitionKey: "1:1:8:uuid" }
      ]
    }
    const demoted = plan(
      cib([clone], [], [onlineNode("n1", [promotedFailed]), onlineNode("n2", [notRunning("drbd")])])
    )
    // no promotion score anywhere: demoted in place, not stopped and started
    expect(instanceSummary(demoted)).toEqual(["Demote drbd n1->n1", "Start drbd ->n2"])
  })
})
