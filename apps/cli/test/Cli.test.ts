import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { usesPlugins } from "../src/Cli.ts"
import * as ExitCode from "../src/ExitCode.ts"
import { exampleCibXml } from "../src/internal/exampleCib.ts"
import { example, ha } from "./support.ts"

const bad = join(import.meta.dirname, "../testdata/bad")
const work = mkdtempSync(join(tmpdir(), "ha-cli-test-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface PlanJson {
  actions: Array<{
    action: string
    resource?: string
    node?: string
    from?: string
    to?: string
    role?: string
    reason?: string
  }>
  before: {
    nodes: Array<{ name: string; state: string }>
    resources: Array<{ resource: string; running: Array<{ node: string; role: string }> }>
  }
  after: {
    nodes: Array<{ name: string; state: string }>
    resources: Array<{ resource: string; running: Array<{ node: string; role: string }> }>
  }
  scores?: Record<string, Record<string, number>>
  explain?: { resource: string; lines: Array<string> }
  simulation?: { transitions: number; status: PlanJson["before"] }
}

const planJson = async (...args: Array<string>): Promise<PlanJson> => {
  const ran = await ha(["plan", ...args, "--json"])
  expect(ran.stderr).toBe("")
  expect(ran.code).toBe(ExitCode.ok)
  return JSON.parse(ran.stdout) as PlanJson
}

const runningOf = (status: PlanJson["before"], resource: string) =>
  status.resources.find((r) => r.resource === resource)?.running

describe("ha plan", () => {
  it("plans the built-in example: stable, everything on alpha", async () => {
    const ran = await ha(["plan"])
    expect(ran.code).toBe(ExitCode.ok)
    expect(ran.stdout).toContain("Cluster: examples/pg-drbd/cib.xml")
    expect(ran.stdout).toContain("Plan: nothing to do")
    expect(ran.stdout).toMatch(/db\s+ocf:heartbeat:pgsql\s+alpha/)
    expect(ran.stdout).not.toContain("\u001b[")
  })

  it("node failure: a readable summary with the fencing, the promotion and the moves, and their reasons", async () => {
    const ran = await ha(["plan", "--node-fail", "alpha"])
    expect(ran.code).toBe(ExitCode.ok)
    expect(ran.stdout).toContain("Failing node alpha")
    expect(ran.stdout).toMatch(/Fence\s+alpha\s+reboot\s+'peer is no longer part of the cluster'/)
    expect(ran.stdout).toMatch(/Move\s+db\s+alpha -> beta\s+due to node availability/)
    expect(ran.stdout).toMatch(/Nodes: alpha \(fenced\)\s+beta \(online\)/)
  })

  it("--json: one action per decision, status before and after", async () => {
    const plan = await planJson("--node-fail", "alpha")
    expect(plan.actions).toContainEqual(
      expect.objectContaining({ action: "fence", node: "alpha", role: "reboot" })
    )
    expect(plan.actions).toContainEqual(
      expect.objectContaining({
        action: "move",
        resource: "db",
        from: "alpha",
        to: "beta",
        node: "beta",
        role: "Started"
      })
    )
    expect(plan.before.nodes).toContainEqual({ name: "alpha", state: "unclean" })
    expect(plan.after.nodes).toContainEqual({ name: "alpha", state: "fenced" })
    expect(runningOf(plan.before, "db")).toEqual([{ node: "alpha", role: "Started" }])
    expect(runningOf(plan.after, "db")).toEqual([{ node: "beta", role: "Started" }])
  })

  it("what-ifs compose: standby plus a property", async () => {
    const plan = await planJson("--standby", "alpha", "--set-property", "stonith-enabled=false")
    expect(plan.actions.some((a) => a.action === "fence")).toBe(false)
    expect(runningOf(plan.after, "db")).toEqual([{ node: "beta", role: "Started" }])
    expect(plan.before.nodes).toContainEqual({ name: "alpha", state: "standby" })
  })

  it("--node-down and --node-up", async () => {
    const down = await planJson("--node-down", "beta")
    expect(down.actions.map((a) => a.action)).not.toContain("fence")
    expect(runningOf(down.after, "db")).toEqual([{ node: "alpha", role: "Started" }])
    const up = await planJson("--node-up", "beta")
    expect(up.actions).toEqual([])
  })

  it("--scores and --explain", async () => {
    const plan = await planJson("--scores", "--explain", "pg_stack")
    expect(plan.scores?.fs?.alpha).toBeGreaterThan(plan.scores?.fs?.beta ?? 0)
    expect(plan.explain?.lines.join("\n")).toContain("pg_stack-prefers-alpha")
    const text = await ha(["plan", "--scores", "--explain", "db"])
    expect(text.stdout).toMatch(/Allocation scores:\n\s+resource\s+alpha\s+beta/)
    expect(text.stdout).toContain("Why db:")
  })

  it("--graph writes DOT and SVG of the transition", async () => {
    const dot = join(work, "plan.dot")
    const svg = join(work, "plan.svg")
    expect((await ha(["plan", "--node-fail", "alpha", "--graph", dot])).code).toBe(ExitCode.ok)
    expect((await ha(["plan", "--node-fail", "alpha", "--graph", svg])).code).toBe(ExitCode.ok)
    const dotText = readFileSync(dot, "utf8")
    expect(dotText).toMatch(/^digraph transition \{/)
    expect(dotText).toMatch(/label="db_start_0\\nbeta"/)
    expect(dotText).toMatch(/a\d+ -> a\d+;/)
    const svgText = readFileSync(svg, "utf8")
    expect(svgText).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    expect(svgText).toContain(">db_start_0</text>")
    expect(svgText).toContain("stonith-alpha-reboot")
  })

  it("--simulate carries the plan out until the cluster is stable", async () => {
    const plan = await planJson("--node-fail", "alpha", "--simulate")
    expect(plan.simulation?.transitions).toBeGreaterThanOrEqual(1)
    const status = plan.simulation?.status as PlanJson["before"]
    expect(status.nodes).toContainEqual({ name: "alpha", state: "offline" })
    expect(runningOf(status, "db")).toEqual([{ node: "beta", role: "Started" }])
    expect(
      status.resources.filter((r) => r.resource.startsWith("drbd_pg")).flatMap((r) => r.running)
    ).toEqual([{ node: "beta", role: "Promoted" }])
  })

  it("--change shows the configuration diff and plans its effect", async () => {
    const cib = readFileSync(join(example, "cib.xml"), "utf8")
    const changed = join(work, "changed.xml")
    // The database is to be stopped.
    writeFileSync(
      changed,
      cib.replace(
        '<primitive id="db" class="ocf" provider="heartbeat" type="pgsql">',
        '$&<meta_attributes id="db-meta"><nvpair id="db-target-role" name="target-role" value="Stopped"/></meta_attributes>'
      )
    )
    const ran = await ha(["plan", "--change", changed, "--json"])
    const plan = JSON.parse(ran.stdout) as PlanJson & { changes: Array<string> }
    expect(plan.changes.join("\n")).toMatch(/resource db: .*meta/)
    expect(plan.actions).toEqual([expect.objectContaining({ action: "stop", resource: "db", node: "alpha" })])
    expect(runningOf(plan.after, "db")).toEqual([])
    const text = await ha(["plan", "--change", changed])
    expect(text.stdout).toContain("Configuration changes:")
  })

  it("reads the YAML configuration with a status", async () => {
    const plan = await planJson(
      "--config",
      join(example, "cluster.yaml"),
      "--status",
      join(example, "cib.xml"),
      "--node-fail",
      "alpha"
    )
    expect(runningOf(plan.after, "db")).toEqual([{ node: "beta", role: "Started" }])
  })
})

describe("bad input: one line naming the problem, a documented non-zero exit, no stack trace", () => {
  const cases: Array<[string, Array<string>, number, RegExp]> = [
    [
      "unknown node",
      ["plan", "--node-fail", "gamma"],
      ExitCode.usage,
      /^ha: --node-fail: unknown node "gamma" \(nodes: alpha, beta\)$/
    ],
    [
      "unknown standby node",
      ["plan", "--standby", "gamma"],
      ExitCode.usage,
      /^ha: --standby: unknown node "gamma"/
    ],
    [
      "unknown resource",
      ["plan", "--op-fail", "nosuch_monitor_10000@alpha=1"],
      ExitCode.usage,
      /^ha: --op-fail: unknown resource "nosuch"/
    ],
    [
      "malformed op spec",
      ["plan", "--op-fail", "db_monitor@alpha"],
      ExitCode.usage,
      /^ha: --op-fail: malformed value "db_monitor@alpha" \(expected RSC_TASK_INTERVAL@NODE=RC/
    ],
    [
      "malformed property",
      ["plan", "--set-property", "stonith-enabled"],
      ExitCode.usage,
      /^ha: --set-property: malformed value "stonith-enabled" \(expected NAME=VALUE\)$/
    ],
    [
      "unknown property",
      ["plan", "--set-property", "stonith-enable=false"],
      ExitCode.usage,
      /^ha: --set-property: malformed value "stonith-enable=false"/
    ],
    [
      "explain of an unknown resource",
      ["plan", "--explain", "nosuch"],
      ExitCode.usage,
      /^ha: --explain: unknown resource "nosuch"/
    ],
    [
      "a what-if without its value",
      ["plan", "--node-fail"],
      ExitCode.usage,
      /^ha: --node-fail needs a value$/
    ],
    [
      "graph file of an unknown kind",
      ["plan", "--graph", "x.png"],
      ExitCode.usage,
      /^ha: --graph: "x.png" must end in .svg or .dot$/
    ],
    [
      "status without config",
      ["plan", "--status", "x.xml"],
      ExitCode.usage,
      /^ha: --status FILE goes with --config FILE$/
    ],
    [
      "two inputs",
      ["plan", "--cib", "a.xml", "--config", "b.yaml"],
      ExitCode.usage,
      /^ha: give one of FILE, --cib FILE and --config FILE$/
    ],
    [
      "missing file",
      ["plan", "--cib", "/nonexistent/cib.xml"],
      ExitCode.input,
      /^ha: \/nonexistent\/cib.xml: no such file$/
    ],
    [
      "malformed XML",
      ["plan", "--cib", join(bad, "malformed.xml")],
      ExitCode.input,
      /^ha: .*malformed.xml:5:3: malformed XML/
    ],
    [
      "YAML with an unknown field",
      ["plan", "--config", join(bad, "unknown-field.yaml")],
      ExitCode.input,
      /unknown-field.yaml:4:5: unknown field "colour"/
    ],
    [
      "missing show file",
      ["show", "/nonexistent.xml"],
      ExitCode.input,
      /^ha: \/nonexistent.xml: no such file$/
    ],
    [
      "missing convert file",
      ["convert", "/nonexistent.xml", "--to", "yaml"],
      ExitCode.input,
      /^ha: \/nonexistent.xml: no such file$/
    ]
  ]
  for (const [name, args, code, message] of cases) {
    it(name, async () => {
      const ran = await ha(args)
      expect(ran.code).toBe(code)
      expect(ran.stderr.trim().split("\n")).toHaveLength(1)
      expect(ran.stderr.trim()).toMatch(message)
      expect(ran.stderr).not.toMatch(/\n\s+at /)
      expect(ran.stdout).toBe("")
    })
  }

  it("a CIB using a feature the scheduler does not support yet", async () => {
    const ticketed = join(work, "ticket.xml")
    writeFileSync(
      ticketed,
      readFileSync(join(example, "cib.xml"), "utf8").replace(
        "<constraints>",
        '$&<rsc_ticket id="db-needs-t" rsc="db" ticket="T"/>'
      )
    )
    const ran = await ha(["plan", "--cib", ticketed])
    expect(ran.code).toBe(ExitCode.unsupported)
    expect(ran.stderr).toMatch(/^ha: the CIB uses a feature ha's scheduler does not support yet: .*ticket/)
    expect(ran.stderr.split("\n")).toHaveLength(1)
  })

  it("an unknown option or command is a usage error", async () => {
    for (const args of [["plan", "--bogus"], ["nosuch"], ["convert", "x.xml", "--to", "json"]]) {
      const ran = await ha(args)
      expect(ran.code).toBe(ExitCode.usage)
      expect(ran.stderr.trim().split("\n")).toHaveLength(1)
    }
  })
})

describe("ha show, validate, convert", () => {
  it("show: nodes, resources with roles", async () => {
    const ran = await ha(["show", join(example, "cib.xml"), "--json"])
    const status = JSON.parse(ran.stdout) as PlanJson["before"]
    expect(status.nodes).toEqual([
      { name: "alpha", state: "online" },
      { name: "beta", state: "online" }
    ])
    expect(
      status.resources.filter((r) => r.resource.startsWith("drbd_pg")).flatMap((r) => r.running)
    ).toEqual(
      expect.arrayContaining([
        { node: "alpha", role: "Promoted" },
        { node: "beta", role: "Unpromoted" }
      ])
    )
    const text = await ha(["show"])
    expect(text.stdout).toMatch(/drbd_pg_clone\s+promotable clone/)
  })

  it("show lists failures with their fail-counts", async () => {
    const failed = join(work, "failed.xml")
    const ran = await ha(["plan", "--op-fail", "db_monitor_20000@alpha=1", "--simulate", "--json"])
    expect(ran.code).toBe(ExitCode.ok)
    // The what-if's CIB is not written out by plan; build one with a recorded failure instead.
    const cib = readFileSync(join(example, "cib.xml"), "utf8").replace(
      /(<lrm_resource id="db"[^>]*>)/,
      '$1<lrm_rsc_op id="db_last_failure_0" operation_key="db_monitor_20000" operation="monitor" call-id="9" rc-code="1" op-status="0" interval="20000" exit-reason="pg down"/>'
    )
    writeFileSync(failed, cib)
    const shown = await ha(["show", failed, "--json"])
    expect(shown.stderr).toBe("")
    expect((JSON.parse(shown.stdout) as { failures: Array<unknown> }).failures).toContainEqual(
      expect.objectContaining({ resource: "db", node: "alpha", rc: 1, reason: "pg down" })
    )
  })

  it("validate: the example is valid; malformed files are reported with file, line and column", async () => {
    expect((await ha(["validate", join(example, "cib.xml")])).code).toBe(ExitCode.ok)
    expect((await ha(["validate", join(example, "cluster.yaml")])).code).toBe(ExitCode.ok)
    const ran = await ha(["validate", join(bad, "unknown-field.yaml"), "--json"])
    expect(ran.code).toBe(ExitCode.problems)
    const result = JSON.parse(ran.stdout) as { valid: boolean; issues: Array<{ message: string }> }
    expect(result.valid).toBe(false)
    expect(result.issues[0]?.message).toMatch(
      /unknown-field.yaml:4:5: unknown field "colour" in resources.vip.colour/
    )
  })

  it("convert: XML to YAML and back plans the same", async () => {
    const yaml = join(work, "example.yaml")
    const xml = join(work, "example.xml")
    expect((await ha(["convert", join(example, "cib.xml"), "--to", "yaml", "--output", yaml])).code).toBe(
      ExitCode.ok
    )
    expect(readFileSync(yaml, "utf8")).toContain("agent: ocf:heartbeat:pgsql")
    expect((await ha(["convert", yaml, "--to", "xml", "-o", xml])).code).toBe(ExitCode.ok)
    const viaYaml = await planJson(
      "--config",
      xml,
      "--status",
      join(example, "cib.xml"),
      "--node-fail",
      "alpha"
    )
    const direct = await planJson("--node-fail", "alpha")
    expect(viaYaml.actions).toEqual(direct.actions)
  })
})

describe("the built-in example", () => {
  it("is examples/pg-drbd/cib.xml as it is now (scripts/embed-example.mjs regenerates it at build)", () => {
    expect(exampleCibXml).toBe(readFileSync(join(example, "cib.xml"), "utf8"))
  })
})

describe("exit codes", () => {
  it("are the documented ones", () => {
    const readme = readFileSync(join(import.meta.dirname, "../README.md"), "utf8")
    for (const [name, code] of Object.entries({
      ok: ExitCode.ok,
      problems: ExitCode.problems,
      usage: ExitCode.usage,
      input: ExitCode.input,
      unsupported: ExitCode.unsupported,
      internal: ExitCode.internal
    })) {
      expect(readme, name).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`))
    }
  })
})

describe("plugin loading", () => {
  it("is skipped for the command lines that use no plugin", () => {
    expect(usesPlugins(["plan", "--cib", "cib.xml", "--node-fail", "n1"])).toBe(false)
    expect(usesPlugins(["show", "cib.xml"])).toBe(false)
    expect(usesPlugins(["convert", "cib.xml", "--to", "yaml"])).toBe(false)
    expect(usesPlugins(["plan", "--live", "--node-fail", "n1"])).toBe(true)
    expect(usesPlugins(["validate", "cib.xml"])).toBe(true)
    expect(usesPlugins(["plugins"])).toBe(true)
    expect(usesPlugins(["ra", "list"])).toBe(true)
    expect(usesPlugins(["--help"])).toBe(true)
    expect(usesPlugins([])).toBe(true)
  })
})
