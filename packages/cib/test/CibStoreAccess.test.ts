import { describe, expect, it } from "@effect/vitest"
import { Cib, CibAccess, CibStore, CibStoreSettings, Storage } from "@ha/cib"
import { Effect, Either } from "effect"
import { primitive, twoNodes, withResources } from "./storeFixtures.ts"

const rootOnly = { writerGroup: CibStoreSettings.defaults.writerGroup }
const haclient = { writerGroup: 189 }

describe("CibAccess", () => {
  it("lets only root write by default", () => {
    expect(CibAccess.mayWrite({ uid: 0, gids: [0] }, rootOnly)).toBe(true)
    expect(CibAccess.mayWrite({ uid: 0, gids: [] }, rootOnly)).toBe(true)
    expect(CibAccess.mayWrite({ uid: 1000, gids: [1000, 189] }, rootOnly)).toBe(false)
    const denied = CibAccess.checkWrite({ uid: 1000, gids: [1000] }, rootOnly)
    expect(Either.isLeft(denied) && denied.left.message).toBe("uid 1000 may not write the CIB: only root may")
  })

  it("lets members of the writer group write, by primary or supplementary gid", () => {
    expect(CibAccess.mayWrite({ uid: 1000, gids: [189] }, haclient)).toBe(true)
    expect(CibAccess.mayWrite({ uid: 1000, gids: [1000, 27, 189] }, haclient)).toBe(true)
    expect(CibAccess.mayWrite({ uid: 0, gids: [0] }, haclient)).toBe(true)
    const denied = CibAccess.checkWrite({ uid: 1001, gids: [1001, 190] }, haclient)
    expect(Either.isLeft(denied) && denied.left.message).toBe(
      "uid 1001 may not write the CIB: only root and members of group 189 may"
    )
    expect(CibAccess.checkWrite({ uid: 1002, gids: [189] }, haclient)).toEqual(
      Either.right({ uid: 1002, gids: [189] })
    )
  })

  it("is not fooled by a gid equal to root's uid", () => {
    expect(CibAccess.mayWrite({ uid: 1000, gids: [0] }, rootOnly)).toBe(false)
  })

  it.effect("guards a store's updates: a denied caller changes nothing", () =>
    Effect.gen(function* () {
      const disk = Storage.makeMemory()
      const store = yield* CibStore.make(disk.storage, { backups: 3, initial: twoNodes(Cib.empty) })
      const addVip = (cib: Cib.Cib) => withResources(cib, primitive("vip"))
      const denied = yield* Effect.flip(
        CibAccess.guard(store.update, { uid: 1000, gids: [1000] }, haclient)(addVip)
      )
      expect(denied._tag).toBe("WriteDenied")
      expect((yield* store.query).configuration.resources).toEqual([])
      expect(disk.files().size).toBe(0)
      const allowed = yield* CibAccess.guard(store.update, { uid: 1000, gids: [189] }, haclient)(addVip)
      expect(allowed.after.epoch).toBe(1)
    })
  )
})
