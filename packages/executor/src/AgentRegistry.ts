/**
 * Finds agents by reference and lists what is installed: the entry point `ha ra list|info` and
 * the executor use. The live layer knows ocf, lsb and systemd (through ProcessRunner and the
 * FileSystem) plus the native agents it is given; the test layer only native (e.g. scripted) ones.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import { Context, Effect, Layer } from "effect"
import type { Settings } from "./ExecutorSettings.ts"
import * as Lsb from "./Lsb.ts"
import * as Ocf from "./Ocf.ts"
import type * as ProcessRunner from "./ProcessRunner.ts"
import {
  type AgentClass,
  AgentNotInstalled,
  type AgentRef,
  format,
  type ResourceAgent
} from "./ResourceAgent.ts"
import * as Systemd from "./Systemd.ts"

export class AgentRegistry extends Context.Tag("@ha/executor/AgentRegistry")<
  AgentRegistry,
  {
    readonly resolve: (ref: AgentRef) => Effect.Effect<ResourceAgent, AgentNotInstalled>
    /** Installed agents of one class, or of every class. */
    readonly list: (agentClass?: AgentClass) => Effect.Effect<ReadonlyArray<AgentRef>>
  }
>() {}

const nativeRegistry = (natives: ReadonlyArray<ResourceAgent>) => {
  const byType = new Map(natives.map((agent) => [agent.ref.type, agent]))
  const resolve = (ref: AgentRef): Effect.Effect<ResourceAgent, AgentNotInstalled> => {
    const agent = ref.class === "native" ? byType.get(ref.type) : undefined
    return agent === undefined
      ? Effect.fail(
          new AgentNotInstalled({
            agent: format(ref),
            path: ref.type,
            reason: "NotFound",
            detail:
              ref.class === "native"
                ? "no native agent of that name is registered"
                : "class not available here"
          })
        )
      : Effect.succeed(agent)
  }
  const refs = natives.map((agent) => agent.ref)
  return { resolve, refs }
}

/** Live registry: real ocf/lsb/systemd agents plus the given native agents. */
export const layer = (natives: ReadonlyArray<ResourceAgent> = []) =>
  Layer.effect(
    AgentRegistry,
    Effect.gen(function* () {
      const context = yield* Effect.context<Settings | ProcessRunner.ProcessRunner | FileSystem.FileSystem>()
      const native = nativeRegistry(natives)
      const resolve = (ref: AgentRef): Effect.Effect<ResourceAgent, AgentNotInstalled> => {
        switch (ref.class) {
          case "ocf":
            return Ocf.make(ref).pipe(Effect.provide(context))
          case "lsb":
            return Lsb.make(ref).pipe(Effect.provide(context))
          case "systemd":
            return Systemd.make(ref).pipe(Effect.provide(context))
          case "native":
            return native.resolve(ref)
        }
      }
      const listClass = (agentClass: AgentClass): Effect.Effect<ReadonlyArray<AgentRef>> => {
        switch (agentClass) {
          case "ocf":
            return Ocf.list.pipe(Effect.provide(context))
          case "lsb":
            return Lsb.list.pipe(Effect.provide(context))
          case "systemd":
            return Systemd.list.pipe(Effect.provide(context))
          case "native":
            return Effect.succeed(native.refs)
        }
      }
      const list = (agentClass?: AgentClass) =>
        agentClass === undefined
          ? Effect.forEach(["ocf", "lsb", "systemd", "native"] as const, listClass).pipe(
              Effect.map((all) => all.flat())
            )
          : listClass(agentClass)
      return { resolve, list }
    })
  )

/** Test registry: only the given native agents (scripted agents, for controller and simulator tests). */
export const layerTest = (natives: ReadonlyArray<ResourceAgent>) => {
  const native = nativeRegistry(natives)
  return Layer.succeed(AgentRegistry, {
    resolve: native.resolve,
    list: (agentClass) =>
      Effect.succeed(agentClass === undefined || agentClass === "native" ? native.refs : [])
  })
}
