import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Topology } from "../src/index.ts"
import { topology } from "./helpers.ts"

describe("Topology.decode", () => {
  it.effect("accepts a valid node configuration", () =>
    Effect.gen(function* () {
      const decoded = yield* Topology.decode(topology(1, [2, 3], 2), "cluster.json")
      expect(decoded.peers.map((p) => p.nodeId)).toEqual([2, 3])
    })
  )

  it.effect("names the source and the failing field", () =>
    Effect.gen(function* () {
      const good = topology(1, [2], 2)
      const cases: Array<[unknown, string]> = [
        [{ ...good, nodeId: 0 }, "nodeId"],
        [{ ...good, links: [] }, "links"],
        [{ ...good, links: [...good.links, { link: 8, address: "10.0.8.1", port: 5405 }] }, "link"],
        [{ ...good, links: [good.links[0], good.links[0]] }, "duplicate link 0"],
        [{ ...good, peers: [{ nodeId: 1, links: good.peers[0]!.links }] }, "peer 1 is this node itself"],
        [{ ...good, links: [good.links[0]] }, "peer 2 has link 1, which this node does not have"],
        [{ ...good, peers: [...good.peers, ...good.peers] }, "duplicate peer nodeId 2"]
      ]
      for (const [input, expected] of cases) {
        const error = yield* Effect.flip(Topology.decode(input, "cluster.json"))
        expect(error._tag).toBe("TopologyError")
        expect(error.message.startsWith("cluster.json: ")).toBe(true)
        expect(error.message).toContain(expected)
      }
    })
  )
})
