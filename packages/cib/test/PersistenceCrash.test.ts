/**
 * Crash injection: a write is stopped dead before each of its storage steps in turn, the disk is
 * then "powered off" in every crash mode (unsynced directory changes kept or lost, unsynced bytes
 * kept, lost or torn), and the store reopened: it must load the old or the new version, never
 * anything else, and carry on writing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cib, CibStore, Persistence, Storage } from "@ha/cib"
import { Cause, Effect, Either, Exit, Option } from "effect"
import { nodeState, primitive, twoNodes, withNodeState, withResources } from "./storeFixtures.ts"

const BACKUPS = 2
const initial = twoNodes(Cib.empty)

interface Scenario {
  readonly name: string
  /** commits made before the write under test */
  readonly history: ReadonlyArray<(cib: Cib.Cib) => Cib.Cib>
  readonly next: (cib: Cib.Cib) => Cib.Cib
}

const scenarios: ReadonlyArray<Scenario> = [
  { name: "first write", history: [], next: (cib) => withResources(cib, primitive("vip")) },
  {
    name: "write with backups to prune",
    history: [
      (cib) => withResources(cib, primitive("vip")),
      (cib) => withNodeState(cib, nodeState("1", "node1", [["vip", "start", 2]])),
      (cib) => withResources(cib, primitive("db"))
    ],
    next: (cib) => withNodeState(cib, nodeState("2", "node2", [["db", "start", 4]]))
  }
]

/** A disk with the scenario's history committed, and the CIB it holds. */
const prepare = (scenario: Scenario) =>
  Effect.gen(function* () {
    const disk = Storage.makeMemory()
    const store = yield* CibStore.make(disk.storage, { backups: BACKUPS, initial })
    for (const f of scenario.history) yield* store.update(f)
    return { disk, old: yield* store.query }
  })

/** The number of storage steps opening the store takes, and the number a write takes. */
const measure = (scenario: Scenario) =>
  Effect.gen(function* () {
    const { disk } = yield* prepare(scenario)
    const counted = Storage.counting(disk.storage)
    const store = yield* CibStore.make(counted.storage, { backups: BACKUPS, initial })
    const opening = counted.steps()
    yield* store.update(scenario.next)
    return { opening, writing: counted.steps() - opening, next: yield* store.query }
  })

const same = (a: Cib.Cib, b: Cib.Cib) => JSON.stringify(a) === JSON.stringify(b)

interface Tally {
  points: number
  recoveries: number
  corruptions: Array<string>
}

const inject = (scenario: Scenario, tally: Tally) =>
  Effect.gen(function* () {
    const { opening, writing, next } = yield* measure(scenario)
    expect(writing).toBeGreaterThanOrEqual(4)
    for (let k = 0; k <= writing; k++) {
      const { disk, old } = yield* prepare(scenario)
      const store = yield* CibStore.make(Storage.crashAfter(disk.storage, opening + k), {
        backups: BACKUPS,
        initial
      })
      const exit = yield* Effect.exit(store.update(scenario.next))
      const crashed = Exit.isFailure(exit) && Cause.isDie(exit.cause)
      expect(crashed).toBe(k < writing)
      for (const mode of Storage.crashModes) {
        tally.points++
        const label = `${scenario.name}, crash before step ${k + 1}, ${mode.directory} directory, ${mode.data} data`
        const after = disk.crash(mode)
        const reopened = yield* Effect.either(CibStore.make(after.storage, { backups: BACKUPS, initial }))
        if (Either.isLeft(reopened)) {
          tally.corruptions.push(`${label}: ${reopened.left.message}`)
          continue
        }
        const loaded = yield* reopened.right.query
        if (!same(loaded, old) && !same(loaded, next)) {
          tally.corruptions.push(`${label}: loaded ${JSON.stringify(loaded.version)}, neither old nor new`)
          continue
        }
        // the store carries on: one more commit, and it is what a second reopen finds
        const more = yield* reopened.right.update((cib) => withResources(cib, primitive(`after-${k}`)))
        const again = yield* CibStore.make(after.storage, { backups: BACKUPS, initial })
        expect((yield* again.query).version).toEqual(more.after)
        tally.recoveries++
      }
    }
  })

describe("crash injection", () => {
  it.effect("every crash point of a write leaves the old or the new version", () =>
    Effect.gen(function* () {
      const tally: Tally = { points: 0, recoveries: 0, corruptions: [] }
      for (const scenario of scenarios) yield* inject(scenario, tally)
      console.log(
        `cib-store crash injection: ${tally.points} points tried, ${tally.recoveries} recoveries, ${tally.corruptions.length} corruptions`
      )
      expect(tally.corruptions).toEqual([])
      expect(tally.recoveries).toBe(tally.points)
      expect(tally.points).toBeGreaterThan(Storage.crashModes.length * 2)
    })
  )

  it.effect("would catch a writer that overwrites cib.xml in place", () =>
    Effect.gen(function* () {
      // the same injection against a careless write (no temporary file): it must find corruptions
      const scenario = scenarios[1] as Scenario
      const { old } = yield* prepare(scenario)
      const bytes = Either.getOrThrow(
        Persistence.encode({ ...scenario.next(old), version: { ...old.version, numUpdates: 9 } })
      )
      let corruptions = 0
      for (let k = 0; k < 2; k++) {
        const { disk: fresh } = yield* prepare(scenario)
        const crashing = Storage.crashAfter(fresh.storage, k)
        yield* Effect.exit(
          Effect.zipRight(crashing.write(Persistence.CURRENT, bytes), crashing.sync(Persistence.CURRENT))
        )
        for (const mode of Storage.crashModes) {
          const loaded = yield* Effect.either(Persistence.load(fresh.crash(mode).storage))
          const ok =
            Either.isRight(loaded) &&
            Option.isSome(loaded.right.cib) &&
            [old.version.numUpdates, 9].includes(loaded.right.cib.value.version.numUpdates) &&
            loaded.right.cib.value.version.epoch === old.version.epoch
          if (!ok) corruptions++
        }
      }
      expect(corruptions).toBeGreaterThan(0)
    })
  )
})
