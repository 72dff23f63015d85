/**
 * AES-256-GCM sealing of frames with WebCrypto (globalThis.crypto.subtle: Node 20 and Deno 2 alike).
 *
 * Each sender incarnation gets its own key, derived with HKDF-SHA-256 from the cluster key and
 * (cluster hash, sender id, incarnation); the 96-bit IV is the frame's sequence number. A (key, IV) pair
 * is therefore never reused as long as the sender never repeats a sequence number within one
 * incarnation, which the machine guarantees, and incarnations are 64 random bits.
 */
import { encodeHeader, type Frame, HEADER_SIZE, type Header } from "./wire.ts"

const subtle = (): SubtleCrypto => globalThis.crypto.subtle
const INFO_PREFIX = new TextEncoder().encode("ha-transport v1 aes-256-gcm")
const SESSION_CACHE_SIZE = 256

export const clusterHash = async (clusterName: string): Promise<number> => {
  const digest = await subtle().digest("SHA-256", new TextEncoder().encode(`ha-cluster:${clusterName}`))
  return new DataView(digest).getUint32(0)
}

const ivOf = (seq: number): Uint8Array<ArrayBuffer> => {
  const iv = new Uint8Array(12)
  new DataView(iv.buffer).setBigUint64(4, BigInt(seq))
  return iv
}

export interface Cipher {
  readonly seal: (frame: Frame) => Promise<Uint8Array>
  /** Decrypts and authenticates; `undefined` when the tag does not verify. */
  readonly open: (header: Header, datagram: Uint8Array) => Promise<Uint8Array | undefined>
}

export const makeCipher = async (clusterKey: Uint8Array): Promise<Cipher> => {
  const master = await subtle().importKey("raw", new Uint8Array(clusterKey), "HKDF", false, ["deriveKey"])
  // Insertion-ordered map used as a small LRU of derived session keys.
  const sessions = new Map<string, Promise<CryptoKey>>()
  const sessionKey = (header: Header): Promise<CryptoKey> => {
    const id = `${header.clusterHash}/${header.sender}/${header.incarnation}`
    const cached = sessions.get(id)
    if (cached !== undefined) {
      sessions.delete(id)
      sessions.set(id, cached)
      return cached
    }
    const info = new Uint8Array(INFO_PREFIX.length + 14)
    info.set(INFO_PREFIX)
    const view = new DataView(info.buffer, INFO_PREFIX.length)
    view.setUint32(0, header.clusterHash)
    view.setUint16(4, header.sender)
    view.setBigUint64(6, header.incarnation)
    const derived = subtle().deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info },
      master,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"]
    )
    sessions.set(id, derived)
    if (sessions.size > SESSION_CACHE_SIZE) {
      const oldest = sessions.keys().next().value
      if (oldest !== undefined) sessions.delete(oldest)
    }
    return derived
  }
  return {
    seal: async (frame) => {
      const header = encodeHeader(frame)
      const key = await sessionKey(frame)
      const sealed = await subtle().encrypt(
        { name: "AES-GCM", iv: ivOf(frame.seq), additionalData: header, tagLength: 128 },
        key,
        new Uint8Array(frame.payload)
      )
      const datagram = new Uint8Array(HEADER_SIZE + sealed.byteLength)
      datagram.set(header)
      datagram.set(new Uint8Array(sealed), HEADER_SIZE)
      return datagram
    },
    open: async (header, datagram) => {
      const key = await sessionKey(header)
      try {
        const plain = await subtle().decrypt(
          {
            name: "AES-GCM",
            iv: ivOf(header.seq),
            additionalData: datagram.slice(0, HEADER_SIZE),
            tagLength: 128
          },
          key,
          datagram.slice(HEADER_SIZE)
        )
        return new Uint8Array(plain)
      } catch {
        return undefined
      }
    }
  }
}
