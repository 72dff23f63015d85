/**
 * Decode / encode benchmark over the bench CIBs (../shared/bench/cibs from the repo root).
 * Prints, per file, the median wall and CPU time of a few runs and the process's peak resident set
 * size so far (the kernel's high-water mark); the last line is the largest file. CPU time is shown
 * because the machine is shared: under load, wall time mostly measures the other processes.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Either } from "effect"
import { XmlCodec } from "../src/index.ts"

const dir = join(import.meta.dirname, "../../../../shared/bench/cibs")
const runs = Number(process.env.BENCH_RUNS ?? 5)

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

interface Timing {
  readonly wall: Array<number>
  readonly cpu: Array<number>
}

const time = <A>(timing: Timing, f: () => A): A => {
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const result = f()
  timing.wall.push(performance.now() - start)
  const cpu = process.cpuUsage(cpuStart)
  timing.cpu.push((cpu.user + cpu.system) / 1000)
  return result
}

const show = (t: Timing) => `${median(t.wall).toFixed(0)} ms (cpu ${median(t.cpu).toFixed(0)} ms)`
const peakMb = () => (process.resourceUsage().maxRSS / 1024).toFixed(0)

const files = readdirSync(dir)
  .filter((f) => f.endsWith(".xml"))
  .map((f) => ({ name: f, text: readFileSync(join(dir, f), "utf8") }))
  .sort((a, b) => a.text.length - b.text.length)

let last = ""
for (const { name, text } of files) {
  const decode: Timing = { wall: [], cpu: [] }
  const encode: Timing = { wall: [], cpu: [] }
  for (let i = 0; i < runs; i++) {
    const decoded = time(decode, () => XmlCodec.decodeXmlEither(text, { file: name }))
    if (Either.isLeft(decoded)) throw new Error(decoded.left.message)
    time(encode, () => XmlCodec.encodeXml(decoded.right))
  }
  const figures = `decode ${show(decode)}, encode ${show(encode)}, peak ${peakMb()} MB`
  console.log(`${name} (${(text.length / 2 ** 20).toFixed(1)} MB): ${figures}`)
  last = `bench:cib: largest ${name} ${figures}`
}
console.log(last)
