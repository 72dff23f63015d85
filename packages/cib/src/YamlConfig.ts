/**
 * The native configuration format: YAML written by hand, mapped to the same model as CIB XML
 * (`Cib.Configuration`; the status section comes from the cluster, not from this file).
 *
 * Resources are keyed by id with `agent: ocf:heartbeat:IPaddr2` style types, params and meta as
 * maps, ops as a compact list (`- monitor: 20s`), groups and clones nest their members, and
 * constraints read as sentences (`prefer`, `avoid`, `colocate`, `order`, `location` with rules,
 * `ticket`). Ids Pacemaker needs but people should not write (nvpairs, sets, ops, rules, generated
 * constraint ids) are derived deterministically in Pacemaker's usual style, e.g.
 * `vip-instance_attributes-ip`, `vip-monitor-interval-10s`, `location-pg_stack-alpha-50`.
 * The field reference is in the package README.
 *
 * Every decoding error names the file, line, column and field path. {@link encode} writes any
 * configuration the format can express and fails with {@link InexpressibleError} otherwise (bundles,
 * ACLs, alert selections are kept as XML only), after checking that its output decodes back to
 * exactly the input.
 */
import { Effect, Either } from "effect"
import type { Configuration } from "./Cib.ts"
import { firstDifference } from "./internal/structural.ts"
import { decodeText, Failure, type YamlDecodeError } from "./internal/yamlDecode.ts"
import { configuration as encodeConfiguration, Inexpressible, stringify } from "./internal/yamlEncode.ts"
import { InexpressibleError } from "./internal/yamlErrors.ts"

export type { YamlDecodeError } from "./internal/yamlDecode.ts"
export {
  InexpressibleError,
  MissingFieldError,
  UnknownFieldError,
  WrongTypeError,
  YamlSyntaxError
} from "./internal/yamlErrors.ts"

export interface DecodeOptions {
  /** Named in error messages. */
  readonly file?: string
}

/** Decodes a YAML configuration, synchronously. */
export const decodeEither = (
  text: string,
  options: DecodeOptions = {}
): Either.Either<Configuration, YamlDecodeError> => {
  try {
    return Either.right(decodeText(text, options.file))
  } catch (e) {
    if (e instanceof Failure) return Either.left(e.error)
    throw e
  }
}

/** Decodes a YAML configuration. */
export const decode = (
  text: string,
  options: DecodeOptions = {}
): Effect.Effect<Configuration, YamlDecodeError> => Effect.suspend(() => decodeEither(text, options))

/** Encodes a configuration as YAML, synchronously; checks that the text decodes back to it. */
export const encodeEither = (configuration: Configuration): Either.Either<string, InexpressibleError> => {
  let text: string
  try {
    text = stringify(encodeConfiguration(configuration))
  } catch (e) {
    if (e instanceof Inexpressible) return Either.left(e.error)
    throw e
  }
  const back = decodeEither(text)
  if (Either.isLeft(back))
    return Either.left(
      new InexpressibleError({ path: back.left.path, reason: `it does not read back: ${back.left.message}` })
    )
  const difference = firstDifference(configuration, back.right)
  if (difference !== undefined)
    return Either.left(new InexpressibleError({ path: difference, reason: "it reads back differently" }))
  return Either.right(text)
}

/** Encodes a configuration as YAML (`ha convert --to yaml`). */
export const encode = (configuration: Configuration): Effect.Effect<string, InexpressibleError> =>
  Effect.suspend(() => encodeEither(configuration))
