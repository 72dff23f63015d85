import { describe, expect, it } from "@effect/vitest"
import { Score } from "@ha/cib"
describe("Score", () => { it("inf", () => { expect(Score.INFINITY).toBe(1_000_000) }) })
