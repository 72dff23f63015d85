export const INFINITY = 1_000_000
