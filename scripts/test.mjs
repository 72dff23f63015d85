#!/usr/bin/env node
// The project's one test command (`npm test`, run by .ci/run): builds, type-checks and lints every
// workspace, runs every vitest project on Node, runs the Deno-portable packages' tests under Deno 2, and
// prints the totals as its last line: `N passed, N failed`.
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
process.env.TURBO_TELEMETRY_DISABLED = "1"
const cacheDir = join(root, ".cache", "test")
mkdirSync(cacheDir, { recursive: true })

// Core packages' tests that must also pass on Deno 2: project → test files (none listed = all). Files
// left out need what only a platform layer gives (child processes, sockets, namespaces).
const denoSuites = {
  cib: [],
  policy: [],
  membership: [],
  fencing: [],
  executor: ["test/Model.test.ts", "test/Executor.test.ts"],
  node: []
}
const denoProjects = process.env.HA_DENO_PROJECTS?.split(",").filter(Boolean) ?? Object.keys(denoSuites)

let passed = 0
let failed = 0
// What failed, named again just above the totals: a CI log is often read from its end.
const failures = []

const run = (label, command, args, options = {}) => {
  console.log(`\n== ${label}: ${[command, ...args].join(" ")}`)
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options })
  return result.status === 0
}

// A step that is not a test suite (build, typecheck, lint) counts as one test.
const step = (label, command, args) => {
  if (run(label, command, args)) passed++
  else {
    failed++
    failures.push(label)
    console.log(`!! ${label} failed`)
  }
}

// A vitest run: its own test counts are added; a run that could not report counts as one failure.
const vitest = (label, command, args) => {
  const report = join(cacheDir, `${label}.json`)
  rmSync(report, { force: true })
  const ok = run(label, command, [...args, "--reporter=default", "--reporter=json", `--outputFile=${report}`])
  try {
    const json = JSON.parse(readFileSync(report, "utf8"))
    passed += json.numPassedTests
    failed += json.numFailedTests
    // A file that failed to load reports no failed test: count it.
    const brokenFiles = json.testResults.filter(
      (f) => f.status === "failed" && f.assertionResults.length === 0
    )
    failed += brokenFiles.length
    for (const file of json.testResults) {
      const name = relative(root, file.name)
      if (file.status === "failed" && file.assertionResults.length === 0)
        failures.push(`${label}: ${name} did not load`)
      for (const test of file.assertionResults)
        if (test.status === "failed") failures.push(`${label}: ${name} > ${test.fullName}`)
    }
    if (!ok && json.numFailedTests === 0 && brokenFiles.length === 0) {
      failed++
      failures.push(`${label}: exited with an error`)
    }
  } catch {
    console.log(`!! ${label}: no report`)
    failed++
    failures.push(`${label}: no report`)
  }
}

step("build", "npx", ["turbo", "run", "build", "--output-logs=errors-only"])
step("typecheck", "npx", ["turbo", "run", "typecheck", "--output-logs=errors-only"])
step("lint", "npx", ["biome", "check", "."])
vitest("vitest-node", "npx", ["vitest", "run"])
for (const project of denoProjects) {
  vitest(`vitest-deno-${project}`, "npx", [
    "deno",
    "run",
    "-A",
    "node_modules/vitest/vitest.mjs",
    "run",
    "--project",
    project,
    ...(denoSuites[project] ?? [])
  ])
}

if (failures.length > 0) console.log(`\nFailed:\n${failures.map((f) => `  ${f}`).join("\n")}`)
console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
