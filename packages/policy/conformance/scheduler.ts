/** ha's side of a conformance case: decode the CIB with @ha/cib, schedule it with @ha/policy. */
import * as CibPackage from "@ha/cib"
import type { Cib } from "@ha/cib"
import { Either } from "effect"
import { Policy } from "../src/index.ts"
import type { Outcome, Scheduler } from "./compare.ts"

type Decode = (xml: string, file: string) => Either.Either<Cib.Cib, { readonly message: string }>

/** @ha/cib's XML decoder (XmlCodec.decode), looked up at run time while that module is being written. */
const decoder = (): Decode | undefined => {
  const codec = (CibPackage as Record<string, unknown>).XmlCodec as Record<string, unknown> | undefined
  const decode = codec?.decode ?? codec?.decodeXml
  return typeof decode === "function" ? (decode as Decode) : undefined
}

/** Decodes Pacemaker CIB XML with @ha/cib; throws with the decoder's message on bad input. */
export const decodeCib = (xml: string, file: string): Cib.Cib => {
  const decode = decoder()
  if (decode === undefined) throw new Error("@ha/cib has no XmlCodec.decode yet")
  const decoded = decode(xml, file)
  if (Either.isLeft(decoded)) throw new Error(`decode ${file}: ${decoded.left.message}`)
  return decoded.right
}

export const haScheduler: Scheduler = (xml, file): Outcome => {
  const cib = decodeCib(xml, file)
  const result = Policy.schedule(cib, { now: Policy.nowOf(cib, Math.floor(Date.now() / 1000)) })
  return Either.isRight(result)
    ? { _tag: "Planned", transition: result.right }
    : { _tag: "Unsupported", feature: result.left.feature }
}
