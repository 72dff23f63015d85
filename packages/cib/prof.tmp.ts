import { readFileSync } from "node:fs"
import { Either } from "effect"
import { XmlCodec } from "./src/index.ts"
import { parseXml } from "./src/internal/xml.ts"
const text = readFileSync("/work/shared/bench/cibs/cib-32n-10000r.xml", "utf8")
for (let i = 0; i < 3; i++) {
  let t = performance.now(); parseXml(text); const p = performance.now() - t
  t = performance.now(); const r = XmlCodec.decodeXmlEither(text); const d = performance.now() - t
  if (Either.isLeft(r)) throw r.left
  t = performance.now(); const x = XmlCodec.encodeXml(r.right); const e = performance.now() - t
  console.log("parse", p.toFixed(0), "decode", d.toFixed(0), "encode", e.toFixed(0), x.length)
}
