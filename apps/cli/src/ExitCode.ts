/** The `ha` command's exit codes (documented in the README; scripts may rely on them). */

/** The command did what was asked (`ha plan` computed a plan, `ha validate` found no error). */
export const ok = 0
/** The command ran but the answer is negative: `ha validate` found errors, `--simulate` did not settle. */
export const problems = 1
/** The command line is wrong: unknown command or option, missing or malformed value, unknown node or resource. */
export const usage = 2
/** An input file is missing, unreadable, or not a valid CIB / configuration. */
export const input = 3
/** The CIB uses a feature ha's scheduler does not support yet (bundles, remote nodes, tickets). */
export const unsupported = 4
/** A bug in ha or in a plugin: reported in one line (set HA_DEBUG=1 for the details). */
export const internal = 70

export type ExitCode = number

/** The exit code for a typed error, by its tag. */
export const ofTag = (tag: string): ExitCode => {
  switch (tag) {
    case "UnknownNodeError":
    case "UnknownResourceError":
    case "MalformedWhatIfError":
    case "UsageError":
    case "ValidationError":
      return usage
    case "FileError":
    case "InvalidInputError":
      return input
    case "UnsupportedFeatureError":
      return unsupported
    case "UnstableError":
    case "ProblemsFound":
      return problems
    default:
      return internal
  }
}
