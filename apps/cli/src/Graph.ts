/**
 * The transition graph as a picture: Graphviz DOT (`--graph FILE.dot`) or a self-contained SVG
 * (`--graph FILE.svg`) laid out here in layers (an action sits one layer below the last action it waits
 * for), so no Graphviz binary is needed. Resource actions are boxes, pseudo-actions (group and clone
 * synchronization points) dashed ellipses, fencing red.
 */
import type { Transition } from "@ha/policy"

const label = (a: Transition.Action) => (a.node === undefined ? a.key : `${a.key}\n${a.node}`)

const escapeDot = (text: string) => text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

export const toDot = (t: Transition.Transition): string => {
  const lines = ["digraph transition {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=10];']
  for (const a of t.actions) {
    const style =
      a.kind === "pseudo_event"
        ? "shape=ellipse, style=dashed"
        : a.kind === "crm_event"
          ? 'shape=box, style="filled,bold", fillcolor="#f8d0d0", color="#b00000"'
          : 'shape=box, style="rounded,filled", fillcolor="#e8f0fc"'
    lines.push(`  a${a.id} [label="${escapeDot(label(a))}", ${style}];`)
  }
  for (const e of t.edges) lines.push(`  a${e.before} -> a${e.after};`)
  lines.push("}")
  return `${lines.join("\n")}\n`
}

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const CHAR = 6.6
const PAD = 10
const ROW = 70
const BOX_HEIGHT = 34
const GAP = 16

/** Layers by longest path from the actions that wait for nothing; cycles (none expected) fall to layer 0. */
const layers = (t: Transition.Transition): Map<number, number> => {
  const incoming = new Map<number, number>(t.actions.map((a) => [a.id, 0]))
  const next = new Map<number, Array<number>>()
  for (const e of t.edges) {
    if (!incoming.has(e.before) || !incoming.has(e.after)) continue
    incoming.set(e.after, (incoming.get(e.after) ?? 0) + 1)
    next.set(e.before, [...(next.get(e.before) ?? []), e.after])
  }
  const layer = new Map<number, number>(t.actions.map((a) => [a.id, 0]))
  const ready = t.actions.filter((a) => incoming.get(a.id) === 0).map((a) => a.id)
  while (ready.length > 0) {
    const id = ready.pop() as number
    for (const after of next.get(id) ?? []) {
      layer.set(after, Math.max(layer.get(after) ?? 0, (layer.get(id) ?? 0) + 1))
      const left = (incoming.get(after) ?? 0) - 1
      incoming.set(after, left)
      if (left === 0) ready.push(after)
    }
  }
  return layer
}

export const toSvg = (t: Transition.Transition): string => {
  const layerOf = layers(t)
  const rows = new Map<number, Array<Transition.Action>>()
  for (const a of t.actions) {
    const l = layerOf.get(a.id) ?? 0
    rows.set(l, [...(rows.get(l) ?? []), a])
  }
  const boxes = new Map<number, { x: number; y: number; w: number; a: Transition.Action }>()
  let width = 0
  for (const [l, actions] of [...rows].sort((x, y) => x[0] - y[0])) {
    let x = GAP
    for (const a of actions.sort(
      (p, q) => (p.resource ?? "").localeCompare(q.resource ?? "") || p.id - q.id
    )) {
      const w =
        Math.max(
          ...label(a)
            .split("\n")
            .map((s) => s.length)
        ) *
          CHAR +
        2 * PAD
      boxes.set(a.id, { x, y: GAP + l * ROW, w, a })
      x += w + GAP
    }
    width = Math.max(width, x)
  }
  const height = GAP * 2 + Math.max(0, rows.size - 1) * ROW + BOX_HEIGHT
  const out: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${height}" viewBox="0 0 ${Math.ceil(width)} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    '<rect width="100%" height="100%" fill="white"/>'
  ]
  for (const e of t.edges) {
    const from = boxes.get(e.before)
    const to = boxes.get(e.after)
    if (!from || !to) continue
    out.push(
      `<line x1="${(from.x + from.w / 2).toFixed(1)}" y1="${from.y + BOX_HEIGHT}" x2="${(to.x + to.w / 2).toFixed(1)}" y2="${to.y}" stroke="#555" stroke-width="1" marker-end="url(#arrow)"/>`
    )
  }
  for (const { x, y, w, a } of boxes.values()) {
    const [fill, stroke, dash, radius] =
      a.kind === "pseudo_event"
        ? ["#ffffff", "#777777", ' stroke-dasharray="4 3"', BOX_HEIGHT / 2]
        : a.kind === "crm_event"
          ? ["#f8d0d0", "#b00000", "", 0]
          : ["#e8f0fc", "#3060a0", "", 6]
    out.push(
      `<g><title>${escapeXml(`${a.key}${a.node === undefined ? "" : ` on ${a.node}`}`)}</title><rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${BOX_HEIGHT}" rx="${radius}" fill="${fill}" stroke="${stroke}"${dash}/>`
    )
    const text = label(a).split("\n")
    text.forEach((line, i) => {
      const ty = y + BOX_HEIGHT / 2 + (i - (text.length - 1) / 2) * 13 + 4
      out.push(
        `<text x="${(x + w / 2).toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="middle"${i > 0 ? ' fill="#555"' : ""}>${escapeXml(line)}</text>`
      )
    })
    out.push("</g>")
  }
  out.push("</svg>")
  return `${out.join("\n")}\n`
}

/** DOT for `.dot` (and `.gv`), SVG for `.svg`; undefined for other extensions. */
export const render = (t: Transition.Transition, file: string): string | undefined =>
  /\.svg$/i.test(file) ? toSvg(t) : /\.(dot|gv)$/i.test(file) ? toDot(t) : undefined
