/**
 * Shrinking a failing fault schedule: drop faults one at a time, then halve their durations,
 * keeping each change that still fails the same invariant, until no change does (a local minimum,
 * as delta debugging finds). Every try is a whole deterministic run, so the result replays.
 */
import type * as Faults from "./Faults.ts"
import * as Simulation from "./Simulation.ts"

export interface Shrunk {
  /** The last failing run: its `schedule` is the shrunk one. */
  readonly result: Simulation.Result
  /** Runs the shrinker made. */
  readonly tries: number
}

/** Shrinks `failed`'s schedule; `maxTries` bounds the runs (each is a full simulation). */
export const shrink = async (
  options: Simulation.Options,
  failed: Simulation.Result,
  maxTries = 40
): Promise<Shrunk> => {
  const invariant = failed.violations[0]?.invariant
  let best = failed
  let tries = 0
  const fails = async (schedule: ReadonlyArray<Faults.Scheduled>) => {
    tries++
    const result = await Simulation.run({ ...options, schedule })
    return result.violations[0]?.invariant === invariant ? result : undefined
  }
  let progress = true
  while (progress && tries < maxTries) {
    progress = false
    for (let i = best.schedule.length - 1; i >= 0 && tries < maxTries; i--) {
      const result = await fails(best.schedule.filter((_, j) => j !== i))
      if (result !== undefined) {
        best = result
        progress = true
      }
    }
    for (let i = 0; i < best.schedule.length && tries < maxTries; i++) {
      const fault = best.schedule[i]!
      if (fault.durationMs < 2_000) continue
      const shorter = best.schedule.map((s, j) =>
        j === i ? { ...s, durationMs: Math.round(s.durationMs / 2) } : s
      )
      const result = await fails(shorter)
      if (result !== undefined) {
        best = result
        progress = true
      }
    }
  }
  return { result: best, tries }
}
