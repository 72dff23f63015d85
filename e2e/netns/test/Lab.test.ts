/**
 * The harness itself, on real namespaces: what the failover scenarios will rely on must hold first.
 * Needs root and iproute2/iptables/tini/util-linux (scripts/install-system-packages.sh).
 */
import { execFileSync } from "node:child_process"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Lab from "../src/Lab.ts"

const prefix = `hl${process.pid % 10000}`

const ping = (lab: Lab.Lab, node: string, address: string) =>
  lab.exec(node, ["ping", "-c", "1", "-W", "1", address]).pipe(Effect.map((r) => r.code === 0))

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
      expect((yield* lab.probe(["ping", "-c", "1", "-W", "1", a!.addresses[0]])).code).toBe(0)

      // a cut link fails alone, by carrier loss or by dropped packets, and heals
      for (const fault of ["carrier", "drop"] as const) {
        yield* lab.cutLink(a!.name, 0, fault)
        expect(yield* ping(lab, a!.name, b!.addresses[0])).toBe(false)
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
      expect((yield* lab.probe(["ping", "-c", "1", "-W", "1", lab.floatingIp])).code).toBe(0)

      // power off: every process and mount of the node is gone, the others see no carrier
      yield* lab.exec(a!.name, ["sh", "-c", "sleep 1000 >/dev/null 2>&1 &"])
      yield* lab.powerOff(a!.name)
      expect(lab.isOn(a!.name)).toBe(false)
      expect(yield* lab.diskMountedOn).toEqual([])
      expect(yield* ping(lab, b!.name, a!.addresses[0])).toBe(false)
      expect((yield* lab.probe(["ping", "-c", "1", "-W", "1", lab.floatingIp])).code).not.toBe(0)
      expect((yield* Effect.either(lab.exec(a!.name, ["true"])))._tag).toBe("Left")

      // power on: a fresh machine that forgot its floating address
      yield* lab.powerOn(a!.name)
      expect(yield* lab.addressHeldBy(lab.floatingIp)).toEqual([])
      expect(yield* ping(lab, b!.name, a!.addresses[1])).toBe(true)
      expect((yield* lab.exec(a!.name, ["pgrep", "-x", "sleep"])).stdout.trim().split("\n")).toHaveLength(1)
    })
  )

  it("tears everything down when the scope closes, and again idempotently", async () => {
    expect(leftovers()).toEqual([])
    await Effect.runPromise(Lab.teardown(prefix))
    expect(leftovers()).toEqual([])
    expect(execFileSync("losetup", ["-a"], { encoding: "utf8" })).not.toContain(`/tmp/ha-e2e/${prefix}/`)
  })
})
