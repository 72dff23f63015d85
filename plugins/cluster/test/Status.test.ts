import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Testing } from "@ha/cli"
import plugin from "../src/index.ts"

const plugins = Testing.withPlugin(plugin, "@ha/plugin-cluster")

/** `ha ARGS…` in-process with this plugin loaded; what it printed and its exit code. */
const ha = (...args: Array<string>) => Testing.run(args, plugins)

const root = mkdtempSync(join(tmpdir(), "ha-status-"))
let daemon: ChildProcess | undefined
afterAll(() => {
  daemon?.kill("SIGKILL")
  rmSync(root, { recursive: true, force: true })
})

describe("ha status", () => {
  it("shows what a running daemon sees, for people and as JSON", async () => {
    // a one-node cluster: a real daemon, alone in its view
    await ha("init", "--cluster", "solo", "--node", "s1=127.0.3.1", "--this", "s1", "--dir", root)
    const config = join(root, "ha.yaml")
    writeFileSync(
      config,
      `${readFileSync(config, "utf8")}port: ${30000 + (process.pid % 20000)}\nkeyFile: ${root}/authkey\nstateDir: ${root}/state\nrunDir: ${root}/run\n`
    )
    chmodSync(join(root, "authkey"), 0o600)
    const main = new URL("../../../apps/daemon/src/main.ts", import.meta.url).pathname
    daemon = spawn(process.execPath, ["--import", "tsx", "--conditions=source", main, "--config", config], {
      stdio: "ignore"
    })
    const socket = join(root, "run", "api.sock")
    let shown = await ha("status", "--socket", socket)
    // settled: the DC has recorded its node as a member and has nothing left to do
    const settled = (stdout: string) => stdout.includes("  s1  online") && !stdout.includes("Pending:")
    for (let i = 0; i < 150 && !settled(shown.stdout); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      shown = await ha("status", "--socket", socket)
    }
    expect(shown.code).toBe(0)
    const lines = shown.stdout.split("\n")
    expect(lines.slice(0, 2)).toEqual([
      "Cluster solo, seen from s1: quorate (1 votes, 1 needed), DC s1",
      "Members: s1"
    ])
    expect(lines.slice(-3)).toEqual(["Nodes:", "  s1  online", "Resources: none"])
    const json = JSON.parse((await ha("status", "--socket", socket, "--json")).stdout)
    expect(json).toMatchObject({
      cluster: "solo",
      node: "s1",
      dc: "s1",
      members: ["s1"],
      quorum: { quorate: true },
      nodes: [{ name: "s1", state: "online" }],
      resources: [],
      failures: []
    })
  }, 60_000)

  it("says so in one line when no daemon runs, exit 4", async () => {
    const ran = await ha("status", "--socket", join(root, "nothing.sock"))
    expect(ran.code).toBe(4)
    expect(ran.stderr).toBe(`ha: no daemon listening on ${join(root, "nothing.sock")}`)
  })
})
