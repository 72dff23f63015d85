/**
 * The replicated store's messages on the ordered broadcast, as JSON. Every message names the view
 * it was sent in; messages of another view are ignored. One broadcast carries one message (a JSON
 * object) or several in order (a JSON array: a batch, see {@link encodeAll}). A broadcast larger than
 * {@link MAX_PAYLOAD} (a whole copy of a large CIB) travels as fragments ({@link fragment},
 * {@link Reassembly}).
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

const plain = (message: Message): unknown => (message._tag === "Refused" ? encodeMessage(message) : message)

/** The message as JSON; only a refusal's error (a class instance) needs the schema's encoding. */
export const encode = (message: Message): Uint8Array => encoder.encode(JSON.stringify(plain(message)))

/**
 * Several messages as one broadcast, delivered together in this order: a node sends what it has to
 * say at once (the DC the outcomes of all the requests delivered together), which costs the ordered
 * broadcast one message instead of many.
 */
export const encodeAll = (messages: ReadonlyArray<Message>): Uint8Array =>
  messages.length === 1 ? encode(messages[0] as Message) : encoder.encode(JSON.stringify(messages.map(plain)))

const parse = (sender: number, bytes: Uint8Array): Either.Either<unknown, BadMessage> => {
  try {
    return Either.right(JSON.parse(decoder.decode(bytes)))
  } catch (e) {
    return Either.left(
      new BadMessage({ sender, reason: `not JSON: ${e instanceof Error ? e.message : String(e)}` })
    )
  }
}

const check = (sender: number, json: unknown): Either.Either<Message, BadMessage> =>
  Either.mapLeft(
    decodeMessage(json),
    (e) => new BadMessage({ sender, reason: ParseResult.TreeFormatter.formatErrorSync(e) })
  )

export const decode = (sender: number, bytes: Uint8Array): Either.Either<Message, BadMessage> =>
  Either.flatMap(parse(sender, bytes), (json) => check(sender, json))

/** The messages of one broadcast (one, or a batch from {@link encodeAll}), or why it is not valid. */
export const decodeAll = (
  sender: number,
  bytes: Uint8Array
): Either.Either<ReadonlyArray<Message>, BadMessage> =>
  Either.flatMap(parse(sender, bytes), (json) =>
    Array.isArray(json)
      ? Either.all(json.map((element: unknown) => check(sender, element)))
      : Either.map(check(sender, json), (message) => [message])
  )

// ---------------------------------------------------------------------------------------------
// Fragments

/**
 * Largest broadcast the replication sends, well under the transport's limit on one message (1 MiB
 * by default): a larger payload goes as several fragments.
 */
export const MAX_PAYLOAD = 256 * 1024

/** First byte of a fragment: a JSON text never starts with it. */
const FRAGMENT = 0x01
const FRAGMENT_HEADER = 9

/** `payload` as one broadcast, or as fragments of at most `max` bytes (marker, index, count, bytes). */
export const fragment = (payload: Uint8Array, max: number = MAX_PAYLOAD): ReadonlyArray<Uint8Array> => {
  if (payload.length <= max) return [payload]
  const size = max - FRAGMENT_HEADER
  const count = Math.ceil(payload.length / size)
  return Array.from({ length: count }, (_, index) => {
    const piece = payload.subarray(index * size, (index + 1) * size)
    const bytes = new Uint8Array(FRAGMENT_HEADER + piece.length)
    const view = new DataView(bytes.buffer)
    bytes[0] = FRAGMENT
    view.setUint32(1, index)
    view.setUint32(5, count)
    bytes.set(piece, FRAGMENT_HEADER)
    return bytes
  })
}

/**
 * Puts the senders' fragmented broadcasts back together. A sender's fragments are delivered in the
 * order it sent them (others' messages may come between), so a payload is complete, and delivered
 * in the total order, with its last fragment. A new view drops what is incomplete: every member
 * drops the same, and what was left of it belongs to the old view anyway.
 */
export class Reassembly {
  private readonly partial = new Map<number, { readonly count: number; readonly pieces: Array<Uint8Array> }>()

  /** The whole payload when `bytes` completes one (or is not a fragment), else undefined. */
  add(sender: number, bytes: Uint8Array): Uint8Array | undefined {
    if (bytes[0] !== FRAGMENT) return bytes
    if (bytes.length < FRAGMENT_HEADER) return undefined
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const index = view.getUint32(1)
    const count = view.getUint32(5)
    const piece = bytes.subarray(FRAGMENT_HEADER)
    if (index === 0) this.partial.set(sender, { count, pieces: [piece] })
    else {
      const started = this.partial.get(sender)
      // the rest of a payload whose start came in an earlier view
      if (started === undefined || started.count !== count || started.pieces.length !== index) {
        this.partial.delete(sender)
        return undefined
      }
      started.pieces.push(piece)
    }
    const current = this.partial.get(sender)
    if (current === undefined || current.pieces.length < current.count) return undefined
    this.partial.delete(sender)
    const whole = new Uint8Array(current.pieces.reduce((n, p) => n + p.length, 0))
    let offset = 0
    for (const p of current.pieces) {
      whole.set(p, offset)
      offset += p.length
    }
    return whole
  }

  /** Drops the incomplete payloads (on a new view). */
  clear(): void {
    this.partial.clear()
  }
}
