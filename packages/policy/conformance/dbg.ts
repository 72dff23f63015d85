import { readFileSync } from "node:fs"
import { Either } from "effect"
import { decodeCib } from "/work/main/packages/policy/conformance/scheduler.ts"
import { Policy } from "/work/main/packages/policy/src/index.ts"
const name = process.argv[2]!
const file = `/work/shared/conformance/pacemaker-scheduler/${name}.xml`
const cib = decodeCib(readFileSync(file, "utf8"), file)
const r = Policy.schedule(cib, { now: Policy.nowOf(cib, 0) })
if (Either.isLeft(r)) throw r.left
const t = r.right
for (const [id, s] of t.scores) console.log(id, JSON.stringify([...s]))
for (const p of t.placements) console.log(p.resource, "->", p.node, p.role, JSON.stringify(p.current), JSON.stringify(p.reasons))
for (const d of t.summary) console.log(d.verb, d.resource, JSON.stringify(d.from), JSON.stringify(d.to), d.blocked, d.reason)
