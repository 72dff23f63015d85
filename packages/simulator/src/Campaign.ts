/**
 * Many seeds in a row: the summary `npm run sim` prints (runs, simulated hours, faults injected per
 * kind, violations), with every failing seed reported and its schedule shrunk.
 */
import * as Faults from "./Faults.ts"
import * as Shrink from "./Shrink.ts"
import * as Simulation from "./Simulation.ts"

export interface Options {
  readonly runs: number
  /** The first seed; run i uses seed `firstSeed + i`, alternating 2-node and 3-node clusters. */
  readonly firstSeed: number
  readonly durationMs: number
  readonly configXml: string
  readonly mutation?: Simulation.Options["mutation"]
  /** Shrink failing schedules (costs up to `maxTries` runs per failure). */
  readonly shrink: boolean
  /** The process's CPU time in ms, when the platform can tell (printed beside wall time). */
  readonly cpuMs?: () => number
  /** Called with each line of output as it is produced. */
  readonly print: (line: string) => void
}

export interface Summary {
  readonly runs: number
  readonly violations: number
  readonly simulatedMs: number
  readonly wallMs: number
  readonly failedSeeds: ReadonlyArray<number>
}

export const optionsOf = (options: Options, index: number): Simulation.Options => ({
  seed: options.firstSeed + index,
  nodes: index % 2 === 0 ? 3 : 2,
  durationMs: options.durationMs,
  configXml: options.configXml,
  ...(options.mutation === undefined ? {} : { mutation: options.mutation })
})

export const run = async (options: Options): Promise<Summary> => {
  const perKind = new Map<Faults.Kind, number>(Faults.kinds.map((k) => [k, 0]))
  let simulatedMs = 0
  let wallMs = 0
  let violations = 0
  let fencings = 0
  const failedSeeds: Array<number> = []
  const cpuAtStart = options.cpuMs?.()
  const simulatedBy = { 2: 0, 3: 0 }
  const wallBy = { 2: 0, 3: 0 }
  for (let i = 0; i < options.runs; i++) {
    const runOptions = optionsOf(options, i)
    const result = await Simulation.run(runOptions)
    simulatedMs += result.simulatedMs
    wallMs += result.wallMs
    fencings += result.fencings
    simulatedBy[runOptions.nodes] += result.simulatedMs
    wallBy[runOptions.nodes] += result.wallMs
    for (const s of result.schedule) perKind.set(s.fault._tag, (perKind.get(s.fault._tag) ?? 0) + 1)
    const status = result.violations.length === 0 ? "ok" : `VIOLATION ${result.violations[0]!.invariant}`
    options.print(
      `seed ${result.seed} nodes ${result.nodes}: ${status}, ${result.schedule.length} faults, ${result.fencings} fencings, ${(result.simulatedMs / 1000).toFixed(0)} s simulated in ${(result.wallMs / 1000).toFixed(1)} s`
    )
    if (result.violations.length > 0) {
      violations++
      failedSeeds.push(result.seed)
      options.print(Simulation.report(result))
      if (options.shrink) {
        const shrunk = await Shrink.shrink(runOptions, result)
        options.print(`shrunk in ${shrunk.tries} runs to ${shrunk.result.schedule.length} faults:`)
        options.print(Simulation.report(shrunk.result, { traceLines: 40 }))
      }
    }
  }
  const rate = (n: 2 | 3) => (wallBy[n] === 0 ? "-" : (simulatedBy[n] / wallBy[n]).toFixed(1))
  options.print(
    `simulated ${(simulatedMs / 3_600_000).toFixed(2)} h in ${(wallMs / 1000).toFixed(0)} s wall: ${rate(3)} simulated s per wall s (3 nodes), ${rate(2)} (2 nodes); ${(options.runs / (wallMs / 60_000)).toFixed(1)} runs per minute`
  )
  if (options.cpuMs !== undefined && cpuAtStart !== undefined) {
    const cpuS = (options.cpuMs() - cpuAtStart) / 1000
    options.print(
      `cpu ${cpuS.toFixed(1)} s: ${(simulatedMs / 1000 / cpuS).toFixed(1)} simulated s per cpu s, ${(options.runs / (cpuS / 60)).toFixed(1)} runs per cpu minute`
    )
  }
  options.print(
    `faults injected: ${[...perKind].map(([k, n]) => `${k} ${n}`).join(", ")}; fencings ${fencings}`
  )
  if (failedSeeds.length > 0) options.print(`failed seeds: ${failedSeeds.join(" ")}`)
  options.print(`simulation: ${options.runs} runs, ${violations} violations`)
  return { runs: options.runs, violations, simulatedMs, wallMs, failedSeeds }
}
