import { readFileSync } from "node:fs"
import { XmlCodec } from "@ha/cib"
import { Policy } from "@ha/policy"
import { Status } from "@ha/controller"
import { Effect, Either } from "effect"
let cib = Effect.runSync(XmlCodec.decodeXml(readFileSync("../../examples/pg-drbd/config.xml","utf8"),{file:"x"}))
cib = Status.withMembership(cib, "alpha", new Set(["alpha","beta"]), true)
const t = Policy.schedule(cib, { now: 0 })
if (Either.isRight(t)) console.log(t.right.actions.map(a=>a.key).filter(k=>/promote|start/.test(k)).join(" "))
else console.log(t.left)
