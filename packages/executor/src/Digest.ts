/**
 * The `op-digest` Pacemaker stores with each operation in the CIB status, so that a change of a
 * resource's parameters can be detected by comparing digests.
 *
 * The rule (checked against digests recorded by real Pacemaker in the scheduler regression corpus):
 * take the operation's parameters, drop every `CRM_meta_*` meta-attribute except
 * `CRM_meta_timeout` on recurring operations, sort the names bytewise, write them as the attributes
 * of one XML element `<parameters …/>` with a leading space and a trailing newline, and take the
 * MD5 of that text: `md5(' <parameters a="1" b="2"/>\n')`.
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
  kept.sort(([a], [b]) => byteOrder(a, b))
  const attributes = kept.map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`).join("")
  return md5Hex(` <parameters${attributes}/>\n`)
}
