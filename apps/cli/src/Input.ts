/**
 * Reading the CIBs the commands work on: Pacemaker CIB XML, the native YAML configuration (with an
 * optional status section from an XML file), or the built-in example cluster.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { type Cib, XmlCodec, YamlConfig } from "@ha/cib"
import { Effect, Either, Schema } from "effect"
import { exampleCibName, exampleCibXml } from "./internal/exampleCib.ts"

/** A file could not be read. */
export class FileError extends Schema.TaggedError<FileError>()("FileError", {
  file: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.file}: ${this.reason}`
  }
}

/** A file was read but is not a valid CIB / configuration; `message` names file, line and column. */
export class InvalidInputError extends Schema.TaggedError<InvalidInputError>()("InvalidInputError", {
  file: Schema.String,
  problem: Schema.String
}) {
  override get message() {
    return this.problem
  }
}

export type InputError = FileError | InvalidInputError

export type Format = "xml" | "yaml"

/** A CIB and where it came from. */
export interface Loaded {
  readonly cib: Cib.Cib
  readonly source: string
  readonly format: Format
}

/** XML when the file says so by its extension or its first character, YAML otherwise. */
export const formatOf = (file: string, text: string): Format => {
  if (/\.ya?ml$/i.test(file)) return "yaml"
  if (/\.xml$/i.test(file)) return "xml"
  return text.trimStart().startsWith("<") ? "xml" : "yaml"
}

export const readText = (file: string): Effect.Effect<string, FileError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.readFileString(file).pipe(
      Effect.mapError(
        (e) =>
          new FileError({
            file,
            reason:
              e._tag === "SystemError" && e.reason === "NotFound"
                ? "no such file"
                : e._tag === "SystemError" && e.reason === "PermissionDenied"
                  ? "permission denied"
                  : e.message
          })
      )
    )
  )

/** An empty CIB around a configuration (a YAML file has no status or version). */
const withConfiguration = (configuration: Cib.Configuration): Cib.Cib => ({
  version: { adminEpoch: 0, epoch: 1, numUpdates: 0 },
  haveQuorum: "1",
  extra: {},
  configuration,
  status: { nodes: [], tickets: [] }
})

const invalid = (file: string) => (e: { readonly message: string }) =>
  new InvalidInputError({ file, problem: e.message })

/** Decodes CIB XML or a YAML configuration from text. */
export const decode = (file: string, text: string): Either.Either<Loaded, InvalidInputError> => {
  const format = formatOf(file, text)
  if (format === "xml") {
    return Either.map(Either.mapLeft(XmlCodec.decodeXmlEither(text, { file }), invalid(file)), (cib) => ({
      cib,
      source: file,
      format
    }))
  }
  return Either.map(
    Either.mapLeft(YamlConfig.decodeEither(text, { file }), invalid(file)),
    (configuration) => ({
      cib: withConfiguration(configuration),
      source: file,
      format
    })
  )
}

/** Reads and decodes one file (XML or YAML). */
export const load = (file: string): Effect.Effect<Loaded, InputError, FileSystem.FileSystem> =>
  Effect.flatMap(readText(file), (text) => decode(file, text))

/** The built-in example cluster (examples/pg-drbd/cib.xml, embedded at build time). */
export const example = (): Loaded => ({
  cib: Either.getOrThrow(XmlCodec.decodeXmlEither(exampleCibXml, { file: exampleCibName })),
  source: exampleCibName,
  format: "xml"
})

/**
 * The status section for a YAML configuration: a whole CIB XML file (its status is taken) or a bare
 * `<status>` element. The configuration's node names must cover the status' nodes.
 */
export const loadStatus = (
  file: string,
  configuration: Cib.Configuration
): Effect.Effect<Cib.Status & { readonly from: Cib.Cib }, InputError, FileSystem.FileSystem> =>
  Effect.flatMap(readText(file), (text) => {
    const body = text.replace(/^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*/, "")
    if (body.startsWith("<status")) {
      // Decode the bare status against the configuration, so references are checked.
      const shell = XmlCodec.encodeXml(withConfiguration(configuration)).replace(
        /<status\s*\/>|<status>\s*<\/status>/,
        body
      )
      return Either.map(Either.mapLeft(XmlCodec.decodeXmlEither(shell, { file }), invalid(file)), (cib) => ({
        ...cib.status,
        from: cib
      }))
    }
    return Either.map(Either.mapLeft(XmlCodec.decodeXmlEither(text, { file }), invalid(file)), (cib) => ({
      ...cib.status,
      from: cib
    }))
  })

/** `--config FILE [--status FILE]`: a YAML (or XML) configuration with an optional status section. */
export const loadConfig = (
  configFile: string,
  statusFile: string | undefined
): Effect.Effect<Loaded, InputError, FileSystem.FileSystem> =>
  Effect.flatMap(load(configFile), (loaded) => {
    if (statusFile === undefined) return Effect.succeed(loaded)
    return Effect.map(loadStatus(statusFile, loaded.cib.configuration), (status) => ({
      ...loaded,
      cib: {
        ...loaded.cib,
        ...(status.from.executionDate === undefined ? {} : { executionDate: status.from.executionDate }),
        ...(status.from.haveQuorum === undefined ? {} : { haveQuorum: status.from.haveQuorum }),
        ...(status.from.dcUuid === undefined ? {} : { dcUuid: status.from.dcUuid }),
        status: { nodes: status.nodes, tickets: status.tickets }
      },
      source: `${configFile} + ${statusFile}`
    }))
  })
