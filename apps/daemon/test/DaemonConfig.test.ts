import { readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { DaemonConfig } from "../src/index.ts"

const dir = new URL("../testdata/config/", import.meta.url)
const read = (name: string) => readFileSync(new URL(name, dir), "utf8")

describe("DaemonConfig", () => {
  it("fills in a packaged daemon's defaults", () => {
    const config = Either.getOrThrow(
      DaemonConfig.parse(read("valid/two-node.yaml"), "two-node.yaml", "ignored")
    )
    expect(config).toMatchObject({
      node: "alpha",
      port: 5405,
      keyFile: "/etc/ha/authkey",
      stateDir: "/var/lib/ha",
      runDir: "/run/ha",
      log: { level: "info", format: "text" },
      shutdown: "move"
    })
    expect(config.metrics).toBeUndefined()
    expect(DaemonConfig.apiSocket(config)).toEqual({
      path: "/run/ha/api.sock",
      group: undefined,
      mode: 0o600
    })
  })

  it("takes every setting from the file, and the host name when no node is named", () => {
    const config = Either.getOrThrow(
      DaemonConfig.parse(read("valid/everything.yaml"), "everything.yaml", "n1")
    )
    expect(config).toMatchObject({ node: "n2", port: 5500, log: { level: "debug", format: "json" } })
    expect(config.cluster.nodes[0]).toEqual({ name: "n1", addresses: ["fd00::1"], id: 7 })
    expect(config.metrics).toEqual({ port: 9664, address: "0.0.0.0" })
    expect(DaemonConfig.apiSocket(config)).toEqual({
      path: "/srv/ha/run/ctl.sock",
      group: "haclient",
      mode: 0o660
    })
    const unnamed = read("valid/two-node.yaml").replace("node: alpha", "")
    expect(Either.getOrThrow(DaemonConfig.parse(unnamed, "x.yaml", "beta")).node).toBe("beta")
  })

  describe("refuses a bad file with its line, column and field (testdata/config/invalid)", () => {
    for (const name of readdirSync(new URL("invalid/", dir))) {
      it(name, () => {
        const text = read(`invalid/${name}`)
        const [, line, column, field, reason] = /^# expect: (\d+):(\d+) (\S*) *\| ?(.*)$/m.exec(text)!
        const result = DaemonConfig.parse(text, name, "alpha")
        expect(Either.isLeft(result)).toBe(true)
        if (Either.isRight(result)) return
        const error = result.left
        expect({ line: error.line, column: error.column, field: error.field }).toEqual({
          line: Number(line),
          column: Number(column),
          field
        })
        expect(error.message).toContain(reason!.trim())
        expect(error.message.startsWith(`${name}:${line}:${column}:`)).toBe(true)
      })
    }
  })
})
