/** Where an error is: the fields every codec error carries, and how its message starts. */
import { Schema } from "effect"

export const location = {
  file: Schema.optionalWith(Schema.String, { exact: true }),
  line: Schema.Number,
  column: Schema.Number,
  path: Schema.String
}

export const where = (e: { readonly file?: string; readonly line: number; readonly column: number }) =>
  `${e.file ?? "<input>"}:${e.line}:${e.column}`
