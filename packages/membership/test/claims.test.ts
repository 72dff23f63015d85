/**
 * The protocol's claims, one by one, checked on the deterministic simulated network (test/sim.ts):
 * first on hand-made runs, then with fast-check over random fault schedules (partitions, loss,
 * reordering, frozen and killed nodes). A failing property prints its seed and shrunk schedule; replay
 * with `fc.assert(..., { seed, path })`.
 */
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { compareRing, type NodeId, ringEquals, type View } from "../src/Totem.ts"
import { type Event, Sim, testSettings } from "./sim.ts"

const key = (r: { rep: number; seq: number }) => `${r.rep}.${r.seq}`
const text = (p: Uint8Array) => new TextDecoder().decode(p)

interface Delivery {
  readonly at: number
  readonly view: string
  readonly seq: number
  readonly index: number
  readonly sender: NodeId
  readonly payload: string
}

/** One node's history: the views it installed and what it delivered, in order. */
const history = (events: ReadonlyArray<Event>, node: NodeId) => {
  const views: Array<View & { at: number }> = []
  const delivered: Array<Delivery> = []
  for (const e of events) {
    if (e.node !== node) continue
    if (e.output._tag === "ViewInstalled") views.push({ ...e.output.view, at: e.at })
    if (e.output._tag === "Delivered") {
      const o = e.output
      delivered.push({
        at: e.at,
        view: key(o.view),
        seq: o.seq,
        index: o.index,
        sender: o.sender,
        payload: text(o.payload)
      })
    }
  }
  return { views, delivered }
}

/** Claim 1: every node that installs a view id sees the same members, and is one of them. */
const checkViewAgreement = (sim: Sim) => {
  const members = new Map<string, string>()
  for (const id of sim.machines.keys()) {
    for (const v of history(sim.events, id).views) {
      expect(v.members, `n${id} installed ${key(v.id)} without itself`).toContain(id)
      const seen = members.get(key(v.id))
      const mine = v.members.join(",")
      if (seen !== undefined) expect(mine, `members of view ${key(v.id)}`).toBe(seen)
      members.set(key(v.id), mine)
    }
  }
}

/** Claim 2: view ids only grow at each node. */
const checkMonotonicViews = (sim: Sim) => {
  for (const id of sim.machines.keys()) {
    const { views } = history(sim.events, id)
    for (let i = 1; i < views.length; i++) {
      const [a, b] = [views[i - 1], views[i]] as [View, View]
      expect(compareRing(a.id, b.id), `n${id}: view ${key(b.id)} after ${key(a.id)}`).toBeLessThan(0)
    }
  }
}

/**
 * Claim 3: total order. Within a view, (sequence number, index in the packet) is one global order: the
 * same position carries the same message at every node, each node delivers in increasing order and
 * nothing twice.
 */
const checkTotalOrder = (sim: Sim) => {
  const bySlot = new Map<string, string>()
  for (const id of sim.machines.keys()) {
    const { delivered } = history(sim.events, id)
    const payloads = new Set<string>()
    // Position in the view's order: packet sequence number, then index within the packet.
    const last = new Map<string, number>()
    for (const d of delivered) {
      expect(payloads.has(d.payload), `n${id} delivered ${d.payload} twice`).toBe(false)
      payloads.add(d.payload)
      const position = d.seq * 1_000_000 + d.index
      expect(position, `n${id} order in ${d.view}`).toBeGreaterThan(last.get(d.view) ?? 0)
      last.set(d.view, position)
      const slot = `${d.view}#${d.seq}.${d.index}`
      const content = `${d.sender}:${d.payload}`
      const seen = bySlot.get(slot)
      if (seen !== undefined) expect(content, `message at ${slot}`).toBe(seen)
      bySlot.set(slot, content)
    }
  }
}

/**
 * Claim 4: virtual synchrony. Two nodes that move together from view V to the same next view deliver
 * exactly the same messages in V.
 */
const checkVirtualSynchrony = (sim: Sim) => {
  const transitions = new Map<string, Array<{ node: NodeId; set: string }>>()
  for (const id of sim.machines.keys()) {
    const { views, delivered } = history(sim.events, id)
    for (let i = 1; i < views.length; i++) {
      const [from, to] = [views[i - 1], views[i]] as [View, View]
      const set = delivered
        .filter((d) => d.view === key(from.id))
        .map((d) => d.payload)
        .sort()
        .join(" ")
      const k = `${key(from.id)}->${key(to.id)}`
      transitions.set(k, [...(transitions.get(k) ?? []), { node: id, set }])
    }
  }
  for (const [k, nodes] of transitions) {
    for (const n of nodes)
      expect(n.set, `n${n.node} vs n${nodes[0]?.node} delivered in ${k}`).toBe(nodes[0]?.set)
  }
}

const checkAll = (sim: Sim) => {
  checkViewAgreement(sim)
  checkMonotonicViews(sim)
  checkTotalOrder(sim)
  checkVirtualSynchrony(sim)
}

const live = (sim: Sim) => [...sim.machines.keys()].filter((id) => !sim.killed.has(id))

/** Liveness after faults end: the live nodes share one view of exactly themselves and order new messages. */
const checkConverges = (sim: Sim, label: string) => {
  const nodes = live(sim)
  const expected = `[${nodes.join(",")}]`
  for (const id of nodes) expect(sim.currentView(id).split(":")[1], `${label}: view of n${id}`).toBe(expected)
  for (const id of nodes) sim.broadcast(id, `final-${id}`)
  sim.run(1000)
  const finals = nodes.map((id) =>
    sim
      .delivered(id)
      .filter((p) => p.startsWith("final-"))
      .join(" ")
  )
  for (const f of finals) expect(f, `${label}: final messages`).toBe(finals[0])
  expect(finals[0]?.split(" ").length, `${label}: every final message delivered`).toBe(nodes.length)
}

describe("claim: agreement on views", () => {
  it("all nodes install the same first view, with the lowest id as representative", () => {
    const sim = new Sim([3, 1, 2])
    sim.run(500)
    for (const id of [1, 2, 3]) expect(sim.currentView(id)).toBe("1.4:[1,2,3]")
    checkAll(sim)
  })
})

describe("claim: failure detection within the token timeout", () => {
  it("survivors declare the token lost no later than token + one tick after the last token they saw", () => {
    const sim = new Sim([1, 2, 3])
    sim.run(500)
    sim.killed.add(2)
    const killedAt = sim.now
    sim.run(testSettings.token + testSettings.consensus + 500)
    const lost = sim.events.filter((e) => e.output._tag === "TokenLost")
    expect(lost.length).toBeGreaterThan(0)
    expect(lost[0]?.at ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(
      killedAt + testSettings.token + sim.tickEvery
    )
    // The new view follows within consensus (plus a few join rounds) of the detection.
    const views = sim.views(1).filter((e) => e.at > killedAt)
    expect(views.length).toBe(1)
    expect(views[0]?.at ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(
      (lost[0]?.at ?? 0) + testSettings.consensus + 4 * testSettings.join
    )
    expect(sim.currentView(1)).toBe(sim.currentView(3))
    expect(sim.currentView(1).endsWith("[1,3]")).toBe(true)
  })

  it("a lossy but live ring keeps its view (the token is retransmitted, not declared lost)", () => {
    const sim = new Sim([1, 2, 3], testSettings, 5)
    sim.run(500)
    sim.faults.loss = 0.05
    for (let i = 0; i < 200; i++) {
      sim.broadcast(1 + (i % 3), `m${i}`)
      sim.run(20)
    }
    sim.faults.loss = 0
    sim.run(1000)
    expect(sim.events.filter((e) => e.output._tag === "TokenLost")).toEqual([])
    for (const id of [1, 2, 3]) expect(sim.delivered(id).length).toBe(200)
    checkAll(sim)
  })
})

describe("claim: total order and virtual synchrony", () => {
  it("messages from all senders under loss and reordering are delivered in one order", () => {
    const sim = new Sim([1, 2, 3, 4], testSettings, 9)
    sim.run(500)
    sim.faults = { loss: 0.02, reorder: 0.3, reorderWindow: 15, delay: 1 }
    for (let i = 0; i < 300; i++) sim.broadcast(1 + (i % 4), `m${i}`)
    sim.run(3000)
    sim.faults = { loss: 0, reorder: 0, reorderWindow: 15, delay: 1 }
    sim.run(1000)
    const orders = [1, 2, 3, 4].map((id) => sim.delivered(id).join(" "))
    expect(orders[0]?.split(" ").length).toBe(300)
    for (const o of orders) expect(o).toBe(orders[0])
    checkAll(sim)
  })
})

describe("claim: partitions and merges", () => {
  it("a 2|3 split gives two views, each ordering its own messages, and heals into one", () => {
    const sim = new Sim([1, 2, 3, 4, 5])
    sim.run(500)
    sim.partition([
      [1, 2],
      [3, 4, 5]
    ])
    sim.run(3000)
    expect(sim.currentView(1).endsWith("[1,2]")).toBe(true)
    expect(sim.currentView(5).endsWith("[3,4,5]")).toBe(true)
    sim.broadcast(1, "left")
    sim.broadcast(4, "right")
    sim.run(200)
    expect(sim.delivered(2)).toEqual(["left"])
    expect(sim.delivered(3)).toEqual(["right"])
    sim.heal()
    sim.run(2000)
    checkConverges(sim, "after heal")
    checkAll(sim)
  })
})

describe("claim: a frozen node never joins two concurrent views", () => {
  it("after thawing it leaves its stale view and delivers nothing there the others did not", () => {
    const sim = new Sim([1, 2, 3])
    sim.run(500)
    sim.frozen.add(3)
    sim.run(3000)
    sim.broadcast(1, "while-frozen")
    sim.run(200)
    const staleView = sim.machine(3).view
    sim.frozen.delete(3)
    sim.broadcast(3, "after-thaw")
    sim.run(3000)
    const three = history(sim.events, 3)
    const inStale = three.delivered.filter((d) => staleView !== null && d.view === key(staleView.id))
    const othersInStale = new Set(
      [1, 2]
        .flatMap((id) =>
          history(sim.events, id).delivered.filter((d) => staleView !== null && d.view === key(staleView.id))
        )
        .map((d) => d.payload)
    )
    for (const d of inStale) expect(othersInStale.has(d.payload)).toBe(true)
    const newer = three.views.filter((v) => staleView !== null && compareRing(v.id, staleView.id) > 0)
    expect(newer.length).toBeGreaterThan(0)
    expect(newer.some((v) => staleView !== null && ringEquals(v.id, staleView.id))).toBe(false)
    expect(sim.delivered(3)).toEqual(["after-thaw"])
    checkConverges(sim, "after thaw")
    checkAll(sim)
  })
})

// ---- properties over random fault schedules ----

type Step =
  | { readonly _tag: "run"; readonly ms: number }
  | { readonly _tag: "broadcast"; readonly node: number; readonly count: number }
  | { readonly _tag: "partition"; readonly groupOf: ReadonlyArray<number> }
  | { readonly _tag: "heal" }
  | { readonly _tag: "freeze"; readonly node: number; readonly ms: number }
  | { readonly _tag: "kill"; readonly node: number }
  | { readonly _tag: "network"; readonly loss: number; readonly reorder: number }

const step = (nodes: number): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ _tag: fc.constant("run" as const), ms: fc.integer({ min: 1, max: 3000 }) })
    },
    {
      weight: 4,
      arbitrary: fc.record({
        _tag: fc.constant("broadcast" as const),
        node: fc.integer({ min: 1, max: nodes }),
        count: fc.integer({ min: 1, max: 20 })
      })
    },
    {
      weight: 2,
      arbitrary: fc.record({
        _tag: fc.constant("partition" as const),
        groupOf: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: nodes, maxLength: nodes })
      })
    },
    { weight: 1, arbitrary: fc.record({ _tag: fc.constant("heal" as const) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        _tag: fc.constant("freeze" as const),
        node: fc.integer({ min: 1, max: nodes }),
        ms: fc.integer({ min: 100, max: 4000 })
      })
    },
    {
      weight: 1,
      arbitrary: fc.record({ _tag: fc.constant("kill" as const), node: fc.integer({ min: 1, max: nodes }) })
    },
    {
      weight: 2,
      arbitrary: fc.record({
        _tag: fc.constant("network" as const),
        loss: fc.constantFrom(0, 0.01, 0.05, 0.2),
        reorder: fc.constantFrom(0, 0.1, 0.5)
      })
    }
  )

const scenario = fc.integer({ min: 2, max: 5 }).chain((nodes) =>
  fc.record({
    nodes: fc.constant(nodes),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
    steps: fc.array(step(nodes), { maxLength: 12 })
  })
)

let counter = 0
const play = (s: { nodes: number; seed: number; steps: ReadonlyArray<Step> }): Sim => {
  const ids = Array.from({ length: s.nodes }, (_, i) => i + 1)
  const sim = new Sim(ids, testSettings, s.seed)
  sim.run(300)
  for (const st of s.steps) {
    switch (st._tag) {
      case "run":
        sim.run(st.ms)
        break
      case "broadcast":
        for (let i = 0; i < st.count; i++) sim.broadcast(st.node, `m${counter++}`)
        break
      case "partition":
        sim.partition([0, 1, 2].map((g) => ids.filter((_, i) => st.groupOf[i] === g)))
        break
      case "heal":
        sim.heal()
        break
      case "freeze":
        sim.frozen.add(st.node)
        sim.run(st.ms)
        sim.frozen.delete(st.node)
        break
      case "kill":
        // Keep at least one node alive.
        if (live(sim).length > 1) sim.killed.add(st.node)
        break
      case "network":
        sim.faults = { ...sim.faults, loss: st.loss, reorder: st.reorder }
        break
    }
  }
  sim.heal()
  sim.faults = { loss: 0, reorder: 0, reorderWindow: 20, delay: 1 }
  // Long enough for any leftover token loss, a consensus timeout and a merge.
  sim.run(8000)
  return sim
}

describe("properties over random fault schedules (fast-check)", () => {
  it("agreement, monotonic views, total order and virtual synchrony always hold; faults end in one view", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const sim = play(s)
        checkAll(sim)
        checkConverges(sim, `seed ${s.seed}`)
      }),
      { numRuns: Number(process.env.MEMBERSHIP_RUNS ?? 100) }
    )
  }, 120_000)
})
