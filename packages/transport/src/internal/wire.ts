/**
 * Byte layout of transport packets. Pure: no crypto here (see Aead.ts), only the header that is
 * authenticated as AES-GCM additional data and the small plaintext bodies of ping and pong.
 */

export const VERSION = 1
export const HEADER_SIZE = 36
export const TAG_SIZE = 16

export type FrameKind = "ping" | "pong" | "data"
const KIND_CODES: Record<FrameKind, number> = { ping: 1, pong: 2, data: 3 }
const KINDS: ReadonlyArray<FrameKind | undefined> = [undefined, "ping", "pong", "data"]

export interface Header {
  readonly kind: FrameKind
  readonly link: number
  readonly clusterHash: number
  readonly sender: number
  readonly destination: number
  /** Random per boot of the sender; distinguishes a restarted node from a replay of its old packets. */
  readonly incarnation: bigint
  /** Per sender incarnation, starting at 1, unique across all frames the sender emits. */
  readonly seq: number
  readonly messageId: number
  readonly fragIndex: number
  readonly fragCount: number
}

export interface Frame extends Header {
  readonly payload: Uint8Array
}

export type WireError = "truncated" | "oversized" | "malformed"

export const encodeHeader = (header: Header): Uint8Array<ArrayBuffer> => {
  const bytes = new Uint8Array(HEADER_SIZE)
  const view = new DataView(bytes.buffer)
  view.setUint8(0, VERSION)
  view.setUint8(1, KIND_CODES[header.kind])
  view.setUint8(2, header.link)
  view.setUint8(3, 0)
  view.setUint32(4, header.clusterHash)
  view.setUint16(8, header.sender)
  view.setUint16(10, header.destination)
  view.setBigUint64(12, header.incarnation)
  view.setBigUint64(20, BigInt(header.seq))
  view.setUint32(28, header.messageId)
  view.setUint16(32, header.fragIndex)
  view.setUint16(34, header.fragCount)
  return bytes
}

/** Parses and sanity-checks the cleartext header; `maxPayload` bounds the ciphertext (the MTU). */
export const decodeHeader = (bytes: Uint8Array, maxPayload: number): Header | WireError => {
  if (bytes.length < HEADER_SIZE + TAG_SIZE) return "truncated"
  if (bytes.length > HEADER_SIZE + maxPayload + TAG_SIZE) return "oversized"
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const kind = KINDS[view.getUint8(1)]
  if (view.getUint8(0) !== VERSION || kind === undefined || view.getUint8(3) !== 0) return "malformed"
  const seq = view.getBigUint64(20)
  const fragIndex = view.getUint16(32)
  const fragCount = view.getUint16(34)
  if (seq === 0n || seq > BigInt(Number.MAX_SAFE_INTEGER)) return "malformed"
  if (fragCount === 0 || fragIndex >= fragCount || (kind !== "data" && fragCount !== 1)) return "malformed"
  return {
    kind,
    link: view.getUint8(2),
    clusterHash: view.getUint32(4),
    sender: view.getUint16(8),
    destination: view.getUint16(10),
    incarnation: view.getBigUint64(12),
    seq: Number(seq),
    messageId: view.getUint32(28),
    fragIndex,
    fragCount
  }
}

export interface Ping {
  /** Sender's clock (ms) when the ping left; echoed by the pong to measure rtt and prove freshness. */
  readonly sentAt: number
  /** The receiver's incarnation as verified by the sender, 0n if none yet. */
  readonly knownIncarnation: bigint
}

export interface Pong {
  readonly echoSentAt: number
  /** The incarnation found in the ping's header: proves this pong was made after the pinger booted. */
  readonly echoIncarnation: bigint
  readonly knownIncarnation: bigint
}

export const PING_SIZE = 16
export const PONG_SIZE = 24

export const encodePing = (ping: Ping): Uint8Array => {
  const bytes = new Uint8Array(PING_SIZE)
  const view = new DataView(bytes.buffer)
  view.setBigUint64(0, BigInt(Math.max(0, Math.floor(ping.sentAt))))
  view.setBigUint64(8, ping.knownIncarnation)
  return bytes
}

export const decodePing = (bytes: Uint8Array): Ping | undefined => {
  if (bytes.length !== PING_SIZE) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { sentAt: Number(view.getBigUint64(0)), knownIncarnation: view.getBigUint64(8) }
}

export const encodePong = (pong: Pong): Uint8Array => {
  const bytes = new Uint8Array(PONG_SIZE)
  const view = new DataView(bytes.buffer)
  view.setBigUint64(0, BigInt(Math.max(0, Math.floor(pong.echoSentAt))))
  view.setBigUint64(8, pong.echoIncarnation)
  view.setBigUint64(16, pong.knownIncarnation)
  return bytes
}

export const decodePong = (bytes: Uint8Array): Pong | undefined => {
  if (bytes.length !== PONG_SIZE) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return {
    echoSentAt: Number(view.getBigUint64(0)),
    echoIncarnation: view.getBigUint64(8),
    knownIncarnation: view.getBigUint64(16)
  }
}
