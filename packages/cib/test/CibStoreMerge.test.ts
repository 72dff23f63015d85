/**
 * Which copy wins when partitions meet, from the scenario files in testdata/store/merge: each
 * gives the copies (version, resource ids, the members whose status the copy holds, and their
 * resource history) and the expected outcome.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Cib, Reconcile, Version } from "@ha/cib"
import { nodeState, primitive, threeNodes, withNodeState, withResources } from "./storeFixtures.ts"

type History = Readonly<Record<string, ReadonlyArray<[string, string, number]>>>

interface Scenario {
  readonly description: string
  readonly copies: ReadonlyArray<{
    readonly version: string
    readonly resources: ReadonlyArray<string>
    readonly members: ReadonlyArray<string>
    readonly status?: History
  }>
  readonly expected: {
    readonly winner: number
    readonly version: string
    readonly resources: ReadonlyArray<string>
    readonly status?: History
  }
}

const directory = join(import.meta.dirname, "../testdata/store/merge")

const build = (version: string, resources: ReadonlyArray<string>, status: History = {}): Cib.Cib => {
  const [adminEpoch, epoch, numUpdates] = version.split(".").map(Number) as [number, number, number]
  let cib = withResources(threeNodes(Cib.empty), ...resources.map((id) => primitive(id)))
  for (const [node, ops] of Object.entries(status))
    cib = withNodeState(cib, nodeState(node, `node${node}`, ops))
  return { ...cib, version: { adminEpoch, epoch, numUpdates } }
}

const historyOf = (cib: Cib.Cib): History =>
  Object.fromEntries(
    cib.status.nodes.map((state) => [
      state.id ?? "",
      (state.lrm?.resources ?? []).map(
        (r) => [r.id, r.ops[0]?.operation ?? "", r.ops[0]?.callId ?? 0] as [string, string, number]
      )
    ])
  )

const files = readdirSync(directory)
  .filter((f) => f.endsWith(".json"))
  .sort()

describe("merge scenarios (testdata/store/merge)", () => {
  it("has scenarios", () => {
    expect(files.length).toBeGreaterThan(5)
  })

  for (const file of files) {
    const scenario = JSON.parse(readFileSync(join(directory, file), "utf8")) as Scenario
    it(`${file}: ${scenario.description}`, () => {
      const copies = scenario.copies.map((c) => ({
        cib: build(c.version, c.resources, c.status),
        members: c.members
      }))
      const outcome = Reconcile.merge(copies)
      expect(outcome.winner).toBe(scenario.expected.winner)
      expect(Version.format(outcome.cib.version)).toBe(scenario.expected.version)
      expect(outcome.cib.configuration.resources.map((r) => r.id)).toEqual(scenario.expected.resources)
      expect(historyOf(outcome.cib)).toEqual(scenario.expected.status ?? {})
      // the same outcome whatever order the copies arrive in
      expect(Reconcile.merge([...copies].reverse()).cib).toEqual(outcome.cib)
    })
  }
})
