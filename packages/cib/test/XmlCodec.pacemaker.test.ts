/**
 * Pacemaker itself reads what encodeXml writes: crm_simulate (pacemaker-cli-utils, installed by
 * scripts/install-system-packages.sh) prints the same cluster status and Transition Summary for the
 * re-encoded CIB as for the original, on a sample of the scheduler corpus and the example cluster.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { XmlCodec } from "@ha/cib"
import { Either } from "effect"
import { corpusDir, readText, xmlFiles } from "./corpus.ts"

const scratch = mkdtempSync(join(tmpdir(), "ha-cib-crm-simulate-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** crm_simulate's whole report (exit status, stdout, stderr) for a CIB file. */
const simulate = (file: string) => {
  const run = spawnSync("crm_simulate", ["--xml-file", file, "--simulate"], {
    encoding: "utf8",
    timeout: 60_000
  })
  if (run.error !== undefined) throw run.error
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

const exampleDir = new URL("../../../examples/pg-drbd/", import.meta.url)
// every 20th case keeps the run short; the full corpus round trip is checked at model level elsewhere
const sample = [
  ...xmlFiles(corpusDir)
    .filter((_, i) => i % 20 === 0)
    .map((name) => ({ dir: corpusDir, name })),
  { dir: exampleDir, name: "cib.xml" }
]

describe("crm_simulate reads encodeXml's output as it reads the original", () => {
  for (const { dir, name } of sample)
    it(name, { timeout: 60_000 }, () => {
      const original = new URL(name, dir).pathname
      const cib = Either.getOrThrow(XmlCodec.decodeXmlEither(readText(dir, name), { file: name }))
      const encoded = join(scratch, name)
      writeFileSync(encoded, XmlCodec.encodeXml(cib))
      const expected = simulate(original)
      expect(expected.stdout).toContain("Transition Summary")
      expect(simulate(encoded)).toEqual(expected)
    })
})
