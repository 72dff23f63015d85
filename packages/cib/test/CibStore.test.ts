import { describe, expect, it } from "@effect/vitest"
import { Cib, CibStore, Diff, Storage } from "@ha/cib"
import { Chunk, Effect, Fiber, Option, Queue, Stream } from "effect"
import {
  location,
  nodeState,
  primitive,
  twoNodes,
  withConstraint,
  withNodeState,
  withResources
} from "./storeFixtures.ts"

const open = (disk: Storage.MemoryDisk, initial: Cib.Cib = twoNodes(Cib.empty)) =>
  CibStore.make(disk.storage, { backups: 5, initial })

const bytesOf = (disk: Storage.MemoryDisk) =>
  new Map([...disk.files()].map(([k, v]) => [k, Array.from(v).join(",")]))

describe("CibStore", () => {
  it.effect("numbers configuration changes by epoch and status changes by num_updates", () =>
    Effect.gen(function* () {
      const store = yield* open(Storage.makeMemory())
      const first = yield* store.update((cib) => withResources(cib, primitive("vip", "IPaddr2")))
      expect(first.before).toEqual({ adminEpoch: 0, epoch: 0, numUpdates: 0 })
      expect(first.after).toEqual({ adminEpoch: 0, epoch: 1, numUpdates: 0 })
      const status = yield* store.update((cib) =>
        withNodeState(cib, nodeState("1", "node1", [["vip", "start", 3]]))
      )
      expect(status.after).toEqual({ adminEpoch: 0, epoch: 1, numUpdates: 1 })
      const again = yield* store.update((cib) => withNodeState(cib, nodeState("2", "node2")))
      expect(again.after).toEqual({ adminEpoch: 0, epoch: 1, numUpdates: 2 })
      const config = yield* store.update((cib) => withResources(cib, primitive("db")))
      expect(config.after).toEqual({ adminEpoch: 0, epoch: 2, numUpdates: 0 })
      const cib = yield* store.query
      expect(cib.version).toEqual(config.after)
      expect(cib.configuration.resources.map((r) => r.id)).toEqual(["vip", "db"])
      expect(cib.status.nodes.map((n) => n.id)).toEqual(["1", "2"])
    })
  )

  it.effect("publishes each commit with its diff, in order", () =>
    Effect.gen(function* () {
      const store = yield* open(Storage.makeMemory())
      const queue = yield* store.subscribe
      yield* store.update((cib) => withResources(cib, primitive("vip", "IPaddr2")))
      yield* store.update((cib) => withNodeState(cib, nodeState("1", "node1")))
      const [a, b] = Chunk.toReadonlyArray(yield* Queue.takeAll(queue))
      expect(Diff.render(a!.diff)).toEqual([
        "~ version 0.0.0 → 0.1.0",
        "+ resource vip (ocf:heartbeat:IPaddr2)"
      ])
      expect(a!.diff.from).toEqual(a!.before)
      expect(b!.before).toEqual(a!.after)
      expect(b!.after).toEqual({ adminEpoch: 0, epoch: 1, numUpdates: 1 })
    }).pipe(Effect.scoped)
  )

  it.effect("streams commits to a running consumer", () =>
    Effect.gen(function* () {
      const store = yield* open(Storage.makeMemory())
      const seen = yield* store.changes.pipe(Stream.take(1), Stream.runCollect, Effect.fork)
      // the consumer subscribes when it first runs: keep committing until it has seen one
      let epoch = 0
      while (Option.isNone(yield* Fiber.poll(seen)) && epoch < 100) {
        yield* store.update((cib) => withResources(cib, primitive(`r${epoch++}`)))
        yield* Effect.yieldNow()
      }
      const [first] = Chunk.toReadonlyArray(yield* Fiber.join(seen))
      expect(first?.after.epoch).toBeGreaterThan(0)
      expect(first?.diff.to).toEqual(first?.after)
    })
  )

  it.effect("applies patches made against the current version and refuses stale ones", () =>
    Effect.gen(function* () {
      const store = yield* open(Storage.makeMemory())
      const base = yield* store.query
      const patch = Diff.diff(base, withResources(base, primitive("vip")))
      const committed = yield* store.update(patch)
      expect(committed.after.epoch).toBe(1)
      expect((yield* store.query).configuration.resources.map((r) => r.id)).toEqual(["vip"])
      const stale = yield* Effect.flip(store.update(Diff.diff(base, withResources(base, primitive("db")))))
      expect(stale._tag).toBe("VersionConflict")
      expect(stale.message).toBe("the CIB is at version 0.1.0, the update expects 0.0.0")
    })
  )

  it.effect("checks the expected version of a function update", () =>
    Effect.gen(function* () {
      const disk = Storage.makeMemory()
      const store = yield* open(disk)
      yield* store.update((cib) => withResources(cib, primitive("vip")), {
        expectedVersion: { adminEpoch: 0, epoch: 0, numUpdates: 0 }
      })
      const before = bytesOf(disk)
      const error = yield* Effect.flip(
        store.update((cib) => withResources(cib, primitive("db")), {
          expectedVersion: { adminEpoch: 0, epoch: 0, numUpdates: 0 }
        })
      )
      expect(error).toMatchObject({ _tag: "VersionConflict", actual: { epoch: 1 }, expected: { epoch: 0 } })
      expect(bytesOf(disk)).toEqual(before)
    })
  )

  it.effect(
    "refuses an update referring to an unknown resource, naming it and where, and writes nothing",
    () =>
      Effect.gen(function* () {
        const disk = Storage.makeMemory()
        const store = yield* open(disk)
        yield* store.update((cib) => withResources(cib, primitive("vip")))
        const before = bytesOf(disk)
        const cib = yield* store.query
        const error = yield* Effect.flip(
          store.update((c) => withConstraint(c, location("loc-db", "db", "node1")))
        )
        expect(error._tag).toBe("InvalidUpdate")
        expect(error.message).toBe(
          'update refused: configuration/constraints[loc-db]/rsc: refers to resource "db", which does not exist'
        )
        expect(yield* store.query).toBe(cib)
        expect(bytesOf(disk)).toEqual(before)
      })
  )

  it.effect("refuses duplicate ids and values outside the schema", () =>
    Effect.gen(function* () {
      const store = yield* open(Storage.makeMemory())
      const duplicate = yield* Effect.flip(
        store.update((cib) => withResources(cib, primitive("vip"), primitive("vip")))
      )
      expect(duplicate.message).toBe(
        'update refused: configuration/resources[vip]/id: duplicate id "vip" (first used at configuration/resources[vip])'
      )
      const badInterval = yield* Effect.flip(
        store.update((cib) =>
          withResources(cib, {
            ...primitive("db"),
            operations: {
              ops: [
                { id: "db-mon", name: "monitor", interval: -5, instanceAttributes: [], metaAttributes: [] }
              ]
            }
          })
        )
      )
      expect(badInterval).toMatchObject({
        _tag: "InvalidUpdate",
        path: "configuration/resources/0/operations/ops/0/interval"
      })
      expect((yield* store.query).version).toEqual({ adminEpoch: 0, epoch: 0, numUpdates: 0 })
    })
  )

  it.effect("commits nothing for an update that changes nothing", () =>
    Effect.gen(function* () {
      const disk = Storage.makeMemory()
      const store = yield* open(disk)
      const committed = yield* store.update((cib) => cib)
      expect(committed.after).toEqual(committed.before)
      expect(Diff.isEmpty(committed.diff)).toBe(true)
      expect(disk.files().size).toBe(0)
    })
  )

  it.effect("reopens at the last committed version", () =>
    Effect.gen(function* () {
      const disk = Storage.makeMemory()
      const store = yield* open(disk)
      yield* store.update((cib) => withResources(cib, primitive("vip")))
      yield* store.update((cib) => withNodeState(cib, nodeState("1", "node1", [["vip", "start", 2]])))
      const reopened = yield* open(disk, Cib.empty)
      expect(yield* reopened.query).toEqual(yield* store.query)
      expect(Option.map(reopened.startup.loaded, (l) => l.file)).toEqual(Option.some("cib.xml"))
    })
  )

  it.effect("installs replicated diffs with their versions and replaces by newer copies only", () =>
    Effect.gen(function* () {
      const leader = yield* open(Storage.makeMemory())
      const follower = yield* open(Storage.makeMemory())
      const a = yield* leader.update((cib) => withResources(cib, primitive("vip")))
      const b = yield* leader.update((cib) => withNodeState(cib, nodeState("1", "node1")))
      yield* follower.apply(a.diff)
      yield* follower.apply(b.diff)
      expect(yield* follower.query).toEqual(yield* leader.query)
      const replay = yield* Effect.flip(follower.apply(a.diff))
      expect(replay._tag).toBe("VersionConflict")

      const late = yield* open(Storage.makeMemory())
      yield* late.replace(yield* leader.query)
      expect(yield* late.query).toEqual(yield* leader.query)
      const older = yield* Effect.flip(late.replace(twoNodes(Cib.empty)))
      expect(older.message).toBe(
        "update refused: version: a replacement must not be older than 0.1.1, it is 0.0.0"
      )
    })
  )

  it.effect("rebases a patch made at an older version while its changes still fit", () =>
    Effect.gen(function* () {
      const store = yield* open(Storage.makeMemory())
      const base = yield* store.query
      yield* store.update((cib) => withResources(cib, primitive("vip")))
      // made before vip was added: adding db still fits
      const addDb = Diff.diff(base, withResources(base, primitive("db")))
      const rebased = yield* store.update(addDb, { rebase: true })
      expect(rebased.before).toEqual({ adminEpoch: 0, epoch: 1, numUpdates: 0 })
      expect(rebased.after).toEqual({ adminEpoch: 0, epoch: 2, numUpdates: 0 })
      expect(rebased.diff.from).toEqual(rebased.before)
      // inserted at the index it has in the patch
      expect((yield* store.query).configuration.resources.map((r) => r.id)).toEqual(["db", "vip"])
      // made before db was added: adding another db no longer fits
      const conflict = yield* Effect.flip(store.update(addDb, { rebase: true }))
      expect(conflict._tag).toBe("UpdateConflict")
      expect(conflict.message).toMatch(
        /^the update was made at version 0\.0\.0 and no longer fits the CIB at 0\.2\.0: .*element already exists$/
      )
      expect((yield* store.query).version.epoch).toBe(2)
    })
  )
})
