/**
 * Packet sealing: AES-256-GCM with per-sender-incarnation keys derived by HKDF-SHA-256.
 *
 * The primitive is a service so that the portable WebCrypto implementation here (Node 20 and Deno 2
 * alike) can be swapped for `platform/NodeCrypto.ts`, which calls node:crypto synchronously and is
 * several times faster on Node (WebCrypto's promise per packet dominates small-message cost). Both
 * produce the same bytes and interoperate.
 *
 * Key schedule: session key = HKDF-SHA-256(ikm = cluster key, salt = empty,
 * info = "ha-transport v1 aes-256-gcm" || cluster hash (4) || sender id (2) || incarnation (8)).
 * IV = 4 zero bytes || 64-bit sequence number. A (key, IV) pair never repeats: sequence numbers never
 * repeat within an incarnation and incarnations are 64 random bits per boot.
 */
import { Context, Effect, Layer } from "effect"
import { encodeHeader, type Frame, HEADER_SIZE, type Header } from "./internal/wire.ts"

/** A derived session key, opaque to callers (a CryptoKey, a Buffer…). */
export type SessionKey = unknown

export class Aead extends Context.Tag("@ha/transport/Aead")<
  Aead,
  {
    readonly name: string
    /** HKDF-SHA-256 to a 256-bit AES-GCM key. */
    readonly deriveKey: (master: Uint8Array, info: Uint8Array) => Effect.Effect<SessionKey>
    /** Returns ciphertext || 16-byte tag. */
    readonly encrypt: (
      key: SessionKey,
      iv: Uint8Array,
      aad: Uint8Array,
      plaintext: Uint8Array
    ) => Effect.Effect<Uint8Array>
    /** Returns the plaintext, or undefined when authentication fails. */
    readonly decrypt: (
      key: SessionKey,
      iv: Uint8Array,
      aad: Uint8Array,
      sealed: Uint8Array
    ) => Effect.Effect<Uint8Array | undefined>
    /**
     * The same operations as plain functions, when the implementation is synchronous (node:crypto):
     * the transport then seals and opens packets without an Effect per packet, which is most of the
     * per-packet cost under load. Absent for WebCrypto, whose operations return promises.
     */
    readonly sync?: {
      readonly encrypt: (
        key: SessionKey,
        iv: Uint8Array,
        aad: Uint8Array,
        plaintext: Uint8Array
      ) => Uint8Array
      readonly decrypt: (
        key: SessionKey,
        iv: Uint8Array,
        aad: Uint8Array,
        sealed: Uint8Array
      ) => Uint8Array | undefined
    }
  }
>() {}

const subtle = (): SubtleCrypto => globalThis.crypto.subtle
const own = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes)

export const layerWebCrypto: Layer.Layer<Aead> = Layer.succeed(
  Aead,
  Aead.of({
    name: "WebCrypto",
    deriveKey: (master, info) =>
      Effect.promise(async () => {
        const base = await subtle().importKey("raw", own(master), "HKDF", false, ["deriveKey"])
        return subtle().deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: own(info) },
          base,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"]
        )
      }),
    encrypt: (key, iv, aad, plaintext) =>
      Effect.promise(() =>
        subtle().encrypt(
          { name: "AES-GCM", iv: own(iv), additionalData: own(aad), tagLength: 128 },
          key as CryptoKey,
          own(plaintext)
        )
      ).pipe(Effect.map((sealed) => new Uint8Array(sealed))),
    decrypt: (key, iv, aad, sealed) =>
      Effect.promise(() =>
        subtle()
          .decrypt(
            { name: "AES-GCM", iv: own(iv), additionalData: own(aad), tagLength: 128 },
            key as CryptoKey,
            own(sealed)
          )
          .then(
            (plain) => new Uint8Array(plain),
            () => undefined
          )
      )
  })
)

export const clusterHash = (clusterName: string): Effect.Effect<number> =>
  Effect.promise(() =>
    subtle().digest("SHA-256", new TextEncoder().encode(`ha-cluster:${clusterName}`))
  ).pipe(Effect.map((digest) => new DataView(digest).getUint32(0)))

const INFO_PREFIX = new TextEncoder().encode("ha-transport v1 aes-256-gcm")
const SESSION_CACHE_SIZE = 256

const ivOf = (seq: number): Uint8Array => {
  const iv = new Uint8Array(12)
  const view = new DataView(iv.buffer)
  view.setUint32(4, Math.floor(seq / 0x1_0000_0000))
  view.setUint32(8, seq >>> 0)
  return iv
}

export interface Cipher {
  readonly seal: (frame: Frame) => Effect.Effect<Uint8Array>
  /** Authenticates and decrypts a datagram whose header has been parsed; undefined if forged. */
  readonly open: (header: Header, datagram: Uint8Array) => Effect.Effect<Uint8Array | undefined>
  /**
   * `seal` done synchronously, when the primitive is synchronous and the session key is at hand;
   * null when the caller must use `seal`.
   */
  readonly sealNow: (frame: Frame) => Uint8Array | null
  /** `open` done synchronously (undefined: forged), or null when the caller must use `open`. */
  readonly openNow: (header: Header, datagram: Uint8Array) => Uint8Array | undefined | null
}

interface CachedSession {
  readonly clusterHash: number
  readonly incarnation: bigint
  readonly key: SessionKey
}

/** A cipher for one cluster key, caching the session keys of recently seen sender incarnations. */
export const makeCipher = (clusterKey: Uint8Array): Effect.Effect<Cipher, never, Aead> =>
  Effect.map(Aead, (aead) => {
    const master = clusterKey.slice()
    // Insertion-ordered map used as a small LRU.
    const sessions = new Map<string, SessionKey>()
    // The last session key used per sender: the key of nearly every packet, found without building
    // the LRU's string id.
    const latest = new Map<number, CachedSession>()
    const cached = (header: Header): SessionKey | undefined => {
      const hit = latest.get(header.sender)
      return hit !== undefined &&
        hit.incarnation === header.incarnation &&
        hit.clusterHash === header.clusterHash
        ? hit.key
        : undefined
    }
    const remember = (header: Header, key: SessionKey) =>
      latest.set(header.sender, { clusterHash: header.clusterHash, incarnation: header.incarnation, key })
    const sessionKey = (header: Header): Effect.Effect<SessionKey> => {
      const hit = cached(header)
      if (hit !== undefined) return Effect.succeed(hit)
      const id = `${header.clusterHash}/${header.sender}/${header.incarnation}`
      if (sessions.has(id)) {
        const key = sessions.get(id)
        sessions.delete(id)
        sessions.set(id, key)
        remember(header, key)
        return Effect.succeed(key)
      }
      const info = new Uint8Array(INFO_PREFIX.length + 14)
      info.set(INFO_PREFIX)
      const view = new DataView(info.buffer, INFO_PREFIX.length)
      view.setUint32(0, header.clusterHash)
      view.setUint16(4, header.sender)
      view.setBigUint64(6, header.incarnation)
      return Effect.tap(aead.deriveKey(master, info), (key) =>
        Effect.sync(() => {
          sessions.set(id, key)
          remember(header, key)
          if (sessions.size > SESSION_CACHE_SIZE) {
            const oldest = sessions.keys().next().value
            if (oldest !== undefined) sessions.delete(oldest)
          }
        })
      )
    }
    const datagramOf = (header: Uint8Array, sealed: Uint8Array) => {
      const datagram = new Uint8Array(HEADER_SIZE + sealed.length)
      datagram.set(header)
      datagram.set(sealed, HEADER_SIZE)
      return datagram
    }
    const sync = aead.sync
    return {
      seal: (frame) =>
        Effect.gen(function* () {
          const header = encodeHeader(frame)
          const key = yield* sessionKey(frame)
          return datagramOf(header, yield* aead.encrypt(key, ivOf(frame.seq), header, frame.payload))
        }),
      open: (header, datagram) =>
        Effect.flatMap(sessionKey(header), (key) =>
          aead.decrypt(
            key,
            ivOf(header.seq),
            datagram.subarray(0, HEADER_SIZE),
            datagram.subarray(HEADER_SIZE)
          )
        ),
      sealNow: (frame) => {
        const key = sync === undefined ? undefined : cached(frame)
        if (sync === undefined || key === undefined) return null
        const header = encodeHeader(frame)
        return datagramOf(header, sync.encrypt(key, ivOf(frame.seq), header, frame.payload))
      },
      openNow: (header, datagram) => {
        const key = sync === undefined ? undefined : cached(header)
        if (sync === undefined || key === undefined) return null
        return sync.decrypt(
          key,
          ivOf(header.seq),
          datagram.subarray(0, HEADER_SIZE),
          datagram.subarray(HEADER_SIZE)
        )
      }
    }
  })
