import { describe, expect, it } from "@effect/vitest"
import * as Quorum from "../src/Quorum.ts"

const options = (nodes: number, overrides: Partial<Quorum.Options> = {}): Quorum.Options => ({
  nodes: Array.from({ length: nodes }, (_, i) => ({ nodeId: i + 1 })),
  twoNode: false,
  lastManStanding: false,
  lastManStandingWindow: 10_000,
  autoTieBreaker: false,
  autoTieBreakerNode: "lowest",
  ...overrides
})

/** Feeds views (members at a time) and returns the status after each. */
const run = (o: Quorum.Options, views: ReadonlyArray<readonly [number, ReadonlyArray<number>]>) => {
  const q = new Quorum.Machine(o)
  return views.map(([now, members]) => {
    q.step({ _tag: "View", members, now })
    return q.status
  })
}

describe("votequorum rules", () => {
  it("a majority of expected votes is quorate; half is not", () => {
    const [all, three, two] = run(options(5), [
      [0, [1, 2, 3, 4, 5]],
      [1, [1, 2, 3]],
      [2, [1, 2]]
    ])
    expect(all).toMatchObject({ quorate: true, totalVotes: 5, expectedVotes: 5, quorum: 3 })
    expect(three).toMatchObject({ quorate: true, totalVotes: 3, quorum: 3 })
    expect(two).toMatchObject({ quorate: false, totalVotes: 2, quorum: 3 })
  })

  it("an even split is inquorate on both sides without a tie-breaker", () => {
    const left = run(options(4), [[0, [1, 2]]])[0]
    const right = run(options(4), [[0, [3, 4]]])[0]
    expect(left?.quorate).toBe(false)
    expect(right?.quorate).toBe(false)
  })

  it("node votes count, and expectedVotes overrides their sum", () => {
    const weighted = options(3, { nodes: [{ nodeId: 1, votes: 3 }, { nodeId: 2 }, { nodeId: 3 }] })
    expect(run(weighted, [[0, [1]]])[0]).toMatchObject({
      quorate: true,
      totalVotes: 3,
      expectedVotes: 5,
      quorum: 3
    })
    expect(run(weighted, [[0, [2, 3]]])[0]).toMatchObject({ quorate: false, totalVotes: 2 })
    expect(run(options(3, { expectedVotes: 5 }), [[0, [1, 2]]])[0]).toMatchObject({
      quorate: false,
      quorum: 3
    })
  })

  it("expected votes rise to the votes seen, never fall without last_man_standing", () => {
    const [big, small] = run(options(3, { expectedVotes: 2 }), [
      [0, [1, 2, 3]],
      [1, [1]]
    ])
    expect(big).toMatchObject({ expectedVotes: 3, quorum: 2 })
    expect(small).toMatchObject({ expectedVotes: 3, quorate: false })
  })

  it("two_node: one vote of two is quorate, but only once both nodes were seen (wait_for_all implied)", () => {
    const o = options(2, { twoNode: true })
    const [alone] = run(o, [[0, [1]]])
    expect(alone).toMatchObject({ quorate: false, waitingForAll: true, quorum: 1 })
    const [both, survivor] = run(o, [
      [0, [1, 2]],
      [1, [1]]
    ])
    expect(both).toMatchObject({ quorate: true, waitingForAll: false })
    // Both halves of a split stay quorate: this is why two-node clusters need fencing.
    expect(survivor).toMatchObject({ quorate: true, totalVotes: 1, quorum: 1 })
    expect(
      run(o, [
        [0, [1, 2]],
        [1, [2]]
      ])[1]?.quorate
    ).toBe(true)
  })

  it("two_node with waitForAll explicitly off is quorate alone at start", () => {
    expect(run(options(2, { twoNode: true, waitForAll: false }), [[0, [2]]])[0]?.quorate).toBe(true)
  })

  it("wait_for_all holds quorum back at start until all nodes are seen together, then normal rules apply", () => {
    const o = options(3, { waitForAll: true })
    const [two, all, twoAgain] = run(o, [
      [0, [1, 2]],
      [1, [1, 2, 3]],
      [2, [1, 2]]
    ])
    expect(two).toMatchObject({ quorate: false, waitingForAll: true })
    expect(all).toMatchObject({ quorate: true, waitingForAll: false })
    expect(twoAgain).toMatchObject({ quorate: true })
  })

  it("last_man_standing lowers expected votes after the window, step by step down to two nodes", () => {
    const q = new Quorum.Machine(options(5, { lastManStanding: true, lastManStandingWindow: 10_000 }))
    q.step({ _tag: "View", members: [1, 2, 3, 4, 5], now: 0 })
    q.step({ _tag: "View", members: [1, 2, 3], now: 1000 })
    expect(q.step({ _tag: "Tick", now: 10_999 })).toBeNull()
    expect(q.step({ _tag: "Tick", now: 11_000 })).toMatchObject({
      expectedVotes: 3,
      quorum: 2,
      quorate: true
    })
    q.step({ _tag: "View", members: [1, 2], now: 12_000 })
    expect(q.status.quorate).toBe(true)
    q.step({ _tag: "Tick", now: 22_000 })
    expect(q.status).toMatchObject({ expectedVotes: 2, quorum: 2 })
    // Not below two nodes without auto_tie_breaker: the last node alone is inquorate.
    q.step({ _tag: "View", members: [1], now: 23_000 })
    q.step({ _tag: "Tick", now: 40_000 })
    expect(q.status).toMatchObject({ expectedVotes: 2, quorate: false })
  })

  it("last_man_standing does nothing if the view changes again within the window, or while inquorate", () => {
    const q = new Quorum.Machine(options(5, { lastManStanding: true, lastManStandingWindow: 10_000 }))
    q.step({ _tag: "View", members: [1, 2, 3, 4, 5], now: 0 })
    q.step({ _tag: "View", members: [1, 2, 3], now: 1000 })
    q.step({ _tag: "View", members: [1, 2, 3, 4], now: 5000 })
    q.step({ _tag: "Tick", now: 11_000 })
    expect(q.status.expectedVotes).toBe(5)
    q.step({ _tag: "View", members: [1, 2], now: 12_000 })
    q.step({ _tag: "Tick", now: 30_000 })
    expect(q.status).toMatchObject({ expectedVotes: 5, quorate: false })
  })

  it("auto_tie_breaker: on an exact 50% split the half with the lowest node id stays quorate", () => {
    const o = options(4, { autoTieBreaker: true })
    expect(
      run(o, [
        [0, [1, 2, 3, 4]],
        [1, [1, 2]]
      ])[1]?.quorate
    ).toBe(true)
    expect(
      run(o, [
        [0, [1, 2, 3, 4]],
        [1, [3, 4]]
      ])[1]?.quorate
    ).toBe(false)
    // Less than half is never saved by the tie-breaker.
    expect(
      run(o, [
        [0, [1, 2, 3, 4]],
        [1, [1]]
      ])[1]?.quorate
    ).toBe(false)
  })

  it("auto_tie_breaker_node: highest, or the first listed node that was in the cluster", () => {
    const highest = options(4, { autoTieBreaker: true, autoTieBreakerNode: "highest" })
    expect(
      run(highest, [
        [0, [1, 2, 3, 4]],
        [1, [3, 4]]
      ])[1]?.quorate
    ).toBe(true)
    expect(
      run(highest, [
        [0, [1, 2, 3, 4]],
        [1, [1, 2]]
      ])[1]?.quorate
    ).toBe(false)
    const list = options(4, { autoTieBreaker: true, autoTieBreakerNode: [9, 3, 1] })
    expect(
      run(list, [
        [0, [1, 2, 3, 4]],
        [1, [3, 4]]
      ])[1]?.quorate
    ).toBe(true)
    expect(
      run(list, [
        [0, [1, 2, 3, 4]],
        [1, [1, 2]]
      ])[1]?.quorate
    ).toBe(false)
  })

  it("auto_tie_breaker disables the two_node implied wait_for_all, and with last_man_standing goes down to one node", () => {
    const o = options(2, { twoNode: true, autoTieBreaker: true })
    expect(run(o, [[0, [1]]])[0]).toMatchObject({ waitingForAll: false, quorate: true })
    const q = new Quorum.Machine(options(3, { lastManStanding: true, autoTieBreaker: true }))
    q.step({ _tag: "View", members: [1, 2, 3], now: 0 })
    q.step({ _tag: "View", members: [1, 2], now: 1 })
    q.step({ _tag: "Tick", now: 10_001 })
    q.step({ _tag: "View", members: [1], now: 10_002 })
    expect(q.status).toMatchObject({ expectedVotes: 2, quorate: true })
    q.step({ _tag: "Tick", now: 20_002 })
    expect(q.status).toMatchObject({ expectedVotes: 1, quorate: true })
  })

  it("step reports only changes", () => {
    const q = new Quorum.Machine(options(3))
    expect(q.step({ _tag: "View", members: [1, 2, 3], now: 0 })).not.toBeNull()
    expect(q.step({ _tag: "View", members: [3, 2, 1], now: 5 })).toBeNull()
    expect(q.step({ _tag: "Tick", now: 100 })).toBeNull()
  })
})
