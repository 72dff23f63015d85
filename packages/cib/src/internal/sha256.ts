/**
 * SHA-256 (FIPS 180-4) over bytes, synchronous and dependency-free so the pure CIB library can
 * digest on Node, Deno and browsers alike (WebCrypto's digest is asynchronous only).
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2
])

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n))

// scratch space, reused: digests are computed synchronously, one at a time
const w = new Int32Array(64)
let scratch = new Uint8Array(1024)

const hex = (word: number) => (word >>> 0).toString(16).padStart(8, "0")

/** Hashes `length` bytes of `buffer`, which has room for the padding after them. */
const digestPadded = (buffer: Uint8Array, length: number): string => {
  // message + 0x80 + zero padding + 64-bit big-endian length, to a multiple of 64 bytes
  const total = Math.ceil((length + 9) / 64) * 64
  buffer[length] = 0x80
  buffer.fill(0, length + 1, total)
  const high = Math.floor(length / 0x20000000)
  const low = (length * 8) >>> 0
  buffer[total - 8] = high >>> 24
  buffer[total - 7] = high >>> 16
  buffer[total - 6] = high >>> 8
  buffer[total - 5] = high
  buffer[total - 4] = low >>> 24
  buffer[total - 3] = low >>> 16
  buffer[total - 2] = low >>> 8
  buffer[total - 1] = low

  let h0 = 0x6a09e667 | 0
  let h1 = 0xbb67ae85 | 0
  let h2 = 0x3c6ef372 | 0
  let h3 = 0xa54ff53a | 0
  let h4 = 0x510e527f | 0
  let h5 = 0x9b05688c | 0
  let h6 = 0x1f83d9ab | 0
  let h7 = 0x5be0cd19 | 0
  for (let block = 0; block < total; block += 64) {
    for (let i = 0, j = block; i < 16; i++, j += 4)
      w[i] =
        ((buffer[j] as number) << 24) |
        ((buffer[j + 1] as number) << 16) |
        ((buffer[j + 2] as number) << 8) |
        (buffer[j + 3] as number)
    for (let i = 16; i < 64; i++) {
      const w15 = w[i - 15] as number
      const w2 = w[i - 2] as number
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3)
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10)
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0
    }
    let a = h0
    let b = h1
    let c = h2
    let d = h3
    let e = h4
    let f = h5
    let g = h6
    let hh = h7
    for (let i = 0; i < 64; i++) {
      const s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
      const ch = (e & f) ^ (~e & g)
      const t1 = (hh + s1 + ch + (K[i] as number) + (w[i] as number)) | 0
      const s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
      const maj = (a & b) ^ (a & c) ^ (b & c)
      const t2 = (s0 + maj) | 0
      hh = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
    h4 = (h4 + e) | 0
    h5 = (h5 + f) | 0
    h6 = (h6 + g) | 0
    h7 = (h7 + hh) | 0
  }
  return hex(h0) + hex(h1) + hex(h2) + hex(h3) + hex(h4) + hex(h5) + hex(h6) + hex(h7)
}

/** Scratch space for `length` bytes and their padding. */
const room = (length: number): Uint8Array => {
  if (scratch.length < length + 72) scratch = new Uint8Array(Math.max(length + 72, scratch.length * 2))
  return scratch
}

/** The SHA-256 digest of `bytes`, as 64 lowercase hex digits. */
export const sha256Hex = (bytes: Uint8Array): string => {
  const buffer = room(bytes.length)
  buffer.set(bytes)
  return digestPadded(buffer, bytes.length)
}

const encoder = new TextEncoder()

/** SHA-256 of the UTF-8 encoding of `text`. */
export const sha256OfText = (text: string): string => {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit
  const buffer = room(text.length * 3)
  const { written } = encoder.encodeInto(text, buffer)
  return digestPadded(buffer, written)
}
