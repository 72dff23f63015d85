// Bundles the built CLI (dist/bin.js and everything it imports: @ha/*, effect, @effect/*) into one
// module, dist/ha.js, which bin/ha.js runs. Node spends over a second resolving and compiling the
// ~800 separate ES modules of the unbundled program; one file starts in a fraction of that.
// Plugins are still imported from their packages (they bring their own copies of what they use).
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"

const here = dirname(fileURLToPath(import.meta.url))
await build({
  entryPoints: [join(here, "../dist/bin.js")],
  outfile: join(here, "../dist/ha.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // bundled CommonJS dependencies (yaml) call require() for Node's built-in modules
  banner: {
    js: 'import { createRequire as __haRequire } from "node:module";\nconst require = __haRequire(import.meta.url);'
  },
  logLevel: "warning"
})
