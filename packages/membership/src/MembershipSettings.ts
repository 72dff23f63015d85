/**
 * Tunables of the membership layer: Totem's timers and flow control (named after corosync.conf's
 * `totem` section) and votequorum's options, in the style of Effect's cluster `ShardingConfig`: one
 * Tag, documented fields, `defaults`, `layer(options)` and a described `Config`.
 */
import { Config, type ConfigError, Context, Duration, Effect, Layer, Schema } from "effect"
import type * as Quorum from "./Quorum.ts"
import type * as Totem from "./Totem.ts"

export class MembershipSettings extends Context.Tag("@ha/membership/MembershipSettings")<
  MembershipSettings,
  {
    /**
     * Token timeout: a member that has not seen the token for this long declares the ring broken and
     * starts forming a new membership. Default 800 ms: a dead node is declared within 1 s on a LAN.
     * Lower detects faster but suspects a slow (swapping, paused) node falsely; see the README.
     */
    readonly token: Duration.DurationInput
    /** Resend the last token if the ring shows no progress for this long. Default token / 4.2 (190 ms). */
    readonly tokenRetransmit: Duration.DurationInput
    /** An idle representative holds the token this long before passing it on. Default 150 ms. */
    readonly hold: Duration.DurationInput
    /** Interval between join messages while forming a membership. Default 50 ms. */
    readonly join: Duration.DurationInput
    /**
     * Time to reach agreement on a new membership before the silent nodes are left out. Default
     * 1.2 × token (960 ms), Corosync's rule; a new view follows a failure after about token + consensus.
     */
    readonly consensus: Duration.DurationInput
    /** How often a ring's representative announces its ring, so that partitions find each other. Default 200 ms. */
    readonly merge: Duration.DurationInput
    /**
     * Packets one node may send per token visit. Default 50, all of the window (Corosync's
     * max_messages is 17): a lone busy sender then fills the window each rotation, and the fixed
     * cost of a rotation (three hand-offs of the token) is shared by 50 packets instead of 17.
     */
    readonly maxMessages: number
    /**
     * Packets the whole ring may send per token rotation. Default 50 (Corosync's window_size): about
     * 115 KiB of receive buffer at a slow member, inside Linux's default 208 KiB.
     */
    readonly windowSize: number
    /** Token visits a member's all-received-up-to may stay stuck before it is left out. Default 2500. */
    readonly failReceiveConst: number
    /** Idle token rotations before the representative starts holding the token. Default 30. */
    readonly seqnoUnchangedConst: number
    /**
     * Bytes of queued small messages packed into one Totem packet, as Corosync packs messages into a
     * frame; a larger message travels alone (the transport fragments it). Default 1360: a pack with
     * its Totem header (38 bytes when re-sent during recovery) fits one transport datagram at the
     * transport's default mtu of 1400, so one lost datagram loses one packet, not a whole burst.
     */
    readonly packBytes: number
    /** How often the protocol's timers are evaluated. Default 10 ms. */
    readonly tickInterval: Duration.DurationInput
    /** Votes per node id; nodes not listed have 1 vote. Default: every node 1. */
    readonly votes: Readonly<Record<number, number>>
    /** Overrides the sum of the configured nodes' votes. Default: unset (the sum). */
    readonly expectedVotes: number | undefined
    /** Two-node cluster: quorate with 1 vote of 2; implies waitForAll. Default false. */
    readonly twoNode: boolean
    /** Quorate only once every configured node has been seen in one view. Default: unset (= twoNode). */
    readonly waitForAll: boolean | undefined
    /** Lower expected votes to a smaller view once it has been stable for the window. Default false. */
    readonly lastManStanding: boolean
    /** Default 10 s (votequorum's last_man_standing_window). */
    readonly lastManStandingWindow: Duration.DurationInput
    /** On an exact 50% split, the half holding the tie-breaker node stays quorate. Default false. */
    readonly autoTieBreaker: boolean
    /** `lowest`, `highest` or node ids in order of preference. Default `lowest`. */
    readonly autoTieBreakerNode: "lowest" | "highest" | ReadonlyArray<number>
  }
>() {}

type Fields = MembershipSettings["Type"]

/** Timers that Corosync derives from `token` when they are not set. */
const derived = (token: Duration.DurationInput) => {
  const ms = Duration.toMillis(token)
  const tokenRetransmit = Math.floor(ms / 4.2)
  return {
    tokenRetransmit: Duration.millis(tokenRetransmit),
    hold: Duration.millis(Math.floor(tokenRetransmit * 0.8)),
    consensus: Duration.millis(Math.floor(ms * 1.2))
  }
}

export const defaults: Fields = {
  token: Duration.millis(800),
  ...derived(Duration.millis(800)),
  join: Duration.millis(50),
  merge: Duration.millis(200),
  maxMessages: 50,
  windowSize: 50,
  failReceiveConst: 2500,
  seqnoUnchangedConst: 30,
  packBytes: 1360,
  tickInterval: Duration.millis(10),
  votes: {},
  expectedVotes: undefined,
  twoNode: false,
  waitForAll: undefined,
  lastManStanding: false,
  lastManStandingWindow: Duration.seconds(10),
  autoTieBreaker: false,
  autoTieBreakerNode: "lowest"
}

/** Defaults overridden by `options`; timers derived from `token` follow it unless set themselves. */
export const make = (options: Partial<Fields> = {}): Fields => ({
  ...defaults,
  ...(options.token !== undefined ? derived(options.token) : {}),
  ...options
})

export const layer = (options?: Partial<Fields>): Layer.Layer<MembershipSettings> =>
  Layer.succeed(MembershipSettings, make(options))

export const layerDefaults: Layer.Layer<MembershipSettings> = layer()

const duration = (name: string, fallback: Duration.DurationInput, description: string) =>
  Config.duration(name).pipe(
    Config.withDefault(Duration.decode(fallback)),
    Config.withDescription(description)
  )

const count = (name: string, fallback: number, description: string) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name} must be at least 1`, validation: (n) => n >= 1 }),
    Config.withDescription(description)
  )

/** Settings read from a ConfigProvider (`membership.token`, `membership.twoNode`, …). */
export const config: Config.Config<Fields> = Config.all({
  token: duration("token", defaults.token, "No token for this long and the ring is declared broken."),
  tokenRetransmit: Config.option(
    Config.duration("tokenRetransmit").pipe(Config.withDescription("Resend the last token after this long."))
  ),
  hold: Config.option(
    Config.duration("hold").pipe(Config.withDescription("How long an idle ring holds the token."))
  ),
  join: duration("join", defaults.join, "Interval between join messages while forming a membership."),
  consensus: Config.option(
    Config.duration("consensus").pipe(
      Config.withDescription("Time to agree on a membership (default 1.2 × token).")
    )
  ),
  merge: duration("merge", defaults.merge, "Interval of ring announcements that let partitions merge."),
  maxMessages: count("maxMessages", defaults.maxMessages, "Messages one node may send per token visit."),
  windowSize: count("windowSize", defaults.windowSize, "Messages the ring may send per token rotation."),
  failReceiveConst: count(
    "failReceiveConst",
    defaults.failReceiveConst,
    "Stuck token visits before a member is left out."
  ),
  seqnoUnchangedConst: count(
    "seqnoUnchangedConst",
    defaults.seqnoUnchangedConst,
    "Idle rotations before holding the token."
  ),
  packBytes: count("packBytes", defaults.packBytes, "Bytes of small messages packed into one packet."),
  tickInterval: duration("tickInterval", defaults.tickInterval, "How often protocol timers are evaluated."),
  votes: Config.hashMap(Config.integer(), "votes").pipe(
    Config.withDefault(undefined),
    Config.withDescription("Votes per node id (key: node id); unlisted nodes have 1.")
  ),
  expectedVotes: Config.option(
    Config.integer("expectedVotes").pipe(Config.withDescription("Overrides the sum of the nodes' votes."))
  ),
  twoNode: Config.boolean("twoNode").pipe(
    Config.withDefault(false),
    Config.withDescription("Two-node cluster: quorate with 1 of 2 votes; implies waitForAll.")
  ),
  waitForAll: Config.option(
    Config.boolean("waitForAll").pipe(
      Config.withDescription("Quorate only after all nodes were seen together.")
    )
  ),
  lastManStanding: Config.boolean("lastManStanding").pipe(
    Config.withDefault(false),
    Config.withDescription("Lower expected votes to a smaller view that stays stable for the window.")
  ),
  lastManStandingWindow: duration(
    "lastManStandingWindow",
    defaults.lastManStandingWindow,
    "last_man_standing_window."
  ),
  autoTieBreaker: Config.boolean("autoTieBreaker").pipe(
    Config.withDefault(false),
    Config.withDescription("On an exact 50% split the half with the tie-breaker node stays quorate.")
  ),
  autoTieBreakerNode: Config.string("autoTieBreakerNode").pipe(
    Config.withDefault("lowest"),
    Config.withDescription("lowest, highest, or node ids separated by spaces in order of preference.")
  )
}).pipe(
  Config.map((c) => {
    const options: { -readonly [K in keyof Fields]?: Fields[K] } = {
      token: c.token,
      join: c.join,
      merge: c.merge,
      maxMessages: c.maxMessages,
      windowSize: c.windowSize,
      failReceiveConst: c.failReceiveConst,
      seqnoUnchangedConst: c.seqnoUnchangedConst,
      packBytes: c.packBytes,
      tickInterval: c.tickInterval,
      votes: c.votes === undefined ? {} : Object.fromEntries([...c.votes].map(([k, v]) => [Number(k), v])),
      expectedVotes: c.expectedVotes._tag === "Some" ? c.expectedVotes.value : undefined,
      twoNode: c.twoNode,
      waitForAll: c.waitForAll._tag === "Some" ? c.waitForAll.value : undefined,
      lastManStanding: c.lastManStanding,
      lastManStandingWindow: c.lastManStandingWindow,
      autoTieBreaker: c.autoTieBreaker,
      autoTieBreakerNode:
        c.autoTieBreakerNode === "lowest" || c.autoTieBreakerNode === "highest"
          ? c.autoTieBreakerNode
          : c.autoTieBreakerNode
              .split(/[\s,]+/)
              .filter((x) => x !== "")
              .map(Number)
    }
    if (c.tokenRetransmit._tag === "Some") options.tokenRetransmit = c.tokenRetransmit.value
    if (c.hold._tag === "Some") options.hold = c.hold.value
    if (c.consensus._tag === "Some") options.consensus = c.consensus.value
    return make(options)
  })
)

export const layerConfig = (
  prefix = "membership"
): Layer.Layer<MembershipSettings, ConfigError.ConfigError> =>
  Layer.effect(MembershipSettings, Config.nested(config, prefix))

export class MembershipSettingsError extends Schema.TaggedError<MembershipSettingsError>()(
  "MembershipSettingsError",
  { field: Schema.String, message: Schema.String }
) {}

const ms = Duration.toMillis

/** Checks what the types cannot: positive timers and Corosync's ordering rules; fails naming the field. */
export const validate = (s: Fields): Effect.Effect<void, MembershipSettingsError> => {
  const fail = (field: string, message: string) =>
    Effect.fail(new MembershipSettingsError({ field, message }))
  for (const field of [
    "token",
    "tokenRetransmit",
    "hold",
    "join",
    "consensus",
    "merge",
    "tickInterval"
  ] as const) {
    if (!(ms(s[field]) > 0)) return fail(field, `${field} must be a positive duration`)
  }
  if (ms(s.tokenRetransmit) >= ms(s.token))
    return fail("tokenRetransmit", "tokenRetransmit must be below token")
  if (ms(s.consensus) < 1.2 * ms(s.token)) return fail("consensus", "consensus must be at least 1.2 × token")
  if (ms(s.join) >= ms(s.consensus)) return fail("join", "join must be below consensus")
  if (ms(s.tickInterval) > ms(s.tokenRetransmit))
    return fail("tickInterval", "tickInterval must not exceed tokenRetransmit")
  if (s.maxMessages > s.windowSize) return fail("maxMessages", "maxMessages must not exceed windowSize")
  for (const [node, votes] of Object.entries(s.votes)) {
    if (!Number.isInteger(votes) || votes < 0)
      return fail(`votes.${node}`, "votes must be a non-negative integer")
  }
  if (s.expectedVotes !== undefined && !(Number.isInteger(s.expectedVotes) && s.expectedVotes >= 1)) {
    return fail("expectedVotes", "expectedVotes must be a positive integer")
  }
  if (
    Array.isArray(s.autoTieBreakerNode) &&
    s.autoTieBreakerNode.some((n) => !Number.isInteger(n) || n < 1)
  ) {
    return fail("autoTieBreakerNode", "autoTieBreakerNode must be lowest, highest or a list of node ids")
  }
  return Effect.void
}

/** The pure protocol's settings, in milliseconds. */
export const totemSettings = (s: Fields): Totem.Settings => ({
  token: ms(s.token),
  tokenRetransmit: ms(s.tokenRetransmit),
  tokenHold: ms(s.hold),
  join: ms(s.join),
  consensus: ms(s.consensus),
  merge: ms(s.merge),
  maxMessages: s.maxMessages,
  windowSize: s.windowSize,
  failRecvConst: s.failReceiveConst,
  seqnoUnchangedConst: s.seqnoUnchangedConst,
  packBytes: s.packBytes
})

/** The quorum machine's options for a cluster of `nodes`. */
export const quorumOptions = (s: Fields, nodes: ReadonlyArray<number>): Quorum.Options => ({
  nodes: nodes.map((nodeId) => ({ nodeId, votes: s.votes[nodeId] ?? 1 })),
  expectedVotes: s.expectedVotes,
  twoNode: s.twoNode,
  waitForAll: s.waitForAll,
  lastManStanding: s.lastManStanding,
  lastManStandingWindow: ms(s.lastManStandingWindow),
  autoTieBreaker: s.autoTieBreaker,
  autoTieBreakerNode: s.autoTieBreakerNode
})

/**
 * Link heartbeat timers that suit these settings, as Corosync derives knet's from the token
 * (ping interval token / 4, link timeout token / 2): a dead link must be detected, and the token
 * retransmitted over the other link, before the token timeout declares a node dead. Pass them to
 * `TransportSettings.layer`.
 */
export const transportTimers = (
  s: Fields
): { pingInterval: Duration.Duration; linkTimeout: Duration.Duration } => ({
  pingInterval: Duration.millis(Math.floor(ms(s.token) / 4)),
  linkTimeout: Duration.millis(Math.floor(ms(s.token) / 2))
})
