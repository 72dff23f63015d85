/**
 * Decode / encode benchmark over the bench CIBs (../shared/bench/cibs from the repo root).
 * Prints the median of a few runs per file and the peak resident set size seen while running.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Either } from "effect"
import { XmlCodec } from "../src/index.ts"

const dir = join(import.meta.dirname, "../../../../shared/bench/cibs")
const runs = Number(process.env.BENCH_RUNS ?? 5)

let peak = 0
const sample = () => {
  peak = Math.max(peak, process.memoryUsage.rss())
}
const sampler = setInterval(sample, 5)

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

const time = <A>(f: () => A): [A, number] => {
  const start = performance.now()
  const result = f()
  const ms = performance.now() - start
  sample()
  return [result, ms]
}

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".xml"))
  .map((f) => ({ name: f, text: readFileSync(join(dir, f), "utf8") }))
  .sort((a, b) => a.text.length - b.text.length)

let last = ""
for (const { name, text } of files) {
  const decodes: Array<number> = []
  const encodes: Array<number> = []
  for (let i = 0; i < runs; i++) {
    const [decoded, decodeMs] = time(() => XmlCodec.decodeXmlEither(text, { file: name }))
    if (Either.isLeft(decoded)) throw new Error(decoded.left.message)
    const [, encodeMs] = time(() => XmlCodec.encodeXml(decoded.right))
    decodes.push(decodeMs)
    encodes.push(encodeMs)
  }
  last = `bench:cib: ${name} decode ${median(decodes).toFixed(0)} ms, encode ${median(encodes).toFixed(0)} ms, peak ${(peak / 2 ** 20).toFixed(0)} MB`
  console.log(`${name} (${(text.length / 2 ** 20).toFixed(1)} MB): ${last.slice(last.indexOf("decode"))}`)
}
clearInterval(sampler)
console.log(last)
