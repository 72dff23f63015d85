import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Testing } from "@ha/cli"
import plugin from "../src/index.ts"

const plugins = Testing.withPlugin(plugin, "@ha/plugin-ra")

/** `ha ARGS…` in-process with this plugin loaded; what it printed and its exit code. */
const ha = (...args: Array<string>) => Testing.run(args, plugins)

describe("ha ra", () => {
  it("info shows an agent's parameters and actions", async () => {
    const ran = await ha("ra", "info", "ocf:heartbeat:IPaddr2")
    expect(ran.stderr).toBe("")
    expect(ran.code).toBe(0)
    expect(ran.stdout).toMatch(/^ocf:heartbeat:IPaddr2 .*: Manages virtual IPv4 and IPv6 addresses/)
    expect(ran.stdout).toMatch(/^ {2}ip \(string\) \[required, unique\]: /m)
    expect(ran.stdout).toMatch(/^ {2}monitor {2}timeout 20s, interval 10s$/m)
    const json = JSON.parse((await ha("ra", "info", "ocf:heartbeat:IPaddr2", "--json")).stdout) as {
      parameters: Array<{ name: string; required: boolean }>
    }
    expect(json.parameters).toContainEqual(expect.objectContaining({ name: "ip", required: true }))
  })

  it("list shows installed agents", async () => {
    const ran = await ha("ra", "list", "ocf", "--json")
    expect(ran.code).toBe(0)
    expect((JSON.parse(ran.stdout) as { agents: Array<string> }).agents).toContain("ocf:heartbeat:IPaddr2")
  })

  it("a malformed reference is a usage error, a missing agent an input error, each in one line", async () => {
    const malformed = await ha("ra", "info", "ocf:IPaddr2")
    expect(malformed.code).toBe(2)
    expect(malformed.stderr).toBe(
      'ha: invalid agent "ocf:IPaddr2": ocf agents are written ocf:<provider>:<type>'
    )
    const missing = await ha("ra", "info", "ocf:heartbeat:NoSuchAgent")
    expect(missing.code).toBe(3)
    expect(missing.stderr).toMatch(/^ha: ocf:heartbeat:NoSuchAgent: .*NoSuchAgent.* does not exist/)
    expect(missing.stderr.split("\n")).toHaveLength(1)
  })
})

describe("ha validate with agent meta-data", () => {
  it("reports missing and unknown parameters", async () => {
    const ran = await ha("validate", join(import.meta.dirname, "../testdata/bad-params.yaml"), "--json")
    expect(ran.code).toBe(1)
    const result = JSON.parse(ran.stdout) as {
      valid: boolean
      issues: Array<{ severity: string; where: string; message: string }>
    }
    expect(result.valid).toBe(false)
    expect(result.issues).toEqual([
      { severity: "error", where: "resource vip", message: 'IPaddr2: required parameter "ip" is missing' },
      expect.objectContaining({
        severity: "error",
        where: "resource vip",
        message: expect.stringMatching(/^IPaddr2: unknown parameter "colour"/)
      })
    ])
  })

  it("the example passes; an agent not installed here is a warning, not an error", async () => {
    const ran = await ha("validate", join(import.meta.dirname, "../../../examples/pg-drbd/cib.xml"), "--json")
    expect(ran.code).toBe(0)
    const result = JSON.parse(ran.stdout) as { issues: Array<{ severity: string }> }
    expect(result.issues.every((i) => i.severity === "warning")).toBe(true)
  })
})
