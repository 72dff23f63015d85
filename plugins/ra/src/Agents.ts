/**
 * The agents this machine has, through @ha/executor's live AgentRegistry (ocf, lsb, systemd) plus the
 * native agents every loaded ha plugin contributes. Settings come from `HA_EXECUTOR_*` like the
 * executor's (e.g. `HA_EXECUTOR_OCF_ROOT`), so tests and odd installations can point elsewhere.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import type { Cib } from "@ha/cib"
import { Plugin } from "@ha/cli"
import { AgentRegistry, ExecutorSettings, ResourceAgent } from "@ha/executor"
import * as NodeProcessRunner from "@ha/executor/node"
import { Effect, Either, Layer } from "effect"

/** The live registry with the plugins' native agents, over this process' platform. */
export const registry = Effect.gen(function* () {
  const plugins = yield* Plugin.Plugins
  const fs = yield* FileSystem.FileSystem
  return AgentRegistry.layer(Plugin.resourceAgents(plugins)).pipe(
    Layer.provide(
      Layer.mergeAll(
        ExecutorSettings.layerConfig.pipe(Layer.orElse(() => ExecutorSettings.layer())),
        NodeProcessRunner.layer,
        Layer.succeed(FileSystem.FileSystem, fs)
      )
    )
  )
})

/** Parses `ocf:heartbeat:IPaddr2`; the reference's problem otherwise. */
export const parseRef = (
  text: string
): Either.Either<ResourceAgent.AgentRef, ResourceAgent.InvalidAgentRef> =>
  Either.try({
    try: () => ResourceAgent.parse(text),
    catch: (e) =>
      e instanceof ResourceAgent.InvalidAgentRef
        ? e
        : new ResourceAgent.InvalidAgentRef({ input: text, reason: String(e) })
  })

/** A primitive's agent as a reference, taking the template's class/provider/type when it has one. */
export const refOf = (
  primitive: Cib.Primitive,
  templates: ReadonlyArray<Cib.Template>
): { readonly text: string; readonly ref: ResourceAgent.AgentRef | undefined } => {
  const template =
    primitive.template === undefined ? undefined : templates.find((t) => t.id === primitive.template)
  const source = primitive.type === undefined && template ? template : primitive
  const text = [source.class, source.provider, source.type].filter((p) => p !== undefined).join(":")
  const parsed = parseRef(text)
  return { text, ref: Either.isRight(parsed) ? parsed.right : undefined }
}

/** A primitive's instance parameters (its template's first, rule-less sets only: rules decide per node). */
export const parametersOf = (
  primitive: Cib.Primitive,
  templates: ReadonlyArray<Cib.Template>
): Record<string, string> => {
  const template =
    primitive.template === undefined ? undefined : templates.find((t) => t.id === primitive.template)
  const out: Record<string, string> = {}
  for (const set of [...(template?.instanceAttributes ?? []), ...primitive.instanceAttributes]) {
    if (set.rules.length > 0) continue
    for (const pair of set.nvpairs)
      if (pair.name !== undefined && pair.value !== undefined) out[pair.name] = pair.value
  }
  return out
}
