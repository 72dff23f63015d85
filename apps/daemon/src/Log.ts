/**
 * The daemon's logs: one line per event on stderr (journald stores stderr of a unit), as logfmt
 * (`timestamp=… level=INFO fiber=#1 message=… resource=vip`) for people or JSON for log shippers,
 * filtered by the configured level.
 */
import { Layer, Logger, LogLevel } from "effect"

export type Level = "debug" | "info" | "warning" | "error"
export type Format = "text" | "json"

const levels: Record<Level, LogLevel.LogLevel> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error
}

export const layer = (options: { readonly level: Level; readonly format: Format }): Layer.Layer<never> =>
  Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      Logger.withConsoleError(options.format === "json" ? Logger.jsonLogger : Logger.logfmtLogger)
    ),
    Logger.minimumLogLevel(levels[options.level])
  )
