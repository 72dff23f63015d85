/** The replication state machine alone: inputs in, outputs out, no store and no network. */
import { describe, expect, it } from "@effect/vitest"
import { Cib, CibStore, Diff, Version } from "@ha/cib"
import { Either } from "effect"
import { coordinatorOf, Machine, type Output, type Summary } from "../src/internal/replication/machine.ts"
import * as Messages from "../src/internal/replication/messages.ts"
import { primitive, threeNodes, withResources } from "./storeFixtures.ts"

const base = threeNodes(Cib.empty)
const summaryOf = (cib: Cib.Cib): Summary => ({ version: cib.version, digest: Version.digest(cib) })
const view = (id: number, members: ReadonlyArray<number>, quorate = true) => ({ id, members, quorate })
const tags = (outputs: ReadonlyArray<Output>) =>
  outputs.map((o) => (o._tag === "Broadcast" ? `Broadcast ${o.message._tag}` : o._tag))
const hello = (outputs: ReadonlyArray<Output>) => {
  const out = outputs.find((o) => o._tag === "Broadcast" && o.message._tag === "Hello")
  if (out?._tag !== "Broadcast") throw new Error("no Hello")
  return out.message
}

describe("replication machine", () => {
  it("elects the lowest member of a quorate view, none otherwise", () => {
    expect(coordinatorOf(view(1, [2, 3, 5]))).toBe(2)
    expect(coordinatorOf(view(1, [4], false))).toBeUndefined()
  })

  it("answers NoCoordinator at once without quorum", () => {
    const m = new Machine(3)
    m.step({ _tag: "View", view: view(1, [3], false), local: summaryOf(base) })
    const diff = Diff.diff(base, withResources(base, primitive("vip")))
    expect(m.step({ _tag: "Submit", id: 1, diff })).toEqual([
      { _tag: "Resolve", id: 1, resolution: { _tag: "NoCoordinator" } }
    ])
  })

  it("holds requests until the view is synced, then executes them in order", () => {
    const dc = new Machine(1)
    const v = view(4, [1, 2])
    const h1 = hello(dc.step({ _tag: "View", view: v, local: summaryOf(base) }))
    const h2 = { ...h1, partition: [] }
    const diff = Diff.diff(base, withResources(base, primitive("vip")))
    const request: Messages.Request = { _tag: "Request", view: 4, id: 7, diff }
    expect(dc.step({ _tag: "Delivered", sender: 2, message: request })).toEqual([])
    expect(dc.step({ _tag: "Delivered", sender: 1, message: h1 })).toEqual([])
    const synced = dc.step({ _tag: "Delivered", sender: 2, message: h2 })
    expect(tags(synced)).toEqual(["Synced", "Execute"])
    // a request of an older view is ignored
    expect(dc.step({ _tag: "Delivered", sender: 2, message: { ...request, view: 3 } })).toEqual([])
  })

  it("asks the lowest holder of each needed copy to share it, and installs the merge", () => {
    const newer = {
      ...withResources(base, primitive("vip")),
      version: { adminEpoch: 0, epoch: 1, numUpdates: 0 }
    }
    const machines = [new Machine(1), new Machine(2), new Machine(3)]
    const v = view(2, [1, 2, 3])
    const locals = [summaryOf(base), summaryOf(newer), summaryOf(newer)]
    const hellos = machines.map((m, i) =>
      hello(m.step({ _tag: "View", view: v, local: locals[i] as Summary }))
    )
    const outputs = machines.map((m) =>
      hellos.flatMap((h, i) => m.step({ _tag: "Delivered", sender: i + 1, message: h }))
    )
    // fresh nodes claim no status: only the winner's copy is needed, shared by node 2
    expect(outputs.map(tags)).toEqual([[], ["ShareCopy"], []])
    const copy: Messages.Copy = { _tag: "Copy", view: 2, cib: newer }
    for (const m of machines) {
      const done = m.step({ _tag: "Delivered", sender: 2, message: copy })
      expect(tags(done)).toEqual(["Install", "Synced"])
      expect(done[0]).toEqual({ _tag: "Install", cib: newer })
    }
  })

  it("executes the DC's own requests without broadcasting them, after the sync", () => {
    const dc = new Machine(1)
    const v = view(3, [1, 2])
    const h1 = hello(dc.step({ _tag: "View", view: v, local: summaryOf(base) }))
    const diff = Diff.diff(base, withResources(base, primitive("vip")))
    // during the sync it waits with the others' requests
    expect(dc.step({ _tag: "Submit", id: 1, diff })).toEqual([])
    const h2 = { ...h1, partition: [] }
    dc.step({ _tag: "Delivered", sender: 1, message: h1 })
    const synced = dc.step({ _tag: "Delivered", sender: 2, message: h2 })
    expect(tags(synced)).toEqual(["Synced", "Execute"])
    expect(dc.step({ _tag: "Submit", id: 2, diff })).toEqual([
      { _tag: "Execute", origin: 1, request: { _tag: "Request", view: 3, id: 2, diff } }
    ])
    // its outcome is broadcast like any other, and resolves the request when delivered
    const executed = dc.step({ _tag: "Executed", origin: 1, id: 2, outcome: { _tag: "Committed", diff } })
    expect(tags(executed)).toEqual(["Broadcast Commit"])
    const commit = executed[0]
    if (commit?._tag !== "Broadcast") throw new Error("no Commit")
    expect(dc.step({ _tag: "Delivered", sender: 1, message: commit.message })).toEqual([
      { _tag: "Resolve", id: 2, resolution: { _tag: "Committed", diff } }
    ])
  })

  it("interrupts the node's waiting requests on a view change", () => {
    const m = new Machine(2)
    const v = view(1, [1, 2])
    m.step({ _tag: "View", view: v, local: summaryOf(base) })
    m.step({ _tag: "Submit", id: 5, diff: Diff.diff(base, withResources(base, primitive("vip"))) })
    const next = m.step({ _tag: "View", view: view(2, [2], false), local: summaryOf(base) })
    expect(next[0]).toEqual({ _tag: "Resolve", id: 5, resolution: { _tag: "Interrupted" } })
  })
})

describe("replication messages", () => {
  it("round-trip through their JSON form, refusals included", () => {
    const diff = Diff.diff(base, withResources(base, primitive("vip")))
    const messages: ReadonlyArray<Messages.Message> = [
      { _tag: "Hello", view: 1, version: base.version, digest: "ab", partition: [1, 2] },
      { _tag: "Copy", view: 1, cib: base },
      { _tag: "Request", view: 1, id: 3, diff, expectedVersion: base.version },
      { _tag: "Commit", view: 1, origin: 2, id: 3, diff },
      {
        _tag: "Refused",
        view: 1,
        origin: 2,
        id: 3,
        error: new CibStore.InvalidUpdate({ path: "configuration", reason: "bad" })
      }
    ]
    for (const message of messages)
      expect(Messages.decode(1, Messages.encode(message))).toEqual(Either.right(message))
    const refused = Messages.decode(1, Messages.encode(messages[4] as Messages.Message))
    expect(Either.isRight(refused) && refused.right._tag === "Refused" && refused.right.error.message).toBe(
      "update refused: configuration: bad"
    )
  })

  it("travel in batches, in order, and a batch of one is the message alone", () => {
    const diff = Diff.diff(base, withResources(base, primitive("vip")))
    const batch: ReadonlyArray<Messages.Message> = [
      { _tag: "Commit", view: 2, origin: 2, id: 3, diff },
      {
        _tag: "Refused",
        view: 2,
        origin: 3,
        id: 1,
        error: new CibStore.VersionConflict({ expected: base.version, actual: base.version })
      },
      { _tag: "Request", view: 2, id: 4, diff }
    ]
    expect(Messages.decodeAll(1, Messages.encodeAll(batch))).toEqual(Either.right(batch))
    const single = batch[0] as Messages.Message
    expect(Messages.encodeAll([single])).toEqual(Messages.encode(single))
    expect(Messages.decodeAll(1, Messages.encode(single))).toEqual(Either.right([single]))
    // one bad message spoils its batch, named with the sender
    const spoiled = new TextEncoder().encode(JSON.stringify([{ _tag: "Commit", view: 1 }]))
    expect(Either.isLeft(Messages.decodeAll(4, spoiled))).toBe(true)
  })

  it("reject what does not decode, naming the sender", () => {
    const garbage = Messages.decode(3, new TextEncoder().encode("{not json"))
    expect(Either.isLeft(garbage) && garbage.left.message).toMatch(
      /^bad CIB replication message from node 3: not JSON/
    )
    const wrong = Messages.decode(2, new TextEncoder().encode(JSON.stringify({ _tag: "Commit", view: 1 })))
    expect(Either.isLeft(wrong) && wrong.left.message).toMatch(
      /^bad CIB replication message from node 2: .*origin/s
    )
  })
})
