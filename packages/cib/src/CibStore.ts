/**
 * One node's live CIB: the current CIB in memory, every change validated, versioned, published,
 * and written to disk (see `Persistence.ts`).
 *
 * - {@link CibStoreService.query}: the current CIB.
 * - {@link CibStoreService.update}: a patch (a `Diff` made against the current version, or an
 *   older one with `rebase`) or a function of the CIB, optionally only if the CIB is still at an
 *   expected version. The store numbers the result: a change to the configuration bumps `epoch`
 *   and resets `num_updates`; a change elsewhere (status, `<cib>` attributes) bumps `num_updates`,
 *   as Pacemaker does. An update that changes nothing commits nothing.
 * - {@link CibStoreService.changes}: a stream of committed changes, in commit order.
 *
 * Every candidate is checked (schema, duplicate ids, references to unknown ids) before anything
 * changes; a refused update changes nothing in memory or on disk. A candidate made from the current
 * CIB is checked where it differs from it (a status update: the `node_state`s and resource
 * histories it changed), and keeps the objects it shares with it, so that its digest and the next
 * diffs cost in proportion to the change rather than to the whole CIB. Commits are serialized in
 * memory and written behind them: a write takes the newest version, so commits made while one is
 * in progress share the next (group commit); `update` waits for the write of its version unless
 * `durable: false`. If a write fails, the commit stays in memory and the error is returned; the
 * next write retries.
 *
 * Replication (`CibReplica.ts`) drives this service: the DC runs updates with `rebase`, the other
 * nodes install the DC's diffs with {@link CibStoreService.apply}, which keeps its version numbers,
 * and a sync installs the agreed copy with {@link CibStoreService.replace} (see `Reconcile.ts`).
 */
import {
  Context,
  Effect,
  Either,
  Layer,
  Option,
  PubSub,
  type Queue,
  Ref,
  Schema,
  type Scope,
  Stream
} from "effect"
import * as Cib from "./Cib.ts"
import { CibStoreSettings, defaults as defaultSettings } from "./CibStoreSettings.ts"
import * as Diff from "./Diff.ts"
import { validate, validateChange } from "./internal/store/validate.ts"
import * as Persistence from "./Persistence.ts"
import { makeMemory, Storage, StorageError, type StorageService } from "./Storage.ts"
import * as Version from "./Version.ts"

// ---------------------------------------------------------------------------------------------
// Errors

/** The CIB is not at the version the update was made for. */
export class VersionConflict extends Schema.TaggedError<VersionConflict>()("VersionConflict", {
  expected: Cib.Version,
  actual: Cib.Version
}) {
  override get message() {
    return `the CIB is at version ${Version.format(this.actual)}, the update expects ${Version.format(this.expected)}`
  }
}

/** The update would make an invalid CIB: `path` says where (a path through the model), `reason` what. */
export class InvalidUpdate extends Schema.TaggedError<InvalidUpdate>()("InvalidUpdate", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `update refused: ${this.path === "" ? "" : `${this.path}: `}${this.reason}`
  }
}

/** A patch made against an older version no longer fits the current CIB (see `UpdateOptions.rebase`). */
export class UpdateConflict extends Schema.TaggedError<UpdateConflict>()("UpdateConflict", {
  made: Cib.Version,
  actual: Cib.Version,
  reason: Schema.String
}) {
  override get message() {
    return `the update was made at version ${Version.format(this.made)} and no longer fits the CIB at ${Version.format(this.actual)}: ${this.reason}`
  }
}

export type UpdateError = VersionConflict | InvalidUpdate | UpdateConflict | StorageError

// ---------------------------------------------------------------------------------------------
// The service

/** A committed change: the versions before and after, and what changed. */
export interface Committed {
  readonly before: Cib.Version
  readonly after: Cib.Version
  readonly diff: Diff.Diff
}

/** A patch made against the current CIB (its `from` is the expected version), or a function of the CIB. */
export type Update = Diff.Diff | ((cib: Cib.Cib) => Cib.Cib)

export interface WriteOptions {
  /**
   * Wait until the committed version is on disk (default true). With false the call returns once
   * the change is committed in memory and published; {@link CibStoreService.flush} writes it.
   */
  readonly durable?: boolean
}

export interface UpdateOptions extends WriteOptions {
  /** Refuse with {@link VersionConflict} unless the CIB is at this version. */
  readonly expectedVersion?: Cib.Version
  /**
   * For a patch made against an older version: apply its changes to the current CIB as long as
   * each still fits (the values it changes or removes are still the ones it saw, the elements it
   * adds are still absent); otherwise refuse with {@link UpdateConflict}. Default false: a patch
   * must start at the current version.
   */
  readonly rebase?: boolean
}

export interface CibStoreService {
  readonly query: Effect.Effect<Cib.Cib>
  /** Validates, numbers, persists and publishes the updated CIB. The version field of a function's result is ignored. */
  readonly update: (update: Update, options?: UpdateOptions) => Effect.Effect<Committed, UpdateError>
  /** Committed changes from the moment the stream is run. */
  readonly changes: Stream.Stream<Committed>
  /** A queue of committed changes from now on (no change missed between subscribing and reading). */
  readonly subscribe: Effect.Effect<Queue.Dequeue<Committed>, never, Scope.Scope>
  /**
   * Installs a change committed elsewhere (replication): the diff must start at the current
   * version and end at a newer one, whose number is kept.
   */
  readonly apply: (diff: Diff.Diff, options?: WriteOptions) => Effect.Effect<Committed, UpdateError>
  /**
   * Replaces the CIB by the copy the cluster agreed on (a node joining, or the merge after a
   * partition heals): refused when older than the current CIB; a copy at the same version with
   * other content replaces it (the cluster's tie-break chose it, see `Reconcile.ts`).
   */
  readonly replace: (cib: Cib.Cib, options?: WriteOptions) => Effect.Effect<Committed, UpdateError>
  /**
   * Writes the current version if it is not on disk yet, and waits until it is. Commits made while
   * a write is in progress are written together by the next one (group commit). The first write of
   * each epoch is decoded back from its bytes before it is written (a CIB that would not load as
   * itself fails with `StorageError`); status-only versions are written without that check.
   */
  readonly flush: Effect.Effect<void, StorageError>
  /** What was loaded at start-up and which damaged files were passed over. */
  readonly startup: Persistence.LoadReport
}

export class CibStore extends Context.Tag("@ha/cib/CibStore")<CibStore, CibStoreService>() {}

const isFunction = (update: Update): update is (cib: Cib.Cib) => Cib.Cib => typeof update === "function"

const refusal = (p: { readonly path: string; readonly reason: string }) =>
  new InvalidUpdate({ path: p.path, reason: p.reason })

const checked = (candidate: unknown): Either.Either<Cib.Cib, InvalidUpdate> =>
  Either.mapLeft(validate(candidate), refusal)

/** `candidate`, made from the current CIB `before`, checked where it differs from it. */
const checkedChange = (before: Cib.Cib, candidate: unknown): Either.Either<Cib.Cib, InvalidUpdate> =>
  Either.mapLeft(validateChange(before, candidate), refusal)

/**
 * The store over `storage`: loads the newest valid version (or starts from `initial` when the
 * directory holds none) and writes commits through {@link Persistence.open}.
 */
export const make = (
  storage: StorageService,
  options: { readonly backups: number; readonly initial?: Cib.Cib }
): Effect.Effect<CibStoreService, StorageError | Persistence.NoValidCibError | InvalidUpdate> =>
  Effect.gen(function* () {
    const disk = yield* Persistence.open(storage, { backups: options.backups })
    if (disk.report.skipped.length > 0 || disk.removed.length > 0)
      yield* Effect.logWarning(
        `CIB store in ${storage.location}: ${Persistence.describeReport(disk.report)}${
          disk.removed.length > 0 ? `; removed ${disk.removed.join(", ")}` : ""
        }`
      )
    // validated once more so that every CIB the store holds has the schema's field order
    const start = yield* checked(Option.getOrElse(disk.cib, () => options.initial ?? Cib.empty))
    const current = yield* Ref.make(start)
    const lock = yield* Effect.makeSemaphore(1)
    const flushLock = yield* Effect.makeSemaphore(1)
    const published = yield* PubSub.unbounded<Committed>()
    // the CIB object last written (identity: CIBs are immutable)
    let onDisk: Cib.Cib | undefined = Option.isSome(disk.cib) ? start : undefined
    // the version of the last write decoded back from its bytes
    let verified: Cib.Version | undefined

    const flush: Effect.Effect<void, StorageError> = flushLock.withPermits(1)(
      Effect.gen(function* () {
        const cib = yield* Ref.get(current)
        if (cib === onDisk) return
        // a write is decoded back whenever the configuration may have changed since the last one
        // checked (a new epoch); status-only versions, the bulk of the writes, are not
        const verify =
          verified === undefined ||
          Version.compare({ ...cib.version, numUpdates: 0 }, { ...verified, numUpdates: 0 }) !== 0
        const bytes = verify
          ? yield* Either.mapLeft(
              Persistence.encode(cib),
              (p) =>
                new StorageError({
                  operation: "encode",
                  file: Persistence.CURRENT,
                  reason: `${p.path === "" ? "" : `${p.path}: `}${p.reason}`
                })
            )
          : Persistence.encodeUnverified(cib)
        yield* disk.save(bytes)
        onDisk = cib
        if (verify) verified = cib.version
      })
    )

    /** Makes `next` current and publishes it; the caller holds `lock`. */
    const commit = (before: Cib.Cib, next: Cib.Cib, diff: Diff.Diff) =>
      Effect.gen(function* () {
        yield* Ref.set(current, next)
        const committed: Committed = { before: before.version, after: next.version, diff }
        yield* PubSub.publish(published, committed)
        return committed
      })

    const durably = <E>(options: WriteOptions, run: Effect.Effect<Committed, E>) =>
      Effect.tap(lock.withPermits(1)(run), (committed) =>
        options.durable === false || Version.equals(committed.before, committed.after) ? Effect.void : flush
      )

    const update = (change: Update, updateOptions: UpdateOptions = {}) =>
      durably(
        updateOptions,
        Effect.gen(function* () {
          const before = yield* Ref.get(current)
          const expected =
            updateOptions.expectedVersion ??
            (isFunction(change) || updateOptions.rebase ? undefined : change.from)
          if (expected !== undefined && !Version.equals(expected, before.version))
            return yield* new VersionConflict({ expected, actual: before.version })
          let candidate: Cib.Cib
          let patchedWith: Diff.Diff | undefined
          if (isFunction(change)) candidate = change(before)
          else {
            // the patch's own changes are the commit's: no second diff of the whole CIB
            const stale = updateOptions.rebase === true && !Version.equals(change.from, before.version)
            patchedWith = stale
              ? { ...change, from: before.version, baseDigest: Version.digest(before) }
              : change
            candidate = stale
              ? yield* rebased(before, patchedWith, change.from)
              : yield* patched(before, change)
          }
          const valid = yield* checkedChange(before, { ...candidate, version: before.version })
          const changes =
            patchedWith === undefined
              ? Diff.diff(before, valid)
              : { ...patchedWith, from: before.version, to: before.version }
          if (Diff.isEmpty(changes)) return { before: before.version, after: before.version, diff: changes }
          const configurationChanged = changes.changes.some((c) => c.path[0] === "configuration")
          const version = configurationChanged
            ? Version.bumpEpoch(before.version)
            : Version.bumpNumUpdates(before.version)
          return yield* commit(before, { ...valid, version }, { ...changes, to: version })
        })
      )

    const apply = (diff: Diff.Diff, writeOptions: WriteOptions = {}) =>
      durably(
        writeOptions,
        Effect.gen(function* () {
          const before = yield* Ref.get(current)
          if (!Version.equals(diff.from, before.version))
            return yield* new VersionConflict({ expected: diff.from, actual: before.version })
          if (Version.compare(diff.to, diff.from) <= 0)
            return yield* new InvalidUpdate({
              path: "version",
              reason: `a replicated change must raise the version, ${Version.format(diff.from)} → ${Version.format(diff.to)} does not`
            })
          const candidate = yield* patched(before, diff)
          const valid = yield* checkedChange(before, candidate)
          return yield* commit(before, valid, diff)
        })
      )

    const replace = (cib: Cib.Cib, writeOptions: WriteOptions = {}) =>
      durably(
        writeOptions,
        Effect.gen(function* () {
          const before = yield* Ref.get(current)
          if (Version.compare(cib.version, before.version) < 0)
            return yield* new InvalidUpdate({
              path: "version",
              reason: `a replacement must not be older than ${Version.format(before.version)}, it is ${Version.format(cib.version)}`
            })
          const valid = yield* checkedChange(before, cib)
          const changes = Diff.diff(before, valid)
          if (Diff.isEmpty(changes) && Version.equals(before.version, valid.version))
            return { before: before.version, after: before.version, diff: changes }
          return yield* commit(before, valid, changes)
        })
      )

    return {
      query: Ref.get(current),
      update,
      changes: Stream.fromPubSub(published),
      subscribe: PubSub.subscribe(published),
      apply,
      replace,
      flush,
      startup: disk.report
    }
  })

const patched = (base: Cib.Cib, diff: Diff.Diff): Effect.Effect<Cib.Cib, VersionConflict | InvalidUpdate> =>
  Either.match(Diff.patch(base, diff), {
    onRight: Effect.succeed,
    onLeft: (e) => {
      switch (e._tag) {
        case "VersionMismatchError":
          return Effect.fail(new VersionConflict({ expected: e.expected, actual: e.actual }))
        case "ContentMismatchError":
          return Effect.fail(
            new InvalidUpdate({
              path: "",
              reason: "the patch was made against other content at this version"
            })
          )
        case "PatchConflictError":
          return Effect.fail(new InvalidUpdate({ path: e.path, reason: e.reason }))
      }
    }
  })

/** `diff`'s changes (made at version `made`, rebased to start at `base`) applied to `base`. */
const rebased = (base: Cib.Cib, diff: Diff.Diff, made: Cib.Version): Effect.Effect<Cib.Cib, UpdateConflict> =>
  Either.match(Diff.patch(base, diff), {
    onRight: Effect.succeed,
    onLeft: (e) =>
      Effect.fail(
        new UpdateConflict({
          made,
          actual: base.version,
          reason: e._tag === "PatchConflictError" ? `${e.path}: ${e.reason}` : e.message
        })
      )
  })

/** The store persisting through the {@link Storage} service, configured by {@link CibStoreSettings}. */
export const layer: Layer.Layer<
  CibStore,
  StorageError | Persistence.NoValidCibError | InvalidUpdate,
  Storage | CibStoreSettings
> = Layer.effect(
  CibStore,
  Effect.gen(function* () {
    const storage = yield* Storage
    const settings = yield* CibStoreSettings
    return yield* make(storage, { backups: settings.backups })
  })
)

/** A store on a fresh in-memory disk, starting from `initial` (default: an empty CIB). */
export const layerTestFrom = (initial: Cib.Cib = Cib.empty): Layer.Layer<CibStore> =>
  Layer.effect(
    CibStore,
    // a fresh disk for every build (the layer may be built once per node)
    Effect.suspend(() =>
      Effect.orDie(make(makeMemory().storage, { backups: defaultSettings.backups, initial }))
    )
  )

/** A store on a fresh in-memory disk, starting from an empty CIB. */
export const layerTest: Layer.Layer<CibStore> = layerTestFrom()
