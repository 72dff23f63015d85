/** The built-in commands: plan, show, validate, convert, plugins. */
import { Args, Command, Options } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import { type Cib, XmlCodec, YamlConfig } from "@ha/cib"
import { Policy } from "@ha/policy"
import { Clock, Console, Context, Effect, Either, Option, Schema } from "effect"
import * as Graph from "../Graph.ts"
import * as Input from "../Input.ts"
import * as Plan from "../Plan.ts"
import { type Issue, Plugins } from "../Plugin.ts"
import * as Simulate from "../Simulate.ts"
import * as Status from "../Status.ts"
import * as WhatIf from "../WhatIf.ts"
import type { Painter } from "./text.ts"

/** How output is written: colour on a terminal, plain when piped. */
export class Output extends Context.Tag("@ha/cli/Output")<Output, Painter>() {}

/** A command line that parses but does not make sense (conflicting or missing options). */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", { problem: Schema.String }) {
  override get message() {
    return this.problem
  }
}

/** `ha validate` found errors (they were printed); the exit code says so. */
export class ProblemsFound extends Schema.TaggedError<ProblemsFound>()("ProblemsFound", {
  count: Schema.Number
}) {
  override get message() {
    return `${this.count} error${this.count === 1 ? "" : "s"} found`
  }
}

/** A configuration that cannot be written in the format asked for. */
export class ConversionError extends Schema.TaggedError<ConversionError>()("ConversionError", {
  problem: Schema.String
}) {
  readonly exitCode = 1
  override get message() {
    return this.problem
  }
}

const print = (lines: ReadonlyArray<string>) => Console.log(lines.join("\n"))
const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

const json = Options.boolean("json").pipe(Options.withDescription("print the result as JSON"))

const fileOption = (name: string, description: string, pseudoName = "FILE") =>
  Options.text(name).pipe(
    Options.withPseudoName(pseudoName),
    Options.withDescription(description),
    Options.optional
  )

const cibOption = fileOption("cib", "a Pacemaker CIB XML file, status section included")
const configOption = fileOption("config", "the native YAML configuration (or CIB XML without status)")
const statusOption = fileOption(
  "status",
  "with --config: a CIB XML file (or a bare <status> element) for the status"
)

const orUndefined = <A>(o: Option.Option<A>): A | undefined => Option.getOrUndefined(o)

/** The cluster to work on: --cib, --config [--status], a positional file, or the built-in example. */
const loadCluster = (options: {
  readonly cib: Option.Option<string>
  readonly config: Option.Option<string>
  readonly status: Option.Option<string>
  readonly file?: Option.Option<string>
}) => {
  const cib = orUndefined(options.cib)
  const config = orUndefined(options.config)
  const status = orUndefined(options.status)
  const file = options.file === undefined ? undefined : orUndefined(options.file)
  const given = [cib, config, file].filter((x) => x !== undefined).length
  if (given > 1)
    return Effect.fail(new UsageError({ problem: "give one of FILE, --cib FILE and --config FILE" }))
  if (status !== undefined && config === undefined)
    return Effect.fail(new UsageError({ problem: "--status FILE goes with --config FILE" }))
  if (config !== undefined) return Input.loadConfig(config, status)
  if (cib !== undefined) return Input.load(cib)
  if (file !== undefined) return Input.load(file)
  return Effect.sync(Input.example)
}

const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

const fromEither = <A, E>(either: Either.Either<A, E>): Effect.Effect<A, E> => either

const repeated = (name: string, pseudoName: string, description: string) =>
  Options.text(name).pipe(
    Options.withPseudoName(pseudoName),
    Options.withDescription(description),
    Options.repeated
  )

const planOptions = {
  cib: cibOption,
  config: configOption,
  status: statusOption,
  live: Options.boolean("live").pipe(
    Options.withDescription("plan on the running cluster's CIB, read from the local daemon (see --socket)")
  ),
  socket: Options.text("socket").pipe(
    Options.withDefault("/run/ha/api.sock"),
    Options.withDescription("with --live: the daemon's API socket")
  ),
  nodeFail: repeated("node-fail", "NODE", "what if NODE fails (it will be fenced)"),
  nodeUp: repeated("node-up", "NODE", "what if NODE comes up"),
  nodeDown: repeated("node-down", "NODE", "what if NODE leaves the cluster cleanly"),
  opFail: repeated(
    "op-fail",
    "RSC_OP_INTERVAL@NODE=RC",
    "what if an operation returns RC: RSC_OP_INTERVAL@NODE=RC, e.g. db_monitor_20000@alpha=1"
  ),
  standby: repeated("standby", "NODE", "what if NODE is put in standby"),
  setProperty: repeated("set-property", "NAME=VALUE", "what if a cluster property is set: NAME=VALUE"),
  nodeAttribute: repeated(
    "node-attribute",
    "NODE:NAME=VALUE",
    "what if a transient node attribute is set: NODE:NAME=VALUE"
  ),
  change: fileOption("change", "what if this configuration (YAML or XML) replaced the current one"),
  json,
  scores: Options.boolean("scores").pipe(Options.withDescription("show the allocation scores")),
  explain: fileOption("explain", "explain where RSC (a primitive, group or clone) ends up and why", "RSC"),
  graph: fileOption("graph", "write the transition graph to FILE.svg or FILE.dot"),
  simulate: Options.boolean("simulate").pipe(
    Options.withDescription(
      "carry the plan out with simulated agents until the cluster is stable; show the result"
    )
  )
}

type PlanArgs = {
  readonly [K in keyof typeof planOptions]: (typeof planOptions)[K] extends Options.Options<infer A>
    ? A
    : never
}

const whatIfsOf = (a: PlanArgs): Either.Either<Array<WhatIf.WhatIf>, WhatIf.MalformedWhatIfError> =>
  Either.gen(function* () {
    const out: Array<WhatIf.WhatIf> = []
    for (const node of a.nodeFail) out.push({ _tag: "NodeFail", node })
    for (const node of a.nodeUp) out.push({ _tag: "NodeUp", node })
    for (const node of a.nodeDown) out.push({ _tag: "NodeDown", node })
    for (const node of a.standby) out.push({ _tag: "Standby", node })
    for (const spec of a.opFail) out.push({ _tag: "OpResult", op: yield* WhatIf.parseOpSpec(spec) })
    for (const text of a.setProperty)
      out.push({ _tag: "SetProperty", ...(yield* WhatIf.parseAssignment(text, "--set-property")) })
    for (const text of a.nodeAttribute)
      out.push({ _tag: "NodeAttribute", ...(yield* WhatIf.parseNodeAttribute(text)) })
    return out
  })

/** The running cluster's CIB, through the plugin that reaches the daemon (the cluster plugin). */
const loadLive = (a: PlanArgs) =>
  Effect.gen(function* () {
    if (Option.isSome(a.cib) || Option.isSome(a.config) || Option.isSome(a.status))
      return yield* new UsageError({
        problem: "--live reads the running cluster: give no --cib, --config or --status"
      })
    const plugins = yield* Plugins
    const reader = plugins.loaded.find((l) => l.plugin.liveCib !== undefined)?.plugin.liveCib
    if (reader === undefined)
      return yield* new UsageError({
        problem:
          "--live needs a plugin that reaches the cluster (@ha/plugin-cluster); none is loaded (see ha plugins)"
      })
    return yield* reader.load(a.socket)
  })

const planHandler = (a: PlanArgs) =>
  Effect.gen(function* () {
    const painter = yield* Output
    const graphFile = orUndefined(a.graph)
    if (graphFile !== undefined && !/\.(svg|dot|gv)$/i.test(graphFile))
      return yield* new UsageError({ problem: `--graph: "${graphFile}" must end in .svg or .dot` })
    const whatIfs = yield* fromEither(whatIfsOf(a))
    const loaded = a.live ? yield* loadLive(a) : yield* loadCluster(a)
    const changeFile = orUndefined(a.change)
    const change = changeFile === undefined ? undefined : (yield* Input.load(changeFile)).cib.configuration
    const plan = yield* fromEither(
      Plan.make({
        cib: loaded.cib,
        source: loaded.source,
        whatIfs,
        ...(change === undefined ? {} : { change }),
        now: yield* nowSeconds
      })
    )
    const explainId = orUndefined(a.explain)
    const explain =
      explainId === undefined
        ? undefined
        : { resource: explainId, lines: yield* fromEither(Plan.explain(plan, explainId)) }
    const simulation = a.simulate
      ? yield* fromEither(Simulate.run(plan.cib, plan.transition, plan.now))
      : undefined
    const simulated = simulation && Status.before(simulation.cib, simulation.final)
    if (graphFile !== undefined) {
      const fs = yield* FileSystem.FileSystem
      yield* fs
        .writeFileString(graphFile, Graph.render(plan.transition, graphFile) ?? "")
        .pipe(Effect.mapError((e) => new Input.FileError({ file: graphFile, reason: e.message })))
    }
    const options = { scores: a.scores, ...(explain ? { explain } : {}) }
    if (a.json) {
      return yield* printJson({
        ...Plan.toJson(plan, options),
        ...(graphFile === undefined ? {} : { graph: graphFile }),
        ...(simulation && simulated
          ? { simulation: { transitions: simulation.rounds.length, status: simulated } }
          : {})
      })
    }
    const lines = Plan.render(plan, painter, options)
    if (simulation && simulated) {
      lines.push(
        painter.paint(
          "bold",
          `Simulated: ${simulation.rounds.length} transition${simulation.rounds.length === 1 ? "" : "s"} carried out, the cluster is stable`
        ),
        ...Status.render(simulated, painter).map((l) => `  ${l}`)
      )
    }
    if (graphFile !== undefined) lines.push(`Graph: ${graphFile} (${plan.transition.actions.length} actions)`)
    yield* print(lines)
  })

export const plan = Command.make("plan", planOptions, planHandler).pipe(
  Command.withDescription(
    "What will the cluster do? Plans the transition for a CIB (default: the built-in example, PostgreSQL on DRBD), optionally after what-ifs."
  )
)

const schedule = (cib: Cib.Cib) =>
  Effect.flatMap(nowSeconds, (now) => fromEither(Policy.schedule(cib, { now: Policy.nowOf(cib, now) })))

export const show = Command.make(
  "show",
  {
    file: Args.text({ name: "FILE" }).pipe(
      Args.withDescription("a CIB XML file (default: the built-in example)"),
      Args.optional
    ),
    cib: cibOption,
    config: configOption,
    status: statusOption,
    json
  },
  (a) =>
    Effect.gen(function* () {
      const loaded = yield* loadCluster(a)
      const transition = yield* schedule(loaded.cib)
      const status = Status.before(loaded.cib, transition)
      if (a.json) return yield* printJson({ source: loaded.source, ...status })
      yield* print([`Cluster: ${loaded.source}`, ...Status.render(status, yield* Output)])
    })
).pipe(
  Command.withDescription("Show a cluster's status like crm_mon: nodes, resources and their roles, failures.")
)

/** Checks beyond decoding: what the scheduler cannot plan, and every plugin's validators. */
const issuesOf = (loaded: Input.Loaded) =>
  Effect.gen(function* () {
    const issues: Array<Issue> = []
    const scheduled = Policy.schedule(loaded.cib, { now: Policy.nowOf(loaded.cib, yield* nowSeconds) })
    if (Either.isLeft(scheduled))
      issues.push({ severity: "warning", where: "cluster", message: scheduled.left.message })
    const plugins = yield* Plugins
    for (const { plugin } of plugins.loaded) {
      for (const v of plugin.validators ?? []) {
        const found = yield* v.validate({ file: loaded.source, cib: loaded.cib }).pipe(
          Effect.catchAllDefect((defect) =>
            Effect.succeed<ReadonlyArray<Issue>>([
              {
                severity: "warning",
                where: `plugin ${plugin.name}`,
                message: `validator ${v.name} crashed: ${String(defect)}`
              }
            ])
          )
        )
        issues.push(...found)
      }
    }
    return issues
  })

export const validate = Command.make(
  "validate",
  {
    file: Args.text({ name: "FILE" }).pipe(Args.withDescription("a CIB XML file or a YAML configuration")),
    json
  },
  (a) =>
    Effect.gen(function* () {
      const painter = yield* Output
      const loaded = yield* Input.load(a.file).pipe(
        Effect.map(Either.right),
        Effect.catchTag("InvalidInputError", (e) => Effect.succeed(Either.left(e)))
      )
      if (Either.isLeft(loaded)) {
        const issue: Issue = { severity: "error", where: a.file, message: loaded.left.message }
        if (a.json) yield* printJson({ file: a.file, valid: false, issues: [issue] })
        else yield* Console.log(`${painter.paint("red", "error")} ${loaded.left.message}`)
        return yield* new ProblemsFound({ count: 1 })
      }
      const issues = yield* issuesOf(loaded.right)
      const errors = issues.filter((i) => i.severity === "error").length
      if (a.json) yield* printJson({ file: a.file, format: loaded.right.format, valid: errors === 0, issues })
      else {
        for (const i of issues) {
          yield* Console.log(
            `${painter.paint(i.severity === "error" ? "red" : "yellow", i.severity)} ${i.where}: ${i.message}`
          )
        }
        const warnings = issues.length - errors
        yield* Console.log(
          errors === 0
            ? `${a.file}: valid${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}`
            : `${a.file}: ${errors} error${errors === 1 ? "" : "s"}`
        )
      }
      if (errors > 0) return yield* new ProblemsFound({ count: errors })
    })
).pipe(
  Command.withDescription(
    "Check a CIB or YAML configuration: syntax, references, what the scheduler supports, and plugin checks (agent parameters)."
  )
)

export const convert = Command.make(
  "convert",
  {
    file: Args.text({ name: "FILE" }).pipe(Args.withDescription("a CIB XML file or a YAML configuration")),
    to: Options.choice("to", ["yaml", "xml"]).pipe(Options.withDescription("the format to write")),
    output: fileOption("output", "write to FILE instead of standard output").pipe(Options.withAlias("o")),
    json
  },
  (a) =>
    Effect.gen(function* () {
      const loaded = yield* Input.load(a.file)
      const text =
        a.to === "xml"
          ? XmlCodec.encodeXml(loaded.cib)
          : yield* YamlConfig.encode(loaded.cib.configuration).pipe(
              Effect.mapError(
                (e) => new ConversionError({ problem: `${a.file}: cannot be written as YAML: ${e.message}` })
              )
            )
      const output = orUndefined(a.output)
      if (output !== undefined) {
        const fs = yield* FileSystem.FileSystem
        yield* fs
          .writeFileString(output, text)
          .pipe(Effect.mapError((e) => new Input.FileError({ file: output, reason: e.message })))
      }
      const dropped = a.to === "yaml" && loaded.cib.status.nodes.length > 0
      if (a.json) {
        return yield* printJson({
          from: loaded.format,
          to: a.to,
          ...(output === undefined ? { text } : { output }),
          statusDropped: dropped
        })
      }
      if (output === undefined) yield* Console.log(text.replace(/\n$/, ""))
      if (dropped)
        yield* Console.error("note: the status section is not part of a YAML configuration and was left out")
    })
).pipe(Command.withDescription("Convert between CIB XML and the native YAML configuration."))

export const plugins = Command.make("plugins", { json }, (a) =>
  Effect.gen(function* () {
    const set = yield* Plugins
    const painter = yield* Output
    const described = set.loaded.map(({ plugin, source }) => ({
      name: plugin.name,
      source,
      ...(plugin.description === undefined ? {} : { description: plugin.description }),
      commands: (plugin.commands ?? []).map((c) => [...Command.getNames(c)][0] ?? "?"),
      validators: (plugin.validators ?? []).map((v) => v.name),
      resourceAgents: (plugin.resourceAgents ?? []).map((r) => `${r.ref.class}:${r.ref.type}`),
      fenceAgents: (plugin.fenceAgents ?? []).map((r) => `${r.ref.class}:${r.ref.type}`)
    }))
    if (a.json) return yield* printJson({ loaded: described, failed: set.failed })
    const lines: Array<string> = []
    if (described.length === 0) lines.push("No plugins loaded.")
    for (const p of described) {
      lines.push(
        `${painter.paint("bold", p.name)}  ${painter.paint("dim", p.source)}${p.description ? `  ${p.description}` : ""}`
      )
      if (p.commands.length > 0) lines.push(`  commands: ${p.commands.join(", ")}`)
      if (p.validators.length > 0) lines.push(`  validators: ${p.validators.join(", ")}`)
      if (p.resourceAgents.length > 0) lines.push(`  resource agents: ${p.resourceAgents.join(", ")}`)
      if (p.fenceAgents.length > 0) lines.push(`  fence agents: ${p.fenceAgents.join(", ")}`)
    }
    for (const f of set.failed) lines.push(`${painter.paint("red", "failed")}  ${f.source}: ${f.reason}`)
    yield* print(lines)
  })
).pipe(
  Command.withDescription(
    "List the plugins that loaded, what each contributes, and those that failed to load."
  )
)
