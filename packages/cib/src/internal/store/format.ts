/**
 * The on-disk form of one CIB version: a one-line header carrying the version, the body's length
 * and its SHA-256, then the body (the CIB document). The header is an XML comment, so the file
 * stays a well-formed XML document that Pacemaker's tools can read. Keeping the digest inside the
 * file (rather than in a cib.xml.sig beside it) makes a version one file, written by one rename.
 */
import { Either } from "effect"
import type { Cib } from "../../Cib.ts"
import * as Version from "../../Version.ts"
import * as XmlCodec from "../../XmlCodec.ts"
import { sha256Hex } from "../sha256.ts"
import { firstDifference } from "../structural.ts"

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

const HEADER = /^<!-- ha-cib version=(\d+)\.(\d+)\.(\d+) bytes=(\d+) sha256=([0-9a-f]{64}) -->\n/

/** The file's bytes for `cib`. */
export const encodeFile = (cib: Cib): Uint8Array => {
  const body = encoder.encode(XmlCodec.encodeXml(cib))
  const v = cib.version
  const header = `<!-- ha-cib version=${v.adminEpoch}.${v.epoch}.${v.numUpdates} bytes=${body.length} sha256=${sha256Hex(body)} -->\n`
  const head = encoder.encode(header)
  const bytes = new Uint8Array(head.length + body.length)
  bytes.set(head, 0)
  bytes.set(body, head.length)
  return bytes
}

/** The CIB in a file's bytes, or why they are not a valid CIB version. */
export const decodeFile = (bytes: Uint8Array, file: string): Either.Either<Cib, string> => {
  if (bytes.length === 0) return Either.left("empty file")
  const newline = bytes.indexOf(10)
  const headerText = new TextDecoder().decode(
    bytes.subarray(0, newline < 0 ? Math.min(bytes.length, 200) : newline + 1)
  )
  const header = HEADER.exec(headerText)
  if (header === null)
    return Either.left(newline < 0 ? "truncated header" : "no ha-cib header on the first line")
  const [, adminEpoch, epoch, numUpdates, length, digest] = header
  const body = bytes.subarray(newline + 1)
  const expected = Number(length)
  if (body.length !== expected) return Either.left(`truncated: body has ${body.length} of ${expected} bytes`)
  const actual = sha256Hex(body)
  if (actual !== digest)
    return Either.left(`digest mismatch: header says sha256 ${digest}, body has ${actual}`)
  let text: string
  try {
    // the header is an XML comment: decoding the whole file keeps the decoder's line numbers right
    text = decoder.decode(bytes)
  } catch {
    return Either.left("body is not UTF-8")
  }
  const decoded = Either.mapLeft(XmlCodec.decodeXmlEither(text, { file }), (e) => e.message)
  return Either.flatMap(decoded, (cib) => {
    const stated = { adminEpoch: Number(adminEpoch), epoch: Number(epoch), numUpdates: Number(numUpdates) }
    return Version.equals(cib.version, stated)
      ? Either.right(cib)
      : Either.left(
          `header says version ${Version.format(stated)}, document has ${Version.format(cib.version)}`
        )
  })
}

/**
 * The file's bytes for `cib`, checked by decoding them back: what the store writes is known to
 * load as exactly this CIB. Otherwise where and why it would not.
 */
export const encodeVerified = (cib: Cib): Either.Either<Uint8Array, { path: string; reason: string }> => {
  const bytes = encodeFile(cib)
  const text = decoder.decode(bytes)
  const decoded = XmlCodec.decodeXmlEither(text)
  if (Either.isLeft(decoded)) return Either.left({ path: decoded.left.path, reason: decoded.left.message })
  const difference = firstDifference(cib, decoded.right)
  return difference === undefined
    ? Either.right(bytes)
    : Either.left({ path: difference, reason: "the CIB does not survive its XML form unchanged here" })
}
