import { describe, expect, it } from "@effect/vitest"
import { CibAccess, CibStoreSettings } from "@ha/cib"
import { Either } from "effect"

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
    expect(CibAccess.checkWrite({ uid: 1002, gids: [189] }, haclient)).toEqual(Either.right({ uid: 1002, gids: [189] }))
  })

  it("is not fooled by a gid equal to root's uid", () => {
    expect(CibAccess.mayWrite({ uid: 1000, gids: [0] }, rootOnly)).toBe(false)
  })
})
