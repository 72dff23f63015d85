/**
 * The replicated store's messages on the ordered broadcast, as JSON. Every message names the view
 * it was sent in; messages of another view are ignored.
 */
import { Either, ParseResult, Schema } from "effect"
import { Cib, Version } from "../../Cib.ts"
import { InvalidUpdate, UpdateConflict, VersionConflict } from "../../CibStore.ts"
import { Diff } from "../../Diff.ts"
import { StorageError } from "../store/storage.ts"

const NodeId = Schema.NonNegativeInt
const ViewId = Schema.NonNegativeInt

/** Sent by every member on a new view: what its copy is, and whose status it holds. */
export const Hello = Schema.TaggedStruct("Hello", {
  view: ViewId,
  version: Version,
  digest: Schema.String,
  /** members of the last view this node was in sync in ([] after a start): their status is in its copy */
  partition: Schema.Array(NodeId)
})
export interface Hello extends Schema.Schema.Type<typeof Hello> {}

/** A whole copy, sent by one holder of each copy the merge needs. */
export const Copy = Schema.TaggedStruct("Copy", { view: ViewId, cib: Cib })
export interface Copy extends Schema.Schema.Type<typeof Copy> {}

/** An update for the DC: a patch made against the sender's copy, rebased by the DC when it still fits. */
export const Request = Schema.TaggedStruct("Request", {
  view: ViewId,
  id: Schema.NonNegativeInt,
  diff: Diff,
  expectedVersion: Schema.optionalWith(Version, { exact: true })
})
export interface Request extends Schema.Schema.Type<typeof Request> {}

/** The DC committed request `id` of `origin` as `diff`; the others apply it. */
export const Commit = Schema.TaggedStruct("Commit", {
  view: ViewId,
  origin: NodeId,
  id: Schema.NonNegativeInt,
  diff: Diff
})
export interface Commit extends Schema.Schema.Type<typeof Commit> {}

export const RefusalReason = Schema.Union(VersionConflict, InvalidUpdate, UpdateConflict, StorageError)
export type RefusalReason = typeof RefusalReason.Type

/** The DC refused request `id` of `origin`, nothing changed. */
export const Refused = Schema.TaggedStruct("Refused", {
  view: ViewId,
  origin: NodeId,
  id: Schema.NonNegativeInt,
  error: RefusalReason
})
export interface Refused extends Schema.Schema.Type<typeof Refused> {}

export const Message = Schema.Union(Hello, Copy, Request, Commit, Refused)
export type Message = typeof Message.Type

/** A message that does not decode: who sent it and what is wrong. */
export class BadMessage extends Schema.TaggedError<BadMessage>()("BadMessage", {
  sender: Schema.Number,
  reason: Schema.String
}) {
  override get message() {
    return `bad CIB replication message from node ${this.sender}: ${this.reason}`
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })
const encodeMessage = Schema.encodeSync(Message)
const decodeMessage = Schema.decodeUnknownEither(Message)

/** The message as JSON; only a refusal's error (a class instance) needs the schema's encoding. */
export const encode = (message: Message): Uint8Array =>
  encoder.encode(JSON.stringify(message._tag === "Refused" ? encodeMessage(message) : message))

export const decode = (sender: number, bytes: Uint8Array): Either.Either<Message, BadMessage> => {
  let json: unknown
  try {
    json = JSON.parse(decoder.decode(bytes))
  } catch (e) {
    return Either.left(
      new BadMessage({ sender, reason: `not JSON: ${e instanceof Error ? e.message : String(e)}` })
    )
  }
  return Either.mapLeft(
    decodeMessage(json),
    (e) => new BadMessage({ sender, reason: ParseResult.TreeFormatter.formatErrorSync(e) })
  )
}
