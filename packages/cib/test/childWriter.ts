/**
 * Child process of PersistenceNode.test.ts: commits CIB versions in a loop through the real Node
 * storage layer until killed, printing each committed version once its write has returned.
 * Version 0.e.0 holds one resource whose `counter` parameter is e, padded so that writes are large
 * enough to be caught half-way. Usage: node --import tsx test/childWriter.ts DIRECTORY
 */
import { Effect } from "effect"
import type * as Cib from "../src/Cib.ts"
import * as CibStore from "../src/CibStore.ts"
import * as NodeStorage from "../src/platform/NodeStorage.ts"

const directory = process.argv[2] as string

export const versionContent = (cib: Cib.Cib, epoch: number): Cib.Cib => ({
  ...cib,
  configuration: {
    ...cib.configuration,
    resources: [
      {
        _tag: "Primitive",
        id: "counter",
        class: "ocf",
        provider: "heartbeat",
        type: "Dummy",
        instanceAttributes: [
          {
            id: "counter-params",
            rules: [],
            nvpairs: [
              { id: "counter-value", name: "counter", value: String(epoch) },
              { id: "counter-padding", name: "padding", value: "x".repeat(16_000) }
            ]
          }
        ],
        metaAttributes: [],
        utilization: []
      }
    ]
  }
})

const program = Effect.gen(function* () {
  const storage = yield* NodeStorage.make(directory)
  const store = yield* CibStore.make(storage, { backups: 3 })
  process.stdout.write(`opened ${(yield* store.query).version.epoch}\n`)
  for (;;) {
    const committed = yield* store.update((cib) => versionContent(cib, cib.version.epoch + 1))
    process.stdout.write(`committed ${committed.after.epoch}\n`)
  }
})

Effect.runPromise(program).catch((e) => {
  process.stderr.write(`${e}\n`)
  process.exit(1)
})
