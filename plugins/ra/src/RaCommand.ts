/** `ha ra list [CLASS]` and `ha ra info AGENT`: the resource agents installed here and their meta-data. */
import { Args, Command, Options } from "@effect/cli"
import type { Plugin } from "@ha/cli"
import { AgentRegistry, type Metadata, ResourceAgent } from "@ha/executor"
import { Console, Effect, Option, Schema } from "effect"
import { parseRef, registry } from "./Agents.ts"

/** A malformed agent reference or class on the command line (exit code 2, a usage error). */
export class RaUsageError extends Schema.TaggedError<RaUsageError>()("RaUsageError", {
  problem: Schema.String
}) {
  readonly exitCode = 2
  override get message() {
    return this.problem
  }
}

/** The agent is not installed or its meta-data cannot be read (exit code 3, an input problem). */
export class AgentUnavailableError extends Schema.TaggedError<AgentUnavailableError>()(
  "AgentUnavailableError",
  {
    problem: Schema.String
  }
) {
  readonly exitCode = 3
  override get message() {
    return this.problem
  }
}

const json = Options.boolean("json").pipe(Options.withDescription("print the result as JSON"))
const classes = ["ocf", "lsb", "systemd", "native"] as const

const list = Command.make(
  "list",
  {
    agentClass: Args.choice(
      classes.map((c) => [c, c] as const),
      { name: "CLASS" }
    ).pipe(Args.withDescription("only agents of this class: ocf, lsb, systemd or native"), Args.optional),
    json
  },
  (a) =>
    Effect.gen(function* () {
      const layer = yield* registry
      const refs = yield* Effect.flatMap(AgentRegistry.AgentRegistry, (r) =>
        r.list(Option.getOrUndefined(a.agentClass))
      ).pipe(Effect.provide(layer))
      const names = refs.map(ResourceAgent.format).sort()
      if (a.json) return yield* Console.log(JSON.stringify({ agents: names }, null, 2))
      yield* Console.log(names.length === 0 ? "No agents found." : names.join("\n"))
    })
).pipe(
  Command.withDescription(
    "List the resource agents installed here (ocf, lsb, systemd, and plugins' native agents)."
  )
)

/** Paragraphs (blank-line separated) re-flowed to `width` columns. */
const wrap = (text: string, width: number): Array<string> =>
  text.split(/\n\s*\n/).flatMap((paragraph, i) => {
    const lines: Array<string> = i > 0 ? [""] : []
    let line = ""
    for (const word of paragraph.split(/\s+/).filter((w) => w !== "")) {
      if (line !== "" && line.length + 1 + word.length > width) {
        lines.push(line)
        line = word
      } else line = line === "" ? word : `${line} ${word}`
    }
    if (line !== "") lines.push(line)
    return lines
  })

const seconds = (ms: number | undefined) => (ms === undefined ? "" : `${ms / 1000}s`)

/** The meta-data for people: description, parameters (required first), actions with their defaults. */
export const renderMetadata = (agent: string, meta: Metadata.AgentMetadata): Array<string> => {
  const lines = [`${agent}${meta.version ? ` (version ${meta.version})` : ""}: ${meta.shortdesc}`]
  if (meta.longdesc && meta.longdesc !== meta.shortdesc)
    lines.push("", ...wrap(meta.longdesc, 98).map((l) => `  ${l}`))
  const parameters = [...meta.parameters].sort((x, y) => Number(y.required) - Number(x.required))
  lines.push("", "Parameters:")
  for (const p of parameters) {
    const flags = [
      p.required ? "required" : "",
      p.unique ? "unique" : "",
      p.deprecated ? "deprecated" : ""
    ].filter((f) => f)
    const type = p.type === "select" ? `one of ${p.options.join("|")}` : p.type
    const fallback = p.default === undefined || p.default === "" ? "" : `, default ${p.default}`
    lines.push(
      `  ${p.name} (${type}${fallback})${flags.length > 0 ? ` [${flags.join(", ")}]` : ""}: ${p.shortdesc}`
    )
  }
  if (parameters.length === 0) lines.push("  none")
  lines.push("", "Actions:")
  for (const act of meta.actions) {
    const details = [
      act.timeoutMs === undefined ? "" : `timeout ${seconds(act.timeoutMs)}`,
      act.intervalMs === undefined || act.intervalMs === 0 ? "" : `interval ${seconds(act.intervalMs)}`,
      act.role === undefined ? "" : `role ${act.role}`,
      act.depth === undefined || act.depth === 0 ? "" : `depth ${act.depth}`
    ].filter((d) => d)
    lines.push(`  ${act.name}${details.length > 0 ? `  ${details.join(", ")}` : ""}`)
  }
  return lines
}

const info = Command.make(
  "info",
  {
    agent: Args.text({ name: "AGENT" }).pipe(Args.withDescription("an agent, e.g. ocf:heartbeat:IPaddr2")),
    json
  },
  (a) =>
    Effect.gen(function* () {
      const ref = yield* Effect.mapError(parseRef(a.agent), (e) => new RaUsageError({ problem: e.message }))
      const layer = yield* registry
      const meta = yield* Effect.flatMap(AgentRegistry.AgentRegistry, (r) => r.resolve(ref)).pipe(
        Effect.flatMap((agent) => agent.metadata),
        Effect.provide(layer),
        Effect.mapError((e) => new AgentUnavailableError({ problem: `${a.agent}: ${e.message}` }))
      )
      if (a.json) return yield* Console.log(JSON.stringify({ agent: a.agent, ...meta }, null, 2))
      yield* Console.log(renderMetadata(a.agent, meta).join("\n"))
    })
).pipe(
  Command.withDescription(
    "Show an agent's meta-data: its parameters and actions with their default timeouts."
  )
)

export const command: Plugin.PluginCommand = Command.make("ra").pipe(
  Command.withDescription("Resource agents: what is installed here and what each one takes."),
  Command.withSubcommands([list, info])
)
