/**
 * The fence agent plugin interface. An agent is asked to do one action on one device with the
 * device's parameters, and answers with an exit code in the fence-agents convention:
 * 0 success (status: the target is on), 2 for status "off", anything else failure.
 * Classes: `fence-agents` (Debian's fence_* programs, FenceAgents.ts) and `native` (TypeScript,
 * Native.ts). The registry resolves a stonith resource's `type` to an agent.
 */
import { Context, Effect, Layer } from "effect"
import { UnknownAgentError } from "./Errors.ts"

/** The actions a fencer asks of an agent (the agent's own names may differ: pcmk_<action>_action). */
export type FenceAction = "off" | "on" | "reboot" | "status" | "monitor" | "list" | "metadata"

/** What the fencer needs to know about an agent to use it (read from its meta-data). */
export interface AgentInfo {
  /** The parameter that names the target's port: "port" (preferred, as Pacemaker does), else "plug"; none if neither exists. */
  readonly hostParameter: "port" | "plug" | undefined
  readonly parameters: ReadonlyArray<string>
  readonly actions: ReadonlyArray<string>
}

export const supports = (info: AgentInfo, action: string): boolean => info.actions.includes(action)

export interface AgentRequest {
  /** The action name as the agent knows it. */
  readonly action: string
  /** Device parameters plus the target's port/plug and nodename; never contains `action`. */
  readonly params: Readonly<Record<string, string>>
  readonly timeoutMs: number
}

export type AgentOutcome =
  | {
      readonly _tag: "Exited"
      readonly code: number
      readonly stdout: string
      readonly stderr: string
      readonly durationMs: number
    }
  /** Killed at its timeout (the whole process group for programs). Never a success. */
  | { readonly _tag: "TimedOut"; readonly durationMs: number; readonly detail: string }
  /** The agent could not be run at all (missing program, native agent error). */
  | { readonly _tag: "Error"; readonly reason: string }

export interface FenceAgent {
  /** The name a stonith resource's `type` uses: `fence_dummy`, `fence-netns`. */
  readonly name: string
  readonly agentClass: "fence-agents" | "native"
  readonly info: AgentInfo
  readonly run: (request: AgentRequest) => Effect.Effect<AgentOutcome>
}

/** A fence action (off, on, reboot, monitor) is done only when the agent exited 0. */
export const succeeded = (outcome: AgentOutcome): boolean => outcome._tag === "Exited" && outcome.code === 0

/** The status action: exit 0 means on, 2 means off, anything else means the status is unknown. */
export const powerStatus = (outcome: AgentOutcome): "on" | "off" | "unknown" =>
  outcome._tag !== "Exited" ? "unknown" : outcome.code === 0 ? "on" : outcome.code === 2 ? "off" : "unknown"

/** The list action prints one `port[,alias]` line per outlet; both the port and the alias name a host. */
export const parseList = (stdout: string): ReadonlyArray<string> => {
  const names = new Set<string>()
  for (const line of stdout.split("\n")) {
    const trimmed = line.trim()
    if (trimmed === "" || trimmed.includes(" ")) continue
    for (const part of trimmed.split(",")) if (part !== "" && part !== "N/A") names.add(part)
  }
  return [...names]
}

/** One line of why an outcome failed, for history and errors. */
export const describe = (outcome: AgentOutcome): string => {
  switch (outcome._tag) {
    case "Exited": {
      const lastLine = (outcome.stderr.trim() || outcome.stdout.trim()).split("\n").pop() ?? ""
      return `exit code ${outcome.code}${lastLine ? `: ${lastLine}` : ""}`
    }
    case "TimedOut":
      return `timed out after ${outcome.durationMs} ms (${outcome.detail})`
    case "Error":
      return outcome.reason
  }
}

/** Resolves a stonith resource's agent name; `info` is what configuration checks need. */
export class AgentRegistry extends Context.Tag("@ha/fencing/AgentRegistry")<
  AgentRegistry,
  {
    /** `device` and `path` only name the configuration that asked, for the error. */
    readonly get: (name: string, device: string, path: string) => Effect.Effect<FenceAgent, UnknownAgentError>
  }
>() {}

/** A registry of the given agents only (native agents, or scripted agents in tests). */
export const layerAgents = (agents: ReadonlyArray<FenceAgent>, fallback?: AgentRegistry["Type"]) =>
  Layer.succeed(AgentRegistry, registryOf(agents, fallback))

export const registryOf = (
  agents: ReadonlyArray<FenceAgent>,
  fallback?: AgentRegistry["Type"]
): AgentRegistry["Type"] => {
  const byName = new Map(agents.map((agent) => [agent.name, agent]))
  return {
    get: (name, device, path) => {
      const agent = byName.get(name)
      if (agent !== undefined) return Effect.succeed(agent)
      if (fallback !== undefined) return fallback.get(name, device, path)
      return Effect.fail(
        new UnknownAgentError({
          device,
          agent: name,
          path,
          searched: `native agents: ${[...byName.keys()].join(", ") || "none"}`
        })
      )
    }
  }
}
