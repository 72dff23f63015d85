/**
 * Manual fencing and confirmation, for the CLI (`ha fence NODE`, `ha fence history`,
 * `ha fence confirm NODE`): the functions and the texts they show.
 */
import { Effect } from "effect"
import type { HistoryEntry, RequestAction } from "./Fencer.ts"
import { FencerService } from "./FencerService.ts"

/** Shown (and to be acknowledged) before `ha fence confirm NODE`. */
export const confirmWarning = (node: string): string =>
  [
    `WARNING: this tells the cluster that ${node} is down WITHOUT fencing it.`,
    `The cluster will then recover ${node}'s resources on other nodes. If ${node} is in fact still`,
    "running (or can still reach shared storage), the same resources will be active twice and data",
    `can be corrupted. Only confirm after you made sure yourself that ${node} is powered off or cut off.`
  ].join("\n")

/** `ha fence NODE [--off|--reboot|--on]`: an administrator's request, executed cluster-wide. */
export const fence = (node: string, action?: RequestAction) =>
  Effect.flatMap(FencerService, (fencer) =>
    fencer.fence(node, { manual: true, ...(action === undefined ? {} : { action }) })
  )

/** `ha fence confirm NODE`: records the node as fenced; the caller must have shown `confirmWarning`. */
export const confirm = (node: string) => Effect.flatMap(FencerService, (fencer) => fencer.confirm(node))

/** `ha fence history [NODE]`. */
export const history = (node?: string) => Effect.flatMap(FencerService, (fencer) => fencer.history(node))

/** One line per entry, oldest first: when, target, action, state, who asked, who did it, how. */
export const formatHistory = (entries: ReadonlyArray<HistoryEntry>): string =>
  entries
    .map((e) => {
      const when = new Date(e.completedAt).toISOString()
      const by = e.executor === undefined ? "" : ` by ${e.executor}`
      const devices = e.devices.length > 0 ? ` with ${e.devices.join("+")}` : ""
      return `${when} ${e.action} of ${e.target}: ${e.state}${by}${devices} (asked by ${e.origins.join(", ")}; round ${e.round}): ${e.reason}`
    })
    .join("\n")
