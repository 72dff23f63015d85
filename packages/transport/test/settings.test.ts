import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer } from "effect"
import { Aead, MemoryNetwork, Transport, TransportSettings } from "../src/index.ts"
import { key, topology } from "./helpers.ts"

describe("TransportSettings", () => {
  it.effect("reads the described Config with defaults", () =>
    Effect.gen(function* () {
      const settings = yield* TransportSettings.TransportSettings
      expect(Duration.toMillis(settings.linkTimeout)).toBe(500)
      expect(settings.linkMode).toBe("active")
      expect(settings.mtu).toBe(TransportSettings.defaults.mtu)
    }).pipe(
      Effect.provide(
        TransportSettings.layerConfig().pipe(
          Layer.provide(
            Layer.setConfigProvider(
              ConfigProvider.fromMap(
                new Map([
                  ["transport.linkTimeout", "500 millis"],
                  ["transport.linkMode", "active"]
                ])
              )
            )
          )
        )
      )
    )
  )

  it.effect("environment variables in constant case (TRANSPORT_LINK_TIMEOUT)", () =>
    Effect.gen(function* () {
      const settings = yield* TransportSettings.TransportSettings
      expect(Duration.toMillis(settings.linkTimeout)).toBe(600)
      expect(settings.pongsToUp).toBe(3)
      expect(settings.replayWindow).toBe(TransportSettings.defaults.replayWindow)
    }).pipe(
      Effect.provide(
        TransportSettings.layerConfig().pipe(
          Layer.provide(
            Layer.setConfigProvider(
              ConfigProvider.fromMap(
                new Map([
                  ["TRANSPORT_LINK_TIMEOUT", "600 millis"],
                  ["TRANSPORT_PONGS_TO_UP", "3"]
                ]),
                { pathDelim: "_" }
              ).pipe(ConfigProvider.constantCase)
            )
          )
        )
      )
    )
  )

  it.effect("settings read from Config are validated as a whole", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(
          TransportSettings.layerConfig().pipe(
            Layer.provide(
              Layer.setConfigProvider(
                ConfigProvider.fromMap(
                  new Map([
                    ["transport.maxMessageSize", "2000000"],
                    ["transport.maxReassemblyBytes", "1000000"]
                  ])
                )
              )
            )
          )
        ).pipe(Effect.scoped)
      )
      expect(error).toMatchObject({ _tag: "TransportSettingsError", field: "maxReassemblyBytes" })
    })
  )

  it.effect("validate names the first bad field", () =>
    Effect.gen(function* () {
      const check = (options: Partial<TransportSettings.TransportSettings["Type"]>) =>
        Effect.flip(TransportSettings.validate({ ...TransportSettings.defaults, ...options }))
      expect(yield* TransportSettings.validate(TransportSettings.defaults)).toBeUndefined()
      expect((yield* check({ mtu: 16 })).message).toBe(
        "TransportSettings.mtu: mtu must be an integer in 64..65000"
      )
      expect((yield* check({ pingInterval: 0 })).field).toBe("pingInterval")
      expect((yield* check({ pongsToUp: 1.5 })).field).toBe("pongsToUp")
      expect((yield* check({ mtu: 100, maxMessageSize: 100 * 65536 })).field).toBe("maxMessageSize")
      expect((yield* check({ receiveBuffer: 0 })).field).toBe("receiveBuffer")
    })
  )

  it.effect("a bad Config value fails naming the key", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.withConfigProvider(
          TransportSettings.config.pipe(Effect.asVoid),
          ConfigProvider.fromMap(new Map([["replayWindow", "100"]]))
        )
      )
      expect(String(error)).toContain("replayWindow")
    })
  )

  it.scoped("the transport refuses invalid settings, naming the field", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Transport.make({ topology: topology(1, [2]), key }))
      expect(error).toMatchObject({
        _tag: "TransportSettingsError",
        field: "replayWindow",
        message: "TransportSettings.replayWindow: replayWindow must be a positive multiple of 32"
      })
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          MemoryNetwork.layer(),
          TransportSettings.layer({ replayWindow: 100 }),
          Aead.layerWebCrypto
        )
      )
    )
  )
})
