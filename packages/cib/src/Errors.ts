/**
 * Typed errors of the CIB codecs. Every error names where the problem is: the file (when known),
 * the 1-based line and column, and the element path (e.g.
 * `/cib/configuration/resources/primitive[@id='db']/operations/op[@id='db-mon']/@interval`).
 */
import { Schema } from "effect"
import { location, where } from "./internal/location.ts"

/** The text is not well-formed XML. */
export class XmlSyntaxError extends Schema.TaggedError<XmlSyntaxError>()("XmlSyntaxError", {
  ...location,
  reason: Schema.String
}) {
  override get message() {
    return `${where(this)}: malformed XML: ${this.reason}`
  }
}

/** An element the CIB model does not know (or does not allow at that place). */
export class UnsupportedElementError extends Schema.TaggedError<UnsupportedElementError>()(
  "UnsupportedElementError",
  { ...location, element: Schema.String }
) {
  override get message() {
    return `${where(this)}: unsupported element <${this.element}> at ${this.path}`
  }
}

/** An attribute the CIB model does not know on that element. */
export class UnknownAttributeError extends Schema.TaggedError<UnknownAttributeError>()(
  "UnknownAttributeError",
  {
    ...location,
    attribute: Schema.String
  }
) {
  override get message() {
    return `${where(this)}: unknown attribute "${this.attribute}" at ${this.path}`
  }
}

/** A required attribute is missing. */
export class MissingAttributeError extends Schema.TaggedError<MissingAttributeError>()(
  "MissingAttributeError",
  {
    ...location,
    attribute: Schema.String
  }
) {
  override get message() {
    return `${where(this)}: missing required attribute "${this.attribute}" at ${this.path}`
  }
}

/** A score that is neither an integer nor ±INFINITY. */
export class InvalidScoreError extends Schema.TaggedError<InvalidScoreError>()("InvalidScoreError", {
  ...location,
  attribute: Schema.String,
  value: Schema.String
}) {
  override get message() {
    return `${where(this)}: invalid score "${this.value}" in ${this.path} (expected an integer, INFINITY or -INFINITY)`
  }
}

/** An interval / timeout / delay that is not a Pacemaker time specification. */
export class InvalidDurationError extends Schema.TaggedError<InvalidDurationError>()("InvalidDurationError", {
  ...location,
  attribute: Schema.String,
  value: Schema.String
}) {
  override get message() {
    return `${where(this)}: invalid time specification "${this.value}" in ${this.path} (expected e.g. 20, 20s, 500ms, 1m, PT20S)`
  }
}

/** Any other attribute value of the wrong form (e.g. an integer field). */
export class InvalidValueError extends Schema.TaggedError<InvalidValueError>()("InvalidValueError", {
  ...location,
  attribute: Schema.String,
  value: Schema.String,
  expected: Schema.String
}) {
  override get message() {
    return `${where(this)}: invalid value "${this.value}" in ${this.path} (expected ${this.expected})`
  }
}

/** Two elements of the configuration share an id (Pacemaker requires ids to be unique). */
export class DuplicateIdError extends Schema.TaggedError<DuplicateIdError>()("DuplicateIdError", {
  ...location,
  id: Schema.String,
  firstLine: Schema.Number,
  firstColumn: Schema.Number
}) {
  override get message() {
    return `${where(this)}: duplicate id "${this.id}" at ${this.path} (first used at line ${this.firstLine}, column ${this.firstColumn})`
  }
}

/** A reference to a resource, node, tag or other object that does not exist. */
export class UnknownReferenceError extends Schema.TaggedError<UnknownReferenceError>()(
  "UnknownReferenceError",
  {
    ...location,
    attribute: Schema.String,
    reference: Schema.String,
    expected: Schema.String
  }
) {
  override get message() {
    return `${where(this)}: ${this.path} refers to ${this.expected} "${this.reference}", which does not exist`
  }
}

/** Every error `Cib` decoding can fail with. */
export type CibDecodeError =
  | XmlSyntaxError
  | UnsupportedElementError
  | UnknownAttributeError
  | MissingAttributeError
  | InvalidScoreError
  | InvalidDurationError
  | InvalidValueError
  | DuplicateIdError
  | UnknownReferenceError
