/** Reads the parts of a fence agent's XML meta-data the fencer uses: parameter and action names. */
import { Effect } from "effect"
import { SaxesParser } from "saxes"
import { AgentMetadataError } from "../Errors.ts"
import type { AgentInfo } from "../FenceAgent.ts"

export const parseMetadata = (xml: string, source: string): Effect.Effect<AgentInfo, AgentMetadataError> =>
  Effect.suspend(() => {
    const parameters: Array<string> = []
    const actions: Array<string> = []
    let root: string | undefined
    const parser = new SaxesParser()
    parser.on("opentag", (tag) => {
      root ??= tag.name
      const name = tag.attributes.name
      if (typeof name !== "string") return
      if (tag.name === "parameter") parameters.push(name)
      else if (tag.name === "action") actions.push(name)
    })
    try {
      parser.write(xml).close()
    } catch (error) {
      return Effect.fail(
        new AgentMetadataError({
          agent: source,
          reason: `meta-data is not well-formed XML: ${String(error)}`
        })
      )
    }
    if (root !== "resource-agent") {
      return Effect.fail(
        new AgentMetadataError({ agent: source, reason: "meta-data has no <resource-agent> root" })
      )
    }
    const hostParameter = parameters.includes("port")
      ? "port"
      : parameters.includes("plug")
        ? "plug"
        : undefined
    return Effect.succeed({ hostParameter, parameters, actions })
  })
