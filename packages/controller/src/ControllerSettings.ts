/**
 * The controller's settings: one Tag whose fields carry their defaults, `layer(options)` to
 * override some, and a described `Config` reading them from the environment (`HA_CONTROLLER_*`).
 * Cluster-wide options (batch-limit, cluster-recheck-interval) come from the CIB's cluster
 * properties; these are the node-local fallbacks.
 */
import { Config, type ConfigError, Context, Layer } from "effect"

export interface Settings {
  /** This node's name (as in the CIB's node list and the membership). */
  readonly nodeName: string
  /** Actions in flight at once when the CIB's batch-limit is 0 or unset. */
  readonly defaultBatchLimit: number
  /** Replan at least this often when the CIB sets no cluster-recheck-interval (ms). */
  readonly recheckIntervalMs: number
  /** Extra time past an operation's timeout before the DC gives up waiting for its result (ms). */
  readonly resultGraceMs: number
}

export const defaults: Settings = {
  nodeName: "localhost",
  defaultBatchLimit: 30,
  recheckIntervalMs: 15 * 60_000,
  resultGraceMs: 10_000
}

export class ControllerSettings extends Context.Tag("@ha/controller/ControllerSettings")<
  ControllerSettings,
  Settings
>() {}

export const layer = (options: Partial<Settings> = {}): Layer.Layer<ControllerSettings> =>
  Layer.succeed(ControllerSettings, { ...defaults, ...options })

export const config: Config.Config<Settings> = Config.nested(
  Config.all({
    nodeName: Config.string("NODE_NAME").pipe(
      Config.withDescription("This node's name, as in the CIB's node list"),
      Config.withDefault(defaults.nodeName)
    ),
    defaultBatchLimit: Config.integer("DEFAULT_BATCH_LIMIT").pipe(
      Config.withDescription("Actions in flight at once when the cluster's batch-limit is 0 or unset"),
      Config.withDefault(defaults.defaultBatchLimit)
    ),
    recheckIntervalMs: Config.integer("RECHECK_INTERVAL_MS").pipe(
      Config.withDescription("Replan at least this often when the CIB sets no cluster-recheck-interval (ms)"),
      Config.withDefault(defaults.recheckIntervalMs)
    ),
    resultGraceMs: Config.integer("RESULT_GRACE_MS").pipe(
      Config.withDescription(
        "Time past an operation's timeout before the DC stops waiting for its result (ms)"
      ),
      Config.withDefault(defaults.resultGraceMs)
    )
  }),
  "HA_CONTROLLER"
)

export const layerConfig: Layer.Layer<ControllerSettings, ConfigError.ConfigError> = Layer.effect(
  ControllerSettings,
  config
)
