/**
 * `ha simulate --seed S --nodes N --duration T [--faults KIND,…] [--config FILE] [--trace]`: one
 * deterministic whole-cluster run of the seed stack (or another configuration) under faults drawn
 * from the seed. Prints the fault schedule and the outcome, the trace on a violation (or with
 * --trace), and the shrunk schedule with --shrink. Exit code 1 on a violation.
 */
import { Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import { Faults, Shrink, Simulation } from "@ha/simulator"
import { Console, Effect, Option, Schema } from "effect"

/** The simulated cluster broke an invariant (exit code 1, a negative answer). */
export class ViolationFound extends Schema.TaggedError<ViolationFound>()("ViolationFound", {
  seed: Schema.Number,
  invariant: Schema.String
}) {
  readonly exitCode = 1
  override get message() {
    return `seed ${this.seed}: ${this.invariant} invariant violated`
  }
}

/** A bad option value (exit code 2, a usage error). */
export class SimulateUsageError extends Schema.TaggedError<SimulateUsageError>()("SimulateUsageError", {
  problem: Schema.String
}) {
  readonly exitCode = 2
  override get message() {
    return this.problem
  }
}

const defaultConfig = new URL("../../../examples/pg-drbd/config.xml", import.meta.url)

export const command = Command.make(
  "simulate",
  {
    seed: Options.integer("seed").pipe(
      Options.withDescription("the seed every decision is drawn from"),
      Options.withDefault(1)
    ),
    nodes: Options.choice("nodes", ["2", "3"]).pipe(
      Options.withDescription("cluster size"),
      Options.withDefault("3" as const)
    ),
    duration: Options.integer("duration").pipe(
      Options.withDescription("length of the fault phase in simulated seconds"),
      Options.withDefault(120)
    ),
    faults: Options.text("faults").pipe(
      Options.withDescription(
        `fault kinds to draw from, comma-separated (default all: ${Faults.kinds.join(",")})`
      ),
      Options.optional
    ),
    config: Options.file("config").pipe(
      Options.withDescription("the CIB to run (default: examples/pg-drbd/config.xml)"),
      Options.optional
    ),
    trace: Options.boolean("trace").pipe(
      Options.withDescription("print the whole trace, also when no invariant breaks")
    ),
    shrink: Options.boolean("shrink").pipe(
      Options.withDescription("on a violation, shrink the fault schedule")
    )
  },
  (a) =>
    Effect.gen(function* () {
      const kinds = Option.getOrUndefined(a.faults)
        ?.split(",")
        .map((k) => k.trim())
      const unknown = kinds?.filter((k) => !(Faults.kinds as ReadonlyArray<string>).includes(k)) ?? []
      if (unknown.length > 0)
        return yield* new SimulateUsageError({
          problem: `--faults: unknown kind ${unknown.join(", ")} (kinds: ${Faults.kinds.join(", ")})`
        })
      const fs = yield* FileSystem.FileSystem
      const configXml = yield* fs.readFileString(Option.getOrElse(a.config, () => defaultConfig.pathname))
      const options: Simulation.Options = {
        seed: a.seed,
        nodes: a.nodes === "2" ? 2 : 3,
        durationMs: a.duration * 1000,
        configXml,
        ...(kinds === undefined ? {} : { kinds: kinds as ReadonlyArray<Faults.Kind> })
      }
      const result = yield* Effect.promise(() => Simulation.run(options))
      const failed = result.violations[0]
      yield* Console.log(
        Simulation.report(result, {
          traceLines: a.trace ? Number.MAX_SAFE_INTEGER : failed === undefined ? 0 : 80
        })
      )
      yield* Console.log(
        `${(result.simulatedMs / 1000).toFixed(0)} s simulated in ${(result.wallMs / 1000).toFixed(1)} s, ${result.fencings} fencings, ${result.agentActions} agent actions`
      )
      if (failed === undefined) return
      if (a.shrink) {
        const shrunk = yield* Effect.promise(() => Shrink.shrink(options, result))
        yield* Console.log(`shrunk in ${shrunk.tries} runs:`)
        yield* Console.log(Simulation.report(shrunk.result, { traceLines: 40 }))
      }
      return yield* new ViolationFound({ seed: a.seed, invariant: failed.invariant })
    })
).pipe(
  Command.withDescription(
    "Run the cluster (N complete nodes in one process, simulated clock, network, agents and fence devices) under faults drawn from a seed, checking safety invariants and convergence."
  )
)
