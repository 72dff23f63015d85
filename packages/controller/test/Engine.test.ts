import type { Transition } from "@ha/policy"
import { Engine } from "../src/index.ts"
import { type Case, runDir } from "./datadriven.ts"

/** Action lines: `ID KIND TASK [resource=R] [node=N] [interval=MS]`; edge lines: `edges 1>2 2>3`. */
const transitionOf = (c: Case): Transition.Transition => {
  const actions: Array<Transition.Action> = []
  const edges: Array<Transition.Edge> = []
  for (const line of c.input) {
    const [first = "", ...rest] = line.trim().split(/\s+/)
    if (first === "edges") {
      for (const edge of rest) {
        const [before, after] = edge.split(">").map(Number) as [number, number]
        edges.push({ before, after })
      }
      continue
    }
    const [kind = "", task = "", ...attrs] = rest
    const a = new Map(attrs.map((w) => w.split("=") as [string, string]))
    const resource = a.get("resource")
    const node = a.get("node")
    const interval = Number(a.get("interval") ?? "0")
    const key = task === "stonith" ? `stonith-${node}-reboot` : `${resource}_${task}_${interval}`
    actions.push({
      id: Number(first),
      key,
      task,
      resource,
      node,
      interval,
      kind: kind as Transition.ActionKind
    })
  }
  return { placements: [], actions, edges, scores: new Map(), summary: [] }
}

const show = (output: Engine.Output): string => {
  switch (output._tag) {
    case "Schedule":
      return `schedule: ${output.reasons.join("; ")}`
    case "Dispatch":
    case "Implied": {
      const where = output.action.node === undefined ? "" : ` on ${output.action.node}`
      return `${output._tag.toLowerCase()} g${output.graph} #${output.action.id} ${output.action.key}${where}`
    }
    case "Finished":
      return `finished g${output.graph} ${output.outcome} ${output.done}/${output.total}${
        output.reasons.length === 0 ? "" : `: ${output.reasons.join("; ")}`
      }`
  }
}

runDir(new URL("../testdata/engine/", import.meta.url), () => {
  let state = Engine.initial
  const run = (input: Engine.Input) => {
    const { state: next, outputs } = Engine.step(state, input)
    state = next
    return outputs.map(show).join("\n") || "(nothing)"
  }
  const graphOf = (c: Case) => Number(c.args.get("graph") ?? state.graph?.id ?? state.lastId)
  return (c) => {
    switch (c.command) {
      case "plan": {
        const unfenced = new Map<string, ReadonlySet<string>>()
        for (const entry of (c.args.get("unfenced") ?? "").split(",").filter((e) => e !== "")) {
          const [node = "", resources = ""] = entry.split(":")
          unfenced.set(node, new Set(resources.split("+")))
        }
        return run({
          _tag: "Planned",
          plan: {
            transition: transitionOf(c),
            batchLimit: Number(c.args.get("batch") ?? "10"),
            members: new Set((c.args.get("members") ?? "").split(",").filter((m) => m !== "")),
            unfenced
          }
        })
      }
      case "trigger":
        return run({ _tag: "Trigger", reason: c.words.join(" ") })
      case "planfail":
        return run({ _tag: "PlanFailed", reason: c.words.join(" ") })
      case "done":
        return run({
          _tag: "ActionDone",
          graph: graphOf(c),
          action: Number(c.words[0]),
          ok: true,
          reason: "ok"
        })
      case "fail":
        return run({
          _tag: "ActionDone",
          graph: graphOf(c),
          action: Number(c.words[0]),
          ok: false,
          reason: c.words.slice(1).join(" ")
        })
      case "idle":
        return String(Engine.idle(state))
      default:
        throw new Error(`${c.file}:${c.line}: unknown command ${c.command}`)
    }
  }
})
