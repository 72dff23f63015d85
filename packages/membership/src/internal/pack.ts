/**
 * Several application messages packed into one Totem data packet (as Corosync packs small messages
 * into one frame): a u32 big-endian length before each message.
 */

export const packedSize = (messages: ReadonlyArray<Uint8Array>): number =>
  messages.reduce((sum, m) => sum + 4 + m.length, 0)

export const pack = (messages: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(packedSize(messages))
  const view = new DataView(out.buffer)
  let offset = 0
  for (const m of messages) {
    view.setUint32(offset, m.length)
    out.set(m, offset + 4)
    offset += 4 + m.length
  }
  return out
}

/** Where a pack is malformed (a length running past the end, or no message at all), or -1. */
export const malformedAt = (bytes: Uint8Array): number => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let offset = 0
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length || offset + 4 + view.getUint32(offset) > bytes.length) return offset
    offset += 4 + view.getUint32(offset)
  }
  return bytes.length === 0 ? 0 : -1
}

/** The messages of a pack, or the offset where it is malformed. */
export const unpack = (bytes: Uint8Array): Array<Uint8Array> | { readonly malformedAt: number } => {
  const bad = malformedAt(bytes)
  if (bad >= 0) return { malformedAt: bad }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const messages: Array<Uint8Array> = []
  for (let offset = 0; offset < bytes.length; offset += 4 + view.getUint32(offset)) {
    messages.push(bytes.subarray(offset + 4, offset + 4 + view.getUint32(offset)))
  }
  return messages
}
