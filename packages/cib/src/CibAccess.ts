/**
 * Who may write the CIB through the local API. The daemon's unix socket learns the caller's
 * credentials from the kernel (SO_PEERCRED: uid and groups) and asks {@link checkWrite} before
 * running an update: root (uid 0) may always write; anyone else only as a member of the configured
 * writer group (`CibStoreSettings.writerGroup`, a gid), primary or supplementary. Without a writer
 * group only root may write. Reads are not restricted here.
 */
import { Effect, Either, Schema } from "effect"

/** The credentials of a local caller, as the kernel reports them. */
export const Caller = Schema.Struct({
  uid: Schema.NonNegativeInt,
  /** primary and supplementary group ids */
  gids: Schema.Array(Schema.NonNegativeInt)
})
export interface Caller extends Schema.Schema.Type<typeof Caller> {}

export interface WritePolicy {
  /** gid whose members may write besides root; undefined: root only */
  readonly writerGroup: number | undefined
}

/** The caller may not write the CIB. */
export class WriteDenied extends Schema.TaggedError<WriteDenied>()("WriteDenied", {
  uid: Schema.Number,
  writerGroup: Schema.optionalWith(Schema.Number, { exact: true })
}) {
  override get message() {
    return this.writerGroup === undefined
      ? `uid ${this.uid} may not write the CIB: only root may`
      : `uid ${this.uid} may not write the CIB: only root and members of group ${this.writerGroup} may`
  }
}

export const ROOT_UID = 0

/** True when `caller` may write under `policy`. */
export const mayWrite = (caller: Caller, policy: WritePolicy): boolean =>
  caller.uid === ROOT_UID || (policy.writerGroup !== undefined && caller.gids.includes(policy.writerGroup))

/** The caller, or why it may not write. */
export const checkWrite = (caller: Caller, policy: WritePolicy): Either.Either<Caller, WriteDenied> =>
  mayWrite(caller, policy)
    ? Either.right(caller)
    : Either.left(
        new WriteDenied(
          policy.writerGroup === undefined
            ? { uid: caller.uid }
            : { uid: caller.uid, writerGroup: policy.writerGroup }
        )
      )

/**
 * `write` (e.g. `CibReplica`'s or `CibStore`'s `update`) on behalf of `caller`: refused with
 * {@link WriteDenied} before anything is sent or written when the caller may not write.
 */
export const guard =
  <Args extends ReadonlyArray<unknown>, A, E, R>(
    write: (...args: Args) => Effect.Effect<A, E, R>,
    caller: Caller,
    policy: WritePolicy
  ) =>
  (...args: Args): Effect.Effect<A, E | WriteDenied, R> =>
    Effect.flatMap(checkWrite(caller, policy), () => write(...args))
