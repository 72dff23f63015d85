/**
 * {@link StorageService} over `node:fs/promises`, in one directory (created with its parents, mode
 * 0750, when missing). Files are written with mode 0640: the CIB holds secrets (fencing passwords).
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Effect, Layer, Option } from "effect"
import { CibStoreSettings } from "../CibStoreSettings.ts"
import { Storage, StorageError, type StorageService } from "../Storage.ts"

const attempt = <A>(operation: string, file: string, f: () => Promise<A>): Effect.Effect<A, StorageError> =>
  Effect.tryPromise({
    try: f,
    catch: (e) => new StorageError({ operation, file, reason: e instanceof Error ? e.message : String(e) })
  })

const isMissing = (e: unknown) => (e as { code?: string }).code === "ENOENT"

/** Opens `target`, runs `f` on the handle, closes it whatever happens. */
const withHandle = (target: string, flags: string, f: (h: fs.FileHandle) => Promise<void>) => async () => {
  const handle = await fs.open(target, flags, 0o640)
  try {
    await f(handle)
  } finally {
    await handle.close()
  }
}

/** The storage in `directory`, creating it when missing. */
export const make = (directory: string): Effect.Effect<StorageService, StorageError> =>
  Effect.gen(function* () {
    yield* attempt("mkdir", directory, () => fs.mkdir(directory, { recursive: true, mode: 0o750 }))
    const at = (name: string) => path.join(directory, name)
    return {
      location: directory,
      read: (name) =>
        attempt("read", at(name), async () => {
          try {
            return Option.some(new Uint8Array(await fs.readFile(at(name))))
          } catch (e) {
            if (isMissing(e)) return Option.none()
            throw e
          }
        }),
      write: (name, bytes) =>
        attempt(
          "write",
          at(name),
          withHandle(at(name), "w", (h) => h.writeFile(bytes))
        ),
      sync: (name) =>
        attempt(
          "fsync",
          at(name),
          withHandle(at(name), "r+", (h) => h.sync())
        ),
      rename: (from, to) => attempt("rename", at(from), () => fs.rename(at(from), at(to))),
      link: (existing, to) => attempt("link", at(to), () => fs.link(at(existing), at(to))),
      remove: (name) => attempt("remove", at(name), () => fs.rm(at(name), { force: true })),
      list: attempt("list", directory, () => fs.readdir(directory)),
      syncDirectory: attempt(
        "fsync",
        directory,
        withHandle(directory, "r", (h) => h.sync())
      )
    }
  })

/** The storage in `CibStoreSettings.directory`. */
export const layer: Layer.Layer<Storage, StorageError, CibStoreSettings> = Layer.effect(
  Storage,
  Effect.flatMap(CibStoreSettings, (settings) => make(settings.directory))
)
