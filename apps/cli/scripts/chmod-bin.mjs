// tsc does not keep the executable bit: make dist/bin.js runnable as `ha`.
import { chmodSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

chmodSync(join(dirname(fileURLToPath(import.meta.url)), "../dist/bin.js"), 0o755)
