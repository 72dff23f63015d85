/**
 * The Membership service end to end on the transport's in-memory network (authenticated, encrypted
 * packets over two links per node), driven by the TestClock: issue 5's link failure cases.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryNetwork, Transport, TransportSettings } from "@ha/transport"
import { Context, Effect, Layer, Option, Stream } from "effect"
import { Membership, MembershipSettings } from "../src/index.ts"
import { advance } from "./inMemory.ts"

const key = new Uint8Array(32).map((_, i) => (i * 29 + 3) & 0xff)
const address = (id: number, link: number) => `10.0.${link}.${id}`

const topology = (id: number, ids: ReadonlyArray<number>) => ({
  clusterName: "membership-test",
  nodeId: id,
  links: [0, 1].map((link) => ({
    link,
    address: address(id, link),
    port: 5405,
    priority: link === 0 ? 1 : 0
  })),
  peers: ids
    .filter((p) => p !== id)
    .map((nodeId) => ({
      nodeId,
      links: [0, 1].map((link) => ({ link, address: address(nodeId, link), port: 5405 }))
    }))
})

const env = (settings: Partial<MembershipSettings.MembershipSettings["Type"]> = {}) => {
  const membership = MembershipSettings.make(settings)
  return Layer.mergeAll(
    MemoryNetwork.layer(7),
    TransportSettings.layer(MembershipSettings.transportTimers(membership)),
    Layer.succeed(MembershipSettings.MembershipSettings, membership)
  )
}

interface Node {
  readonly id: number
  readonly membership: Membership.Membership["Type"]
  readonly transport: Transport.Transport["Type"]
  readonly views: Array<Membership.View>
  readonly delivered: Array<string>
}

const start = (ids: ReadonlyArray<number>) =>
  Effect.forEach(ids, (id) =>
    Effect.gen(function* () {
      const context = yield* Layer.build(Membership.layerTest({ topology: topology(id, ids), key }))
      const membership = Context.get(context, Membership.Membership)
      const node: Node = {
        id,
        membership,
        transport: Context.get(context, Transport.Transport),
        views: [],
        delivered: []
      }
      yield* membership.views.pipe(
        Stream.runForEach((v) => Effect.sync(() => node.views.push(v))),
        Effect.forkScoped
      )
      yield* membership.events.pipe(
        Stream.runForEach((e) =>
          Effect.sync(() => {
            if (e._tag === "Delivered") node.delivered.push(new TextDecoder().decode(e.payload))
          })
        ),
        Effect.forkScoped
      )
      return node
    })
  )

const members = (node: Node) =>
  Effect.map(node.membership.currentView, (v) => (Option.isSome(v) ? v.value.members.join(",") : "-"))

describe("Membership over the in-memory transport (two links per node)", () => {
  it.scoped(
    "forms one view, orders broadcasts, keeps the view when one link fails, splits when both do",
    () =>
      Effect.gen(function* () {
        const network = yield* MemoryNetwork.MemoryNetwork
        const nodes = yield* start([1, 2, 3])
        yield* advance(nodes, 2000)
        for (const n of nodes) expect(yield* members(n)).toBe("1,2,3")
        for (const n of nodes) expect((yield* n.membership.currentQuorum).quorate).toBe(true)

        for (const n of nodes)
          for (let i = 0; i < 5; i++) yield* n.membership.broadcast(new TextEncoder().encode(`n${n.id}-${i}`))
        yield* advance(nodes, 300)
        expect(nodes[0]?.delivered.length).toBe(15)
        for (const n of nodes) expect(n.delivered).toEqual(nodes[0]?.delivered)

        // A payload too large for one transport message is refused, and the ring goes on.
        yield* nodes[0]!.membership.broadcast(new Uint8Array(Membership.maxPayloadBytes + 1))
        yield* nodes[0]!.membership.broadcast(new TextEncoder().encode("after-oversize"))
        yield* advance(nodes, 300)
        for (const n of nodes) expect(n.delivered.slice(15)).toEqual(["after-oversize"])
        for (const n of nodes) n.delivered.splice(15)

        // Link 0 of node 3 fails: traffic moves to link 1, the view stays.
        const viewsBefore = nodes.map((n) => n.views.length)
        yield* network.cut(address(3, 0))
        yield* advance(nodes, 2000)
        expect(nodes.map((n) => n.views.length)).toEqual(viewsBefore)
        yield* nodes[2]!.membership.broadcast(new TextEncoder().encode("over-link-1"))
        yield* advance(nodes, 300)
        for (const n of nodes) expect(n.delivered.at(-1)).toBe("over-link-1")

        // Both links of node 3 fail: 1 and 2 form a view without it and keep quorum; 3 is alone and loses it.
        yield* network.cut(address(3, 1))
        yield* advance(nodes, 2500)
        expect(yield* members(nodes[0]!)).toBe("1,2")
        expect(yield* members(nodes[1]!)).toBe("1,2")
        expect(yield* members(nodes[2]!)).toBe("3")
        expect((yield* nodes[0]!.membership.currentQuorum).quorate).toBe(true)
        expect((yield* nodes[2]!.membership.currentQuorum).quorate).toBe(false)

        // Links restored: the partitions merge.
        yield* network.restore(address(3, 0))
        yield* network.restore(address(3, 1))
        yield* advance(nodes, 2000)
        for (const n of nodes) expect(yield* members(n)).toBe("1,2,3")
        for (const n of nodes) expect((yield* n.membership.currentQuorum).quorate).toBe(true)
        // Nodes 1 and 2 installed the same sequence of the views that list them both (before their first
        // common view each may have started alone, as transports came up).
        const shared = (n: Node) =>
          n.views
            .filter((v) => v.members.includes(1) && v.members.includes(2))
            .map((v) => `${v.id.rep}.${v.id.seq}`)
        expect(shared(nodes[0]!).length).toBeGreaterThan(1)
        expect(shared(nodes[0]!)).toEqual(shared(nodes[1]!))
      }).pipe(Effect.provide(env())),
    60_000
  )

  it.scoped(
    "two_node: losing both links leaves each node in a view without its peer, both quorate (fencing decides)",
    () =>
      Effect.gen(function* () {
        const network = yield* MemoryNetwork.MemoryNetwork
        const nodes = yield* start([1, 2])
        yield* advance(nodes, 1500)
        for (const n of nodes) expect(yield* members(n)).toBe("1,2")
        yield* network.cut(address(2, 0))
        yield* advance(nodes, 2000)
        for (const n of nodes) expect(yield* members(n)).toBe("1,2")
        yield* network.cut(address(2, 1))
        yield* advance(nodes, 2500)
        expect(yield* members(nodes[0]!)).toBe("1")
        expect(yield* members(nodes[1]!)).toBe("2")
        for (const n of nodes) {
          expect(yield* n.membership.currentQuorum).toMatchObject({ quorate: true, totalVotes: 1, quorum: 1 })
        }
      }).pipe(Effect.provide(env({ twoNode: true }))),
    60_000
  )
})
