/**
 * Tunables of the transport (heartbeats, failover, fragmentation, replay protection), in the style of
 * Effect's cluster `ShardingConfig`: one Tag, documented fields, `defaults`, `layer(options)` and a
 * described `Config`.
 */
import { Config, type ConfigError, Context, Duration, Effect, Layer, Schema } from "effect"

export type LinkMode = "passive" | "active"

/** Smallest payload per datagram: room for the heartbeat bodies with margin. */
export const MIN_MTU = 64
/** Largest payload per datagram: mtu + 52 bytes of header and tag must fit one UDP datagram (65507). */
export const MAX_MTU = 65000

export class TransportSettings extends Context.Tag("@ha/transport/TransportSettings")<
  TransportSettings,
  {
    /** How often each link sends a ping to its peer. Default 200 ms. */
    readonly pingInterval: Duration.DurationInput
    /** A link with no valid pong for this long goes down. Default 800 ms (detection within 1 s). */
    readonly linkTimeout: Duration.DurationInput
    /** Consecutive valid pongs needed before a down link comes up (knet's pong_count). Default 2. */
    readonly pongsToUp: number
    /** How often timers are evaluated (heartbeats, timeouts, reassembly expiry). Default 50 ms. */
    readonly tickInterval: Duration.DurationInput
    /**
     * `passive`: every message goes over the highest-priority up link (lowest link id on ties).
     * `active`: messages go round-robin over all up links. Default `passive`.
     */
    readonly linkMode: LinkMode
    /** Largest plaintext payload carried by one datagram; bigger messages are fragmented. Default 1400. */
    readonly mtu: number
    /** Largest message accepted by `send` and by reassembly. Default 1 MiB. */
    readonly maxMessageSize: number
    /** A partially received fragmented message is dropped after this long. Default 2 s. */
    readonly reassemblyTimeout: Duration.DurationInput
    /** Bytes of partial messages kept per sender; the oldest partial message is evicted beyond. Default 4 MiB. */
    readonly maxReassemblyBytes: number
    /** Partial messages kept per sender; the oldest is evicted beyond. Default 64. */
    readonly maxPartialMessages: number
    /** Size in packets of the per-sender sliding replay window. Default 1024. */
    readonly replayWindow: number
    /** Received messages buffered for the consumer; beyond, new messages are dropped and counted. Default 65536. */
    readonly receiveBuffer: number
  }
>() {}

export const defaults: TransportSettings["Type"] = {
  pingInterval: Duration.millis(200),
  linkTimeout: Duration.millis(800),
  pongsToUp: 2,
  tickInterval: Duration.millis(50),
  linkMode: "passive",
  mtu: 1400,
  maxMessageSize: 1024 * 1024,
  reassemblyTimeout: Duration.seconds(2),
  maxReassemblyBytes: 4 * 1024 * 1024,
  maxPartialMessages: 64,
  replayWindow: 1024,
  receiveBuffer: 65536
}

export const layer = (options?: Partial<TransportSettings["Type"]>): Layer.Layer<TransportSettings> =>
  Layer.succeed(TransportSettings, { ...defaults, ...options })

export const layerDefaults: Layer.Layer<TransportSettings> = layer()

export const config: Config.Config<TransportSettings["Type"]> = Config.all({
  pingInterval: Config.duration("pingInterval").pipe(
    Config.withDefault(defaults.pingInterval),
    Config.withDescription("How often each link sends a ping to its peer.")
  ),
  linkTimeout: Config.duration("linkTimeout").pipe(
    Config.withDefault(defaults.linkTimeout),
    Config.withDescription("A link with no valid pong for this long is declared down.")
  ),
  pongsToUp: Config.integer("pongsToUp").pipe(
    Config.withDefault(defaults.pongsToUp),
    Config.validate({ message: "pongsToUp must be at least 1", validation: (n) => n >= 1 }),
    Config.withDescription("Consecutive valid pongs needed before a down link comes up.")
  ),
  tickInterval: Config.duration("tickInterval").pipe(
    Config.withDefault(defaults.tickInterval),
    Config.withDescription("How often heartbeat, link timeout and reassembly timers are evaluated.")
  ),
  linkMode: Config.literal(
    "passive",
    "active"
  )("linkMode").pipe(
    Config.withDefault(defaults.linkMode),
    Config.withDescription("passive: highest-priority up link; active: round-robin over up links.")
  ),
  mtu: Config.integer("mtu").pipe(
    Config.withDefault(defaults.mtu),
    Config.validate({
      message: `mtu must be between ${MIN_MTU} and ${MAX_MTU}`,
      validation: (n) => n >= MIN_MTU && n <= MAX_MTU
    }),
    Config.withDescription("Largest plaintext payload per datagram; larger messages are fragmented.")
  ),
  maxMessageSize: Config.integer("maxMessageSize").pipe(
    Config.withDefault(defaults.maxMessageSize),
    Config.withDescription("Largest message accepted for sending and for reassembly.")
  ),
  reassemblyTimeout: Config.duration("reassemblyTimeout").pipe(
    Config.withDefault(defaults.reassemblyTimeout),
    Config.withDescription("A partially received fragmented message is dropped after this long.")
  ),
  maxReassemblyBytes: Config.integer("maxReassemblyBytes").pipe(
    Config.withDefault(defaults.maxReassemblyBytes),
    Config.withDescription("Bytes of partial messages kept per sender before the oldest is evicted.")
  ),
  maxPartialMessages: Config.integer("maxPartialMessages").pipe(
    Config.withDefault(defaults.maxPartialMessages),
    Config.withDescription("Partial messages kept per sender before the oldest is evicted.")
  ),
  replayWindow: Config.integer("replayWindow").pipe(
    Config.withDefault(defaults.replayWindow),
    Config.validate({
      message: "replayWindow must be a positive multiple of 32",
      validation: (n) => n >= 32 && n % 32 === 0
    }),
    Config.withDescription("Size in packets of the per-sender sliding replay window.")
  ),
  receiveBuffer: Config.integer("receiveBuffer").pipe(
    Config.withDefault(defaults.receiveBuffer),
    Config.withDescription("Received messages buffered for the consumer before new ones are dropped.")
  )
})

export class TransportSettingsError extends Schema.TaggedError<TransportSettingsError>()(
  "TransportSettingsError",
  {
    field: Schema.String,
    message: Schema.String
  }
) {}

/** Checks the constraints `layer(options)` cannot express in types; fails naming the field. */
export const validate = (
  settings: TransportSettings["Type"]
): Effect.Effect<void, TransportSettingsError> => {
  const positive = (field: keyof TransportSettings["Type"]) => {
    const value = settings[field]
    const millis = typeof value === "number" ? value : Duration.toMillis(value as Duration.DurationInput)
    return millis > 0 ? undefined : `${field} must be positive`
  }
  const integerAtLeast = (field: keyof TransportSettings["Type"], min: number) => {
    const value = settings[field]
    return typeof value === "number" && Number.isInteger(value) && value >= min
      ? undefined
      : `${field} must be an integer ≥ ${min}`
  }
  const problems: Array<[string, string | undefined]> = [
    ["pingInterval", positive("pingInterval")],
    ["tickInterval", positive("tickInterval")],
    ["linkTimeout", positive("linkTimeout")],
    ["reassemblyTimeout", positive("reassemblyTimeout")],
    ["pongsToUp", integerAtLeast("pongsToUp", 1)],
    [
      "mtu",
      Number.isInteger(settings.mtu) && settings.mtu >= MIN_MTU && settings.mtu <= MAX_MTU
        ? undefined
        : `mtu must be an integer in ${MIN_MTU}..${MAX_MTU}`
    ],
    [
      "maxMessageSize",
      Number.isInteger(settings.maxMessageSize) &&
      settings.maxMessageSize >= 0 &&
      settings.maxMessageSize <= 0xffff * settings.mtu
        ? undefined
        : "maxMessageSize must be an integer between 0 and 65535 × mtu (the fragment count is 16 bits)"
    ],
    [
      "maxReassemblyBytes",
      Number.isInteger(settings.maxReassemblyBytes) && settings.maxReassemblyBytes >= settings.maxMessageSize
        ? undefined
        : "maxReassemblyBytes must be an integer ≥ maxMessageSize (or the largest messages never complete)"
    ],
    [
      "replayWindow",
      Number.isInteger(settings.replayWindow) &&
      settings.replayWindow >= 32 &&
      settings.replayWindow % 32 === 0
        ? undefined
        : "replayWindow must be a positive multiple of 32"
    ],
    ["maxPartialMessages", integerAtLeast("maxPartialMessages", 1)],
    ["receiveBuffer", integerAtLeast("receiveBuffer", 1)]
  ]
  const problem = problems.find(([, message]) => message !== undefined)
  return problem === undefined
    ? Effect.void
    : Effect.fail(
        new TransportSettingsError({
          field: problem[0],
          message: `TransportSettings.${problem[0]}: ${problem[1]}`
        })
      )
}

/** Settings read from the environment (`TRANSPORT_LINKTIMEOUT`, …) under `prefix`, then validated. */
export const layerConfig = (
  prefix = "transport"
): Layer.Layer<TransportSettings, ConfigError.ConfigError | TransportSettingsError> =>
  Layer.effect(TransportSettings, Effect.tap(Config.nested(config, prefix), validate))
