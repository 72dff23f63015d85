/**
 * The CIB replicated over the cluster: this node's {@link CibStore} kept identical to every other
 * member's through a {@link ReplicationChannel} (ordered broadcast with views).
 *
 * - Updates go through the DC (the lowest node id of a quorate view): {@link CibReplicaService.update}
 *   sends the change as a patch of this node's copy, the DC rebases it onto its copy, validates and
 *   numbers it, and broadcasts the committed diff, which every member applies in the same order.
 *   An update given as a function is recomputed on the newer copy and sent again when a concurrent
 *   update made its patch no longer fit (`CibStoreSettings.conflictRetries`).
 * - The update returns once the commit is applied to this node's copy (and, unless
 *   `durable: false`, written to this node's disk). The other nodes write it within their next
 *   flush: every node writes its copy behind its commits, coalescing (group commit).
 * - On every view the members sync: the highest (admin_epoch, epoch, num_updates) wins and the
 *   losing partitions' status is kept for their own members (`Reconcile.ts`); a node that joins
 *   receives the current CIB this way. See `internal/replication/machine.ts` for the protocol.
 * - Without quorum there is no DC: updates fail with {@link NoCoordinator}; reads go on.
 */
import {
  Context,
  Deferred,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  Queue,
  Schema,
  type Scope,
  Stream,
  SubscriptionRef
} from "effect"
import * as Cib from "./Cib.ts"
import {
  CibStore,
  type CibStoreService,
  type Committed,
  make as makeStore,
  type Update,
  type UpdateError
} from "./CibStore.ts"
import { CibStoreSettings, defaults as settingsDefaults } from "./CibStoreSettings.ts"
import * as Diff from "./Diff.ts"
import { type Input, Machine, type Output, type Resolution } from "./internal/replication/machine.ts"
import * as Messages from "./internal/replication/messages.ts"
import type { MemoryGroup } from "./MemoryGroup.ts"
import {
  type Event,
  type NodeId,
  ReplicationChannel,
  type ReplicationChannelService,
  type View
} from "./ReplicationChannel.ts"
import { makeMemory } from "./Storage.ts"
import * as Version from "./Version.ts"

/** This node is not in a quorate view, so there is no DC to sequence the update. */
export class NoCoordinator extends Schema.TaggedError<NoCoordinator>()("NoCoordinator", {
  node: Schema.Number
}) {
  override get message() {
    return `node ${this.node} is not in a quorate view: there is no DC, the CIB cannot be updated`
  }
}

/** The membership changed before the DC answered: the update may or may not have been committed. */
export class UpdateInterrupted extends Schema.TaggedError<UpdateInterrupted>()("UpdateInterrupted", {
  node: Schema.Number
}) {
  override get message() {
    return `the membership changed before the DC answered node ${this.node}'s update: it may or may not have been committed; read the CIB and retry`
  }
}

/** The DC did not answer in time. */
export class UpdateTimeout extends Schema.TaggedError<UpdateTimeout>()("UpdateTimeout", {
  milliseconds: Schema.Number
}) {
  override get message() {
    return `the DC did not answer the update within ${this.milliseconds} ms`
  }
}

export type ReplicaUpdateError = UpdateError | NoCoordinator | UpdateInterrupted | UpdateTimeout

export interface Status {
  readonly view: View | undefined
  /** The DC of the view, if it is quorate. */
  readonly dc: NodeId | undefined
  /** True once this node's copy is the one the view agreed on. */
  readonly synced: boolean
}

export interface ReplicaUpdateOptions {
  /** Refuse with `VersionConflict` unless the cluster's CIB is at this version when the DC runs the update. */
  readonly expectedVersion?: Cib.Version
  /** Wait until the commit is on this node's disk (default true). */
  readonly durable?: boolean
}

export interface CibReplicaService {
  readonly self: NodeId
  /** This node's copy. */
  readonly query: Effect.Effect<Cib.Cib>
  /**
   * Commits a change through the DC. A patch must be made against the current version unless
   * `expectedVersion` says otherwise; a function is applied to this node's copy.
   */
  readonly update: (
    update: Update,
    options?: ReplicaUpdateOptions
  ) => Effect.Effect<Committed, ReplicaUpdateError>
  /** Changes of this node's copy, in commit order (including whole-copy replacements by a sync). */
  readonly changes: Stream.Stream<Committed>
  readonly status: Effect.Effect<Status>
  /** Waits until this node is in sync in a view (and returns that status). */
  readonly awaitSynced: Effect.Effect<Status>
}

export class CibReplica extends Context.Tag("@ha/cib/CibReplica")<CibReplica, CibReplicaService>() {}

export interface Options {
  /** See `CibStoreSettings.requestTimeout`. */
  readonly requestTimeout: number
  /** See `CibStoreSettings.conflictRetries`. */
  readonly conflictRetries: number
}

type Work =
  | { readonly _tag: "Event"; readonly event: Event }
  | {
      readonly _tag: "Submit"
      readonly id: number
      readonly diff: Diff.Diff
      readonly expectedVersion?: Cib.Version
    }

const isFunction = (update: Update): update is (cib: Cib.Cib) => Cib.Cib => typeof update === "function"

/** Runs the replication of `store` over `channel` for as long as the scope is open. */
export const make = (
  store: CibStoreService,
  channel: ReplicationChannelService,
  options: Options
): Effect.Effect<CibReplicaService, never, Scope.Scope> =>
  Effect.gen(function* () {
    const self = channel.self
    const machine = new Machine(self)
    const work = yield* Queue.unbounded<Work>()
    const waiting = new Map<number, Deferred.Deferred<Resolution>>()
    const status = yield* SubscriptionRef.make<Status>({ view: undefined, dc: undefined, synced: false })
    let nextId = 1

    const summary = Effect.map(store.query, (cib) => ({ version: cib.version, digest: Version.digest(cib) }))
    // the messages of the work items being handled, sent as one broadcast once they are all handled
    let outbox: Array<Messages.Message> = []
    const broadcast = (message: Messages.Message) =>
      Effect.sync(() => {
        outbox.push(message)
      })
    const send = Effect.suspend(() => {
      if (outbox.length === 0) return Effect.void
      const messages = outbox
      outbox = []
      const payload = Messages.encodeAll(messages)
      return Effect.forEach(
        Messages.fragment(payload, channel.maxPayload ?? Messages.MAX_PAYLOAD),
        channel.broadcast,
        {
          discard: true
        }
      )
    })
    const reassembly = new Messages.Reassembly()

    /** Performs one output; an `Execute` gives the input that reports its outcome. */
    const perform = (output: Output): Effect.Effect<Input | undefined> => {
      switch (output._tag) {
        case "Broadcast":
          return Effect.as(broadcast(output.message), undefined)
        case "Execute": {
          const { request, origin } = output
          const options =
            request.expectedVersion === undefined
              ? { rebase: true, durable: false }
              : { rebase: true, durable: false, expectedVersion: request.expectedVersion }
          return Effect.map(Effect.either(store.update(request.diff, options)), (result) => ({
            _tag: "Executed" as const,
            origin,
            id: request.id,
            outcome: Either.isRight(result)
              ? { _tag: "Committed" as const, diff: result.right.diff }
              : { _tag: "Refused" as const, error: result.left }
          }))
        }
        case "Apply":
          return Effect.as(
            Effect.catchAll(store.apply(output.diff, { durable: false }), (e) =>
              Effect.logError(
                `node ${self}: cannot apply the DC's commit ${Version.format(output.diff.to)}: ${e.message}`
              )
            ),
            undefined
          )
        case "ShareCopy":
          return Effect.as(
            Effect.flatMap(store.query, (cib) => broadcast({ _tag: "Copy", view: output.view, cib })),
            undefined
          )
        case "Install":
          return Effect.as(
            Effect.catchAll(store.replace(output.cib, { durable: false }), (e) =>
              Effect.logError(
                `node ${self}: cannot install the synced CIB ${Version.format(output.cib.version)}: ${e.message}`
              )
            ),
            undefined
          )
        case "Resolve":
          return Effect.as(
            Effect.suspend(() => {
              const deferred = waiting.get(output.id)
              return deferred === undefined ? Effect.void : Deferred.succeed(deferred, output.resolution)
            }),
            undefined
          )
        case "Synced":
          return Effect.as(
            SubscriptionRef.set(status, { view: output.view, dc: output.dc, synced: true }),
            undefined
          )
      }
    }

    const run = (first: Input): Effect.Effect<void> =>
      Effect.gen(function* () {
        const inputs: Array<Input> = [first]
        for (let input = inputs.shift(); input !== undefined; input = inputs.shift()) {
          for (const output of machine.step(input)) {
            const next = yield* perform(output)
            if (next !== undefined) inputs.push(next)
          }
        }
      })

    const handle = (item: Work): Effect.Effect<void> => {
      if (item._tag === "Submit") return run(item)
      const event = item.event
      if (event._tag === "View")
        return Effect.gen(function* () {
          // what was said in the old view goes out before anything of the new one
          yield* send
          reassembly.clear()
          yield* SubscriptionRef.set(status, { view: event.view, dc: undefined, synced: false })
          yield* run({ _tag: "View", view: event.view, local: yield* summary })
        })
      const payload = reassembly.add(event.sender, event.payload)
      if (payload === undefined) return Effect.void
      return Either.match(Messages.decodeAll(event.sender, payload), {
        onLeft: (e) => Effect.logWarning(e.message),
        onRight: (messages) =>
          Effect.forEach(messages, (message) => run({ _tag: "Delivered", sender: event.sender, message }), {
            discard: true
          })
      })
    }

    /**
     * Handles the work that is waiting, then broadcasts what it produced as one message: under load
     * a node's requests, and the DC's outcomes of the requests delivered together, travel as batches.
     */
    const handleWaiting = Effect.gen(function* () {
      const first = yield* Queue.take(work)
      const rest = yield* Queue.takeAll(work)
      yield* handle(first)
      for (const item of rest) yield* handle(item)
      yield* send
    })

    yield* channel.events.pipe(
      Stream.runForEach((event) => Queue.offer(work, { _tag: "Event", event })),
      Effect.forkScoped
    )
    yield* handleWaiting.pipe(Effect.forever, Effect.forkScoped)
    // the copy is written behind the commits; concurrent commits share a write
    yield* store.changes.pipe(
      Stream.runForEachChunk(() =>
        Effect.catchAll(store.flush, (e) =>
          Effect.logError(`node ${self}: cannot write the CIB: ${e.message}`)
        )
      ),
      Effect.forkScoped
    )

    const submit = (diff: Diff.Diff, expectedVersion: Cib.Version | undefined) =>
      Effect.gen(function* () {
        const id = nextId++
        const deferred = yield* Deferred.make<Resolution>()
        waiting.set(id, deferred)
        yield* Queue.offer(
          work,
          expectedVersion === undefined
            ? { _tag: "Submit", id, diff }
            : { _tag: "Submit", id, diff, expectedVersion }
        )
        return yield* Deferred.await(deferred).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(options.requestTimeout),
            onTimeout: () => new UpdateTimeout({ milliseconds: options.requestTimeout })
          }),
          Effect.ensuring(Effect.sync(() => waiting.delete(id)))
        )
      })

    const update = (change: Update, updateOptions: ReplicaUpdateOptions = {}) =>
      Effect.gen(function* () {
        for (let attempt = 0; ; attempt++) {
          const local = yield* store.query
          const diff = isFunction(change)
            ? Diff.diff(local, { ...change(local), version: local.version })
            : change
          const expected = updateOptions.expectedVersion ?? (isFunction(change) ? undefined : change.from)
          const resolution = yield* submit(diff, expected)
          switch (resolution._tag) {
            case "Committed": {
              if (updateOptions.durable !== false) yield* store.flush
              const committed: Committed = {
                before: resolution.diff.from,
                after: resolution.diff.to,
                diff: resolution.diff
              }
              return committed
            }
            case "Refused":
              if (
                resolution.error._tag === "UpdateConflict" &&
                isFunction(change) &&
                attempt < options.conflictRetries
              )
                continue
              return yield* Effect.fail(resolution.error)
            case "NoCoordinator":
              return yield* new NoCoordinator({ node: self })
            case "Interrupted":
              return yield* new UpdateInterrupted({ node: self })
          }
        }
      })

    return {
      self,
      query: store.query,
      update,
      changes: store.changes,
      status: SubscriptionRef.get(status),
      awaitSynced: status.changes.pipe(
        Stream.filter((s) => s.synced),
        Stream.runHead,
        // the status stream never ends, so there is always a head
        Effect.map(Option.getOrThrow)
      )
    }
  })

/** The replica of the {@link CibStore} over the {@link ReplicationChannel}, configured by {@link CibStoreSettings}. */
export const layer: Layer.Layer<CibReplica, never, CibStore | ReplicationChannel | CibStoreSettings> =
  Layer.scoped(
    CibReplica,
    Effect.gen(function* () {
      const settings = yield* CibStoreSettings
      return yield* make(yield* CibStore, yield* ReplicationChannel, settings)
    })
  )

/**
 * The CIB of a cluster of one: updates commit straight to `store` and this node is always the DC.
 * For tools and tests that run one controller over one CIB.
 */
export const local = (store: CibStoreService, self: NodeId = 1): CibReplicaService => {
  const status: Status = { view: { id: 1, members: [self], quorate: true }, dc: self, synced: true }
  return {
    self,
    query: store.query,
    update: (change, options) => store.update(change, options),
    changes: store.changes,
    status: Effect.succeed(status),
    awaitSynced: Effect.succeed(status)
  }
}

/** {@link local} over the {@link CibStore} in context. */
export const layerLocal: Layer.Layer<CibReplica, never, CibStore> = Layer.effect(
  CibReplica,
  Effect.map(CibStore, (store) => local(store))
)

/**
 * Node `node` of an in-memory `group`, its store on a fresh in-memory disk starting from `initial`
 * (tests of code that uses the replicated CIB).
 */
export const layerTest = (
  group: MemoryGroup,
  node: NodeId,
  initial: Cib.Cib = Cib.empty
): Layer.Layer<CibReplica> =>
  Layer.scoped(
    CibReplica,
    Effect.gen(function* () {
      const store = yield* Effect.orDie(
        makeStore(makeMemory().storage, { backups: settingsDefaults.backups, initial })
      )
      return yield* make(store, yield* group.channel(node), settingsDefaults)
    })
  )
