import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Testing } from "@ha/cli"
import { DaemonConfig } from "@ha/daemon"
import { Either } from "effect"
import plugin from "../src/index.ts"

const plugins = Testing.withPlugin(plugin, "@ha/plugin-cluster")

/** `ha ARGS…` in-process with this plugin loaded; what it printed and its exit code. */
const ha = (...args: Array<string>) => Testing.run(args, plugins)

const root = mkdtempSync(join(tmpdir(), "ha-bootstrap-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const node = (name: string) => {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  return dir
}
const nodes = ["--node", "alpha=10.91.0.11,10.92.0.11", "--node", "beta=10.91.0.12,10.92.0.12"]

describe("ha init", () => {
  it("writes a configuration the daemon accepts and a fresh root-only key", async () => {
    const dir = node("init-alpha")
    const ran = await ha("init", "--cluster", "pg", ...nodes, "--this", "alpha", "--dir", dir)
    expect(ran.stderr).toBe("")
    expect(ran.code).toBe(0)
    expect(ran.stdout).toContain("next, on every other node: ha join --from alpha")
    const config = Either.getOrThrow(
      DaemonConfig.parse(readFileSync(join(dir, "ha.yaml"), "utf8"), "ha.yaml", "not-the-hostname")
    )
    expect(config.node).toBe("alpha")
    expect(config.cluster).toEqual({
      name: "pg",
      nodes: [
        { name: "alpha", addresses: ["10.91.0.11", "10.92.0.11"] },
        { name: "beta", addresses: ["10.91.0.12", "10.92.0.12"] }
      ]
    })
    const key = statSync(join(dir, "authkey"))
    expect(key.mode & 0o777).toBe(0o600)
    expect(key.size).toBe(32)
    // a second cluster gets another key
    const other = node("init-other")
    await ha("init", "--cluster", "pg", ...nodes, "--this", "alpha", "--dir", other)
    expect(readFileSync(join(other, "authkey"))).not.toEqual(readFileSync(join(dir, "authkey")))
  })

  it("never overwrites a configured node unless told, and refuses what the daemon would refuse", async () => {
    const dir = node("init-twice")
    expect((await ha("init", "--cluster", "pg", ...nodes, "--this", "alpha", "--dir", dir)).code).toBe(0)
    const key = readFileSync(join(dir, "authkey"))
    const again = await ha("init", "--cluster", "pg", ...nodes, "--this", "alpha", "--dir", dir)
    expect(again.code).toBe(3)
    expect(again.stderr).toBe(
      `ha: ${join(dir, "ha.yaml")} exists: this node is already configured (--force replaces it)`
    )
    expect(readFileSync(join(dir, "authkey"))).toEqual(key)
    expect(
      (await ha("init", "--cluster", "pg", ...nodes, "--this", "alpha", "--dir", dir, "--force")).code
    ).toBe(0)
    expect(readFileSync(join(dir, "authkey"))).not.toEqual(key)

    const fresh = node("init-bad")
    const badSpec = await ha("init", "--cluster", "pg", "--node", "alpha", "--dir", fresh)
    expect(badSpec.code).toBe(2)
    expect(badSpec.stderr).toBe('ha: --node "alpha": expected NAME=ADDRESS[,ADDRESS] (one address per link)')
    const notListed = await ha("init", "--cluster", "pg", ...nodes, "--this", "gamma", "--dir", fresh)
    expect(notListed.code).toBe(3)
    expect(notListed.stderr).toMatch(
      /^ha: .*ha\.yaml:\d+:\d+: node: this node "gamma" is not in cluster\.nodes/
    )
    const badAddress = await ha(
      "init",
      "--cluster",
      "pg",
      "--node",
      "alpha=10.91.0.999",
      "--this",
      "alpha",
      "--dir",
      fresh
    )
    expect(badAddress.code).toBe(3)
    expect(badAddress.stderr).toContain("cluster.nodes[0].addresses[0]: expected an IPv4 or IPv6 address")
  })
})

describe("ha keygen", () => {
  it("writes a new root-only key, and never replaces one unless told", async () => {
    const out = join(node("keygen"), "authkey")
    const ran = await ha("keygen", "--out", out)
    expect(ran.code).toBe(0)
    expect(statSync(out).mode & 0o777).toBe(0o600)
    expect(statSync(out).size).toBe(32)
    const first = readFileSync(out)
    expect((await ha("keygen", "--out", out)).code).toBe(3)
    expect(readFileSync(out)).toEqual(first)
    expect((await ha("keygen", "--out", out, "--force")).code).toBe(0)
    expect(readFileSync(out)).not.toEqual(first)
  })
})

describe("ha join", () => {
  it("copies the configuration and key from a directory and names this node", async () => {
    const alpha = node("join-alpha")
    await ha("init", "--cluster", "pg", ...nodes, "--this", "alpha", "--dir", alpha)
    const beta = node("join-beta")
    const ran = await ha("join", alpha, "--from-dir", "--this", "beta", "--dir", beta)
    expect(ran.stderr).toBe("")
    expect(ran.code).toBe(0)
    const config = Either.getOrThrow(
      DaemonConfig.parse(readFileSync(join(beta, "ha.yaml"), "utf8"), "ha.yaml", "x")
    )
    expect(config.node).toBe("beta")
    expect(readFileSync(join(beta, "authkey"))).toEqual(readFileSync(join(alpha, "authkey")))
    expect(statSync(join(beta, "authkey")).mode & 0o777).toBe(0o600)
    // a node the cluster does not list cannot join
    const gamma = await ha("join", alpha, "--from-dir", "--this", "gamma", "--dir", node("join-gamma"))
    expect(gamma.code).toBe(3)
    expect(gamma.stderr).toContain('this node "gamma" is not in cluster.nodes (alpha, beta)')
  })

  it("fetches over ssh (here a stand-in that runs the remote command locally)", async () => {
    const alpha = node("ssh-alpha")
    await ha("init", "--cluster", "pg", ...nodes, "--this", "alpha", "--dir", alpha)
    // the stand-in maps the remote /etc/ha to alpha's directory; real ssh runs `cat FILE` on the host
    const ssh = join(root, "ssh")
    writeFileSync(
      ssh,
      `#!/bin/sh\n[ "$1 $2" = "-o BatchMode=yes" ] || exit 255\nshift 3\nexec "$1" "$(echo "$2" | sed 's|^/etc/ha|${alpha}|')"\n`
    )
    chmodSync(ssh, 0o755)
    const beta = node("ssh-beta")
    const ran = await ha("join", "alpha", "--ssh", ssh, "--this", "beta", "--dir", beta)
    expect(ran.stderr).toBe("")
    expect(readFileSync(join(beta, "authkey"))).toEqual(readFileSync(join(alpha, "authkey")))
    // an unreachable source is one clear line
    writeFileSync(
      ssh,
      "#!/bin/sh\necho 'ssh: connect to host alpha port 22: Connection refused' >&2\nexit 255\n"
    )
    const down = await ha("join", "alpha", "--ssh", ssh, "--this", "beta", "--dir", node("ssh-down"))
    expect(down.code).toBe(3)
    expect(down.stderr).toBe(
      "ha: alpha:/etc/ha/ha.yaml: ssh: connect to host alpha port 22: Connection refused"
    )
  })

  it("refuses a key that is not a cluster key", async () => {
    const source = node("badkey-src")
    await ha("init", "--cluster", "pg", ...nodes, "--this", "alpha", "--dir", source)
    writeFileSync(join(source, "authkey"), "short")
    const ran = await ha("join", source, "--from-dir", "--this", "beta", "--dir", node("badkey-dst"))
    expect(ran.code).toBe(3)
    expect(ran.stderr).toContain("key is 5 bytes, expected 32 to 4096")
  })
})
