import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import {
  actionKey,
  ExpectedOutputError,
  firstDifference,
  multiset,
  parseGraph,
  parseSummary,
  stripInstance,
  summaryKey
} from "../conformance/expected.ts"
import { defaultDir } from "../conformance/paths.ts"

const read = (file: string) => readFileSync(join(defaultDir, file), "utf8")

describe("Transition Summary parser", () => {
  it("reads fencing, moves and instance stops (594)", () => {
    const decisions = parseSummary(read("594.summary"))
    expect(decisions.map(summaryKey)).toEqual([
      "Fence hadev3 (reboot)",
      "Move DcIPaddr (hadev2 -> hadev1)",
      "Move rsc_hadev2 (hadev2 -> hadev1)",
      "Stop child_DoFencing (hadev2)",
      "Stop child_DoFencing (hadev1)"
    ])
    expect(decisions[0]!.reason).toBe("peer is no longer part of the cluster")
    expect(decisions[3]!.reason).toBe("node availability")
  })

  it("reads roles, restarts and reasons (bug-1572-1)", () => {
    const decisions = parseSummary(read("bug-1572-1.summary"))
    expect(decisions).toHaveLength(5)
    expect(decisions[0]).toMatchObject({
      verb: "Stop",
      resource: "rsc_drbd_7788:0",
      placement: "Unpromoted arc-dknightlx",
      blocked: false
    })
    expect(decisions[1]).toMatchObject({ verb: "Restart", placement: "Promoted arc-tkincaidlx.wsicorp.com" })
    expect(decisions[2]!.reason).toBe("required ms_drbd_7788 notified")
  })

  it("reads a migration (1-a-then-bm-move-b)", () => {
    expect(parseSummary(read("1-a-then-bm-move-b.summary")).map(summaryKey)).toEqual([
      "Migrate B (18node2 -> 18node1)"
    ])
  })

  it("marks blocked decisions", () => {
    const text =
      "Transition Summary:\n  * Stop       prmStonith1-1     (            srv02 )  blocked\n" +
      "  * Start      A     ( n1 )  due to unrunnable B start (blocked)\n"
    const [a, b] = parseSummary(text)
    expect(a!.blocked).toBe(true)
    expect(b!.blocked).toBe(true)
    expect(b!.reason).toBe("unrunnable B start")
  })

  it("rejects an unrecognized line with its line number", () => {
    expect(() => parseSummary("x\nTransition Summary:\n  * nonsense\n", "f.summary")).toThrow(
      ExpectedOutputError
    )
    try {
      parseSummary("x\nTransition Summary:\n  * nonsense\n", "f.summary")
    } catch (e) {
      expect((e as ExpectedOutputError).detail).toMatchObject({ file: "f.summary", line: 3 })
    }
  })
})

describe("transition graph parser", () => {
  it("reads actions and trigger edges (1-a-then-bm-move-b)", () => {
    const graph = parseGraph(read("1-a-then-bm-move-b.exp"))
    const keys = graph.actions.map(actionKey).sort()
    expect(keys).toEqual([
      "migrate_from B 18node1 0",
      "migrate_to B 18node2 0",
      "monitor B 18node1 60000",
      "start B - 0",
      "stop B 18node2 0"
    ])
    const edges = graph.edges.map(
      ([b, a]) => `${actionKey(graph.actions[b]!)} => ${actionKey(graph.actions[a]!)}`
    )
    expect(edges.sort()).toEqual([
      "migrate_from B 18node1 0 => start B - 0",
      "migrate_from B 18node1 0 => stop B 18node2 0",
      "migrate_to B 18node2 0 => migrate_from B 18node1 0",
      "start B - 0 => monitor B 18node1 60000",
      "stop B 18node2 0 => start B - 0"
    ])
  })

  it("reads fencing as a cluster event (594)", () => {
    const graph = parseGraph(read("594.exp"))
    const fencing = graph.actions.filter((a) => a.operation === "stonith")
    expect(fencing.map(actionKey)).toEqual(["stonith-reboot - hadev3 0"])
    expect(graph.actions.some((a) => a.kind === "crm_event" && a.operation === "do_shutdown")).toBe(true)
  })

  it("keys notifications and strips clone instance numbers", () => {
    expect(
      actionKey({
        kind: "pseudo_event",
        operation: "notified",
        key: "ms_confirmed-post_notify_promoted_0",
        node: undefined
      })
    ).toBe("notified:confirmed-post_notify_promoted ms - 0")
    expect(
      actionKey({ kind: "rsc_op", operation: "notify", key: "AdminDrbd:0_post_notify_promote_0", node: "n1" })
    ).toBe("notify:post_notify_promote AdminDrbd n1 0")
    expect(stripInstance("rsc_c001n02:12")).toBe("rsc_c001n02")
    expect(
      actionKey({ kind: "rsc_op", operation: "monitor", key: "ocf_msdummy:3_monitor_10000", node: "c1" })
    ).toBe("monitor ocf_msdummy c1 10000")
  })
})

describe("multiset difference", () => {
  it("names missing and extra entries with counts", () => {
    expect(firstDifference(multiset(["a", "a", "b"]), multiset(["a", "b"]))).toBe("missing a")
    expect(firstDifference(multiset(["a"]), multiset(["a", "c", "c"]))).toBe("extra c ×2")
    expect(firstDifference(multiset(["x"]), multiset(["x"]))).toBeUndefined()
  })
})
