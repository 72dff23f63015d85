/**
 * LSB init scripts (`/etc/init.d/<name>`): called with the action as argument and no parameters;
 * `monitor` runs `status`, whose LSB codes are mapped onto the OCF scale (3 -> 7 not running).
 * Their meta-data is made from the script's `### BEGIN INIT INFO` header, as Pacemaker does.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { Effect } from "effect"
import { Settings } from "./ExecutorSettings.ts"
import { fromLsb } from "./ExitCode.ts"
import { runProgram } from "./internal/program.ts"
import type { AgentMetadata } from "./Metadata.ts"
import * as ProcessRunner from "./ProcessRunner.ts"
import {
  type ActionRequest,
  AgentNotInstalled,
  type AgentRef,
  format,
  isSafeName,
  type ResourceAgent
} from "./ResourceAgent.ts"

/** Timeout Pacemaker gives LSB and systemd actions when none is configured. */
const defaultActionTimeoutMs = 100_000

const scriptAction = (action: string): string => (action === "monitor" ? "status" : action)

/** Reads `Short-Description:` and `Description:` (with continuation lines) from an LSB header. */
export const headerMetadata = (name: string, script: string): AgentMetadata => {
  const header = /### BEGIN INIT INFO\n([\s\S]*?)### END INIT INFO/.exec(script)?.[1] ?? ""
  const field = (key: string): string => {
    const match = new RegExp(`^# ${key}:[ \\t]*(.*(?:\\n#(?:\\t|  )[ \\t]*.*)*)`, "m").exec(header)
    return match?.[1]?.replace(/\n#\s*/g, " ").trim() ?? ""
  }
  const shortdesc = field("Short-Description")
  return {
    name,
    version: undefined,
    ocfVersion: undefined,
    shortdesc,
    longdesc: field("Description") || shortdesc,
    parameters: [],
    actions: ["start", "stop", "status", "restart", "force-reload", "monitor", "meta-data"].map((action) => ({
      name: action,
      timeoutMs: defaultActionTimeoutMs,
      intervalMs: action === "monitor" ? 15_000 : undefined,
      depth: undefined,
      role: undefined,
      startDelayMs: undefined
    }))
  }
}

export const make = (ref: AgentRef) =>
  Effect.gen(function* () {
    const settings = yield* Settings
    const runner = yield* ProcessRunner.ProcessRunner
    const fs = yield* FileSystem.FileSystem
    const agent = format(ref)
    const path = `${settings.lsbRoot}/${ref.type}`
    if (!isSafeName(ref.type)) {
      return yield* new AgentNotInstalled({
        agent,
        path,
        reason: "InvalidName",
        detail: "invalid script name"
      })
    }
    const execute = (request: ActionRequest) =>
      runProgram(
        {
          agent,
          path,
          args: [scriptAction(request.action)],
          env: { PATH: settings.path },
          timeoutMs: request.timeoutMs,
          toOcf: (code) => fromLsb(scriptAction(request.action), code)
        },
        settings
      ).pipe(Effect.provideService(ProcessRunner.ProcessRunner, runner))
    const metadata = fs.readFileString(path).pipe(
      Effect.map((script) => headerMetadata(ref.type, script)),
      Effect.mapError((e) => new AgentNotInstalled({ agent, path, reason: "NotFound", detail: e.message }))
    )
    const resourceAgent: ResourceAgent = { ref, execute, metadata }
    return resourceAgent
  })

/** Executable scripts in the LSB directory, as `lsb:<name>` references. */
export const list = Effect.gen(function* () {
  const settings = yield* Settings
  const fs = yield* FileSystem.FileSystem
  const names = yield* fs.readDirectory(settings.lsbRoot).pipe(Effect.orElseSucceed((): Array<string> => []))
  const checked = yield* Effect.forEach(names.sort(), (name) =>
    fs.stat(`${settings.lsbRoot}/${name}`).pipe(
      Effect.map((info) => info.type === "File" && (info.mode & 0o111) !== 0 && !name.startsWith(".")),
      Effect.orElseSucceed(() => false)
    )
  )
  return names.filter((_, i) => checked[i]).map((type): AgentRef => ({ class: "lsb", type }))
})
