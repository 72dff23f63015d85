/**
 * Settings of the live CIB store, in the style of Effect's cluster `ShardingConfig`: one Tag whose
 * fields carry their docs and defaults, `defaults`, `layer(options)` and a described `Config` read
 * from the environment (`HA_CIB_DIRECTORY`, `HA_CIB_BACKUPS`, `HA_CIB_WRITER_GROUP`,
 * `HA_CIB_REQUEST_TIMEOUT`, `HA_CIB_CONFLICT_RETRIES`).
 */
import { Config, type ConfigError, Context, Layer, Option } from "effect"

export interface Settings {
  /** Directory of cib.xml and its backups. Default `/var/lib/ha/cib`. */
  readonly directory: string
  /**
   * Previous versions kept as backups (cib-N.xml, N increasing), for recovery when cib.xml is
   * damaged. Default 100; 0 keeps none.
   */
  readonly backups: number
  /**
   * Group id whose members may write the CIB through the local API, besides root. Default none:
   * only root may write.
   */
  readonly writerGroup: number | undefined
  /**
   * Milliseconds a replicated update waits for the DC's answer before failing with
   * `UpdateTimeout`. Default 30000.
   */
  readonly requestTimeout: number
  /**
   * Times a replicated update given as a function of the CIB is recomputed and sent again when
   * a concurrent update made its patch no longer fit. Default 10.
   */
  readonly conflictRetries: number
}

export const defaults: Settings = {
  directory: "/var/lib/ha/cib",
  backups: 100,
  writerGroup: undefined,
  requestTimeout: 30_000,
  conflictRetries: 10
}

export class CibStoreSettings extends Context.Tag("@ha/cib/CibStoreSettings")<CibStoreSettings, Settings>() {}

export const layer = (options: Partial<Settings> = {}): Layer.Layer<CibStoreSettings> =>
  Layer.succeed(CibStoreSettings, { ...defaults, ...options })

/** The settings from the environment, e.g. `HA_CIB_BACKUPS=20`. */
export const config: Config.Config<Settings> = Config.nested(
  Config.all({
    directory: Config.string("DIRECTORY").pipe(
      Config.withDefault(defaults.directory),
      Config.withDescription("Directory of cib.xml and its backups.")
    ),
    backups: Config.integer("BACKUPS").pipe(
      Config.validate({ message: "must be 0 or more", validation: (n) => n >= 0 }),
      Config.withDefault(defaults.backups),
      Config.withDescription("Previous CIB versions kept as backups (cib-N.xml); 0 keeps none.")
    ),
    writerGroup: Config.integer("WRITER_GROUP").pipe(
      Config.option,
      Config.map(Option.getOrUndefined),
      Config.withDescription("Group id whose members may write the CIB besides root; unset: root only.")
    ),
    requestTimeout: Config.integer("REQUEST_TIMEOUT").pipe(
      Config.validate({ message: "must be more than 0", validation: (n) => n > 0 }),
      Config.withDefault(defaults.requestTimeout),
      Config.withDescription("Milliseconds a replicated update waits for the DC's answer.")
    ),
    conflictRetries: Config.integer("CONFLICT_RETRIES").pipe(
      Config.validate({ message: "must be 0 or more", validation: (n) => n >= 0 }),
      Config.withDefault(defaults.conflictRetries),
      Config.withDescription("Times a function update is recomputed after a concurrent update conflicts.")
    )
  }),
  "HA_CIB"
)

export const layerConfig: Layer.Layer<CibStoreSettings, ConfigError.ConfigError> = Layer.effect(
  CibStoreSettings,
  config
)
