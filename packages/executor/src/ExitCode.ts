/**
 * Result codes of agent actions, on the OCF scale Pacemaker uses for every class, and the
 * execution status ("op-status") that says whether the action ran to completion at all.
 */

/** OCF exit codes (OCF RA API 1.1 and Pacemaker Explained, "OCF Return Codes"). */
export const Ocf = {
  ok: 0,
  error: 1,
  invalidParameter: 2,
  unimplementedFeature: 3,
  insufficientPrivileges: 4,
  notInstalled: 5,
  notConfigured: 6,
  notRunning: 7,
  runningPromoted: 8,
  failedPromoted: 9,
  degraded: 190,
  degradedPromoted: 191
} as const

export type OcfCode = (typeof Ocf)[keyof typeof Ocf]

const ocfNames: Record<number, string> = {
  0: "ok",
  1: "error",
  2: "invalid parameter",
  3: "unimplemented feature",
  4: "insufficient privileges",
  5: "not installed",
  6: "not configured",
  7: "not running",
  8: "running (promoted)",
  9: "failed (promoted)",
  190: "degraded",
  191: "degraded (promoted)"
}

/** Human name of an OCF code, e.g. `7` -> "not running". */
export const ocfName = (rc: number): string => ocfNames[rc] ?? `unknown (${rc})`

/**
 * Pacemaker's execution status of an operation (`op-status` in lrm_rsc_op): whether the agent
 * ran to completion (`done`, then rc-code is meaningful) or why it did not.
 */
export const ExecStatus = {
  pending: -1,
  done: 0,
  cancelled: 1,
  timeout: 2,
  notSupported: 3,
  error: 4,
  errorHard: 5,
  errorFatal: 6,
  notInstalled: 7,
  notConnected: 8,
  invalid: 9
} as const

export type ExecStatusCode = (typeof ExecStatus)[keyof typeof ExecStatus]

/**
 * LSB init-script `status` codes (LSB core, "Init Script Actions") and the two Pacemaker
 * extensions in the application range (150 not installed, 151 insufficient privileges).
 */
export const LsbStatus = {
  running: 0,
  deadPidFileExists: 1,
  deadLockFileExists: 2,
  notRunning: 3,
  unknown: 4,
  notInstalled: 150,
  insufficientPrivileges: 151
} as const

/**
 * Maps an LSB exit code to the OCF scale. For `status` the LSB codes differ from OCF (3 means
 * "not running"); for every other action LSB codes 0-7 already mean what the OCF codes mean.
 */
export const fromLsb = (action: string, code: number): number => {
  if (action === "status" || action === "monitor") {
    switch (code) {
      case LsbStatus.running:
        return Ocf.ok
      case LsbStatus.deadPidFileExists:
      case LsbStatus.deadLockFileExists:
      case LsbStatus.notRunning:
        return Ocf.notRunning
      case LsbStatus.notInstalled:
        return Ocf.notInstalled
      case LsbStatus.insufficientPrivileges:
        return Ocf.insufficientPrivileges
      default:
        return Ocf.error
    }
  }
  return code >= 0 && code <= 7 ? code : Ocf.error
}

/** Whether an rc is one of the codes an OCF agent may legitimately return. */
export const isOcfCode = (rc: number): boolean => rc in ocfNames
