/**
 * When the DC must replan although nothing happened: the cluster-recheck-interval (a safety net
 * for time-based rules) and the moment a failure expires (failure-timeout), whichever comes first.
 */
import { type Cib, Duration } from "@ha/cib"
import { locate, pairs } from "./Operations.ts"

const parentMeta = (cib: Cib.Cib, primitiveId: string): ReadonlyArray<Cib.NvSet> => {
  for (const top of cib.configuration.resources) {
    if (top._tag === "Group" && top.members.some((m) => m.id === primitiveId)) return top.metaAttributes
    if (top._tag === "Clone") {
      const child = top.child
      if (child.id === primitiveId) return top.metaAttributes
      if (child._tag === "Group" && child.members.some((m) => m.id === primitiveId))
        return [...child.metaAttributes, ...top.metaAttributes]
    }
  }
  return []
}

/** A resource's failure-timeout in ms (its own meta, its parents', then rsc_defaults); 0: never. */
export const failureTimeoutMs = (cib: Cib.Cib, resource: string): number => {
  const located = locate(cib, resource)
  const sets = [
    ...(located?.primitive.metaAttributes ?? []),
    ...(located === undefined ? [] : parentMeta(cib, located.primitive.id)),
    ...cib.configuration.rscDefaults
  ]
  const text = pairs(sets)["failure-timeout"]
  return text === undefined ? 0 : (Duration.parse(text) ?? 0)
}

/** The cluster-recheck-interval in ms (`fallbackMs` when unset; 0 disables it). */
export const recheckIntervalMs = (cib: Cib.Cib, fallbackMs: number): number => {
  const text = pairs(cib.configuration.clusterProperties)["cluster-recheck-interval"]
  return text === undefined ? fallbackMs : (Duration.parse(text) ?? fallbackMs)
}

/** The next time (ms since the epoch) the DC must replan on its own, or `undefined` for never. */
export const nextRecheck = (cib: Cib.Cib, nowMs: number, fallbackIntervalMs: number): number | undefined => {
  const interval = recheckIntervalMs(cib, fallbackIntervalMs)
  let next = interval > 0 ? nowMs + interval : Number.POSITIVE_INFINITY
  for (const state of cib.status.nodes) {
    for (const set of state.transientAttributes?.sets ?? []) {
      for (const pair of set.nvpairs) {
        const match = /^last-failure-(.+?)(?:#.+)?$/.exec(pair.name ?? "")
        if (match === null || pair.value === undefined) continue
        const timeout = failureTimeoutMs(cib, match[1]!)
        const expires = Number(pair.value) * 1000 + timeout
        if (timeout > 0 && expires > nowMs && expires < next) next = expires
      }
    }
  }
  return Number.isFinite(next) ? next : undefined
}
