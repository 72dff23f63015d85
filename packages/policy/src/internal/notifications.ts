/**
 * Clone notifications (notify=true): around each phase of a clone's transition (stop, start, demote,
 * promote) the active instances are told before (pre) and after (post), each step framed by pseudo
 * actions: pre_notify_X → instance notifies → confirmed-pre_notify_X → X … Xdone → post_notify_Xdone →
 * instance notifies → confirmed-post_notify_Xdone.
 *
 * Recipients: pre-stop and both demote notifications go to the instances active now; post-stop and
 * pre-start to those that stay; post-start and both promote notifications to those active afterwards.
 */
import type { ActionGraph, GraphAction } from "./actions.ts"
import type { CollectivePlan } from "./collective.ts"
import type { NodeInfo } from "./nodes.ts"
import type { PrimitivePlan } from "./primitive.ts"

type Phase = "stop" | "start" | "demote" | "promote"
const done: Record<Phase, string> = {
  stop: "stopped",
  start: "running",
  demote: "demoted",
  promote: "promoted"
}

export const addNotifications = (
  graph: ActionGraph,
  clone: CollectivePlan,
  instances: ReadonlyArray<PrimitivePlan>,
  nodes: ReadonlyArray<NodeInfo>,
  fenced: ReadonlySet<number>
): void => {
  const cloneId = clone.resource.id
  // who is active when: (instance plan, node index)
  const now: Array<[PrimitivePlan, number]> = []
  const staying: Array<[PrimitivePlan, number]> = []
  const after: Array<[PrimitivePlan, number]> = []
  for (const p of instances) {
    for (const i of p.active) {
      if (fenced.has(i) || !nodes[i]!.online) continue
      now.push([p, i])
      if (!p.stops.get(i)!.required) staying.push([p, i])
    }
    if (p.target !== undefined && p.start.required && p.start.runnable) after.push([p, p.target])
  }
  after.push(...staying)
  const recipients: Record<string, ReadonlyArray<[PrimitivePlan, number]>> = {
    "pre-stop": now,
    "post-stop": staying,
    "pre-demote": now,
    "post-demote": now,
    "pre-start": staying,
    "post-start": after,
    "pre-promote": after,
    "post-promote": after
  }
  const pseudo = (key: string, task: string): GraphAction =>
    graph.action({ key, task, resource: cloneId, kind: "pseudo_event", required: true, runnable: true })

  const phaseActions: Record<Phase, [GraphAction | undefined, GraphAction | undefined]> = {
    stop: [clone.stop, clone.stopped],
    start: [clone.start, clone.running],
    demote: [clone.demote, clone.demoted],
    promote: [clone.promote, clone.promoted]
  }
  const confirmedPost = new Map<Phase, GraphAction>()
  const pres = new Map<Phase, GraphAction>()
  for (const phase of ["demote", "stop", "start", "promote"] as const) {
    const [begin, end] = phaseActions[phase]
    if (!begin || !end || !begin.required || !begin.runnable) continue
    const pre = pseudo(`${cloneId}_pre_notify_${phase}_0`, "notify")
    const preDone = pseudo(`${cloneId}_confirmed-pre_notify_${phase}_0`, "notified")
    const post = pseudo(`${cloneId}_post_notify_${done[phase]}_0`, "notify")
    const postDone = pseudo(`${cloneId}_confirmed-post_notify_${done[phase]}_0`, "notified")
    const notify = (when: "pre" | "post", first: GraphAction, then: GraphAction, notifyPhase: string) => {
      for (const [p, i] of recipients[`${when}-${phase}`]!) {
        const n = graph.action({
          key: `${p.resource.id}_${when}_notify_${notifyPhase}_0`,
          task: "notify",
          resource: p.resource.id,
          node: nodes[i]!.name,
          kind: "rsc_op",
          required: true,
          runnable: true
        })
        graph.order(first, n)
        graph.order(n, then)
      }
      graph.order(first, then)
    }
    notify("pre", pre, preDone, phase)
    graph.order(preDone, begin)
    graph.order(end, post)
    notify("post", post, postDone, phase)
    pres.set(phase, pre)
    confirmedPost.set(phase, postDone)
  }
  // phases follow each other: demote, stop, start, promote
  const sequence: ReadonlyArray<Phase> = ["demote", "stop", "start", "promote"]
  for (let a = 0; a < sequence.length; a++) {
    const finished = confirmedPost.get(sequence[a]!)
    if (!finished) continue
    for (let b = a + 1; b < sequence.length; b++) {
      const next = pres.get(sequence[b]!)
      if (next) {
        graph.order(finished, next)
        break
      }
    }
  }
}
