/** Plain-text layout for terminal output: aligned columns and optional ANSI colour. */

export type Colour = "red" | "green" | "yellow" | "blue" | "bold" | "dim"

const codes: Record<Colour, readonly [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  bold: [1, 22],
  dim: [2, 22]
}

/** Paints text when colour is on (a terminal without NO_COLOR), leaves it plain otherwise. */
export interface Painter {
  readonly color: boolean
  readonly paint: (colour: Colour, text: string) => string
}

export const painter = (color: boolean): Painter => ({
  color,
  paint: (colour, text) =>
    color && text !== "" ? `\u001b[${codes[colour][0]}m${text}\u001b[${codes[colour][1]}m` : text
})

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what is measured away
const ansi = /\u001b\[[0-9;]*m/g

/** The printed width of a cell (ANSI escapes take no room). */
const width = (text: string) => text.replace(ansi, "").length

/** Lays out rows as left-aligned columns separated by two spaces; trailing blanks are trimmed. */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>, indent = "  "): Array<string> => {
  const widths: Array<number> = []
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, width(cell))
    })
  }
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - width(cell))))
        .join("  ")
        .trimEnd()
  )
}

/** A score as Pacemaker writes it. */
export const score = (n: number): string =>
  n >= 1_000_000 ? "+INFINITY" : n <= -1_000_000 ? "-INFINITY" : String(n)
