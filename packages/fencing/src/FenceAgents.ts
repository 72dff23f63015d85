/**
 * The `fence-agents` class: Debian's fence_* programs (fence-agents package, /usr/sbin/fence_*).
 * Arguments go to the program's stdin as `key=value` lines (`action=` first, then the device's
 * parameters, the target's `port`/`plug` and `nodename`); the exit code is the answer
 * (FenceAgent.ts). Meta-data (`action=metadata`) tells which parameters and actions it has.
 */
import { Effect, Layer, Ref } from "effect"
import { AgentProcess, type ProgramResult } from "./AgentProcess.ts"
import { AgentMetadataError, UnknownAgentError } from "./Errors.ts"
import { type AgentInfo, type AgentOutcome, AgentRegistry, type FenceAgent } from "./FenceAgent.ts"
import { parseMetadata } from "./internal/metadata.ts"

export const defaultDirectory = "/usr/sbin"
const outputCapBytes = 64 * 1024
const metadataTimeoutMs = 10_000

/** Agent names the class accepts: a path component, never something that escapes the directory. */
const validName = /^fence_[A-Za-z0-9_-]+$/

/** The stdin text: one `key=value` per line. Values with a line break would smuggle in keys, so they are dropped. */
export const stdinOf = (action: string, params: Readonly<Record<string, string>>): string => {
  const lines = [`action=${action}`]
  for (const [key, value] of Object.entries(params)) {
    if (key === "action" || /[\r\n=]/.test(key) || /[\r\n]/.test(value)) continue
    lines.push(`${key}=${value}`)
  }
  return `${lines.join("\n")}\n`
}

const toOutcome = (result: ProgramResult): AgentOutcome => {
  switch (result._tag) {
    case "Exited":
      return result
    case "Signaled":
      return {
        _tag: "Error",
        reason: `killed by ${result.signal}: ${result.stderr.trim().split("\n").pop() ?? ""}`
      }
    case "TimedOut":
      return {
        _tag: "TimedOut",
        durationMs: result.durationMs,
        detail: `process group killed with ${result.killedWith}`
      }
  }
}

/** The agent at `path`, with its meta-data read once. */
export const make = (path: string) =>
  Effect.gen(function* () {
    const runner = yield* AgentProcess
    const name = path.split("/").pop() ?? path
    const meta = yield* runner.run({
      command: path,
      args: [],
      stdin: stdinOf("metadata", {}),
      env: {},
      timeoutMs: metadataTimeoutMs,
      outputCapBytes: 1024 * 1024
    })
    if (meta._tag !== "Exited" || meta.code !== 0) {
      const how = meta._tag === "Exited" ? `exit code ${meta.code}` : meta._tag
      return yield* new AgentMetadataError({
        agent: path,
        reason: `action=metadata did not succeed (${how})`
      })
    }
    const info: AgentInfo = yield* parseMetadata(meta.stdout, path)
    const agent: FenceAgent = {
      name,
      agentClass: "fence-agents",
      info,
      run: (request) =>
        runner
          .run({
            command: path,
            args: [],
            stdin: stdinOf(request.action, request.params),
            env: {},
            timeoutMs: request.timeoutMs,
            outputCapBytes
          })
          .pipe(
            Effect.map(toOutcome),
            Effect.catchTag("SpawnError", (error) =>
              Effect.succeed<AgentOutcome>({ _tag: "Error", reason: error.message })
            )
          )
    }
    return agent
  })

/**
 * A registry over `natives` first, then the fence_* programs of `directory` (resolved on first
 * use and cached). A name that is neither gives UnknownAgentError.
 */
export const layerRegistry = (
  options: { readonly directory?: string; readonly natives?: ReadonlyArray<FenceAgent> } = {}
) =>
  Layer.effect(
    AgentRegistry,
    Effect.gen(function* () {
      const runner = yield* AgentProcess
      const directory = options.directory ?? defaultDirectory
      const natives = new Map((options.natives ?? []).map((agent) => [agent.name, agent]))
      const cache = yield* Ref.make(new Map<string, FenceAgent>())
      const searched = `native agents (${[...natives.keys()].join(", ") || "none"}) and ${directory}/fence_*`
      return {
        get: (name, device, path) =>
          Effect.gen(function* () {
            const native = natives.get(name)
            if (native !== undefined) return native
            const cached = (yield* Ref.get(cache)).get(name)
            if (cached !== undefined) return cached
            if (!validName.test(name))
              return yield* new UnknownAgentError({ device, agent: name, path, searched })
            const agent = yield* make(`${directory}/${name}`).pipe(
              Effect.provideService(AgentProcess, runner),
              Effect.mapError((error) =>
                error._tag === "SpawnError"
                  ? new UnknownAgentError({ device, agent: name, path, searched })
                  : new UnknownAgentError({ device, agent: name, path, searched, detail: error.reason })
              )
            )
            yield* Ref.update(cache, (map) => new Map(map).set(name, agent))
            return agent
          })
      }
    })
  )
