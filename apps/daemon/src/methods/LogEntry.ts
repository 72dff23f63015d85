/**
 * `ha log`: the controller's events and the fencing history as one timeline, each entry with a
 * line for people (who did what, and why) beside its data.
 */
import type { Controller } from "@ha/controller"
import type { Fencer } from "@ha/fencing"

export interface LogEntry {
  /** milliseconds since the epoch */
  readonly at: number
  /** The node that recorded it (the DC for transitions; the fencing history is cluster-wide). */
  readonly node: string | null
  readonly kind: string
  readonly text: string
}

const on = (node: string | undefined) => (node === undefined ? "" : ` on ${node}`)

const describe = (e: Controller.ControllerEvent): string => {
  switch (e._tag) {
    case "Elected":
      return e.dc === undefined ? "no DC (no quorate view)" : `${e.dc} elected DC`
    case "TransitionStarted":
      return `transition ${e.graph} started with ${e.actions} action(s) because ${e.reasons.join("; ")}`
    case "Dispatched":
      return `transition ${e.graph}: ${e.key}${on(e.node)} dispatched`
    case "Completed":
      return `transition ${e.graph}: ${e.key}${on(e.node)} ${e.ok ? "done" : "FAILED"} (${e.detail})`
    case "TransitionFinished":
      return `transition ${e.graph} ${e.outcome}: ${e.done}/${e.total} action(s) in ${e.durationMs} ms`
    case "FailureCounted":
      return `${e.resource}: ${e.operation} failed on ${e.node} (rc ${e.rc}), fail-count raised`
    case "NodeFenced":
      return `${e.node} fenced: its resources may be recovered elsewhere`
    case "PlanFailed":
      return `no transition could be planned: ${e.reason}`
  }
}

export const ofController = (node: string, e: Controller.ControllerEvent): LogEntry => ({
  at: e.at,
  node,
  kind: e._tag,
  text: describe(e)
})

export const ofFencing = (e: Fencer.HistoryEntry): LogEntry => ({
  at: e.completedAt,
  node: e.executor ?? null,
  kind: "Fencing",
  text: `${e.action} of ${e.target} ${e.state}${e.executor === undefined ? "" : ` by ${e.executor}`}${
    e.devices.length > 0 ? ` with ${e.devices.join("+")}` : ""
  } (asked by ${e.origins.join(", ")}): ${e.reason}`
})
