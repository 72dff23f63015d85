/**
 * The shared cluster key: 32 to 4096 random bytes in a file readable by its owner only (mode 0600),
 * made by `generateKey` and written with `KeyFile.write` (what `ha keygen` calls).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Context, Effect, Layer, Schema } from "effect"

export const KEY_SIZE = 32
export const MIN_KEY_SIZE = 32
export const MAX_KEY_SIZE = 4096

export class KeyFileError extends Schema.TaggedError<KeyFileError>()("KeyFileError", {
  path: Schema.String,
  message: Schema.String
}) {}

/** `size` bytes from the platform's cryptographically secure generator. */
export const generateKey = (size = KEY_SIZE): Effect.Effect<Uint8Array> =>
  Effect.sync(() => {
    const key = new Uint8Array(size)
    // getRandomValues fills at most 65536 bytes per call; keys are far smaller.
    globalThis.crypto.getRandomValues(key)
    return key
  })

export const validateKey = (path: string, key: Uint8Array): Effect.Effect<Uint8Array, KeyFileError> =>
  key.length < MIN_KEY_SIZE || key.length > MAX_KEY_SIZE
    ? Effect.fail(
        new KeyFileError({
          path,
          message: `${path}: key is ${key.length} bytes, expected ${MIN_KEY_SIZE} to ${MAX_KEY_SIZE}`
        })
      )
    : Effect.succeed(key)

export class KeyFile extends Context.Tag("@ha/transport/KeyFile")<
  KeyFile,
  {
    /** Reads a key, refusing files that others can read or write and keys of the wrong size. */
    readonly read: (path: string) => Effect.Effect<Uint8Array, KeyFileError>
    /** Writes a key with mode 0600, replacing any previous file atomically. */
    readonly write: (path: string, key: Uint8Array) => Effect.Effect<void, KeyFileError>
  }
>() {}

const permissionsError = (path: string, mode: number) =>
  new KeyFileError({
    path,
    message: `${path}: mode ${(mode & 0o777).toString(8).padStart(4, "0")} lets others access the key, expected 0600`
  })

export const layer: Layer.Layer<KeyFile, never, FileSystem.FileSystem> = Layer.effect(
  KeyFile,
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const failure = (path: string) => (error: { readonly message: string }) =>
      new KeyFileError({ path, message: `${path}: ${error.message}` })
    return KeyFile.of({
      read: (path) =>
        Effect.gen(function* () {
          const info = yield* fs.stat(path).pipe(Effect.mapError(failure(path)))
          if (info.type !== "File") {
            return yield* Effect.fail(new KeyFileError({ path, message: `${path}: not a regular file` }))
          }
          if ((info.mode & 0o077) !== 0) return yield* Effect.fail(permissionsError(path, info.mode))
          // A plain Uint8Array copy: on Node readFile returns a Buffer.
          const key = new Uint8Array(yield* fs.readFile(path).pipe(Effect.mapError(failure(path))))
          return yield* validateKey(path, key)
        }),
      write: (path, key) =>
        Effect.gen(function* () {
          yield* validateKey(path, key)
          const temporary = `${path}.tmp-${Date.now().toString(36)}`
          yield* fs.writeFile(temporary, key, { mode: 0o600 }).pipe(Effect.mapError(failure(temporary)))
          // The mode given at creation is filtered by the umask; make it exact.
          yield* fs.chmod(temporary, 0o600).pipe(Effect.mapError(failure(temporary)))
          yield* fs.rename(temporary, path).pipe(Effect.mapError(failure(path)))
        })
    })
  })
)

/** In-memory key files with modes, for tests. */
export const layerTest = (
  files: ReadonlyArray<readonly [path: string, key: Uint8Array, mode: number]> = []
): Layer.Layer<KeyFile> =>
  Layer.sync(KeyFile, () => {
    const store = new Map(files.map(([path, key, mode]) => [path, { key, mode }] as const))
    return KeyFile.of({
      read: (path) => {
        const file = store.get(path)
        if (file === undefined)
          return Effect.fail(new KeyFileError({ path, message: `${path}: no such file` }))
        if ((file.mode & 0o077) !== 0) return Effect.fail(permissionsError(path, file.mode))
        return validateKey(path, file.key)
      },
      write: (path, key) =>
        Effect.map(validateKey(path, key), () => {
          store.set(path, { key: key.slice(), mode: 0o600 })
        })
    })
  })
