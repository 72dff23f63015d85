/**
 * A small strict XML reader for CIB documents: elements, attributes, comments, processing
 * instructions, CDATA, the five predefined entities and numeric character references. Text content
 * other than whitespace is rejected (a CIB has none). Elements remember their source offset so
 * errors can report line and column without tracking them on the hot path.
 */

export interface XNode {
  readonly name: string
  /** Flat [name, value, name, value, …] in source order. */
  readonly attrs: Array<string>
  /** (leaf elements share one empty array, never added to) */
  children: Array<XNode>
  /** Offset of the element's "<" in the source text. */
  readonly offset: number
}

export class XmlError {
  constructor(
    readonly offset: number,
    readonly reason: string
  ) {}
}

/** 1-based line and column of an offset. */
export const lineColumn = (text: string, offset: number): { line: number; column: number } => {
  let line = 1
  let lineStart = 0
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++
    lineStart = i + 1
  }
  return { line, column: offset - lineStart + 1 }
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13
const isNameStart = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c >= 0xc0
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 0xb7

const NO_CHILDREN: Array<XNode> = []

/** Values up to this length are shared like names (longer ones are mostly unique: ids, keys, digests). */
const SHARED_VALUE_LENGTH = 8

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }

const decodeEntities = (raw: string, offset: number): string =>
  raw.replace(/&([^;&]*);|&/g, (match, body: string | undefined, at: number) => {
    if (body === undefined)
      throw new XmlError(offset + at, `"&" must start an entity reference such as &amp;`)
    const named = ENTITIES[body]
    if (named !== undefined) return named
    const code = /^#x[0-9a-fA-F]+$/.test(body)
      ? Number.parseInt(body.slice(2), 16)
      : /^#[0-9]+$/.test(body)
        ? Number.parseInt(body.slice(1), 10)
        : -1
    if (code < 0) throw new XmlError(offset + at, `unknown entity ${match}`)
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
      throw new XmlError(offset + at, `invalid character reference ${match}`)
    return String.fromCodePoint(code)
  })

/** Whitespace in attribute values becomes spaces, as XML attribute-value normalization requires. */
const normalizeSpace = (value: string) => value.replace(/[\t\n\r]/g, " ")

/** Parses a document and returns its root element; throws {@link XmlError}. */
export const parseXml = (text: string): XNode => {
  const length = text.length
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const stack: Array<XNode> = []
  let root: XNode | undefined

  const fail = (at: number, reason: string): never => {
    throw new XmlError(at, reason)
  }

  // A CIB repeats a few dozen element and attribute names (and many short values: "0", "monitor",
  // node names) hundreds of thousands of times. Each is sliced once and shared: found by its length
  // and first character, then compared in place. Fewer strings means far less garbage-collector work
  // (the element tree survives until decoding ends), and map lookups by a shared name hash it once.
  // Buckets by length (under 64) and first character (ASCII); other strings are not shared.
  const seen: Array<Array<string> | undefined> = new Array(64 * 128)
  const shared = (start: number, end: number): string => {
    const first = text.charCodeAt(start)
    if (end - start >= 64 || first >= 128) return text.slice(start, end)
    const key = (end - start) * 128 + first
    const bucket = seen[key]
    if (bucket !== undefined) {
      for (const known of bucket) if (text.startsWith(known, start)) return known
    }
    const fresh = text.slice(start, end)
    if (bucket === undefined) seen[key] = [fresh]
    else if (bucket.length < 8) bucket.push(fresh)
    return fresh
  }

  const readName = (): string => {
    const start = pos
    if (pos >= length || !isNameStart(text.charCodeAt(pos))) fail(pos, "expected a name")
    pos++
    while (pos < length && isNameChar(text.charCodeAt(pos))) pos++
    return shared(start, pos)
  }

  const skipSpace = () => {
    while (pos < length && isSpace(text.charCodeAt(pos))) pos++
  }

  while (pos < length) {
    const lt = text.indexOf("<", pos)
    const textEnd = lt === -1 ? length : lt
    for (let i = pos; i < textEnd; i++) {
      if (!isSpace(text.charCodeAt(i))) {
        fail(
          i,
          stack.length === 0 ? "content outside the root element" : "text content is not allowed in a CIB"
        )
      }
    }
    if (lt === -1) break
    pos = lt + 1
    const c = text.charCodeAt(pos)
    if (c === 33 /* ! */) {
      if (text.startsWith("!--", pos)) {
        const end = text.indexOf("-->", pos + 3)
        if (end === -1) fail(lt, "unterminated comment")
        pos = end + 3
      } else if (text.startsWith("![CDATA[", pos)) {
        const end = text.indexOf("]]>", pos + 8)
        if (end === -1) fail(lt, "unterminated CDATA section")
        if (stack.length === 0) fail(lt, "CDATA outside the root element")
        if (text.slice(pos + 8, end).trim() !== "") fail(lt, "text content is not allowed in a CIB")
        pos = end + 3
      } else {
        fail(lt, "DOCTYPE and other declarations are not supported")
      }
    } else if (c === 63 /* ? */) {
      const end = text.indexOf("?>", pos + 1)
      if (end === -1) fail(lt, "unterminated processing instruction")
      pos = end + 2
    } else if (c === 47 /* / */) {
      pos++
      const name = readName()
      skipSpace()
      if (text.charCodeAt(pos) !== 62) fail(pos, `expected ">" to close </${name}`)
      pos++
      const open = stack.pop()
      if (open === undefined) fail(lt, `closing tag </${name}> without an open element`)
      else if (open.name !== name) fail(lt, `closing tag </${name}> does not match <${open.name}>`)
    } else {
      if (root !== undefined && stack.length === 0) fail(lt, "a second root element")
      const name = readName()
      const attrs: Array<string> = []
      const node: XNode = { name, attrs, children: NO_CHILDREN, offset: lt }
      let selfClosing = false
      for (;;) {
        const before = pos
        skipSpace()
        if (pos >= length) fail(lt, `unterminated start tag <${name}`)
        const d = text.charCodeAt(pos)
        if (d === 62 /* > */) {
          pos++
          break
        }
        if (d === 47 /* / */) {
          if (text.charCodeAt(pos + 1) !== 62) fail(pos, `expected "/>" in <${name}`)
          pos += 2
          selfClosing = true
          break
        }
        if (pos === before) fail(pos, `expected whitespace before an attribute in <${name}`)
        const attrStart = pos
        const attr = readName()
        skipSpace()
        if (text.charCodeAt(pos) !== 61 /* = */) fail(pos, `expected "=" after attribute ${attr}`)
        pos++
        skipSpace()
        const q = text.charCodeAt(pos)
        if (q !== 34 && q !== 39) fail(pos, `expected a quoted value for attribute ${attr}`)
        const end = text.indexOf(q === 34 ? '"' : "'", pos + 1)
        if (end === -1) fail(pos, `unterminated value of attribute ${attr}`)
        let value = end - pos - 1 <= SHARED_VALUE_LENGTH ? shared(pos + 1, end) : text.slice(pos + 1, end)
        if (value.includes("<")) fail(pos + 1 + value.indexOf("<"), `"<" in the value of attribute ${attr}`)
        if (/[\t\n\r]/.test(value)) value = normalizeSpace(value)
        if (value.includes("&")) value = decodeEntities(value, pos + 1)
        for (let i = 0; i < attrs.length; i += 2) {
          if (attrs[i] === attr) fail(attrStart, `attribute ${attr} given twice`)
        }
        attrs.push(attr, value)
        pos = end + 1
      }
      const parent = stack[stack.length - 1]
      if (parent === undefined) root = node
      else if (parent.children === NO_CHILDREN) parent.children = [node]
      else parent.children.push(node)
      if (!selfClosing) stack.push(node)
    }
  }
  const open = stack[stack.length - 1]
  if (open !== undefined) fail(open.offset, `element <${open.name}> is never closed`)
  if (root === undefined) fail(pos, "no root element")
  return root as XNode
}
