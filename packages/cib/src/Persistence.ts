/**
 * The CIB on disk: crash-safe writes, a digest checked on load, backups, and recovery.
 *
 * Files in the store's directory:
 * - `cib.xml`: the current version. Its first line is a header with the version, the body's length
 *   and its SHA-256 (see `internal/store/format.ts`); a file whose header, length, digest or body does
 *   not check out is damaged.
 * - `cib-N.xml`: backups, N increasing with each write; the newest `backups` are kept.
 * - `cib.xml.tmp`: a write in progress (a leftover is an interrupted write, removed on open).
 *
 * A write of version V (see {@link Opened.save}):
 * 1. hard-link the current `cib.xml` as the next `cib-N.xml` (no data copied; cib.xml is never
 *    modified in place, so the backup stays intact),
 * 2. write V to `cib.xml.tmp`, 3. fsync it, 4. rename it over `cib.xml`, 5. fsync the directory,
 * 6. remove backups beyond the newest `backups`.
 * A crash before step 4 reaches the disk leaves the old cib.xml; after it, the new one, whose bytes
 * were fsynced in step 3. Either way the directory holds a loadable version: the old or the new.
 *
 * On load, `cib.xml` is tried first, then the backups from newest to oldest; the first valid one
 * wins and every damaged file passed over is reported with the reason.
 */
import { Array as Arr, Effect, Either, Option, Order, Schema } from "effect"
import type { Cib, Version } from "./Cib.ts"
import { decodeFile, encodeFile, encodeVerified } from "./internal/store/format.ts"
import type { StorageError, StorageService } from "./internal/store/storage.ts"
import * as Versions from "./Version.ts"

export const CURRENT = "cib.xml"
export const TEMPORARY = "cib.xml.tmp"
const BACKUP = /^cib-(\d+)\.xml$/
export const backupName = (n: number) => `cib-${n}.xml`

/** A file passed over on load, and why. */
export const Skipped = Schema.Struct({ file: Schema.String, reason: Schema.String })
export interface Skipped extends Schema.Schema.Type<typeof Skipped> {}

export interface LoadReport {
  /** The file the CIB was loaded from and its version; none when the directory holds no CIB. */
  readonly loaded: Option.Option<{ readonly file: string; readonly version: Version }>
  /** Damaged files passed over, newest first. */
  readonly skipped: ReadonlyArray<Skipped>
}

export interface Loaded {
  readonly cib: Option.Option<Cib>
  readonly report: LoadReport
  /** Backup numbers present, ascending. */
  readonly backups: ReadonlyArray<number>
  /** True when cib.xml exists and is valid (so the next write may keep it as a backup). */
  readonly currentValid: boolean
}

/** CIB files exist but none of them is a valid version: refusing to start from an empty CIB. */
export class NoValidCibError extends Schema.TaggedError<NoValidCibError>()("NoValidCibError", {
  location: Schema.String,
  skipped: Schema.Array(Skipped)
}) {
  override get message() {
    return `no valid CIB in ${this.location}: ${this.skipped.map((s) => `${s.file}: ${s.reason}`).join("; ")}`
  }
}

/** One file's CIB, or why it is damaged. */
export const loadFile = (
  storage: StorageService,
  file: string
): Effect.Effect<Either.Either<Cib, string>, StorageError> =>
  Effect.map(storage.read(file), (bytes) =>
    Option.match(bytes, { onNone: () => Either.left("missing"), onSome: (b) => decodeFile(b, file) })
  )

/** The newest valid CIB in the directory, without changing anything on disk. */
export const load = (storage: StorageService): Effect.Effect<Loaded, StorageError | NoValidCibError> =>
  Effect.gen(function* () {
    const names = yield* storage.list
    const backups = Arr.sort(
      names.flatMap((name) => {
        const m = BACKUP.exec(name)
        return m === null ? [] : [Number(m[1])]
      }),
      Order.number
    )
    const candidates = [
      ...(names.includes(CURRENT) ? [CURRENT] : []),
      ...[...backups].reverse().map(backupName)
    ]
    const skipped: Array<Skipped> = []
    for (const file of candidates) {
      const result = yield* loadFile(storage, file)
      if (Either.isRight(result)) {
        const cib = result.right
        return {
          cib: Option.some(cib),
          report: { loaded: Option.some({ file, version: cib.version }), skipped },
          backups,
          currentValid: file === CURRENT
        }
      }
      skipped.push({ file, reason: result.left })
    }
    if (skipped.length > 0) return yield* new NoValidCibError({ location: storage.location, skipped })
    return { cib: Option.none(), report: { loaded: Option.none(), skipped }, backups, currentValid: false }
  })

export interface Opened extends Loaded {
  /** Leftovers of an interrupted write, removed. */
  readonly removed: ReadonlyArray<string>
  /** Writes a version's bytes (from {@link encode}) as the current version (steps in the module comment). */
  readonly save: (bytes: Uint8Array) => Effect.Effect<void, StorageError>
}

export interface Options {
  /** Previous versions kept (see `CibStoreSettings.backups`). */
  readonly backups: number
}

/** Loads the directory, removes leftovers of an interrupted write, and returns a writer. */
export const open = (
  storage: StorageService,
  options: Options
): Effect.Effect<Opened, StorageError | NoValidCibError> =>
  Effect.gen(function* () {
    const loaded = yield* load(storage)
    const names = yield* storage.list
    const removed = names.filter((name) => name === TEMPORARY)
    for (const name of removed) yield* storage.remove(name)
    const kept = [...loaded.backups]
    let currentValid = loaded.currentValid
    const save = (bytes: Uint8Array) =>
      Effect.gen(function* () {
        if (currentValid && options.backups > 0) {
          const n = (kept[kept.length - 1] ?? 0) + 1
          yield* storage.link(CURRENT, backupName(n))
          kept.push(n)
        }
        yield* storage.write(TEMPORARY, bytes)
        yield* storage.sync(TEMPORARY)
        yield* storage.rename(TEMPORARY, CURRENT)
        yield* storage.syncDirectory
        currentValid = true
        while (kept.length > options.backups) yield* storage.remove(backupName(kept.shift() as number))
      })
    return { ...loaded, removed, save }
  })

/**
 * A version's file bytes (header and XML), verified by decoding them back; otherwise the path and
 * reason why the CIB cannot be written as it is.
 */
export const encode: (cib: Cib) => Either.Either<Uint8Array, { path: string; reason: string }> =
  encodeVerified

/** A version's file bytes, not decoded back (see {@link encode}). */
export const encodeUnverified: (cib: Cib) => Uint8Array = encodeFile

/** "0.5.3 from cib.xml (skipped cib-7.xml: digest mismatch …)", for logs. */
export const describeReport = (report: LoadReport): string => {
  const loaded = Option.match(report.loaded, {
    onNone: () => "no CIB on disk",
    onSome: ({ file, version }) => `loaded ${Versions.format(version)} from ${file}`
  })
  return report.skipped.length === 0
    ? loaded
    : `${loaded}, skipped ${report.skipped.map((s) => `${s.file} (${s.reason})`).join(", ")}`
}
