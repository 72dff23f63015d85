/**
 * Pacemaker CIB XML ⇄ {@link Cib.Cib}.
 *
 * `decodeXml` reads a whole CIB (configuration and status) with a small strict XML reader and
 * fails with a typed error naming file, line, column and element path: malformed XML, unsupported
 * elements, unknown or missing attributes, bad scores and time specifications, duplicate ids and
 * references to resources, nodes, templates or ids that do not exist. `encodeXml` writes
 * pretty-printed CIB XML that Pacemaker's tools read.
 */
import { Effect, Either } from "effect"
import type * as Cib from "./Cib.ts"
import type { CibDecodeError } from "./Errors.ts"
import { DecodeFailure, decode } from "./internal/decode.ts"
import { encode } from "./internal/encode.ts"

export interface DecodeOptions {
  /** Named in errors. */
  readonly file?: string
  /**
   * Also reject node names (rsc_location node, fencing-level target) that are neither a configured
   * node nor a remote / guest node. Off by default: Pacemaker accepts constraints and fencing levels
   * for nodes that have not joined yet (the scheduler corpus has them).
   */
  readonly checkNodeReferences?: boolean
}

/** Decodes CIB XML text, returning an Either. */
export const decodeXmlEither = (
  text: string,
  options: DecodeOptions = {}
): Either.Either<Cib.Cib, CibDecodeError> => {
  try {
    return Either.right(decode(text, options.file, options.checkNodeReferences ?? false))
  } catch (e) {
    if (e instanceof DecodeFailure) return Either.left(e.error)
    throw e
  }
}

/** Decodes CIB XML text. */
export const decodeXml = (
  text: string,
  options: DecodeOptions = {}
): Effect.Effect<Cib.Cib, CibDecodeError> => Effect.suspend(() => decodeXmlEither(text, options))

/** Encodes a CIB as pretty-printed Pacemaker XML (configuration and status). */
export const encodeXml = (cib: Cib.Cib): string => encode(cib)
