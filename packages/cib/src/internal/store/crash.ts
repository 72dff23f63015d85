import { Effect, Schema } from "effect"
import type { StorageError, StorageService } from "./storage.ts"

/** The injected crash: the process "died" before this storage operation. */
export class CrashedError extends Schema.TaggedError<CrashedError>()("CrashedError", {
  step: Schema.Number,
  operation: Schema.String
}) {
  override get message() {
    return `crash injected before step ${this.step} (${this.operation})`
  }
}

export const crashAfter = (storage: StorageService, steps: number): StorageService => {
  let done = 0
  const guard =
    <A extends ReadonlyArray<unknown>, R>(
      operation: string,
      f: (...args: A) => Effect.Effect<R, StorageError>
    ) =>
    (...args: A): Effect.Effect<R, StorageError> =>
      Effect.suspend(() => {
        if (done >= steps) return Effect.die(new CrashedError({ step: done + 1, operation }))
        done++
        return f(...args)
      })
  return {
    location: storage.location,
    read: guard("read", storage.read),
    write: guard("write", storage.write),
    sync: guard("sync", storage.sync),
    rename: guard("rename", storage.rename),
    link: guard("link", storage.link),
    remove: guard("remove", storage.remove),
    list: guard("list", () => storage.list)(),
    syncDirectory: guard("syncDirectory", () => storage.syncDirectory)()
  }
}
