/**
 * Conformance runner: `npm run conformance -- [--dir DIR] [--filter SUBSTRING] [--write-baseline] [--verbose]`.
 *
 * Compares ha's scheduler with Pacemaker 2.1.5's recorded decisions on every case of DIR and prints pass
 * rates per feature, the failing cases, and as its last line
 * `conformance: S/N summary, A/N actions, E/N edges` (N counts every case, unsupported ones as failures).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { type CaseResult, runCase, scoreDifferences } from "./compare.ts"
import { baselineFile, defaultDir } from "./paths.ts"
import { haScheduler } from "./scheduler.ts"

interface Options {
  readonly dir: string
  readonly filter: string | undefined
  readonly writeBaseline: boolean
  readonly verbose: boolean
  /** print allocation score differences with Pacemaker's NAME.scores */
  readonly scores: boolean
}

const parseArgs = (argv: ReadonlyArray<string>): Options => {
  let dir = defaultDir
  let filter: string | undefined
  let writeBaseline = false
  let verbose = false
  let scores = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${arg} needs a value`)
      return v
    }
    if (arg === "--dir") dir = resolve(value())
    else if (arg === "--filter") filter = value()
    else if (arg === "--write-baseline") writeBaseline = true
    else if (arg === "--verbose") verbose = true
    else if (arg === "--scores") scores = true
    else
      throw new Error(
        `unknown argument ${arg} (expected --dir DIR, --filter SUBSTRING, --write-baseline, --verbose, --scores)`
      )
  }
  return { dir, filter, writeBaseline, verbose, scores }
}

/** Features per case from cases.tsv (name, nodes, resources, comma-separated features). */
const readFeatures = (dir: string): Map<string, ReadonlyArray<string>> => {
  const file = join(dir, "cases.tsv")
  const features = new Map<string, ReadonlyArray<string>>()
  if (!existsSync(file)) return features
  const lines = readFileSync(file, "utf8").split("\n").slice(1)
  for (const line of lines) {
    const cols = line.split("\t")
    if (cols.length >= 4)
      features.set(
        cols[0]!,
        cols[3]!.split(",").filter((f) => f !== "")
      )
  }
  return features
}

const printScoreDifferences = (dir: string, name: string) => {
  const diffs = scoreDifferences(dir, name, haScheduler)
  if (diffs.length === 0) return
  console.log(`\nallocation scores of ${name} (resource node: Pacemaker / ha):`)
  for (const d of diffs) console.log(`  ${d}`)
}

const pct = (n: number, d: number) => (d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`)

const main = () => {
  const options = parseArgs(process.argv.slice(2))
  const names = readdirSync(options.dir)
    .filter((f) => f.endsWith(".xml"))
    .map((f) => f.slice(0, -4))
    .filter((n) => options.filter === undefined || n.includes(options.filter))
    .sort()
  const features = readFeatures(options.dir)
  const results: Array<CaseResult> = names.map((name) => runCase(options.dir, name, haScheduler))

  // pass rate (summary level) per feature, and for the target groups
  const byFeature = new Map<string, { total: number; passed: number }>()
  const count = (feature: string, passed: boolean) => {
    const entry = byFeature.get(feature) ?? { total: 0, passed: 0 }
    entry.total++
    if (passed) entry.passed++
    byFeature.set(feature, entry)
  }
  for (const r of results) {
    const fs = features.get(r.name) ?? []
    for (const f of fs) count(f, r.summary)
    const special = fs.some((f) => f === "bundle" || f === "remote" || f === "ticket")
    const cloned = fs.some((f) => f === "clone" || f === "promotable")
    if (!special && !cloned) count("(target) primitives/groups/constraints only", r.summary)
    if (!special && cloned) count("(target) clone/promotable", r.summary)
  }
  console.log("pass rate at summary level per feature:")
  for (const [f, { total, passed }] of [...byFeature].sort((a, b) => a[0].localeCompare(b[0]))) {
    console.log(
      `  ${f.padEnd(46)} ${String(passed).padStart(4)}/${String(total).padEnd(4)} ${pct(passed, total)}`
    )
  }

  const failing = results.filter((r) => !(r.summary && r.actions && r.edges))
  const unsupported = results.filter((r) => r.status === "unsupported")
  const errors = results.filter((r) => r.status === "error")
  console.log(
    `\nfailing cases (${failing.length}; ${unsupported.length} unsupported, ${errors.length} errors):`
  )
  for (const r of failing) {
    if (r.status === "unsupported" && !options.verbose) continue
    const levels = `${r.summary ? "S" : "-"}${r.actions ? "A" : "-"}${r.edges ? "E" : "-"}`
    console.log(`  ${levels} ${r.name}: ${r.reason}`)
  }
  if (!options.verbose && unsupported.length > 0) {
    const why = new Map<string, number>()
    for (const r of unsupported) why.set(r.reason ?? "", (why.get(r.reason ?? "") ?? 0) + 1)
    for (const [reason, n] of why) console.log(`  ${n} × ${reason}`)
  }

  if (options.scores) for (const name of names) printScoreDifferences(options.dir, name)

  if (options.writeBaseline) {
    const passing = results.filter((r) => r.summary).map((r) => r.name)
    writeFileSync(baselineFile, `${passing.join("\n")}\n`)
    console.log(`\nwrote ${passing.length} cases to ${baselineFile}`)
  }
  const n = results.length
  const s = results.filter((r) => r.summary).length
  const a = results.filter((r) => r.actions).length
  const e = results.filter((r) => r.edges).length
  console.log(`conformance: ${s}/${n} summary, ${a}/${n} actions, ${e}/${n} edges`)
}

main()
