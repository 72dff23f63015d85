import { describe, expect, it } from "@effect/vitest"
import { Cib, CibStore, Persistence, Storage } from "@ha/cib"
import { Effect, Either, Option } from "effect"
import { sha256Hex } from "../src/internal/sha256.ts"
import { primitive, twoNodes, withResources } from "./storeFixtures.ts"

const initial = twoNodes(Cib.empty)
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const bytes = (s: string) => new TextEncoder().encode(s)

/** A disk with `commits` configuration commits (epochs 1..commits), keeping `backups` backups. */
const withCommits = (commits: number, backups = 3) =>
  Effect.gen(function* () {
    const disk = Storage.makeMemory()
    const store = yield* CibStore.make(disk.storage, { backups, initial })
    for (let i = 1; i <= commits; i++) yield* store.update((cib) => withResources(cib, primitive(`r${i}`)))
    return disk
  })

const sortedNames = (disk: Storage.MemoryDisk) => [...disk.files().keys()].sort()

describe("Persistence", () => {
  it.effect("writes cib.xml as XML under a header with version, length and SHA-256", () =>
    Effect.gen(function* () {
      const disk = yield* withCommits(1)
      const file = text(disk.files().get("cib.xml") as Uint8Array)
      const [header, ...body] = file.split("\n")
      expect(header).toMatch(/^<!-- ha-cib version=0\.1\.0 bytes=\d+ sha256=[0-9a-f]{64} -->$/)
      expect(body.join("\n")).toContain('<primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"')
    })
  )

  it.effect("keeps the newest backups, numbered in write order", () =>
    Effect.gen(function* () {
      const disk = yield* withCommits(6, 3)
      expect(sortedNames(disk)).toEqual(["cib-3.xml", "cib-4.xml", "cib-5.xml", "cib.xml"])
      for (const [file, epoch] of [
        ["cib-3.xml", 3],
        ["cib-5.xml", 5],
        ["cib.xml", 6]
      ] as const) {
        const loaded = yield* Persistence.loadFile(disk.storage, file)
        expect(Either.map(loaded, (cib) => cib.version.epoch)).toEqual(Either.right(epoch))
      }
      const none = yield* withCommits(3, 0)
      expect(sortedNames(none)).toEqual(["cib.xml"])
    })
  )

  const damages: ReadonlyArray<[string, (b: Uint8Array) => Uint8Array, RegExp]> = [
    ["truncated", (b) => b.slice(0, b.length - 10), /^truncated: body has \d+ of \d+ bytes$/],
    [
      "a flipped byte",
      (b) => b.map((x, i) => (i === b.length - 20 ? x ^ 1 : x)),
      /^digest mismatch: header says sha256 [0-9a-f]+, body has [0-9a-f]+$/
    ],
    ["empty", () => new Uint8Array(0), /^empty file$/],
    [
      "no header",
      (b) => bytes(text(b).split("\n").slice(1).join("\n")),
      /^no ha-cib header on the first line$/
    ],
    [
      "unparsable XML under a matching digest",
      () => {
        const body = bytes("<cib><configuration>")
        return bytes(
          `<!-- ha-cib version=0.4.0 bytes=${body.length} sha256=${sha256Hex(body)} -->\n<cib><configuration>`
        )
      },
      /^cib\.xml:2:\d+: malformed XML/
    ]
  ]

  for (const [what, damage, reason] of damages) {
    it.effect(`recovers the newest backup when cib.xml is ${what}, and says why it skipped it`, () =>
      Effect.gen(function* () {
        const disk = yield* withCommits(4)
        disk.tamper("cib.xml", damage(disk.files().get("cib.xml") as Uint8Array))
        const store = yield* CibStore.make(disk.storage, { backups: 3, initial })
        expect((yield* store.query).version.epoch).toBe(3)
        expect(store.startup.skipped.map((s) => s.file)).toEqual(["cib.xml"])
        expect(store.startup.skipped[0]?.reason).toMatch(reason)
        expect(Option.map(store.startup.loaded, (l) => l.file)).toEqual(Option.some("cib-3.xml"))
        // the next write replaces the damaged file without keeping it as a backup
        yield* store.update((cib) => withResources(cib, primitive("after")))
        const reloaded = yield* Persistence.load(disk.storage)
        expect(reloaded.report.skipped).toEqual([])
        expect(Option.map(reloaded.cib, (c) => c.version.epoch)).toEqual(Option.some(4))
        expect(reloaded.backups).toEqual([1, 2, 3])
      })
    )
  }

  it.effect("passes over several damaged versions to the newest valid one", () =>
    Effect.gen(function* () {
      const disk = yield* withCommits(5)
      disk.tamper("cib.xml", bytes("garbage\n"))
      disk.tamper("cib-4.xml", new Uint8Array(0))
      const loaded = yield* Persistence.load(disk.storage)
      expect(Option.map(loaded.cib, (c) => c.version.epoch)).toEqual(Option.some(3))
      expect(Persistence.describeReport(loaded.report)).toBe(
        "loaded 0.3.0 from cib-3.xml, skipped cib.xml (no ha-cib header on the first line), cib-4.xml (empty file)"
      )
    })
  )

  it.effect("refuses to start from nothing when every CIB file is damaged", () =>
    Effect.gen(function* () {
      const disk = yield* withCommits(2)
      for (const name of disk.files().keys()) disk.tamper(name, bytes("x"))
      const error = yield* Effect.flip(CibStore.make(disk.storage, { backups: 3, initial }))
      expect(error._tag).toBe("NoValidCibError")
      expect(error.message).toBe(
        "no valid CIB in memory: cib.xml: truncated header; cib-1.xml: truncated header"
      )
    })
  )

  it.effect("removes the temporary file of an interrupted write", () =>
    Effect.gen(function* () {
      const disk = yield* withCommits(1)
      disk.tamper("cib.xml.tmp", bytes("half a wri"))
      const opened = yield* Persistence.open(disk.storage, { backups: 3 })
      expect(opened.removed).toEqual(["cib.xml.tmp"])
      expect(sortedNames(disk)).toEqual(["cib.xml"])
    })
  )
})
