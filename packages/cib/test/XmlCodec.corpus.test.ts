import { isDeepStrictEqual } from "node:util"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { XmlCodec } from "@ha/cib"
import { Either } from "effect"
import { benchDir, corpusDir, readText, xmlFiles } from "./corpus.ts"

const cases = xmlFiles(corpusDir)
let decoded = 0
let roundTripped = 0

const roundTrip = (dir: URL, name: string) => {
  const first = XmlCodec.decodeXmlEither(readText(dir, name), { file: name })
  if (Either.isLeft(first)) throw new Error(first.left.message)
  decoded++
  const second = XmlCodec.decodeXmlEither(XmlCodec.encodeXml(first.right), { file: `${name} (re-encoded)` })
  if (Either.isLeft(second)) throw new Error(second.left.message)
  // isDeepStrictEqual is fast on big models; toEqual shows the difference when there is one.
  if (!isDeepStrictEqual(second.right, first.right)) expect(second.right).toEqual(first.right)
  roundTripped++
}

describe("Pacemaker scheduler corpus", () => {
  it("has its 678 cases", () => {
    expect(cases.length).toBe(678)
  })
  for (const name of cases) it(name, () => roundTrip(corpusDir, name))
  afterAll(() => {
    console.log(
      `cib corpus: ${decoded}/${cases.length} decoded, ${roundTripped}/${cases.length} round-tripped`
    )
  })
})

describe("bench CIBs", () => {
  for (const name of xmlFiles(benchDir)) it(name, () => roundTrip(benchDir, name), 120_000)
})
