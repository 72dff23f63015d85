/**
 * Real UDP between Linux network namespaces: three nodes, two links each (one bridge per link), each
 * node a separate process in its own namespace. Links are cut by taking the host-side veth down (carrier
 * loss, as when a cable is pulled). The test creates everything under a random name prefix and removes
 * it, then checks nothing is left. Traffic stays inside the namespaces: the bridges have no address in
 * the root namespace and the lab subnets get blackhole routes there (../shared/lab/netns/README.md).
 * Needs root and iproute2 (both present on CI).
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { describe, expect, it } from "@effect/vitest"
import type { Topology, Transport } from "../src/index.ts"

const root = join(import.meta.dirname, "..")
const isRoot = process.getuid?.() === 0
const NODES = [1, 2, 3] as const
const LINKS = [0, 1] as const
const PORT = 5405

const ip = (...args: ReadonlyArray<string>): string =>
  execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] }).toString()

/** Teardown steps must all run even when some of what they remove was never made. */
const quietly = (step: () => void) => {
  try {
    step()
  } catch {}
}

type Line =
  | { readonly type: "ready" }
  | { readonly type: "event"; readonly at: number; readonly event: Transport.TransportEvent }
  | { readonly type: "message"; readonly from: number; readonly text: string }
  | { readonly type: "reached"; readonly text: string; readonly peers: ReadonlyArray<number> }
  | { readonly type: "status"; readonly status: ReadonlyArray<Transport.PeerStatus> }

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

  command(command: object): void {
    this.process.stdin.write(`${JSON.stringify(command)}\n`)
  }

  /** Waits until `find` returns a value for the lines received since index `from`. */
  async until<A>(
    what: string,
    find: (lines: ReadonlyArray<Line>) => A | undefined,
    from = 0,
    timeout = 15_000
  ): Promise<A> {
    const deadline = Date.now() + timeout
    for (;;) {
      const found = find(this.lines.slice(from))
      if (found !== undefined) return found
      if (this.process.exitCode !== null) throw new Error(`node ${this.id} exited: ${this.stderr}`)
      if (Date.now() > deadline)
        throw new Error(`node ${this.id}: timed out waiting for ${what}; stderr: ${this.stderr}`)
      await sleep(20)
    }
  }

  async status(): Promise<ReadonlyArray<Transport.PeerStatus>> {
    const from = this.lines.length
    this.command({ cmd: "status" })
    return this.until("status", (lines) => lines.find((l) => l.type === "status")?.status, from)
  }

  /** Polls the status until `check` holds. */
  async statusUntil(what: string, check: (status: ReadonlyArray<Transport.PeerStatus>) => boolean) {
    const deadline = Date.now() + 15_000
    for (;;) {
      if (check(await this.status())) return
      if (Date.now() > deadline)
        throw new Error(`node ${this.id}: timed out waiting for ${what}; stderr: ${this.stderr}`)
      await sleep(50)
    }
  }

  async broadcast(text: string): Promise<ReadonlyArray<number>> {
    const from = this.lines.length
    this.command({ cmd: "broadcast", text })
    const reached = await this.until(
      `broadcast ${text}`,
      (lines) => lines.find((l) => l.type === "reached" && l.text === text),
      from
    )
    return reached.type === "reached" ? [...reached.peers].sort() : []
  }

  events(from: number): Array<Transport.TransportEvent> {
    return this.lines.slice(from).flatMap((l) => (l.type === "event" ? [l.event] : []))
  }

  eventAt(from: number, match: Partial<Transport.TransportEvent>): number | undefined {
    const line = this.lines
      .slice(from)
      .find((l) => l.type === "event" && Object.entries(match).every(([k, v]) => l.event[k as "_tag"] === v))
    return line?.type === "event" ? line.at : undefined
  }
}

class Lab {
  readonly prefix = `ht${randomBytes(2).toString("hex")}`
  /** Second octet of the lab subnets 10.<octet>.<link>.0/24, chosen so no existing route uses it. */
  readonly octet: number
  readonly key = randomBytes(32).toString("hex")
  readonly nodes = new Map<number, LabNode>()

  constructor() {
    const routes = ip("route", "show", "table", "all")
    const free = Array.from({ length: 50 }, (_, i) => 200 + i).filter((o) => !routes.includes(`10.${o}.`))
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

  topology(id: number): Topology.NodeTopology {
    const endpoints = (n: number) =>
      LINKS.map((link) => ({ link, address: this.address(n, link), port: PORT }))
    return {
      clusterName: "netns",
      nodeId: id,
      links: endpoints(id),
      peers: NODES.filter((p) => p !== id).map((p) => ({ nodeId: p, links: endpoints(p) }))
    }
  }

  start(id: number): LabNode {
    const options = JSON.stringify({ topology: this.topology(id), key: this.key })
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        this.namespace(id),
        process.execPath,
        "--import",
        "tsx",
        "test/netns/node.ts",
        options
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

const allUp = (status: ReadonlyArray<Transport.PeerStatus>) =>
  status.length === 2 && status.every((p) => p.reachable && p.links.every((l) => l.state === "up"))

/** Every node broadcasts one message; returns who each reached and checks those peers received it. */
const broadcastRound = async (lab: Lab, tag: string) => {
  const reached = new Map<number, ReadonlyArray<number>>()
  for (const node of lab.nodes.values()) reached.set(node.id, await node.broadcast(`${tag} from ${node.id}`))
  for (const [sender, peers] of reached) {
    for (const peer of peers) {
      await lab.nodes
        .get(peer)!
        .until(`${tag} from ${sender}`, (lines) =>
          lines.find((l) => l.type === "message" && l.from === sender && l.text === `${tag} from ${sender}`)
        )
    }
  }
  return Object.fromEntries(reached)
}

describe("real UDP between network namespaces (3 nodes, 2 links each)", () => {
  it.skipIf(!isRoot)(
    "one link cut changes nothing but the link; both cut isolates the node; restore reconnects",
    async () => {
      const lab = new Lab()
      try {
        lab.up()
        const nodes = NODES.map((id) => lab.start(id))
        // Starting Node with tsx takes seconds of CPU; a loaded CI machine needs the long wait.
        await Promise.all(
          nodes.map((n) => n.until("ready", (lines) => lines.find((l) => l.type === "ready"), 0, 90_000))
        )
        await Promise.all(nodes.map((n) => n.statusUntil("both peers up on both links", allUp)))
        expect(await broadcastRound(lab, "start")).toEqual({ 1: [2, 3], 2: [1, 3], 3: [1, 2] })

        // One link of node 1 cut: the others see that link go down, nobody becomes unreachable.
        const [n1, n2, n3] = nodes as [LabNode, LabNode, LabNode]
        let marks = nodes.map((n) => n.lines.length)
        let cutAt = Date.now()
        lab.cut(1, 0)
        const down = { _tag: "LinkEvent", link: 0, state: "down" } as const
        await n2.until("link 0 to node 1 down", () => n2.eventAt(marks[1]!, { ...down, peer: 1 }))
        await n3.until("link 0 to node 1 down", () => n3.eventAt(marks[2]!, { ...down, peer: 1 }))
        await n1.until("link 0 to node 2 down", () => n1.eventAt(marks[0]!, { ...down, peer: 2 }))
        await n1.until("link 0 to node 3 down", () => n1.eventAt(marks[0]!, { ...down, peer: 3 }))
        const linkDetection = [
          n2.eventAt(marks[1]!, { ...down, peer: 1 })! - cutAt,
          n3.eventAt(marks[2]!, { ...down, peer: 1 })! - cutAt
        ]
        expect(await broadcastRound(lab, "one link cut")).toEqual({ 1: [2, 3], 2: [1, 3], 3: [1, 2] })
        for (const [i, node] of nodes.entries()) {
          expect(node.events(marks[i]!).filter((e) => e._tag === "PeerEvent")).toEqual([])
        }
        expect(n2.events(marks[1]!)).toEqual([{ ...down, peer: 1 }])

        // Both links of node 1 cut: node 1 and the others lose each other; 2 and 3 keep each other.
        marks = nodes.map((n) => n.lines.length)
        cutAt = Date.now()
        lab.cut(1, 1)
        const unreachable = { _tag: "PeerEvent", state: "unreachable" } as const
        await n2.until("node 1 unreachable", () => n2.eventAt(marks[1]!, { ...unreachable, peer: 1 }))
        await n3.until("node 1 unreachable", () => n3.eventAt(marks[2]!, { ...unreachable, peer: 1 }))
        await n1.until("node 2 unreachable", () => n1.eventAt(marks[0]!, { ...unreachable, peer: 2 }))
        await n1.until("node 3 unreachable", () => n1.eventAt(marks[0]!, { ...unreachable, peer: 3 }))
        const peerDetection = [
          n2.eventAt(marks[1]!, { ...unreachable, peer: 1 })! - cutAt,
          n3.eventAt(marks[2]!, { ...unreachable, peer: 1 })! - cutAt
        ]
        expect(await broadcastRound(lab, "isolated")).toEqual({ 1: [], 2: [3], 3: [2] })
        expect(n2.events(marks[1]!)).toEqual([
          { _tag: "LinkEvent", peer: 1, link: 1, state: "down" },
          { ...unreachable, peer: 1 }
        ])
        expect((await n2.status()).find((p) => p.nodeId === 3)).toMatchObject({ reachable: true })

        // Restored: everyone reaches everyone again on both links.
        marks = nodes.map((n) => n.lines.length)
        lab.restore(1, 0)
        lab.restore(1, 1)
        await Promise.all(nodes.map((n) => n.statusUntil("both peers up on both links again", allUp)))
        expect(n2.events(marks[1]!).filter((e) => e._tag === "PeerEvent")).toEqual([
          { _tag: "PeerEvent", peer: 1, state: "reachable" }
        ])
        expect(await broadcastRound(lab, "restored")).toEqual({ 1: [2, 3], 2: [1, 3], 3: [1, 2] })
        console.log(
          `netns: link down detected after ${linkDetection.join(", ")} ms; peer unreachable after ${peerDetection.join(", ")} ms`
        )
      } finally {
        await lab.down()
      }
      expect(lab.leftovers()).toEqual([])
    },
    240_000
  )
})
