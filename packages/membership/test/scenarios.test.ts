/**
 * Data-driven scenarios in the style of etcd raft's testdata: each file in testdata/ is a list of
 * commands, each followed by `----` and the output it must produce. `REWRITE=1 npx vitest run
 * --project membership` rewrites the expected outputs (review the diff before keeping it).
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import type { NodeId } from "../src/Totem.ts"
import { type Event, Sim, testSettings } from "./sim.ts"

const dir = join(import.meta.dirname, "..", "testdata")

interface Block {
  /** Comment lines just before the command. */
  readonly comments: ReadonlyArray<string>
  readonly line: number
  readonly command: string
  readonly expected: string
}

/** Splits a file into command blocks; a malformed file fails naming its line. */
const parse = (file: string, text: string): Array<Block> => {
  const lines = text.split("\n")
  const blocks: Array<Block> = []
  let i = 0
  let comments: Array<string> = []
  while (i < lines.length) {
    const line = lines[i] ?? ""
    if (line.trim() === "" || line.startsWith("#")) {
      if (line.startsWith("#")) comments.push(line)
      i++
      continue
    }
    const start = i + 1
    if (lines[i + 1] !== "----") throw new Error(`${file}:${start}: expected '----' after command '${line}'`)
    i += 2
    const out: Array<string> = []
    while (i < lines.length && (lines[i] ?? "") !== "") out.push(lines[i++] ?? "")
    blocks.push({ comments, line: start, command: line, expected: out.join("\n") })
    comments = []
  }
  return blocks
}

const ring = (r: { rep: number; seq: number }) => `${r.rep}.${r.seq}`
const text = (payload: Uint8Array) => new TextDecoder().decode(payload)

const describeEvent = (e: Event): string | null => {
  const o = e.output
  switch (o._tag) {
    case "ViewInstalled":
      return `${e.at} n${e.node} view ${ring(o.view.id)} [${o.view.members.join(",")}]`
    case "TransitionalView":
      return `${e.at} n${e.node} transitional ${ring(o.from)}->${ring(o.to)} [${o.members.join(",")}]`
    case "TokenLost":
      return `${e.at} n${e.node} token-lost ${ring(o.ring)}`
    case "Delivered":
      return `${e.at} n${e.node} deliver ${ring(o.view)}#${o.seq}.${o.index}${o.transitional ? " (transitional)" : ""} from n${o.sender} ${text(o.payload)}`
    default:
      return null
  }
}

const ids = (args: ReadonlyArray<string>): Array<NodeId> => args.map(Number)

const run = (file: string, blocks: ReadonlyArray<Block>): Array<string> => {
  let sim: Sim | null = null
  const need = (b: Block) => {
    if (sim === null) throw new Error(`${file}:${b.line}: 'nodes' must come first`)
    return sim
  }
  return blocks.map((b) => {
    const from = sim?.events.length ?? 0
    const result = execute(b)
    // Every command also shows the protocol events it caused (a broadcast may release a held token).
    const events = (sim?.events.slice(from) ?? []).map(describeEvent).filter((x) => x !== null)
    return [...(result === "" ? [] : [result]), ...events].join("\n")
  })

  function execute(b: Block): string {
    const [cmd = "", ...args] = b.command.split(/\s+/)
    switch (cmd) {
      case "nodes": {
        const seed = Number(args.find((a) => a.startsWith("seed="))?.slice(5) ?? 1)
        sim = new Sim(ids(args.filter((a) => !a.includes("="))), testSettings, seed)
        return ""
      }
      case "run":
        need(b).run(Number(args[0]))
        return ""
      case "broadcast": {
        const s = need(b)
        const [node, ...messages] = args
        for (const m of messages) s.broadcast(Number(node), m)
        return ""
      }
      case "partition": {
        const s = need(b)
        s.partition(
          b.command
            .slice("partition".length)
            .split("|")
            .map((g) => ids(g.trim().split(/\s+/)))
        )
        return ""
      }
      case "heal":
        need(b).heal()
        return ""
      case "kill":
        for (const id of ids(args)) need(b).killed.add(id)
        return ""
      case "restart":
        for (const id of ids(args)) need(b).restart(id)
        return ""
      case "freeze":
        for (const id of ids(args)) need(b).frozen.add(id)
        return ""
      case "thaw":
        for (const id of ids(args)) need(b).frozen.delete(id)
        return ""
      case "loss":
        need(b).faults.loss = Number(args[0])
        return ""
      case "views": {
        const s = need(b)
        return [...s.machines.keys()].map((id) => `n${id} ${s.currentView(id)}`).join("\n")
      }
      case "delivered": {
        const s = need(b)
        return [...s.machines.keys()].map((id) => `n${id} ${s.delivered(id).join(" ")}`).join("\n")
      }
      default:
        throw new Error(`${file}:${b.line}: unknown command '${cmd}'`)
    }
  }
}

const files = readdirSync(dir).filter((f) => f.endsWith(".txt"))

describe("Totem scenarios (testdata/*.txt)", () => {
  it("has scenarios", () => {
    expect(files.length).toBeGreaterThan(0)
  })
  for (const file of files) {
    it(file, () => {
      const source = readFileSync(join(dir, file), "utf8")
      const blocks = parse(file, source)
      const actual = run(file, blocks)
      if (process.env.REWRITE === "1") {
        const rewritten = blocks.map((b, i) =>
          [...b.comments, b.command, "----", ...(actual[i] === "" ? [] : [actual[i]])].join("\n")
        )
        writeFileSync(join(dir, file), `${rewritten.join("\n\n")}\n`)
        return
      }
      blocks.forEach((b, i) => {
        expect(actual[i], `${file}:${b.line}: ${b.command}`).toBe(b.expected)
      })
    })
  }
})
