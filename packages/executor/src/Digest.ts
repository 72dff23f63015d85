/**
 * The `op-digest` Pacemaker stores with each operation in the CIB status, so that a change of a
 * resource's parameters can be detected by comparing digests.
 *
 * The rule (checked against digests recorded by real Pacemaker in the scheduler regression corpus):
 * take the operation's parameters, drop every `CRM_meta_*` meta-attribute except
 * `CRM_meta_timeout` on recurring operations, sort the names bytewise, write them as the attributes
 * of one XML element `<parameters …/>` with a leading space and a trailing newline, and take the
 * MD5 of that text: `md5(' <parameters a="1" b="2"/>\n')`.
 *
 * Two more digests let the scheduler tell a reload from a restart and hide secrets (both rules checked
 * against the same corpus): `op-restart-digest` covers only the parameters listed in `op-force-restart`
 * (those that cannot be reloaded), on one-shot operations only; `op-secure-digest` covers every
 * parameter except those in `op-secure-params` (and, for fence devices, the `pcmk_*` ones), with no
 * timeout.
 */
import { md5Hex } from "./internal/md5.ts"

/** Attributes Pacemaker never includes in a parameter digest besides the `CRM_meta_` ones. */
const alwaysFiltered = new Set(["id", "crm_feature_set", "op-digest", "target-role", "pcmk_external_ip"])

const escapeAttribute = (value: string): string =>
  value.replace(/[&<>"\n\r\t]/g, (ch) =>
    ch === "&"
      ? "&amp;"
      : ch === "<"
        ? "&lt;"
        : ch === ">"
          ? "&gt;"
          : ch === '"'
            ? "&quot;"
            : `&#x${ch.charCodeAt(0).toString(16).toUpperCase()};`
  )

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The op-digest of an operation.
 * @param params instance parameters (without the `OCF_RESKEY_` prefix)
 * @param intervalMs the operation's interval; recurring operations include their timeout
 * @param timeoutMs the operation's timeout in milliseconds
 */
export const opDigest = (
  params: Readonly<Record<string, string>>,
  intervalMs: number,
  timeoutMs: number
): string => {
  const kept: Array<[string, string]> = Object.entries(params).filter(
    ([name]) => !name.startsWith("CRM_meta_") && !alwaysFiltered.has(name)
  )
  if (intervalMs > 0) kept.push(["CRM_meta_timeout", String(timeoutMs)])
  return digestOf(kept)
}

const digestOf = (kept: Array<[string, string]>): string => {
  kept.sort(([a], [b]) => byteOrder(a, b))
  const attributes = kept.map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`).join("")
  return md5Hex(` <parameters${attributes}/>\n`)
}

/** The `op-restart-digest`: the digest of the parameters that force a restart when they change. */
export const restartDigest = (
  params: Readonly<Record<string, string>>,
  forceRestart: ReadonlyArray<string>
): string => {
  const names = new Set(forceRestart)
  return digestOf(Object.entries(params).filter(([name]) => names.has(name)))
}

/** The `op-secure-digest`: the digest without the private parameters, safe to show and compare. */
export const secureDigest = (
  params: Readonly<Record<string, string>>,
  privateParams: ReadonlyArray<string>,
  isFenceDevice: boolean
): string => {
  const names = new Set(privateParams)
  return digestOf(
    Object.entries(params).filter(
      ([name]) =>
        !names.has(name) &&
        !name.startsWith("CRM_meta_") &&
        !alwaysFiltered.has(name) &&
        !(isFenceDevice && name.startsWith("pcmk_"))
    )
  )
}

/** Pacemaker's way of writing a parameter list into the status: space-separated, space-padded. */
export const parameterList = (names: ReadonlyArray<string>): string => ` ${names.join(" ")} `
