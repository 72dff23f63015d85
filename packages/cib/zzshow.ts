import { Either } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { YamlConfig } from "./src/index.ts"
const dir = "/work/main/packages/cib/testdata/yaml/errors"
for (const f of process.argv.slice(2)) {
  const r = YamlConfig.decodeEither(readFileSync(`${dir}/${f}`, "utf8"), { file: f })
  console.log(Either.isLeft(r) ? `${r.left._tag}: ${r.left.message}` : "OK")
}
