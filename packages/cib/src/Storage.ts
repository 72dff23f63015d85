/**
 * The small file-system service the CIB store persists through: one directory, whole-file writes,
 * and the primitives a crash-safe write needs (fsync of a file, rename, hard link, fsync of the
 * directory). Nothing here is Node-specific: `platform/NodeStorage.ts` implements it over
 * `node:fs/promises`, {@link makeMemory} in memory with a model of what survives a crash, and
 * {@link crashAfter} wraps any storage to stop it dead after k steps (crash-injection tests).
 */
import { Context, Effect } from "effect"
import { CrashedError, crashAfter as crashAfterImpl } from "./internal/store/crash.ts"
import { type CrashMode, crashModes, MemoryDisk } from "./internal/store/memory.ts"
import { StorageError, type StorageService } from "./internal/store/storage.ts"

export class Storage extends Context.Tag("@ha/cib/Storage")<Storage, StorageService>() {}

export { CrashedError, type CrashMode, crashModes, MemoryDisk, StorageError, type StorageService }

/** An empty in-memory disk; `disk.storage` is its {@link StorageService}. */
export const makeMemory = (): MemoryDisk => new MemoryDisk()

/**
 * `storage` that performs its first `steps` operations and then "crashes": the next operation and
 * every one after die with {@link CrashedError} without touching the disk, as if the process had
 * been killed between two system calls.
 */
export const crashAfter = (storage: StorageService, steps: number): StorageService =>
  crashAfterImpl(storage, steps)

/** Counts the operations `storage` performs (to know how many crash points a write has). */
export const counting = (
  storage: StorageService
): { readonly storage: StorageService; readonly steps: () => number } => {
  let steps = 0
  const count =
    <A extends ReadonlyArray<unknown>, R>(f: (...args: A) => Effect.Effect<R, StorageError>) =>
    (...args: A) =>
      Effect.suspend(() => {
        steps++
        return f(...args)
      })
  return {
    storage: {
      location: storage.location,
      read: count(storage.read),
      write: count(storage.write),
      sync: count(storage.sync),
      rename: count(storage.rename),
      link: count(storage.link),
      remove: count(storage.remove),
      list: count(() => storage.list)(),
      syncDirectory: count(() => storage.syncDirectory)()
    },
    steps: () => steps
  }
}
