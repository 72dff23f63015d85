/**
 * The replicated store with three nodes on the in-memory group: concurrent updates, partitions,
 * a node that was down catching up, bad input.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Cib,
  CibReplica,
  CibStore,
  Diff,
  MemoryGroup,
  Persistence,
  Reconcile,
  Storage,
  Version
} from "@ha/cib"
import { Context, Effect, Exit, Layer, Option, Scope } from "effect"
import {
  location,
  nodeState,
  primitive,
  threeNodes,
  withConstraint,
  withNodeState,
  withResources
} from "./storeFixtures.ts"

const initial = threeNodes(Cib.empty)
const settings = { requestTimeout: 5_000, conflictRetries: 20 }

interface Node {
  readonly id: number
  readonly disk: Storage.MemoryDisk
  readonly replica: CibReplica.CibReplicaService
  readonly stop: Effect.Effect<void>
}

/** Starts node `id` of `group` on `disk` (a fresh one by default), its store opened from what the disk holds. */
const start = (group: MemoryGroup.MemoryGroup, id: number, disk = Storage.makeMemory()) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const store = yield* CibStore.make(disk.storage, { backups: 3, initial })
    const channel = yield* Scope.extend(group.channel(id), scope)
    const replica = yield* Scope.extend(CibReplica.make(store, channel, settings), scope)
    return { id, disk, replica, stop: Scope.close(scope, Exit.void) } satisfies Node
  })

const cluster = (quorum?: MemoryGroup.Options["quorum"]) =>
  Effect.gen(function* () {
    const group = MemoryGroup.make([1, 2, 3], quorum === undefined ? {} : { quorum })
    const nodes = [yield* start(group, 1), yield* start(group, 2), yield* start(group, 3)]
    yield* settle(group, nodes)
    return { group, nodes }
  })

/** Lets the nodes' fibers run until each is in sync in the view the group gave it. */
const settle = (group: MemoryGroup.MemoryGroup, nodes: ReadonlyArray<Node>) =>
  Effect.gen(function* () {
    for (let round = 0; round < 10_000; round++) {
      let done = true
      for (const node of nodes) {
        const status = yield* node.replica.status
        if (!status.synced || status.view?.id !== group.viewOf(node.id)?.id) done = false
      }
      if (done) return
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage("the nodes did not sync")
  })

const copies = (nodes: ReadonlyArray<Node>) => Effect.forEach(nodes, (n) => n.replica.query)

const resourceIds = (cib: Cib.Cib) => cib.configuration.resources.map((r) => r.id).sort()

const statusOf = (cib: Cib.Cib, id: string) => cib.status.nodes.find((n) => n.id === id)

const callIdOf = (cib: Cib.Cib, node: string, rsc: string) =>
  statusOf(cib, node)?.lrm?.resources.find((r) => r.id === rsc)?.ops[0]?.callId

describe("CibReplica", () => {
  it.effect("elects the lowest node of a quorate view as DC, and none without quorum", () =>
    Effect.gen(function* () {
      const { group, nodes } = yield* cluster()
      for (const node of nodes) expect((yield* node.replica.status).dc).toBe(1)
      yield* group.partition([1], [2, 3])
      yield* settle(group, nodes)
      const [one, two, three] = yield* Effect.forEach(nodes, (n) => n.replica.status)
      expect(one?.dc).toBeUndefined()
      expect(one?.view?.quorate).toBe(false)
      expect([two?.dc, three?.dc]).toEqual([2, 2])
    })
  )

  it.effect(
    "concurrent updates from all nodes end in one identical CIB everywhere",
    () =>
      Effect.gen(function* () {
        const { nodes } = yield* cluster()
        const perNode = 8
        // every node adds its own resources and records its own operations, all at once
        yield* Effect.forEach(
          nodes,
          (node) =>
            Effect.forEach(
              Array.from({ length: perNode }, (_, i) => i),
              (i) =>
                Effect.zipRight(
                  node.replica.update((cib) => withResources(cib, primitive(`rsc-${node.id}-${i}`))),
                  node.replica.update((cib) =>
                    withNodeState(
                      cib,
                      nodeState(String(node.id), `node${node.id}`, [[`rsc-${node.id}-${i}`, "start", i + 1]])
                    )
                  )
                ),
              { concurrency: 4 }
            ),
          { concurrency: "unbounded" }
        )
        const [a, b, c] = yield* copies(nodes)
        expect(b).toEqual(a)
        expect(c).toEqual(a)
        expect(resourceIds(a as Cib.Cib)).toHaveLength(3 * perNode)
        // 60 configuration commits, each resetting num_updates; each status commit after the last one counted
        expect(a?.version.epoch).toBe(3 * perNode)
        for (const node of nodes)
          expect(statusOf(a as Cib.Cib, String(node.id))?.lrm?.resources).toHaveLength(1)
        // and it is what each node has on disk
        for (const node of nodes) {
          const loaded = yield* Persistence.load(node.disk.storage)
          expect(Option.map(loaded.cib, (cib) => cib.version)).toEqual(Option.some(a?.version))
        }
      }),
    60_000
  )

  it.effect(
    "concurrent read-modify-write updates all land: a patch that no longer fits is recomputed",
    () =>
      Effect.gen(function* () {
        const { nodes } = yield* cluster()
        const [one] = nodes as [Node, Node, Node]
        yield* one.replica.update((cib) => withResources(cib, counter(0)))
        const increments = 10
        yield* Effect.forEach(
          nodes,
          (node) =>
            Effect.forEach(
              Array.from({ length: increments }),
              () => node.replica.update((cib) => withCounter(cib, counterOf(cib) + 1)),
              { concurrency: 1 }
            ),
          { concurrency: "unbounded" }
        )
        const [a, b, c] = yield* copies(nodes)
        expect(counterOf(a as Cib.Cib)).toBe(3 * increments)
        expect(b).toEqual(a)
        expect(c).toEqual(a)
      }),
    60_000
  )

  it.effect("a patch made against an older version is refused with a version conflict", () =>
    Effect.gen(function* () {
      const { nodes } = yield* cluster()
      const [one, two] = nodes as [Node, Node, Node]
      const base = yield* two.replica.query
      yield* one.replica.update((cib) => withResources(cib, primitive("vip")))
      const error = yield* Effect.flip(
        two.replica.update(Diff.diff(base, withResources(base, primitive("db"))))
      )
      expect(error.message).toBe("the CIB is at version 0.1.0, the update expects 0.0.0")
      expect(resourceIds(yield* two.replica.query)).toEqual(["vip"])
    })
  )

  it.effect(
    "refuses an update referring to an unknown id everywhere, with the reason, and writes nothing",
    () =>
      Effect.gen(function* () {
        const { nodes } = yield* cluster()
        const [one, two] = nodes as [Node, Node, Node]
        yield* one.replica.update((cib) => withResources(cib, primitive("vip")))
        const before = yield* copies(nodes)
        const disks = nodes.map((n) => new Map(n.disk.files()))
        const error = yield* Effect.flip(
          two.replica.update((cib) => withConstraint(cib, location("loc-db", "db", "node1")))
        )
        expect(error.message).toBe(
          'update refused: configuration/constraints[loc-db]/rsc: refers to resource "db", which does not exist'
        )
        expect(yield* copies(nodes)).toEqual(before)
        nodes.forEach((n, i) => {
          expect(n.disk.files()).toEqual(disks[i])
        })
      })
  )

  it.effect(
    "a partition with updates on both sides heals to the highest version, keeping the loser's own status",
    () =>
      Effect.gen(function* () {
        // quorum ignored (as with no-quorum-policy=ignore) so that both sides have a DC
        const { group, nodes } = yield* cluster(() => true)
        const [one, two, three] = nodes as [Node, Node, Node]
        yield* one.replica.update((cib) => withResources(cib, primitive("vip")))
        yield* group.partition([1, 2], [3])
        yield* settle(group, nodes)
        expect((yield* three.replica.status).dc).toBe(3)
        // the majority side makes two configuration changes; node 3 one, and runs vip
        yield* one.replica.update((cib) => withResources(cib, primitive("db")))
        yield* two.replica.update((cib) => withResources(cib, primitive("web")))
        yield* two.replica.update((cib) => withNodeState(cib, nodeState("2", "node2", [["db", "start", 7]])))
        yield* three.replica.update((cib) => withResources(cib, primitive("lonely")))
        yield* three.replica.update((cib) =>
          withNodeState(cib, nodeState("3", "node3", [["vip", "start", 4]]))
        )
        const majority = yield* one.replica.query
        const minority = yield* three.replica.query
        expect(Version.format(majority.version)).toBe("0.3.1")
        expect(Version.format(minority.version)).toBe("0.2.1")

        yield* group.heal()
        yield* settle(group, nodes)
        const [a, b, c] = yield* copies(nodes)
        expect(b).toEqual(a)
        expect(c).toEqual(a)
        const merged = a as Cib.Cib
        // the majority's configuration wins; node 3's status comes from its own side; one more num_update
        expect(resourceIds(merged)).toEqual(["db", "vip", "web"])
        expect(callIdOf(merged, "2", "db")).toBe(7)
        expect(callIdOf(merged, "3", "vip")).toBe(4)
        expect(Version.format(merged.version)).toBe("0.3.2")
        // updates go on through the DC of the merged view
        const next = yield* three.replica.update((cib) => withResources(cib, primitive("after")))
        expect(Version.format(next.after)).toBe("0.4.0")
      })
  )

  it.effect("without quorum the minority refuses updates, then takes the majority's copy", () =>
    Effect.gen(function* () {
      const { group, nodes } = yield* cluster()
      const [one, two, three] = nodes as [Node, Node, Node]
      yield* group.partition([1, 2], [3])
      yield* settle(group, nodes)
      const refused = yield* Effect.flip(
        three.replica.update((cib) => withResources(cib, primitive("lonely")))
      )
      expect(refused.message).toBe(
        "node 3 is not in a quorate view: there is no DC, the CIB cannot be updated"
      )
      yield* two.replica.update((cib) => withResources(cib, primitive("db")))
      yield* group.heal()
      yield* settle(group, nodes)
      expect(yield* three.replica.query).toEqual(yield* one.replica.query)
      expect(resourceIds(yield* three.replica.query)).toEqual(["db"])
    })
  )

  it.effect(
    "a node that was down for 100 updates catches up when it comes back",
    () =>
      Effect.gen(function* () {
        const { group, nodes } = yield* cluster()
        const [one, two, three] = nodes as [Node, Node, Node]
        yield* three.stop
        yield* settle(group, [one, two])
        for (let i = 0; i < 100; i++)
          yield* (i % 2 === 0 ? one : two).replica.update((cib) =>
            i % 10 === 0
              ? withResources(cib, primitive(`r${i}`))
              : withNodeState(cib, nodeState("1", "node1", [["r0", "monitor", i]]))
          )
        const current = yield* one.replica.query
        expect(Version.format(current.version)).toBe("0.10.9")
        const back = yield* start(group, 3, three.disk)
        expect(Version.format((yield* back.replica.query).version)).toBe("0.0.0")
        yield* settle(group, [one, two, back])
        expect(yield* back.replica.query).toEqual(current)
        const next = yield* back.replica.update((cib) => withResources(cib, primitive("back")))
        expect(Version.format(next.after)).toBe("0.11.0")
        const loaded = yield* Persistence.load(three.disk.storage)
        expect(Option.map(loaded.cib, (cib) => Version.format(cib.version))).toEqual(Option.some("0.11.0"))
      }),
    60_000
  )
  it.effect(
    "syncs a copy larger than the channel carries in one message, in fragments",
    () =>
      Effect.gen(function* () {
        const group = MemoryGroup.make([1, 2, 3], { maxPayload: 64 * 1024 })
        const one = yield* start(group, 1)
        const two = yield* start(group, 2)
        yield* settle(group, [one, two])
        // a configuration that alone is several times the limit in JSON
        const many = Array.from({ length: 1500 }, (_, i) => primitive(`big-resource-with-a-long-name-${i}`))
        yield* one.replica.update((cib) => withResources(cib, ...many))
        const current = yield* one.replica.query
        expect(new TextEncoder().encode(JSON.stringify(current)).length).toBeGreaterThan(3 * 64 * 1024)
        // node 3 starts empty: the sync must send it the whole copy
        const three = yield* start(group, 3)
        yield* settle(group, [one, two, three])
        expect(yield* three.replica.query).toEqual(current)
        expect(group.dropped).toBe(0)
      }),
    60_000
  )
})

describe("CibReplica.layerTest", () => {
  it.effect("gives each node of an in-memory group its replica", () =>
    Effect.gen(function* () {
      const group = MemoryGroup.make([1, 2])
      const one = yield* Layer.build(CibReplica.layerTest(group, 1, initial))
      const two = yield* Layer.build(CibReplica.layerTest(group, 2, initial))
      const [a, b] = [Context.get(one, CibReplica.CibReplica), Context.get(two, CibReplica.CibReplica)]
      yield* a.awaitSynced
      yield* b.update((cib) => withResources(cib, primitive("vip")))
      expect(resourceIds(yield* a.query)).toEqual(["vip"])
    }).pipe(Effect.scoped)
  )
})

describe("Reconcile", () => {
  const at = (cib: Cib.Cib, version: string): Cib.Cib => {
    const [adminEpoch, epoch, numUpdates] = version.split(".").map(Number) as [number, number, number]
    return { ...cib, version: { adminEpoch, epoch, numUpdates } }
  }
  const a = withResources(initial, primitive("a"))
  const b = withResources(initial, primitive("b"))

  it("ranks admin_epoch over epoch over num_updates", () => {
    expect(
      Reconcile.merge([
        { cib: at(a, "0.9.9"), members: [] },
        { cib: at(b, "1.0.0"), members: [] }
      ]).winner
    ).toBe(1)
    expect(
      Reconcile.merge([
        { cib: at(a, "0.3.0"), members: [] },
        { cib: at(b, "0.2.9"), members: [] }
      ]).winner
    ).toBe(0)
    expect(
      Reconcile.merge([
        { cib: at(a, "0.3.1"), members: [] },
        { cib: at(b, "0.3.2"), members: [] }
      ]).winner
    ).toBe(1)
  })

  it("breaks a tie between different copies at the same version by digest, whatever their order", () => {
    const copies = [
      { cib: at(a, "0.4.0"), members: [] },
      { cib: at(b, "0.4.0"), members: [] }
    ]
    const forward = Reconcile.merge(copies)
    const backward = Reconcile.merge([...copies].reverse())
    expect(forward.cib).toEqual(backward.cib)
    const expected = Version.digest(at(a, "0.4.0")) > Version.digest(at(b, "0.4.0")) ? "a" : "b"
    expect(resourceIds(forward.cib)).toEqual([expected])
  })

  it("keeps each losing partition's members' status, and bumps num_updates when that changes the winner", () => {
    const winner = at(
      withNodeState(withNodeState(a, nodeState("1", "node1", [["a", "start", 1]])), nodeState("3", "node3")),
      "0.5.2"
    )
    const loser = at(withNodeState(b, nodeState("3", "node3", [["b", "start", 9]])), "0.4.7")
    const merged = Reconcile.merge([
      { cib: loser, members: ["3"] },
      { cib: winner, members: ["1", "2"] }
    ])
    expect(merged.winner).toBe(1)
    expect(Version.format(merged.cib.version)).toBe("0.5.3")
    expect(resourceIds(merged.cib)).toEqual(["a"])
    expect(callIdOf(merged.cib, "1", "a")).toBe(1)
    expect(callIdOf(merged.cib, "3", "b")).toBe(9)
    // nothing to take from a loser that claims no members
    expect(
      Reconcile.merge([
        { cib: winner, members: ["1"] },
        { cib: loser, members: [] }
      ]).cib
    ).toBe(winner)
  })
})

const counter = (value: number): Cib.Primitive => ({
  ...primitive("counter"),
  instanceAttributes: [
    {
      id: "counter-params",
      rules: [],
      nvpairs: [{ id: "counter-value", name: "value", value: String(value) }]
    }
  ]
})

const counterOf = (cib: Cib.Cib): number => {
  const r = cib.configuration.resources.find((x) => x.id === "counter")
  return r?._tag === "Primitive" ? Number(r.instanceAttributes[0]?.nvpairs[0]?.value) : Number.NaN
}

const withCounter = (cib: Cib.Cib, value: number): Cib.Cib => ({
  ...cib,
  configuration: {
    ...cib.configuration,
    resources: cib.configuration.resources.map((r) => (r.id === "counter" ? counter(value) : r))
  }
})
