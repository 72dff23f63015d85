/**
 * Data-driven scenario files in the style of etcd's raft testdata (cockroachdb/datadriven): each
 * case is a command line with arguments, optional input lines, a `----` line and the expected
 * output; cases are separated by blank lines, `#` starts a comment line. Every command's output
 * is compared to the file, so a scenario reads as a transcript.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"

export interface Case {
  readonly file: string
  readonly line: number
  readonly command: string
  readonly args: ReadonlyMap<string, string>
  /** Positional arguments (words without `=`). */
  readonly words: ReadonlyArray<string>
  readonly input: ReadonlyArray<string>
  readonly expected: string
}

export const parse = (file: string, text: string): ReadonlyArray<Case> => {
  const lines = text.split("\n")
  const cases: Array<Case> = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    if (line.trim() === "" || line.startsWith("#")) {
      i++
      continue
    }
    const start = i + 1
    const [command = "", ...rest] = line.trim().split(/\s+/)
    const args = new Map<string, string>()
    const words: Array<string> = []
    for (const word of rest) {
      const eq = word.indexOf("=")
      if (eq > 0) args.set(word.slice(0, eq), word.slice(eq + 1))
      else words.push(word)
    }
    i++
    const input: Array<string> = []
    while (i < lines.length && lines[i] !== "----") {
      if (lines[i]!.trim() === "") throw new Error(`${file}:${start}: case "${command}" has no ---- line`)
      input.push(lines[i]!)
      i++
    }
    i++
    const output: Array<string> = []
    while (i < lines.length && lines[i]!.trim() !== "") {
      output.push(lines[i]!)
      i++
    }
    cases.push({ file, line: start, command, args, words, input, expected: output.join("\n") })
  }
  return cases
}

/**
 * One test per file of `dir`: `makeRunner()` gives a fresh runner per file (scenarios are stateful),
 * which answers each case with its output text.
 */
export const runDir = (dir: URL, makeRunner: () => (c: Case) => string) => {
  const path = dir.pathname
  for (const name of readdirSync(path)
    .filter((n) => n.endsWith(".txt"))
    .sort()) {
    describe(name, () => {
      it("matches its transcript", () => {
        const file = join(path, name)
        const run = makeRunner()
        for (const c of parse(name, readFileSync(file, "utf8"))) {
          expect(run(c), `${name}:${c.line}: ${c.command}`).toBe(c.expected)
        }
      })
    })
  }
}
