/**
 * Operation digests (Pacemaker Explained, "Resource parameters" and reloads): each recorded start,
 * promote, migrate_from or probe carries `op-digest`, the MD5 of the parameters the operation ran with.
 * When the resource's parameters change, the digest computed from the configuration no longer matches
 * and the resource is restarted where it runs ("resource definition change").
 *
 * The digest is the MD5 (hex) of `<parameters/>` with the parameters as attributes in name order, as
 * Pacemaker writes it (` <parameters a="1" b="2"/>` and a newline), without meta attributes.
 */
import type { Cib } from "@ha/cib"
import type { NodeHistory } from "./history.ts"
import type { NodeInfo } from "./nodes.ts"
import type { Resource } from "./resources.ts"
import { compareVersions, type RuleContext, resolveNvSets } from "./rules.ts"

const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]
const K = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0)
const encoder = new TextEncoder()
// the message words, reused between calls (digests are computed one at a time)
let block64 = new Int32Array(64)

/** MD5 of a text's UTF-8 bytes, as 32 lowercase hex digits (RFC 1321). */
export const md5 = (text: string): string => {
  // ASCII (the usual parameters) is its own UTF-8
  let ascii = true
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) ascii = false
  const bytes = ascii ? undefined : encoder.encode(text)
  const length = bytes ? bytes.length : text.length
  const blocks = ((length + 8) >>> 6) + 1
  if (block64.length < blocks * 16) block64 = new Int32Array(blocks * 16)
  const words = block64
  words.fill(0, 0, blocks * 16)
  for (let i = 0; i < length; i++) words[i >> 2]! |= (bytes ? bytes[i]! : text.charCodeAt(i)) << ((i % 4) * 8)
  words[length >> 2]! |= 0x80 << ((length % 4) * 8)
  words[blocks * 16 - 2] = length * 8
  words[blocks * 16 - 1] = Math.floor(length / 0x20000000)
  let a0 = 0x67452301
  let b0 = 0xefcdab89 | 0
  let c0 = 0x98badcfe | 0
  let d0 = 0x10325476
  for (let block = 0; block < blocks * 16; block += 16) {
    let a = a0
    let b = b0
    let c = c0
    let d = d0
    for (let i = 0; i < 64; i++) {
      let f: number
      let g: number
      if (i < 16) {
        f = (b & c) | (~b & d)
        g = i
      } else if (i < 32) {
        f = (d & b) | (~d & c)
        g = (5 * i + 1) & 15
      } else if (i < 48) {
        f = b ^ c ^ d
        g = (3 * i + 5) & 15
      } else {
        f = c ^ (b | ~d)
        g = (7 * i) & 15
      }
      const sum = (a + f + K[i]! + words[block + g]!) | 0
      const s = S[((i >> 4) << 2) + (i & 3)]!
      a = d
      d = c
      c = b
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0
    }
    a0 = (a0 + a) | 0
    b0 = (b0 + b) | 0
    c0 = (c0 + c) | 0
    d0 = (d0 + d) | 0
  }
  let hex = ""
  for (const v of [a0, b0, c0, d0])
    for (let i = 0; i < 4; i++) hex += ((v >>> (i * 8)) & 0xff).toString(16).padStart(2, "0")
  return hex
}

const SPECIAL = /[&<>"]/
const escapeAttribute = (v: string) =>
  SPECIAL.test(v)
    ? v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    : v

/** The digest of a set of parameters (Pacemaker's op-digest). */
export const parametersDigest = (params: ReadonlyMap<string, string>): string => {
  const names = [...params.keys()].sort()
  let text = " <parameters"
  for (const name of names) text += ` ${name}="${escapeAttribute(params.get(name)!)}"`
  return md5(`${text}/>\n`)
}

/** What a recorded operation's digests say about the resource's current parameters. */
export type DigestCheck = "match" | "restart" | "reload"

/**
 * Compares an operation's recorded digests with the parameters it would run with now. With
 * `op-restart-digest` (an agent that can reload), only a change among the `op-force-restart`
 * parameters needs a restart; other changes are reloaded, unless the operation has parameters of its
 * own. A record without a digest (or an empty one) is taken as unchanged.
 */
export const checkDigest = (
  op: Cib.LrmRscOp,
  params: ReadonlyMap<string, string>,
  /** the digest of `params` (computed once for all of a resource's records) */
  digest: () => string,
  /** the parameters the secure digest of an older Pacemaker covers (the resource's own) */
  resourceParams: () => ReadonlyMap<string, string>,
  opHasParams: boolean
): DigestCheck => {
  let result: DigestCheck = "match"
  if (op.opRestartDigest !== undefined) {
    const forced = words(op.opForceRestart)
    const restartParams = new Map([...params].filter(([name]) => forced.has(name)))
    if (parametersDigest(restartParams) !== op.opRestartDigest) result = "restart"
  }
  const recorded = op.opDigest === "" ? undefined : op.opDigest
  if (result === "match" && recorded !== undefined && digest() !== recorded)
    result = op.opRestartDigest !== undefined && !opHasParams ? "reload" : "restart"
  // a CIB with its secrets masked (passwords as ****) is compared without the secret parameters
  if (result !== "match" && op.opSecureDigest !== undefined) {
    const hidden = words(op.opSecureParams)
    const covered = compareVersions(op.crmFeatureSet ?? "0", "3.16.0") >= 0 ? params : resourceParams()
    const shown = new Map([...covered].filter(([name]) => !hidden.has(name)))
    if (parametersDigest(shown) === op.opSecureDigest) return "match"
  }
  return result
}

const words = (text: string | undefined): ReadonlySet<string> =>
  new Set((text ?? "").split(/\s+/).filter((w) => w !== ""))

/** Parameters Pacemaker itself gives fence devices (host lists, per-action settings …). */
const isFencingParameter = (name: string) =>
  name === "provides" || name === "stonith-timeout" || name.startsWith("pcmk_")

/** A resource's parameters: its own, then those its group and clone set (the nearest wins). */
const inherited = (r: Resource, ctx: RuleContext, into: Map<string, string>): Map<string, string> => {
  for (let a: Resource | undefined = r; a !== undefined; a = a.parent)
    resolveNvSets(a.instanceAttributes, ctx, into)
  return into
}

/**
 * Whether the resource's definition changed since it started on this node: a start (or the probe,
 * promote or migrate_from standing for it) recorded with other parameters than those configured now.
 * Recurring operations are rescheduled by their own digests and do not restart the resource.
 */
export const definitionChange = (
  r: Resource,
  history: NodeHistory,
  node: NodeInfo,
  now: number
): DigestCheck => {
  let params: Map<string, string> | undefined
  let allDigest: string | undefined
  const digest = () => {
    allDigest ??= parametersDigest(params!)
    return allDigest
  }
  let own: Map<string, string> | undefined
  let result: DigestCheck = "match"
  const ctx = { attributes: node.attributes, now }
  // "#default" is how old configurations unset a parameter
  const set = (m: Map<string, string>) => {
    for (const [name, v] of m) if (v === "#default") m.delete(name)
    return m
  }
  let opHasParams = false
  // an older secure digest covers the resource's own parameters (fence devices: without Pacemaker's)
  const secure = () => {
    own ??= new Map(
      [...set(inherited(r, ctx, new Map()))].filter(
        ([name]) => r.className !== "stonith" || !isFencingParameter(name)
      )
    )
    return own
  }
  for (const op of history.sinceStart) {
    if (op.interval !== 0) continue
    const task = op.operation
    if (task !== "start" && task !== "monitor" && task !== "promote" && task !== "migrate_from") continue
    if (params === undefined) {
      // the start operation's own parameters override the resource's
      const start = r.ops.find((o) => o.name === "start" && o.interval === 0)
      const startParams = set(resolveNvSets(start?.instanceAttributes ?? [], ctx))
      opHasParams = startParams.size > 0
      params = set(inherited(r, ctx, startParams))
    }
    const check = checkDigest(op, params, digest, secure, opHasParams)
    if (check === "restart") return check
    if (check === "reload") result = check
  }
  return result
}
