/** Settings of the fencer service (cluster-wide fencing options come from the CIB: FencingConfig). */
import { Config, Context, Layer } from "effect"

export interface Settings {
  /** How often the fencer looks at delays and deadlines. */
  readonly tickMs: number
  /** Extra time past an agent's timeout before the fencer stops waiting for its runner. */
  readonly watchdogGraceMs: number
  /** Fencing history entries kept per node. */
  readonly historyLimit: number
}

export class FencingSettings extends Context.Tag("@ha/fencing/FencingSettings")<FencingSettings, Settings>() {
  static readonly defaults: Settings = { tickMs: 100, watchdogGraceMs: 5000, historyLimit: 1000 }

  static readonly layer = (options: Partial<Settings> = {}) =>
    Layer.succeed(FencingSettings, { ...FencingSettings.defaults, ...options })

  /** From the environment: HA_FENCING_TICK_MS, HA_FENCING_WATCHDOG_GRACE_MS, HA_FENCING_HISTORY_LIMIT. */
  static readonly config: Config.Config<Settings> = Config.all({
    tickMs: Config.integer("HA_FENCING_TICK_MS").pipe(
      Config.withDescription("How often the fencer checks fencing delays and agent deadlines (ms)"),
      Config.withDefault(FencingSettings.defaults.tickMs)
    ),
    watchdogGraceMs: Config.integer("HA_FENCING_WATCHDOG_GRACE_MS").pipe(
      Config.withDescription(
        "Time past an agent's timeout before the fencer declares it timed out itself (ms)"
      ),
      Config.withDefault(FencingSettings.defaults.watchdogGraceMs)
    ),
    historyLimit: Config.integer("HA_FENCING_HISTORY_LIMIT").pipe(
      Config.withDescription("Fencing history entries kept"),
      Config.withDefault(FencingSettings.defaults.historyLimit)
    )
  })

  static readonly layerConfig = Layer.effect(FencingSettings, FencingSettings.config)
}
