import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ClusterKey } from "../src/index.ts"

const dir = mkdtempSync(join(tmpdir(), "ha-transport-key-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const live = ClusterKey.layer.pipe(Layer.provide(NodeFileSystem.layer))

describe("cluster key", () => {
  it.effect("generates distinct 32-byte keys", () =>
    Effect.gen(function* () {
      const a = yield* ClusterKey.generateKey()
      const b = yield* ClusterKey.generateKey()
      expect(a.length).toBe(32)
      expect(a).not.toEqual(b)
    })
  )

  it.effect("writes a 0600 file and reads it back", () =>
    Effect.gen(function* () {
      const keyFile = yield* ClusterKey.KeyFile
      const path = join(dir, "authkey")
      const key = yield* ClusterKey.generateKey()
      yield* keyFile.write(path, key)
      expect(statSync(path).mode & 0o777).toBe(0o600)
      expect(yield* keyFile.read(path)).toEqual(key)
      // Overwriting keeps the mode and replaces the key.
      const next = yield* ClusterKey.generateKey(64)
      yield* keyFile.write(path, next)
      expect(yield* keyFile.read(path)).toEqual(next)
      expect(statSync(path).mode & 0o777).toBe(0o600)
    }).pipe(Effect.provide(live))
  )

  it.effect(
    "refuses a key file others can access, a key of the wrong size, a directory and a missing file, naming the file",
    () =>
      Effect.gen(function* () {
        const keyFile = yield* ClusterKey.KeyFile
        const open = join(dir, "open-key")
        writeFileSync(open, new Uint8Array(32))
        chmodSync(open, 0o644)
        const tooOpen = yield* Effect.flip(keyFile.read(open))
        expect(tooOpen).toMatchObject({ _tag: "KeyFileError", path: open })
        expect(tooOpen.message).toBe(`${open}: mode 0644 lets others access the key, expected 0600`)

        const short = join(dir, "short-key")
        writeFileSync(short, new Uint8Array(16))
        chmodSync(short, 0o600)
        expect((yield* Effect.flip(keyFile.read(short))).message).toBe(
          `${short}: key is 16 bytes, expected 32 to 4096`
        )
        const groupReadable = join(dir, "group-key")
        writeFileSync(groupReadable, new Uint8Array(32))
        chmodSync(groupReadable, 0o640)
        expect((yield* Effect.flip(keyFile.read(groupReadable))).message).toBe(
          `${groupReadable}: mode 0640 lets others access the key, expected 0600`
        )
        const huge = join(dir, "huge-key")
        writeFileSync(huge, new Uint8Array(5000))
        chmodSync(huge, 0o600)
        expect((yield* Effect.flip(keyFile.read(huge))).message).toBe(
          `${huge}: key is 5000 bytes, expected 32 to 4096`
        )
        const directory = join(dir, "a-directory")
        mkdirSync(directory, { mode: 0o700 })
        expect((yield* Effect.flip(keyFile.read(directory))).message).toBe(`${directory}: not a regular file`)
        const missing = yield* Effect.flip(keyFile.read(join(dir, "missing")))
        expect(missing.message).toContain(join(dir, "missing"))
        expect((yield* Effect.flip(keyFile.write(join(dir, "k"), new Uint8Array(8)))).message).toContain(
          "8 bytes"
        )
      }).pipe(Effect.provide(live))
  )

  it.effect("the in-memory key file store applies the same rules", () =>
    Effect.gen(function* () {
      const keyFile = yield* ClusterKey.KeyFile
      const key = yield* ClusterKey.generateKey()
      yield* keyFile.write("/etc/ha/authkey", key)
      expect(yield* keyFile.read("/etc/ha/authkey")).toEqual(key)
      expect((yield* Effect.flip(keyFile.read("/etc/ha/world-readable"))).message).toContain("0644")
    }).pipe(Effect.provide(ClusterKey.layerTest([["/etc/ha/world-readable", new Uint8Array(32), 0o644]])))
  )
})
