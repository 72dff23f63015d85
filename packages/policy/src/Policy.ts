/**
 * The scheduler: a pure, deterministic function from a CIB and the current time to a Transition.
 *
 * `schedule(cib, { now })` places every resource, derives the actions and their ordering, and explains
 * each decision. Features ha does not model yet (bundles, remote and guest nodes, tickets) fail with
 * {@link UnsupportedFeatureError} rather than producing a wrong plan.
 */
import type { Cib } from "@ha/cib"
import { Either, Schema } from "effect"
import { schedule as run } from "./internal/scheduler.ts"
import type { Transition } from "./Transition.ts"

export class UnsupportedFeatureError extends Schema.TaggedError<UnsupportedFeatureError>()(
  "UnsupportedFeatureError",
  { feature: Schema.String }
) {
  override get message() {
    return `the CIB uses a feature ha's scheduler does not support yet: ${this.feature}`
  }
}

export interface ScheduleOptions {
  /** the current time in seconds since the epoch (rules, failure-timeout) */
  readonly now: number
}

/** The time a CIB should be scheduled at: its execution-date when recorded (as crm_simulate does). */
export const nowOf = (cib: Cib.Cib, fallback: number): number => cib.executionDate ?? fallback

export const schedule = (
  cib: Cib.Cib,
  options: ScheduleOptions
): Either.Either<Transition, UnsupportedFeatureError> => {
  const result = run(cib, options.now)
  return result._tag === "Planned"
    ? Either.right(result.transition)
    : Either.left(new UnsupportedFeatureError({ feature: result.feature }))
}
