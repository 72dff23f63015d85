/**
 * The built executable (bin/ha.js → dist/ha.js, the bundle of dist/bin.js made by `npm run build`): run by
 * Node as `ha`, and by Deno (`deno run -A`), it must print exactly what the in-process CLI prints for the
 * same plan.
 */
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import { ha, repo } from "./support.ts"

const run = promisify(execFile)
const bin = join(import.meta.dirname, "../bin/ha.js")
const built = join(import.meta.dirname, "../dist/ha.js")
const deno = join(repo, "node_modules/.bin/deno")
const args = ["plan", "--node-fail", "alpha", "--explain", "db"]
const env = { ...process.env, NO_COLOR: "1" }

describe("the ha executable", () => {
  it("is built (npm run build in apps/cli, or turbo build at the root)", () => {
    expect(existsSync(built), `${built} is missing: build @ha/cli first`).toBe(true)
  })

  it("under Node prints the same plan as the CLI in-process", async () => {
    const expected = await ha(args)
    const { stdout } = await run(process.execPath, [bin, ...args], { env, cwd: repo })
    expect(stdout).toBe(`${expected.stdout}\n`)
  }, 60_000)

  it("exits with the documented code and one line for bad input", async () => {
    const failure = await run(process.execPath, [bin, "plan", "--node-fail", "gamma"], {
      env,
      cwd: repo
    }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e
    )
    expect(failure?.code).toBe(2)
    expect(
      failure?.stderr
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("ha: --node-fail"))
    ).toEqual(['ha: --node-fail: unknown node "gamma" (nodes: alpha, beta)'])
  }, 60_000)

  it("under Deno (deno run -A) prints exactly what it prints under Node", async () => {
    const [node, denoRun] = await Promise.all([
      run(process.execPath, [bin, ...args], { env, cwd: repo }),
      run(deno, ["run", "-A", bin, ...args], { env, cwd: repo })
    ])
    expect(denoRun.stdout).toContain("Fence")
    expect(denoRun.stdout).toBe(node.stdout)
  }, 120_000)
})
