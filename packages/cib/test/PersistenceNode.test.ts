/**
 * The Node storage layer on a real directory, and a writer process killed with SIGKILL at random
 * moments: after each kill the directory must load, without damage, as the last version the child
 * reported committed or the one it was writing. Skipped on Deno (it runs `node --import tsx`).
 */
import { spawn } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Cib, CibStore, Persistence } from "@ha/cib"
import { Effect, Option } from "effect"
import * as NodeStorage from "../src/platform/NodeStorage.ts"
import { primitive, twoNodes, withResources } from "./storeFixtures.ts"

const onDeno = "Deno" in globalThis
if (onDeno)
  console.log("PersistenceNode.test.ts: skipped on Deno (Node file-system layer and node child processes)")

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ha-cib-store-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

/** Runs the child writer in `dir`, kills it with SIGKILL `ms` milliseconds after its first commit, returns what it printed. */
const runAndKill = (dir: string, ms: number) =>
  Effect.async<{ opened: number; committed: ReadonlyArray<number>; stderr: string }>((resume) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "childWriter.ts"), dir],
      {
        stdio: ["ignore", "pipe", "pipe"]
      }
    )
    let out = ""
    let err = ""
    let timer: ReturnType<typeof setTimeout> | undefined
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString()
      // the clock starts at the child's first commit, so every kill lands among writes however
      // slowly a loaded machine runs the child
      if (timer === undefined && out.includes("committed"))
        timer = setTimeout(() => child.kill("SIGKILL"), ms)
    })
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString()
    })
    child.on("exit", () => {
      if (timer !== undefined) clearTimeout(timer)
      const lines = out.split("\n")
      const opened = Number(lines.find((l) => l.startsWith("opened "))?.slice(7) ?? Number.NaN)
      const committed = lines.filter((l) => l.startsWith("committed ")).map((l) => Number(l.slice(10)))
      resume(Effect.succeed({ opened, committed, stderr: err }))
    })
  })

const counterOf = (cib: Cib.Cib): string | undefined => {
  const r = cib.configuration.resources[0]
  return r?._tag === "Primitive"
    ? r.instanceAttributes[0]?.nvpairs.find((p) => p.name === "counter")?.value
    : undefined
}

describe.skipIf(onDeno)("Node storage", () => {
  it.scoped("writes, fsyncs and reloads through node:fs", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const storage = yield* NodeStorage.make(join(dir, "cib"))
      const store = yield* CibStore.make(storage, { backups: 2, initial: twoNodes(Cib.empty) })
      for (const id of ["a", "b", "c", "d"]) yield* store.update((cib) => withResources(cib, primitive(id)))
      expect([...(yield* storage.list)].sort()).toEqual(["cib-2.xml", "cib-3.xml", "cib.xml"])
      yield* Effect.promise(() => writeFile(join(dir, "cib", "cib.xml.tmp"), "partial"))
      const reopened = yield* CibStore.make(storage, { backups: 2 })
      expect(yield* reopened.query).toEqual(yield* store.query)
      expect([...(yield* storage.list)].sort()).toEqual(["cib-2.xml", "cib-3.xml", "cib.xml"])
    })
  )

  it.scoped(
    "a writer killed with SIGKILL at random moments leaves the last committed version or the next",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const kills = 10
        let lastEpoch = 0
        let commits = 0
        let inFlightWins = 0
        for (let i = 0; i < kills; i++) {
          const run = yield* runAndKill(dir, 20 + Math.floor(Math.random() * 150))
          expect(run.stderr).toBe("")
          expect(run.opened).toBe(lastEpoch)
          const reported = run.committed[run.committed.length - 1] ?? lastEpoch
          commits += run.committed.length
          const loaded = yield* Persistence.load(yield* NodeStorage.make(dir))
          expect(loaded.report.skipped).toEqual([])
          const cib = Option.getOrThrow(loaded.cib)
          // committed versions are durable; the one being written may or may not have landed
          expect([reported, reported + 1]).toContain(cib.version.epoch)
          expect(counterOf(cib)).toBe(String(cib.version.epoch))
          if (cib.version.epoch === reported + 1) inFlightWins++
          lastEpoch = cib.version.epoch
        }
        console.log(
          `cib-store kill test: ${kills} SIGKILLs, ${commits} commits reported, ${inFlightWins} in-flight writes landed, 0 damaged loads`
        )
        expect(commits).toBeGreaterThanOrEqual(kills)
      }),
    120_000
  )
})
