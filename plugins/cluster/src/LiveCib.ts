/**
 * `ha plan --live`: the running cluster's CIB, status included, as the local daemon holds it. The plan
 * itself is made by `ha plan` with the same engine the DC runs, so every what-if works on it.
 */
import { Input, type Plugin } from "@ha/cli"
import { Effect, Either, Schema } from "effect"
import { RequestError, request } from "./Client.ts"

const CibXml = Schema.Struct({ version: Schema.String, xml: Schema.String })

export const liveCib: Plugin.LiveCib = {
  load: (socket) =>
    Effect.flatMap(request(socket, "cib.get", { format: "xml" }, CibXml), ({ version, xml }) => {
      const source = `the running cluster (CIB ${version}, through ${socket})`
      return Either.match(Input.decode(source, xml), {
        onLeft: (error) =>
          Effect.fail(
            new RequestError({
              code: "internal",
              problem: `the daemon's CIB could not be read: ${error.message}`
            })
          ),
        onRight: (loaded) => Effect.succeed({ ...loaded, source })
      })
    })
}
