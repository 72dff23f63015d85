import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Either, Layer } from "effect"
import { MembershipSettings } from "../src/index.ts"

const ms = Duration.toMillis

describe("MembershipSettings", () => {
  it("defaults follow Corosync's rules from an 800 ms token", () => {
    const d = MembershipSettings.defaults
    expect(ms(d.token)).toBe(800)
    expect(ms(d.tokenRetransmit)).toBe(190)
    expect(ms(d.consensus)).toBe(960)
    expect(ms(d.join)).toBe(50)
    expect([d.maxMessages, d.windowSize, d.failReceiveConst, d.seqnoUnchangedConst]).toEqual([
      50, 50, 2500, 30
    ])
    expect(ms(MembershipSettings.transportTimers(d).linkTimeout)).toBe(400)
  })

  it("timers derived from token follow it unless set", () => {
    const s = MembershipSettings.make({ token: Duration.seconds(3) })
    expect(ms(s.consensus)).toBe(3600)
    expect(ms(s.tokenRetransmit)).toBe(714)
    const pinned = MembershipSettings.make({ token: Duration.seconds(3), consensus: Duration.seconds(5) })
    expect(ms(pinned.consensus)).toBe(5000)
  })

  it.effect("validate names the offending field", () =>
    Effect.gen(function* () {
      const check = (o: Partial<MembershipSettings.MembershipSettings["Type"]>) =>
        Effect.either(MembershipSettings.validate(MembershipSettings.make(o))).pipe(
          Effect.map((e) => (Either.isLeft(e) ? e.left.field : "ok"))
        )
      expect(yield* check({})).toBe("ok")
      expect(yield* check({ token: Duration.millis(1000), consensus: Duration.millis(1000) })).toBe(
        "consensus"
      )
      expect(yield* check({ maxMessages: 100 })).toBe("maxMessages")
      expect(yield* check({ votes: { 3: -1 } })).toBe("votes.3")
      expect(yield* check({ expectedVotes: 0 })).toBe("expectedVotes")
      expect(yield* check({ join: Duration.zero })).toBe("join")
    })
  )

  it.effect("reads a ConfigProvider under `membership`", () =>
    Effect.gen(function* () {
      const s = yield* MembershipSettings.MembershipSettings
      expect(ms(s.token)).toBe(2000)
      expect(ms(s.consensus)).toBe(2400)
      expect(s.twoNode).toBe(true)
      expect(s.waitForAll).toBeUndefined()
      expect(s.votes).toEqual({ 2: 3 })
      expect(s.autoTieBreakerNode).toEqual([3, 1])
    }).pipe(
      Effect.provide(
        MembershipSettings.layerConfig().pipe(
          Layer.provide(
            Layer.setConfigProvider(
              ConfigProvider.fromJson({
                membership: { token: "2 seconds", twoNode: true, votes: { 2: 3 }, autoTieBreakerNode: "3 1" }
              })
            )
          )
        )
      )
    )
  )

  it.effect("a bad value in the config is an error naming it", () =>
    Effect.gen(function* () {
      const result = yield* Effect.either(
        Effect.provide(
          MembershipSettings.MembershipSettings,
          MembershipSettings.layerConfig().pipe(
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromJson({ membership: { windowSize: 0 } })))
          )
        )
      )
      expect(Either.isLeft(result) && String(result.left)).toContain("windowSize")
    })
  )
})
