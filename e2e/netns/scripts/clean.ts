// Removes whatever a crashed lab run left behind: `npm run clean -w @ha/e2e-netns -- PREFIX`.
import { Effect } from "effect"
import { teardown } from "../src/Lab.ts"

const prefix = process.argv[2]
if (prefix === undefined) {
  console.error("usage: clean.ts PREFIX")
  process.exit(2)
}
await Effect.runPromise(teardown(prefix))
console.log(`lab ${prefix}: removed`)
