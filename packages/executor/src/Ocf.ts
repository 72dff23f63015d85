/**
 * OCF agents: executables at `<OCF_ROOT>/resource.d/<provider>/<type>`, called with the action as
 * their only argument and everything else in the environment (OCF RA API 1.1, and the variables
 * Pacemaker's executor adds).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect } from "effect"
import { type ExecutorSettings, Settings } from "./ExecutorSettings.ts"
import { isOcfCode, Ocf } from "./ExitCode.ts"
import { runProgram } from "./internal/program.ts"
import * as Metadata from "./Metadata.ts"
import * as ProcessRunner from "./ProcessRunner.ts"
import {
  type ActionRequest,
  AgentNotInstalled,
  type AgentRef,
  format,
  InvalidParameter,
  isSafeName,
  type ResourceAgent
} from "./ResourceAgent.ts"

/** The OCF API version announced to agents. */
export const raVersion = { major: 1, minor: 1 } as const

const envName = /^[A-Za-z_][A-Za-z0-9_-]*$/

/**
 * The environment an OCF agent runs with: nothing inherited, only PATH, the OCF globals, the
 * instance parameters as `OCF_RESKEY_<name>` and the meta-attributes as `OCF_RESKEY_CRM_meta_<name>`
 * (dashes become underscores, as Pacemaker writes them).
 */
export const environment = (
  ref: AgentRef,
  request: ActionRequest,
  settings: ExecutorSettings
): Record<string, string> => {
  const agent = format(ref)
  const check = (name: string, value: string) => {
    if (!envName.test(name)) {
      throw new InvalidParameter({ agent, name, reason: "names may hold only letters, digits, _ and -" })
    }
    if (value.includes("\0")) throw new InvalidParameter({ agent, name, reason: "value contains a NUL byte" })
  }
  const env: Record<string, string> = {
    ...settings.environment,
    PATH: settings.path,
    OCF_ROOT: settings.ocfRoot,
    OCF_RA_VERSION_MAJOR: String(raVersion.major),
    OCF_RA_VERSION_MINOR: String(raVersion.minor),
    OCF_RESOURCE_INSTANCE: request.resource,
    OCF_RESOURCE_TYPE: ref.type
  }
  if (ref.provider !== undefined) env.OCF_RESOURCE_PROVIDER = ref.provider
  if (settings.resourceTmpDir !== undefined) env.HA_RSCTMP = settings.resourceTmpDir
  for (const [name, value] of Object.entries(request.params)) {
    check(name, value)
    env[`OCF_RESKEY_${name}`] = value
  }
  const meta: Record<string, string> = {
    on_node: settings.nodeName,
    ...request.meta,
    name: request.action,
    interval: String(request.intervalMs),
    timeout: String(request.timeoutMs)
  }
  for (const [name, value] of Object.entries(meta)) {
    check(name, value)
    env[`OCF_RESKEY_CRM_meta_${name.replaceAll("-", "_")}`] = value
  }
  return env
}

const metaPrefix = "CRM_meta_"

/**
 * Splits the attributes of an action in a transition graph (`<attributes CRM_meta_clone="0" ip="…">`)
 * into instance parameters and meta-attributes (prefix removed), the shape an ActionRequest takes.
 * The scheduler already computes the clone and notify_* values there; the executor passes them on.
 */
export const splitAttributes = (
  attributes: Readonly<Record<string, string>>
): { params: Record<string, string>; meta: Record<string, string> } => {
  const params: Record<string, string> = {}
  const meta: Record<string, string> = {}
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith(metaPrefix)) meta[name.slice(metaPrefix.length)] = value
    else params[name] = value
  }
  return { params, meta }
}

/** OCF codes pass through; anything else an agent exits with is a generic error. */
const toOcf = (code: number): number => (isOcfCode(code) ? code : Ocf.error)

export const agentPath = (settings: ExecutorSettings, ref: AgentRef): string =>
  `${settings.ocfRoot}/resource.d/${ref.provider}/${ref.type}`

/** An OCF agent. Names with `/` or `..` are refused, so a reference cannot leave OCF_ROOT. */
export const make = (ref: AgentRef) =>
  Effect.gen(function* () {
    const settings = yield* Settings
    const runner = yield* ProcessRunner.ProcessRunner
    const agent = format(ref)
    const path = agentPath(settings, ref)
    if (ref.provider === undefined || !isSafeName(ref.provider) || !isSafeName(ref.type)) {
      return yield* new AgentNotInstalled({
        agent,
        path,
        reason: "InvalidName",
        detail: "invalid provider or type"
      })
    }
    const execute = (request: ActionRequest) =>
      Effect.try({
        try: () => environment(ref, request, settings),
        catch: (e) => e as InvalidParameter
      }).pipe(
        Effect.flatMap((env) =>
          runProgram(
            { agent, path, args: [request.action], env, timeoutMs: request.timeoutMs, toOcf },
            settings
          )
        ),
        Effect.provideService(ProcessRunner.ProcessRunner, runner)
      )
    const metadata = execute({
      resource: ref.type,
      action: "meta-data",
      params: {},
      meta: {},
      intervalMs: 0,
      timeoutMs: settings.metadataTimeoutMs
    }).pipe(
      Effect.flatMap((result) =>
        result.rc === Ocf.ok
          ? Effect.try({
              try: () => Metadata.parse(result.stdout, agent),
              catch: (e) => e as Metadata.MetadataParseError
            })
          : Effect.fail(
              new Metadata.MetadataParseError({
                source: agent,
                line: 0,
                column: 0,
                reason: `meta-data exited with rc ${result.rc}${result.exitReason ? `: ${result.exitReason}` : ""}`
              })
            )
      )
    )
    const resourceAgent: ResourceAgent = { ref, execute, metadata }
    return resourceAgent
  })

const visibleEntries = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const names = yield* fs.readDirectory(dir).pipe(Effect.orElseSucceed((): Array<string> => []))
    return names.filter((name) => !name.startsWith(".")).sort()
  })

/** OCF providers installed under OCF_ROOT (`heartbeat`, `pacemaker`, …). */
export const listProviders = Effect.gen(function* () {
  const settings = yield* Settings
  return yield* visibleEntries(`${settings.ocfRoot}/resource.d`)
})

/** Agent types of one provider: the executable files in its directory. */
export const listTypes = (provider: string) =>
  Effect.gen(function* () {
    const settings = yield* Settings
    const fs = yield* FileSystem.FileSystem
    if (!isSafeName(provider)) return []
    const dir = `${settings.ocfRoot}/resource.d/${provider}`
    const names = yield* visibleEntries(dir)
    const executable = yield* Effect.forEach(names, (name) =>
      fs.stat(`${dir}/${name}`).pipe(
        Effect.map((info) => info.type === "File" && (info.mode & 0o111) !== 0),
        Effect.orElseSucceed(() => false)
      )
    )
    return names.filter((_, i) => executable[i])
  })

/** Every OCF agent as `ocf:<provider>:<type>` references. */
export const list = Effect.gen(function* () {
  const providers = yield* listProviders
  const perProvider = yield* Effect.forEach(providers, (provider) =>
    listTypes(provider).pipe(
      Effect.map((types) => types.map((type): AgentRef => ({ class: "ocf", provider, type })))
    )
  )
  return perProvider.flat()
})
