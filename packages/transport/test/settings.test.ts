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
