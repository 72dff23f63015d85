/**
 * systemd units, driven through `systemctl` (which talks D-Bus to systemd): `start`, `stop`,
 * `reload` run the verb of the same name and wait for its job; `monitor` is `is-active`. When no
 * systemd is running (containers, this lab's VMs) every action ends with op-status
 * "not connected" and systemctl's message as the exit reason.
 */
import { Effect } from "effect"
import { Settings } from "./ExecutorSettings.ts"
import { ExecStatus, Ocf } from "./ExitCode.ts"
import { runProgram } from "./internal/program.ts"
import { headerMetadata } from "./Lsb.ts"
import * as ProcessRunner from "./ProcessRunner.ts"
import {
  type ActionRequest,
  type ActionResult,
  AgentNotInstalled,
  type AgentRef,
  format,
  isSafeName,
  type ResourceAgent
} from "./ResourceAgent.ts"

/** systemctl's exit code when the unit is not loaded (LSB "not installed"). */
const unitNotFound = 5

export const unitName = (type: string): string => (/\.[a-z]+$/.test(type) ? type : `${type}.service`)

const noSystemd = /not been booted with systemd|Failed to connect to bus|Failed to get D-Bus connection/

const verbs: Partial<Record<string, string>> = { start: "start", stop: "stop", reload: "reload" }

export const make = (ref: AgentRef) =>
  Effect.gen(function* () {
    const settings = yield* Settings
    const runner = yield* ProcessRunner.ProcessRunner
    const agent = format(ref)
    const unit = unitName(ref.type)
    if (!isSafeName(ref.type) || ref.type.startsWith("-")) {
      return yield* new AgentNotInstalled({
        agent,
        path: unit,
        reason: "InvalidName",
        detail: "invalid unit name"
      })
    }
    const execute = (request: ActionRequest): Effect.Effect<ActionResult, AgentNotInstalled> => {
      const monitor = request.action === "monitor"
      const verb = monitor ? "is-active" : verbs[request.action]
      if (verb === undefined) {
        return Effect.succeed({
          rc: Ocf.unimplementedFeature,
          status: ExecStatus.done,
          exitReason: `systemd units have no ${request.action} action`,
          stdout: "",
          stderr: "",
          droppedBytes: 0,
          execTimeMs: 0
        })
      }
      return runProgram(
        {
          agent,
          path: settings.systemctlPath,
          args: [verb, "--no-pager", "--", unit],
          env: { PATH: settings.path },
          timeoutMs: request.timeoutMs,
          toOcf: (code) =>
            code === 0
              ? Ocf.ok
              : monitor
                ? Ocf.notRunning
                : code === unitNotFound
                  ? Ocf.notInstalled
                  : Ocf.error
        },
        settings
      ).pipe(
        Effect.map((result) =>
          noSystemd.test(result.stderr)
            ? {
                ...result,
                rc: Ocf.error,
                status: ExecStatus.notConnected,
                exitReason: result.stderr.split("\n")[0]
              }
            : result.rc !== Ocf.ok && result.exitReason === undefined && result.stderr.trim() !== ""
              ? { ...result, exitReason: result.stderr.trim().split("\n")[0] }
              : result
        ),
        Effect.provideService(ProcessRunner.ProcessRunner, runner)
      )
    }
    const resourceAgent: ResourceAgent = {
      ref,
      execute,
      metadata: Effect.succeed({
        ...headerMetadata(ref.type, ""),
        shortdesc: `systemd unit ${unit}`,
        longdesc: `systemd unit ${unit}, managed through systemctl`
      })
    }
    return resourceAgent
  })

/** Service units known to systemctl (`list-unit-files`; works without a running systemd). */
export const list = Effect.gen(function* () {
  const settings = yield* Settings
  const result = yield* ProcessRunner.run(
    {
      command: settings.systemctlPath,
      args: ["list-unit-files", "--type=service", "--no-legend", "--no-pager", "--plain"],
      env: { PATH: settings.path },
      outputCapBytes: 4 * 1024 * 1024
    },
    { timeoutMs: settings.metadataTimeoutMs, killGraceMs: settings.killGraceMs }
  ).pipe(Effect.orElseSucceed(() => undefined))
  if (result === undefined) return []
  return result.stdout.text
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name.endsWith(".service") && !name.includes("@"))
    .map((name): AgentRef => ({ class: "systemd", type: name.slice(0, -".service".length) }))
})
