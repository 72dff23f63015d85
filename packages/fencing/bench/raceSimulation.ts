/**
 * The two-node fence race on the pure Fencer machines: both links between n1 and n2 are cut at a
 * random moment, each node notices the loss after its own (jittered) detection time, finds itself
 * alone in its partition and asks to fence the other. Agents take a random time to reach the
 * power device (the point of no return) and then confirm; a node that loses power first never
 * gets its command through. Count how often exactly one node survives.
 * (The same race on real namespace nodes is bench/fenceRace.ts.)
 */
import { Cib } from "@ha/cib"
import { Effect } from "effect"
import { Fencer, FencingConfig } from "../src/index.ts"
import * as Prng from "../src/internal/prng.ts"

const nodes = ["n1", "n2"] as const
type Node = (typeof nodes)[number]
const other = (node: Node): Node => (node === "n1" ? "n2" : "n1")

export interface RaceVariant {
  readonly name: string
  /** Instance attributes of the device that fences n1 and of the one that fences n2. */
  readonly fenceN1?: Record<string, string>
  readonly fenceN2?: Record<string, string>
  readonly properties?: Record<string, string>
  /** Resource priorities per node (n1 runs the important ones in the priority variants). */
  readonly priorities?: Record<string, number>
}

export interface RaceTiming {
  /** Token + consensus until membership notices the loss, and its spread between the nodes. */
  readonly detectMs: number
  readonly detectJitterMs: number
  /** Time for an agent to reach the power device (login …): the point of no return. */
  readonly reachMinMs: number
  readonly reachMaxMs: number
  /** From the command reaching the device to the power actually going (a window in which the victim can still shoot). */
  readonly cutMinMs: number
  readonly cutMaxMs: number
  /** From the power cut to the agent's exit 0. */
  readonly confirmMs: number
}

export const defaultTiming: RaceTiming = {
  detectMs: 2200,
  detectJitterMs: 400,
  reachMinMs: 300,
  reachMaxMs: 1500,
  cutMinMs: 100,
  cutMaxMs: 800,
  confirmMs: 300
}

const info = {
  hostParameter: "plug" as const,
  parameters: ["plug"],
  actions: ["off", "on", "reboot", "status", "monitor"]
}

const configOf = (variant: RaceVariant) => {
  const nv = (pairs: Record<string, string>): Cib.NvSet => ({
    rules: [],
    nvpairs: Object.entries(pairs).map(([name, value]) => ({ name, value }))
  })
  const device = (id: string, target: string, extra: Record<string, string> = {}): Cib.Primitive => ({
    _tag: "Primitive",
    id,
    class: "stonith",
    type: "fence-sim",
    instanceAttributes: [nv({ pcmk_host_list: target, ...extra })],
    metaAttributes: [],
    utilization: []
  })
  const cib: Cib.Cib = {
    ...Cib.empty,
    configuration: {
      ...Cib.empty.configuration,
      nodes: nodes.map((uname, i) => ({ id: String(i + 1), uname, instanceAttributes: [], utilization: [] })),
      resources: [device("fence-n1", "n1", variant.fenceN1), device("fence-n2", "n2", variant.fenceN2)],
      clusterProperties: [nv({ "stonith-action": "off", ...variant.properties })]
    }
  }
  return Effect.runSync(FencingConfig.fromCib(cib, new Map([["fence-sim", info]])))
}

interface PendingAction {
  readonly node: Node
  readonly invocationId: string
  readonly target: Node
  readonly reachAt: number
  readonly cutAt: number
  readonly doneAt: number
  reached: boolean
}

/** One race; returns the nodes still powered at the end. */
export const race = (
  variant: RaceVariant,
  seed: number,
  timing: RaceTiming = defaultTiming
): ReadonlyArray<string> => {
  const config = configOf(variant)
  let rng = seed
  const random = () => {
    const drawn = Prng.next(rng)
    rng = drawn.seed
    return drawn.value
  }
  const cutAt = Math.floor(random() * 1000)
  const detectAt: Record<Node, number> = {
    n1: cutAt + timing.detectMs + Math.floor(random() * timing.detectJitterMs),
    n2: cutAt + timing.detectMs + Math.floor(random() * timing.detectJitterMs)
  }
  const states: Record<Node, Fencer.State> = {
    n1: Fencer.init("n1", config, seed * 2 + 1, Fencer.defaultOptions, nodes),
    n2: Fencer.init("n2", config, seed * 2 + 2, Fencer.defaultOptions, nodes)
  }
  const alive: Record<Node, boolean> = { n1: true, n2: true }
  const detected: Record<Node, boolean> = { n1: false, n2: false }
  let pending: Array<PendingAction> = []
  const deaths: Array<{ readonly node: Node; readonly at: number }> = []

  const feed = (node: Node, input: Fencer.Input) => {
    const queue: Array<Fencer.Input> = [input]
    while (queue.length > 0 && alive[node]) {
      const { state, outputs } = Fencer.step(states[node], queue.shift()!)
      states[node] = state
      for (const output of outputs) {
        // Partitioned: a broadcast reaches only the sender.
        if (output._tag === "Broadcast")
          queue.push({ _tag: "Deliver", message: output.message, now: input.now })
        else if (output._tag === "RunAgent") {
          const reachAt =
            input.now + timing.reachMinMs + Math.floor(random() * (timing.reachMaxMs - timing.reachMinMs))
          const target = output.request.params.plug as Node
          const cutAt = reachAt + timing.cutMinMs + Math.floor(random() * (timing.cutMaxMs - timing.cutMinMs))
          pending.push({
            node,
            invocationId: output.invocationId,
            target,
            reachAt,
            cutAt,
            doneAt: cutAt + timing.confirmMs,
            reached: false
          })
        } else if (output._tag === "CancelAgent")
          pending = pending.filter((p) => p.invocationId !== output.invocationId)
      }
    }
  }

  for (const node of nodes) feed(node, { _tag: "Priorities", priorities: variant.priorities ?? {}, now: 0 })
  for (let now = 0; now <= 60_000; now += 10) {
    for (const node of nodes) {
      if (!alive[node] || detected[node] || now < detectAt[node]) continue
      detected[node] = true
      feed(node, { _tag: "Membership", members: [node], now })
      feed(node, {
        _tag: "Deliver",
        now,
        message: {
          _tag: "FenceRequest",
          requestId: `${node}:1`,
          origin: node,
          target: other(node),
          action: "off",
          requestedAt: now,
          manual: false
        }
      })
    }
    for (const action of pending) {
      if (!alive[action.node] || action.reached || now < action.reachAt) continue
      // The command reached the device: the target will lose power, whatever happens to the sender.
      action.reached = true
      deaths.push({ node: action.target, at: action.cutAt })
    }
    // A node without power stops, and its agent runs that had not reached a device with it.
    for (const death of deaths) if (now >= death.at) alive[death.node] = false
    pending = pending.filter((p) => alive[p.node])
    for (const action of pending.filter((p) => p.reached && now >= p.doneAt)) {
      pending = pending.filter((p) => p !== action)
      feed(action.node, {
        _tag: "AgentDone",
        invocationId: action.invocationId,
        outcome: {
          _tag: "Exited",
          code: 0,
          stdout: "Success: Powered OFF",
          stderr: "",
          durationMs: action.doneAt - action.reachAt
        },
        now
      })
    }
    for (const node of nodes) if (alive[node]) feed(node, { _tag: "Tick", now })
    const settled =
      deaths.every((death) => now >= death.at) &&
      nodes.every((node) => !alive[node] || (detected[node] && !Fencer.busy(states[node])))
    if (settled) break
  }
  return nodes.filter((node) => alive[node])
}

export const variants: ReadonlyArray<RaceVariant> = [
  { name: "no delays" },
  {
    name: "pcmk_delay_max=5s on both devices",
    fenceN1: { pcmk_delay_max: "5s" },
    fenceN2: { pcmk_delay_max: "5s" }
  },
  { name: "pcmk_delay_base=5s on the device fencing n1", fenceN1: { pcmk_delay_base: "5s" } },
  {
    name: "priority-fencing-delay=5s, n1 runs priority 10, plus pcmk_delay_max=2s",
    fenceN1: { pcmk_delay_max: "2s" },
    fenceN2: { pcmk_delay_max: "2s" },
    properties: { "priority-fencing-delay": "5s" },
    priorities: { n1: 10, n2: 0 }
  }
]
