import { readFileSync, writeFileSync, mkdirSync } from "node:fs"
import { Either } from "effect"
import { XmlCodec } from "./src/index.ts"
const dir = "/work/shared/conformance/pacemaker-scheduler/"
mkdirSync("/tmp/enc", { recursive: true })
for (const n of process.argv.slice(2)) {
  const r = XmlCodec.decodeXmlEither(readFileSync(dir + n + ".xml", "utf8"))
  writeFileSync("/tmp/enc/" + n + ".xml", XmlCodec.encodeXml(Either.getOrThrow(r)))
}
