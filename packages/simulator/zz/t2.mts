import { Effect } from "effect"
import { SimRuntime } from "../src/index.ts"
const rt = new SimRuntime.SimRuntime()
console.log("start")
const exit = await rt.run(Effect.gen(function* () {
  yield* Effect.sleep(1000)
  const f = yield* Effect.fork(Effect.sleep(500).pipe(Effect.as(3)))
  yield* Effect.log("hi")
  return 42
}))
console.log(exit, rt.stats())
