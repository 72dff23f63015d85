/**
 * The harness itself, on real namespaces: what the failover scenarios will rely on must hold first.
 * Needs root and iproute2/iptables/tini/util-linux (scripts/install-system-packages.sh).
 */
import { execFileSync } from "node:child_process"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Lab from "../src/Lab.ts"
import * as PowerSwitch from "../src/PowerSwitch.ts"

const prefix = `hl${process.pid % 10000}`

/**
 * Whether `address` answers from `node`: one reply within 3 s (a link just healed may lose its first
 * packets while the bridge relearns), or, when `expect` is false, none within 1 s.
 */
const ping = (lab: Lab.Lab, node: string, address: string, expect = true) =>
  lab
    .exec(node, ["ping", "-c", "1", ...(expect ? ["-w", "3"] : ["-W", "1"]), address])
    .pipe(Effect.map((r) => r.code === 0))

const leftovers = () =>
  execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" })
    .split("\n")
    .concat(execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n"))
    .filter((line) => line.includes(prefix))

describe("namespace lab", () => {
  it.scopedLive("two nodes on two links, a client, a shared disk, power and link faults", () =>
    Effect.gen(function* () {
      const lab = yield* Lab.make({ prefix, nodes: 2, diskMiB: 64 })
      const [a, b] = lab.nodes
      expect(lab.nodes.map((n) => n.name)).toEqual([`${prefix}n1`, `${prefix}n2`])

      // each node is its own machine: hostname, pid 1, /run
      expect((yield* lab.exec(a!.name, ["hostname"])).stdout.trim()).toBe(a!.name)
      expect((yield* lab.exec(a!.name, ["cat", "/proc/1/comm"])).stdout.trim()).toBe("tini")
      yield* lab.exec(a!.name, ["touch", "/run/ha/only-here"])
      expect((yield* lab.exec(b!.name, ["ls", "/run/ha"])).stdout).not.toContain("only-here")

      // both links carry traffic; the client reaches the nodes on link 0
      expect(yield* ping(lab, a!.name, b!.addresses[0])).toBe(true)
      expect(yield* ping(lab, a!.name, b!.addresses[1])).toBe(true)
      expect((yield* lab.probe(["ping", "-c", "1", "-w", "3", a!.addresses[0]])).code).toBe(0)

      // a cut link fails alone, by carrier loss or by dropped packets, and heals
      for (const fault of ["carrier", "drop"] as const) {
        yield* lab.cutLink(a!.name, 0, fault)
        expect(yield* ping(lab, a!.name, b!.addresses[0], false)).toBe(false)
        expect(yield* ping(lab, a!.name, b!.addresses[1])).toBe(true)
        yield* lab.healLink(a!.name, 0, fault)
        expect(yield* ping(lab, a!.name, b!.addresses[0])).toBe(true)
      }

      // the disk: a mount is private to the node that made it, and the watcher sees a double mount
      const watcher = yield* Lab.watch(lab.diskMountedOn, "20 millis")
      yield* lab.exec(a!.name, ["mkdir", "-p", "/mnt/lab"])
      expect((yield* lab.exec(a!.name, ["mount", lab.disk!, "/mnt/lab"])).code).toBe(0)
      expect(yield* lab.diskMountedOn).toEqual([a!.name])
      yield* Effect.sleep("100 millis")
      expect(yield* watcher.violations).toEqual([])
      yield* lab.exec(b!.name, ["mkdir", "-p", "/mnt/lab"])
      expect((yield* lab.exec(b!.name, ["mount", lab.disk!, "/mnt/lab"])).code).toBe(0)
      yield* Effect.sleep("100 millis")
      expect((yield* watcher.violations).at(0)?.holders).toEqual([a!.name, b!.name])
      yield* lab.exec(b!.name, ["umount", "/mnt/lab"])

      // a floating address and who holds it
      yield* lab.exec(a!.name, ["ip", "addr", "add", `${lab.floatingIp}/24`, "dev", "eth0"])
      expect(yield* lab.addressHeldBy(lab.floatingIp)).toEqual([a!.name])
      expect((yield* lab.probe(["ping", "-c", "1", "-w", "3", lab.floatingIp])).code).toBe(0)

      // power off: every process and mount of the node is gone, the others see no carrier
      yield* lab.exec(a!.name, ["sh", "-c", "sleep 1000 >/dev/null 2>&1 &"])
      yield* lab.powerOff(a!.name)
      expect(lab.isOn(a!.name)).toBe(false)
      expect(yield* lab.diskMountedOn).toEqual([])
      expect(yield* ping(lab, b!.name, a!.addresses[0], false)).toBe(false)
      expect((yield* lab.probe(["ping", "-c", "1", "-W", "1", lab.floatingIp])).code).not.toBe(0)
      expect((yield* Effect.either(lab.exec(a!.name, ["true"])))._tag).toBe("Left")

      // power on: a fresh machine that forgot its floating address
      yield* lab.powerOn(a!.name)
      expect(yield* lab.addressHeldBy(lab.floatingIp)).toEqual([])
      expect(yield* ping(lab, b!.name, a!.addresses[1])).toBe(true)
      expect((yield* lab.exec(a!.name, ["pgrep", "-x", "sleep"])).stdout.trim().split("\n")).toHaveLength(1)
    })
  )

  it.scopedLive("fence_lab powers nodes off and on through the power switch, from inside a node", () =>
    Effect.gen(function* () {
      const lab = yield* Lab.make({ prefix, nodes: 2, privateDirs: ["/var/lib/postgresql"] })
      const [a, b] = lab.nodes
      const booted: Array<string> = []
      const power = yield* PowerSwitch.serve(lab, `${lab.root}/power.sock`, (node) =>
        Effect.sync(() => booted.push(node))
      )
      const fence = (action: string, plug: string) =>
        lab.exec(b!.name, [
          "sh",
          "-c",
          `printf 'action=${action}\nplug=${plug}\nsocket=${power.path}\n' | fence_lab`
        ])
      // both links cut: the power switch is still reachable, like a management network
      yield* lab.cutLink(b!.name, 0)
      yield* lab.cutLink(b!.name, 1, "drop")
      expect((yield* fence("list", "")).stdout).toBe(`${a!.name},\n${b!.name},\n`)
      expect((yield* fence("status", a!.name)).code).toBe(0)
      expect((yield* fence("off", a!.name)).code).toBe(0)
      expect(lab.isOn(a!.name)).toBe(false)
      expect((yield* fence("status", a!.name)).code).toBe(2)
      expect((yield* fence("off", "nosuchnode")).code).toBe(1)
      expect((yield* fence("on", a!.name)).code).toBe(0)
      expect(lab.isOn(a!.name)).toBe(true)
      expect(booted).toEqual([a!.name])
      expect((yield* power.history).map((e) => `${e.action} ${e.node}`)).toEqual([
        `off ${a!.name}`,
        `on ${a!.name}`
      ])
      // a private directory: same skeleton and owner as the host's, separate contents per node
      yield* lab.exec(a!.name, ["touch", "/var/lib/postgresql/mine"])
      expect((yield* lab.exec(b!.name, ["ls", "/var/lib/postgresql"])).stdout).not.toContain("mine")
      expect((yield* lab.exec(a!.name, ["stat", "-c", "%U", "/var/lib/postgresql"])).stdout.trim()).toBe(
        "postgres"
      )
    })
  )

  it("tears everything down when the scope closes, and again idempotently", async () => {
    expect(leftovers()).toEqual([])
    await Effect.runPromise(Lab.teardown(prefix))
    expect(leftovers()).toEqual([])
    expect(execFileSync("losetup", ["-a"], { encoding: "utf8" })).not.toContain(`/tmp/ha-e2e/${prefix}/`)
  })
})
