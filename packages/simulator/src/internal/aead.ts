/**
 * A deterministic, synchronous stand-in for AES-GCM: the plaintext travels in clear with a 16-byte
 * keyed checksum, so packets still authenticate (a wrong key or a changed byte is refused) but no
 * WebCrypto promise runs in real time under the simulated clock. For simulations only.
 */
import { Aead } from "@ha/transport"
import { Effect, Layer } from "effect"

/** Four FNV-1a lanes over key, IV, AAD and data: 16 bytes that change with any input byte. */
const checksum = (key: Uint8Array, iv: Uint8Array, aad: Uint8Array, data: Uint8Array): Uint8Array => {
  const lanes = new Uint32Array([0x811c9dc5, 0x01000193, 0xdeadbeef, 0x9e3779b9])
  for (const part of [key, iv, aad, data])
    for (let i = 0; i < part.length; i++)
      for (let l = 0; l < 4; l++) lanes[l] = Math.imul((lanes[l]! ^ part[i]!) >>> 0, 0x01000193 + 2 * l)
  return new Uint8Array(lanes.buffer)
}

const encrypt = (key: unknown, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) => {
  const out = new Uint8Array(plaintext.length + 16)
  out.set(plaintext)
  out.set(checksum(key as Uint8Array, iv, aad, plaintext), plaintext.length)
  return out
}

const decrypt = (key: unknown, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => {
  if (sealed.length < 16) return undefined
  const plaintext = sealed.slice(0, sealed.length - 16)
  const tag = checksum(key as Uint8Array, iv, aad, plaintext)
  for (let i = 0; i < 16; i++) if (tag[i] !== sealed[sealed.length - 16 + i]) return undefined
  return plaintext
}

export const DeterministicAead: Layer.Layer<Aead.Aead> = Layer.succeed(
  Aead.Aead,
  Aead.Aead.of({
    name: "simulated",
    deriveKey: (master, info) => Effect.succeed(checksum(master, info, new Uint8Array(0), new Uint8Array(0))),
    encrypt: (key, iv, aad, plaintext) => Effect.succeed(encrypt(key, iv, aad, plaintext)),
    decrypt: (key, iv, aad, sealed) => Effect.succeed(decrypt(key, iv, aad, sealed)),
    sync: { encrypt, decrypt }
  })
)
