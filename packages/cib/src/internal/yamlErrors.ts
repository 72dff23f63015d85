/**
 * Typed errors of the YAML configuration format (re-exported by YamlConfig.ts). Decoding errors
 * name the file, the 1-based line and column and the field path (e.g. `resources.vip.ops[0].interval`).
 */
import { Schema } from "effect"
import { location, where } from "./location.ts"

/** The text is not well-formed YAML. */
export class YamlSyntaxError extends Schema.TaggedError<YamlSyntaxError>()("YamlSyntaxError", {
  ...location,
  reason: Schema.String
}) {
  override get message() {
    return `${where(this)}: malformed YAML: ${this.reason}`
  }
}

/** A field the format does not know at that place. */
export class UnknownFieldError extends Schema.TaggedError<UnknownFieldError>()("UnknownFieldError", {
  ...location,
  field: Schema.String,
  suggestion: Schema.optionalWith(Schema.String, { exact: true })
}) {
  override get message() {
    const hint = this.suggestion === undefined ? "" : ` (did you mean "${this.suggestion}"?)`
    return `${where(this)}: unknown field "${this.field}" in ${this.path}${hint}`
  }
}

/** A value of the wrong shape (a list where a mapping belongs, …). */
export class WrongTypeError extends Schema.TaggedError<WrongTypeError>()("WrongTypeError", {
  ...location,
  expected: Schema.String,
  found: Schema.String
}) {
  override get message() {
    return `${where(this)}: ${this.path} must be ${this.expected}, found ${this.found}`
  }
}

/** A required field is missing. */
export class MissingFieldError extends Schema.TaggedError<MissingFieldError>()("MissingFieldError", {
  ...location,
  field: Schema.String
}) {
  override get message() {
    return `${where(this)}: ${this.path} needs the field "${this.field}"`
  }
}

/** A configuration the YAML format cannot express (raised by the encoder, never silent loss). */
export class InexpressibleError extends Schema.TaggedError<InexpressibleError>()("InexpressibleError", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `cannot express ${this.path} in YAML: ${this.reason}`
  }
}
