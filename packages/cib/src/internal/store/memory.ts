/**
 * An in-memory disk that remembers what a crash would keep. Every file is an inode with the bytes
 * last fsynced (`durable`) and the bytes the process sees (`live`); the directory has the entries
 * last fsynced and the live ones. {@link MemoryDisk.crash} returns the disk as it could be after a
 * power loss, for one of the {@link CrashMode}s, from the most forgiving to the most hostile.
 */
import { Effect, Option } from "effect"
import { StorageError, type StorageService } from "./storage.ts"

interface Inode {
  /** Bytes on disk after the last fsync; undefined when never synced (the file may come back empty). */
  durable: Uint8Array | undefined
  live: Uint8Array
}

/**
 * What a crash keeps of the work not yet fsynced:
 * - `directory`: `"synced"` keeps the directory as of its last fsync, `"live"` keeps every rename,
 *   link and removal (journaled metadata reaching the disk before the data, as on ext4).
 * - `data`: `"kept"` keeps unsynced file bytes, `"lost"` reverts them (never-synced files come back
 *   empty), `"torn"` keeps the first half of the unsynced bytes (a partial write-back).
 */
export interface CrashMode {
  readonly directory: "synced" | "live"
  readonly data: "kept" | "lost" | "torn"
}

/** Every combination, so that a test run covers each kind of crash at each point. */
export const crashModes: ReadonlyArray<CrashMode> = (["synced", "live"] as const).flatMap((directory) =>
  (["kept", "lost", "torn"] as const).map((data) => ({ directory, data }))
)

const afterCrash = (inode: Inode, data: CrashMode["data"]): Inode => {
  const synced = inode.durable ?? new Uint8Array(0)
  const bytes =
    data === "kept" || inode.live === inode.durable
      ? inode.live
      : data === "lost"
        ? synced
        : inode.live.slice(0, Math.floor(inode.live.length / 2))
  return { durable: bytes, live: bytes }
}

export class MemoryDisk {
  private live = new Map<string, Inode>()
  private durable = new Map<string, Inode>()

  /** Copies of the files as the process sees them now (for assertions and for tampering in tests). */
  files(): ReadonlyMap<string, Uint8Array> {
    return new Map([...this.live].map(([name, inode]) => [name, inode.live]))
  }

  /** Replaces a file's bytes durably, bypassing the storage API (to simulate disk damage). */
  tamper(name: string, bytes: Uint8Array): void {
    const inode = { durable: bytes, live: bytes }
    this.live.set(name, inode)
    this.durable.set(name, inode)
  }

  /** The disk after a power loss in `mode`: a new MemoryDisk whose every byte is durable. */
  crash(mode: CrashMode): MemoryDisk {
    const entries = mode.directory === "live" ? this.live : this.durable
    const next = new MemoryDisk()
    const seen = new Map<Inode, Inode>()
    for (const [name, inode] of entries) {
      let copy = seen.get(inode)
      if (copy === undefined) {
        copy = afterCrash(inode, mode.data)
        seen.set(inode, copy)
      }
      next.live.set(name, copy)
      next.durable.set(name, copy)
    }
    return next
  }

  readonly storage: StorageService = {
    location: "memory",
    read: (name) => Effect.sync(() => Option.fromNullable(this.live.get(name)?.live)),
    write: (name, bytes) =>
      Effect.sync(() => {
        const copy = bytes.slice()
        const inode = this.live.get(name)
        if (inode === undefined) this.live.set(name, { durable: undefined, live: copy })
        else inode.live = copy
      }),
    sync: (name) =>
      Effect.suspend(() => {
        const inode = this.live.get(name)
        if (inode === undefined) return missing("fsync", name)
        inode.durable = inode.live
        return Effect.void
      }),
    rename: (from, to) =>
      Effect.suspend(() => {
        const inode = this.live.get(from)
        if (inode === undefined) return missing("rename", from)
        this.live.delete(from)
        this.live.set(to, inode)
        return Effect.void
      }),
    link: (existing, to) =>
      Effect.suspend(() => {
        const inode = this.live.get(existing)
        if (inode === undefined) return missing("link", existing)
        if (this.live.has(to))
          return Effect.fail(new StorageError({ operation: "link", file: to, reason: "file exists" }))
        this.live.set(to, inode)
        return Effect.void
      }),
    remove: (name) =>
      Effect.sync(() => {
        this.live.delete(name)
      }),
    list: Effect.sync(() => [...this.live.keys()]),
    syncDirectory: Effect.sync(() => {
      this.durable = new Map(this.live)
    })
  }
}

const missing = (operation: string, file: string) =>
  Effect.fail(new StorageError({ operation, file, reason: "no such file" }))
