/**
 * The seed scenarios of the example cluster (examples/pg-drbd/scenarios): `ha plan` must take the
 * decisions Pacemaker 2.1.5 took (`crm_simulate -S`, recorded in NAME.summary by make-fixtures.sh),
 * on the built-in example, on the same CIB given as XML, and on the YAML configuration with that status.
 *
 * testdata/seed-divergences.txt lists the cases where @ha/policy does not agree yet (reported to the
 * scheduler's maintainers); those are checked to still differ, so the list cannot go stale.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { example, ha, haDecisions, haRunning, pacemakerDecisions, pacemakerRevised } from "./support.ts"

const scenarios = join(example, "scenarios")

/** A scenario's `.args` lines as `ha plan` what-if options. */
const planArgs = (text: string): Array<string> => {
  const out: Array<string> = []
  for (const line of text.split("\n")) {
    const [kind, ...w] = line.trim().split(/\s+/)
    if (!kind || kind.startsWith("#")) continue
    if (kind === "sim") {
      for (let i = 0; i < w.length; i += 2) {
        const flag = w[i] === "--op-inject" || w[i] === "-i" ? "--op-fail" : (w[i] as string)
        out.push(flag, w[i + 1] as string)
      }
    } else if (kind === "attr" && w[1] === "standby" && w[3] === "nodes")
      out.push("--standby", w[0] as string)
    else if (kind === "attr" && w[3] === "status") out.push("--node-attribute", `${w[0]}:${w[1]}=${w[2]}`)
    else throw new Error(`unsupported line in a scenario: ${line}`)
  }
  return out
}

const inputs: Record<string, ReadonlyArray<string>> = {
  example: [],
  xml: ["--cib", join(example, "cib.xml")],
  yaml: ["--config", join(example, "cluster.yaml"), "--status", join(example, "cib.xml")]
}

const divergences = new Set(
  readFileSync(join(import.meta.dirname, "../testdata/seed-divergences.txt"), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter((l) => l !== "")
)

describe("ha plan takes Pacemaker's decisions on the seed scenarios", () => {
  for (const file of readdirSync(scenarios).filter((f) => f.endsWith(".args"))) {
    const name = file.replace(/\.args$/, "")
    const expected = pacemakerDecisions(readFileSync(join(scenarios, `${name}.summary`), "utf8"))
    const whatIfs = planArgs(readFileSync(join(scenarios, file), "utf8"))
    for (const [input, args] of Object.entries(inputs)) {
      const known = divergences.has(`${name} ${input}`)
      it(`${name} on ${input}${known ? " (known divergence: must still differ)" : ""}`, async () => {
        const ran = await ha(["plan", ...args, ...whatIfs, "--json"])
        expect(ran.stderr).toBe("")
        expect(ran.code).toBe(0)
        const actual = haDecisions(
          (JSON.parse(ran.stdout) as { actions: Parameters<typeof haDecisions>[0] }).actions
        )
        if (known) expect(actual).not.toEqual(expected)
        else expect(actual).toEqual(expected)
      })
      if (input !== "example") continue
      const revised = pacemakerRevised(readFileSync(join(scenarios, `${name}.summary`), "utf8"))
      const settled = divergences.has(`${name} simulate`)
      it(`${name}: --simulate ends where crm_simulate -S ends${settled ? " (known divergence: must still differ)" : ""}`, async () => {
        const ran = await ha(["plan", ...whatIfs, "--simulate", "--json"])
        expect(ran.stderr).toBe("")
        const status = (JSON.parse(ran.stdout) as { simulation: { status: Parameters<typeof haRunning>[0] } })
          .simulation.status
        if (settled) expect(haRunning(status)).not.toEqual(revised)
        else expect(haRunning(status)).toEqual(revised)
      })
    }
  }

  it("the summaries are read (the oracle is not empty)", () => {
    const nodeFail = pacemakerDecisions(readFileSync(join(scenarios, "node-fail.summary"), "utf8"))
    expect(nodeFail).toContainEqual({ action: "fence", node: "alpha", role: "reboot" })
    expect(nodeFail).toContainEqual({
      action: "promote",
      resource: "drbd_pg",
      node: "beta",
      from: "beta",
      to: "beta",
      role: "Promoted"
    })
    expect(nodeFail).toContainEqual({
      action: "move",
      resource: "db",
      node: "beta",
      from: "alpha",
      to: "beta",
      role: "Started"
    })
  })
})
