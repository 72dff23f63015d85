/** ha's side of a conformance case: decode the CIB with @ha/cib, schedule it with @ha/policy. */
import { type Cib, XmlCodec } from "@ha/cib"
import { Either } from "effect"
import { Policy } from "../src/index.ts"
import type { Outcome, Scheduler } from "./compare.ts"

/** Decodes Pacemaker CIB XML with @ha/cib; throws with the decoder's message on bad input. */
export const decodeCib = (xml: string, file: string): Cib.Cib => {
  const decoded = XmlCodec.decodeXmlEither(xml, { file })
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
