/** Cluster options (crm_config) with Pacemaker's defaults. */
import { Cib, Score } from "@ha/cib"
import { resolveNvSets } from "./rules.ts"

export type NoQuorumPolicy = "stop" | "freeze" | "ignore" | "demote" | "suicide"

export interface ClusterOptions {
  readonly stonithEnabled: boolean
  readonly stonithAction: string
  readonly symmetricCluster: boolean
  readonly noQuorumPolicy: NoQuorumPolicy
  readonly haveQuorum: boolean
  readonly maintenanceMode: boolean
  readonly stopAllResources: boolean
  readonly startFailureIsFatal: boolean
  readonly startupFencing: boolean
  readonly stopOrphanResources: boolean
  readonly placementStrategy: string
  readonly defaultStickiness: number
  readonly concurrentFencing: boolean
  /** node-health-strategy and the scores of its colors (Pacemaker Explained, "Tracking Node Health") */
  readonly nodeHealth: {
    readonly strategy: string
    readonly base: number
    readonly red: number
    readonly yellow: number
    readonly green: number
  }
  /** rsc_defaults meta attributes (rule-less or matching) */
  readonly rscDefaults: ReadonlyMap<string, string>
  /** op_defaults meta attributes */
  readonly opDefaults: ReadonlyMap<string, string>
}

export const clusterOptions = (cib: Cib.Cib, now: number): ClusterOptions => {
  const ctx = { attributes: new Map<string, string>(), now }
  const props = resolveNvSets(cib.configuration.clusterProperties, ctx)
  const bool = (name: string, dflt: boolean) => {
    const v = props.get(name)
    return v === undefined ? dflt : Cib.isTrue(v)
  }
  const nqp = props.get("no-quorum-policy") ?? "stop"
  const haveQuorum = cib.haveQuorum === undefined ? true : Cib.isTrue(cib.haveQuorum)
  return {
    stonithEnabled: bool("stonith-enabled", true),
    stonithAction: (props.get("stonith-action") ?? "reboot").replace("poweroff", "off"),
    symmetricCluster: bool("symmetric-cluster", true),
    noQuorumPolicy: (["stop", "freeze", "ignore", "demote", "suicide"].includes(nqp)
      ? nqp
      : "stop") as NoQuorumPolicy,
    haveQuorum,
    maintenanceMode: bool("maintenance-mode", false),
    stopAllResources: bool("stop-all-resources", false),
    startFailureIsFatal: bool("start-failure-is-fatal", true),
    startupFencing: bool("startup-fencing", true),
    stopOrphanResources: bool("stop-orphan-resources", true),
    placementStrategy: props.get("placement-strategy") ?? "default",
    defaultStickiness: Score.parse(props.get("default-resource-stickiness") ?? "0") ?? 0,
    concurrentFencing: bool("concurrent-fencing", false),
    nodeHealth: {
      strategy: props.get("node-health-strategy") ?? "none",
      base: Score.parse(props.get("node-health-base") ?? "0") ?? 0,
      red: Score.parse(props.get("node-health-red") ?? "-INFINITY") ?? -Score.INFINITY,
      yellow: Score.parse(props.get("node-health-yellow") ?? "0") ?? 0,
      green: Score.parse(props.get("node-health-green") ?? "0") ?? 0
    },
    rscDefaults: resolveNvSets(cib.configuration.rscDefaults, ctx),
    opDefaults: resolveNvSets(cib.configuration.opDefaults, ctx)
  }
}
