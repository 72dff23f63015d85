/**
 * The `ha validate` check this plugin contributes: every primitive's instance parameters against its
 * agent's meta-data (missing required parameters, unknown names, values outside a select's options).
 * An agent that is not installed here, or a class the executor does not run (stonith), is a warning:
 * the configuration may be meant for other machines.
 */
import type { Cib } from "@ha/cib"
import type { Plugin } from "@ha/cli"
import { AgentRegistry, Metadata } from "@ha/executor"
import { Effect } from "effect"
import { parametersOf, refOf, registry } from "./Agents.ts"

const primitives = (resources: ReadonlyArray<Cib.Resource>): Array<Cib.Primitive> =>
  resources.flatMap((r) =>
    r._tag === "Primitive"
      ? [r]
      : r._tag === "Group"
        ? [...r.members]
        : r._tag === "Clone"
          ? primitives([r.child])
          : []
  )

export const validator: Plugin.Validator = {
  name: "agent-parameters",
  validate: ({ cib }) =>
    Effect.gen(function* () {
      const layer = yield* registry
      const agents = yield* AgentRegistry.AgentRegistry.pipe(Effect.provide(layer), Effect.orDie)
      const issues: Array<Plugin.Issue> = []
      // Meta-data is read once per agent type, however many resources use it.
      const cache = new Map<string, Effect.Effect<Metadata.AgentMetadata, string>>()
      for (const primitive of primitives(cib.configuration.resources)) {
        const where = `resource ${primitive.id}`
        const { text, ref } = refOf(primitive, cib.configuration.templates)
        if (text.startsWith("stonith:")) continue
        if (ref === undefined) {
          issues.push({
            severity: "error",
            where,
            message: `"${text}" is not an agent reference (class:provider:type)`
          })
          continue
        }
        let meta = cache.get(text)
        if (meta === undefined) {
          meta = yield* Effect.cached(
            agents.resolve(ref).pipe(
              Effect.flatMap((agent) => agent.metadata),
              Effect.mapError((e) => e.message)
            )
          )
          cache.set(text, meta)
        }
        const result = yield* Effect.either(meta)
        if (result._tag === "Left") {
          issues.push({ severity: "warning", where, message: `parameters not checked: ${result.left}` })
          continue
        }
        for (const issue of Metadata.validateParameters(
          result.right,
          parametersOf(primitive, cib.configuration.templates)
        )) {
          issues.push({ severity: "error", where, message: issue.message })
        }
      }
      return issues
    }).pipe(
      Effect.catchAllCause((cause) =>
        Effect.succeed([
          {
            severity: "warning" as const,
            where: "agent-parameters",
            message: `could not check: ${String(cause)}`
          }
        ])
      )
    )
}
