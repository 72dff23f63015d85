import { type Effect, type Option, Schema } from "effect"

/** A file-system operation failed (the message of the underlying error in `reason`). */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  operation: Schema.String,
  file: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.operation} ${this.file}: ${this.reason}`
  }
}

export interface StorageService {
  /** Where the files are, for messages ("/var/lib/ha/cib", "memory"). */
  readonly location: string
  /** The file's bytes, or none when it does not exist. */
  readonly read: (name: string) => Effect.Effect<Option.Option<Uint8Array>, StorageError>
  /** Creates or truncates `name` and writes `bytes` (not durable until {@link sync}). */
  readonly write: (name: string, bytes: Uint8Array) => Effect.Effect<void, StorageError>
  /** fsync: the file's data is on disk. */
  readonly sync: (name: string) => Effect.Effect<void, StorageError>
  /** Atomically replaces `to` by `from` (durable after {@link syncDirectory}). */
  readonly rename: (from: string, to: string) => Effect.Effect<void, StorageError>
  /** Makes `to` a second name of `existing` (a hard link: no data is copied). */
  readonly link: (existing: string, to: string) => Effect.Effect<void, StorageError>
  /** Removes `name`; a missing file is not an error. */
  readonly remove: (name: string) => Effect.Effect<void, StorageError>
  /** Names of the files in the directory. */
  readonly list: Effect.Effect<ReadonlyArray<string>, StorageError>
  /** fsync of the directory: renames, links and removals are on disk. */
  readonly syncDirectory: Effect.Effect<void, StorageError>
}
