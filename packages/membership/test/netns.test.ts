/**
 * Membership over real UDP between Linux network namespaces made by the test: three node processes,
 * two links each (one bridge per link). A link is cut by taking its host-side veth down (carrier loss,
 * as when a cable is pulled). Everything is created under a random name prefix and removed at the end,
 * then checked gone. Traffic stays inside the namespaces: the bridges have no address in the root
 * namespace and the lab subnets get blackhole routes there (../shared/lab/netns/README.md).
 * Needs root and iproute2 (both on CI).
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { describe, expect, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..")
const isRoot = process.getuid?.() === 0
const NODES = [1, 2, 3] as const
const LINKS = [0, 1] as const

const ip = (...args: ReadonlyArray<string>): string =>
  execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] }).toString()

/** Teardown steps must all run even when some of what they remove was never made. */
const quietly = (step: () => void) => {
  try {
    step()
  } catch {}
}

type Line =
  | { readonly type: "ready"; readonly at: number }
  | { readonly type: "view"; readonly at: number; readonly members: ReadonlyArray<number> }
  | { readonly type: "quorum"; readonly at: number; readonly quorate: boolean }

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

class LabNode {
  readonly lines: Array<Line> = []
  stderr = ""

  constructor(
    readonly id: number,
    readonly process: ChildProcessWithoutNullStreams
  ) {
    createInterface({ input: process.stdout }).on("line", (line) => this.lines.push(JSON.parse(line)))
    process.stderr.on("data", (chunk) => {
      this.stderr += String(chunk)
    })
  }

  get view(): string {
    const last = this.lines.findLast((l) => l.type === "view")
    return last?.type === "view" ? last.members.join(",") : "-"
  }

  get quorate(): boolean | undefined {
    const last = this.lines.findLast((l) => l.type === "quorum")
    return last?.type === "quorum" ? last.quorate : undefined
  }

  views(from: number): Array<string> {
    return this.lines.slice(from).flatMap((l) => (l.type === "view" ? [l.members.join(",")] : []))
  }

  async until(what: string, check: () => boolean, timeout = 15_000): Promise<void> {
    const deadline = Date.now() + timeout
    while (!check()) {
      if (this.process.exitCode !== null) throw new Error(`node ${this.id} exited: ${this.stderr}`)
      if (Date.now() > deadline) {
        throw new Error(`node ${this.id}: timed out waiting for ${what} (view ${this.view}); ${this.stderr}`)
      }
      await sleep(20)
    }
  }
}

class Lab {
  readonly prefix = `hm${randomBytes(2).toString("hex")}`
  /** Second octet of the lab subnets 10.<octet>.<link>.0/24, chosen so no existing route uses it. */
  readonly octet: number
  readonly key = randomBytes(32).toString("hex")
  readonly nodes = new Map<number, LabNode>()

  constructor() {
    const routes = ip("route", "show", "table", "all")
    const free = Array.from({ length: 50 }, (_, i) => 150 + i).filter((o) => !routes.includes(`10.${o}.`))
    this.octet = free[randomBytes(1)[0]! % free.length]!
  }

  namespace = (id: number) => `${this.prefix}n${id}`
  bridge = (link: number) => `${this.prefix}b${link}`
  hostVeth = (id: number, link: number) => `${this.prefix}n${id}r${link}`
  subnet = (link: number) => `10.${this.octet}.${link}.0/24`
  address = (id: number, link: number) => `10.${this.octet}.${link}.${10 + id}`

  up(): void {
    for (const link of LINKS) {
      ip("route", "add", "blackhole", this.subnet(link))
      ip("link", "add", this.bridge(link), "type", "bridge")
      ip("link", "set", this.bridge(link), "up")
    }
    for (const id of NODES) {
      const ns = this.namespace(id)
      ip("netns", "add", ns)
      ip("-n", ns, "link", "set", "lo", "up")
      for (const link of LINKS) {
        const inside = `eth${link}`
        ip("link", "add", this.hostVeth(id, link), "type", "veth", "peer", "name", inside, "netns", ns)
        ip("link", "set", this.hostVeth(id, link), "master", this.bridge(link))
        ip("link", "set", this.hostVeth(id, link), "up")
        ip("-n", ns, "addr", "add", `${this.address(id, link)}/24`, "dev", inside)
        ip("-n", ns, "link", "set", inside, "up")
      }
    }
  }

  start(id: number): LabNode {
    const endpoints = (n: number) =>
      LINKS.map((link) => ({ link, address: this.address(n, link), port: 5405 }))
    const topology = {
      clusterName: "netns-membership",
      nodeId: id,
      links: endpoints(id),
      peers: NODES.filter((p) => p !== id).map((p) => ({ nodeId: p, links: endpoints(p) }))
    }
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        this.namespace(id),
        process.execPath,
        "--conditions=source",
        "--import",
        "tsx",
        "test/netns/node.ts",
        JSON.stringify({ topology, key: this.key })
      ],
      { cwd: root, stdio: "pipe" }
    )
    const node = new LabNode(id, child)
    this.nodes.set(id, node)
    return node
  }

  cut(id: number, link: number): void {
    ip("link", "set", this.hostVeth(id, link), "down")
  }

  restore(id: number, link: number): void {
    ip("link", "set", this.hostVeth(id, link), "up")
  }

  /** Removes everything `up` and `start` made; safe to call on a half-built lab. */
  async down(): Promise<void> {
    await Promise.all(
      [...this.nodes.values()].map(
        (node) =>
          new Promise<void>((resolve) => {
            if (node.process.exitCode !== null || node.process.signalCode !== null) return resolve()
            node.process.once("exit", () => resolve())
            // Closing stdin ends the node; the signal covers a node that hangs.
            node.process.stdin.end()
            setTimeout(() => node.process.kill("SIGKILL"), 3000).unref()
          })
      )
    )
    // the host ends of the veth pairs go first: removing a namespace frees them only later (the
    // kernel cleans namespaces up asynchronously), which a leftover check right after would see
    for (const id of NODES)
      for (const link of LINKS) quietly(() => ip("link", "del", this.hostVeth(id, link)))
    for (const id of NODES) quietly(() => ip("netns", "del", this.namespace(id)))
    for (const link of LINKS) {
      quietly(() => ip("link", "del", this.bridge(link)))
      quietly(() => ip("route", "del", "blackhole", this.subnet(link)))
    }
  }

  /** Names and routes of this lab still present on the machine. */
  leftovers(): Array<string> {
    const present = [ip("netns", "list"), ip("-o", "link", "show"), ip("route", "show", "table", "all")]
    return present
      .join("\n")
      .split("\n")
      .filter((line) => line.includes(this.prefix) || line.includes(`10.${this.octet}.`))
  }
}

describe("membership over real UDP between network namespaces (3 nodes, 2 links each)", () => {
  it.skipIf(!isRoot)(
    "one link cut: no view change; both cut: views split and quorum follows; restored: views merge",
    async () => {
      const lab = new Lab()
      try {
        lab.up()
        const nodes = NODES.map((id) => lab.start(id))
        const [n1, n2, n3] = nodes as [LabNode, LabNode, LabNode]
        // Starting Node with tsx takes seconds of CPU; a loaded CI machine needs the long wait.
        await Promise.all(nodes.map((n) => n.until("view 1,2,3", () => n.view === "1,2,3", 120_000)))
        for (const n of nodes) await n.until("quorum", () => n.quorate === true)

        // One link of node 3 cut: traffic moves to the other link, no view changes.
        let marks = nodes.map((n) => n.lines.length)
        lab.cut(3, 0)
        await sleep(4000)
        for (const [i, n] of nodes.entries()) expect(n.views(marks[i]!), `views of node ${n.id}`).toEqual([])

        // Both links of node 3 cut: 1 and 2 form a view without it and stay quorate; 3 is alone, inquorate.
        marks = nodes.map((n) => n.lines.length)
        lab.cut(3, 1)
        await n1.until("view 1,2", () => n1.view === "1,2")
        await n2.until("view 1,2", () => n2.view === "1,2")
        await n3.until("view 3", () => n3.view === "3")
        await n3.until("quorum lost", () => n3.quorate === false)
        expect(n1.quorate).toBe(true)
        expect(n2.quorate).toBe(true)

        // Restored: the views merge and quorum is back everywhere.
        lab.restore(3, 0)
        lab.restore(3, 1)
        await Promise.all(nodes.map((n) => n.until("view 1,2,3 again", () => n.view === "1,2,3", 30_000)))
        for (const n of nodes) await n.until("quorum again", () => n.quorate === true)
      } finally {
        await lab.down()
      }
      expect(lab.leftovers()).toEqual([])
    },
    240_000
  )
})
