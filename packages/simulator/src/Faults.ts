/**
 * Fault schedules: what goes wrong, when and for how long, drawn from a seed. A schedule is plain
 * data, so a failing one can be printed, replayed and shrunk (see Shrink.ts).
 */

/** mulberry32: a small seeded PRNG (the same one the memory network uses). */
export const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Fault =
  /** The machine loses power; it boots again after `durationMs`. */
  | { readonly _tag: "Crash"; readonly node: string }
  /** The machine pauses (a stopped VM) and resumes after `durationMs`. */
  | { readonly _tag: "Freeze"; readonly node: string }
  /** `node` cannot reach the others (both links). */
  | { readonly _tag: "Isolate"; readonly node: string }
  /** One of `node`'s two links is down. */
  | { readonly _tag: "LinkDown"; readonly node: string; readonly link: number }
  /** Every datagram is lost with this probability (and some duplicated and reordered). */
  | { readonly _tag: "MessageLoss"; readonly loss: number }
  /** Every datagram is delayed by up to `delayMs`. */
  | { readonly _tag: "MessageDelay"; readonly delayMs: number }
  /** Starts fail on `node`. */
  | { readonly _tag: "StartFailure"; readonly node: string }
  /** Stops fail on `node` (the cluster must fence it). */
  | { readonly _tag: "StopFailure"; readonly node: string }
  /** A running resource dies on `node` (the monitor finds it stopped). */
  | { readonly _tag: "ResourceCrash"; readonly node: string }
  /** Agents take `factor` times longer. */
  | { readonly _tag: "SlowAgents"; readonly factor: number }
  /** Writes to `node`'s CIB disk fail. */
  | { readonly _tag: "DiskFailure"; readonly node: string }
  /** Fence devices fail. */
  | { readonly _tag: "FenceFailure" }
  /** Fence devices take `delayMs` longer. */
  | { readonly _tag: "SlowFence"; readonly delayMs: number }

export interface Scheduled {
  /** Simulated ms after the cluster has started the stack. */
  readonly at: number
  readonly durationMs: number
  readonly fault: Fault
}

export type Kind = Fault["_tag"]

export const kinds: ReadonlyArray<Kind> = [
  "Crash",
  "Freeze",
  "Isolate",
  "LinkDown",
  "MessageLoss",
  "MessageDelay",
  "StartFailure",
  "StopFailure",
  "ResourceCrash",
  "SlowAgents",
  "DiskFailure",
  "FenceFailure",
  "SlowFence"
]

export interface Options {
  readonly nodes: ReadonlyArray<string>
  /** Length of the fault phase (ms). */
  readonly durationMs: number
  /** Mean gap between faults (ms). */
  readonly meanGapMs: number
  /** Fault kinds to draw from (default: all). */
  readonly kinds?: ReadonlyArray<Kind>
}

/** A schedule drawn from `seed`: faults at random gaps through the fault phase. */
export const generate = (seed: number, options: Options): ReadonlyArray<Scheduled> => {
  const random = prng(seed ^ 0x5eed)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(random() * xs.length)]!
  const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo))
  const allowed = options.kinds ?? kinds
  const schedule: Array<Scheduled> = []
  let at = between(0, options.meanGapMs)
  while (at < options.durationMs) {
    const node = pick(options.nodes)
    const kind = pick(allowed)
    const fault: Fault =
      kind === "LinkDown"
        ? { _tag: kind, node, link: between(0, 1) }
        : kind === "MessageLoss"
          ? { _tag: kind, loss: between(5, 40) / 100 }
          : kind === "MessageDelay"
            ? { _tag: kind, delayMs: between(5, 400) }
            : kind === "SlowAgents"
              ? { _tag: kind, factor: between(2, 20) }
              : kind === "SlowFence"
                ? { _tag: kind, delayMs: between(1_000, 30_000) }
                : kind === "FenceFailure"
                  ? { _tag: kind }
                  : { _tag: kind, node }
    schedule.push({ at, durationMs: between(1_000, 30_000), fault })
    at += between(options.meanGapMs / 2, (options.meanGapMs * 3) / 2)
  }
  return schedule
}

export const describe = (s: Scheduled): string => {
  const f = s.fault
  const what =
    "node" in f
      ? `${f._tag} ${f.node}${"link" in f ? ` link ${f.link}` : ""}`
      : f._tag === "MessageLoss"
        ? `MessageLoss ${Math.round(f.loss * 100)}%`
        : f._tag === "MessageDelay"
          ? `MessageDelay ${f.delayMs}ms`
          : f._tag === "SlowAgents"
            ? `SlowAgents x${f.factor}`
            : f._tag === "SlowFence"
              ? `SlowFence +${f.delayMs}ms`
              : f._tag
  return `+${(s.at / 1000).toFixed(1)}s ${what} for ${(s.durationMs / 1000).toFixed(1)}s`
}
