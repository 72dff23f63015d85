/** mulberry32: a small seeded generator, so that the fencer's random delays are reproducible. */
export const next = (seed: number): { readonly value: number; readonly seed: number } => {
  const s = (seed + 0x6d2b79f5) | 0
  let t = s
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, seed: s }
}
