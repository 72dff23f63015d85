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

/** The messages of a pack, or the offset where it is malformed. */
export const unpack = (bytes: Uint8Array): Array<Uint8Array> | { readonly malformedAt: number } => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const messages: Array<Uint8Array> = []
  let offset = 0
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) return { malformedAt: offset }
    const length = view.getUint32(offset)
    if (offset + 4 + length > bytes.length) return { malformedAt: offset }
    messages.push(bytes.subarray(offset + 4, offset + 4 + length))
    offset += 4 + length
  }
  return messages.length === 0 ? { malformedAt: 0 } : messages
}
