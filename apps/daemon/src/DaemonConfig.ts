/**
 * The daemon's configuration file (`/etc/ha/ha.yaml` by default): who this node is, how it reaches
 * the others, where its key and state live, who may use its local API, and what it logs and exports.
 * Everything but the cluster's nodes has the default a packaged daemon uses. A bad file is refused
 * with one error naming the file, line, column and field; the daemon never starts half-configured.
 */
import { Either, ParseResult, Schema } from "effect"
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml"

export const defaultPath = "/etc/ha/ha.yaml"

const Port = Schema.Int.pipe(Schema.between(1, 65535))
const octet = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
const Address = Schema.String.pipe(
  Schema.pattern(new RegExp(`^(${octet}(\\.${octet}){3}|[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7})$`), {
    message: () => "expected an IPv4 or IPv6 address"
  })
)
const NodeName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
    message: () => "expected a node name: letters, digits, '.', '_' or '-', at most 63"
  })
)
const Mode = Schema.String.pipe(
  Schema.pattern(/^0?[0-7]{3}$/, { message: () => "expected an octal file mode such as 0600 or 0660" })
)

const oneOf = <const L extends ReadonlyArray<string>>(...values: L) =>
  Schema.Literal(...values).annotations({
    message: () => ({ message: `expected one of: ${values.join(", ")}`, override: true })
  })

export const ClusterNode = Schema.Struct({
  name: NodeName,
  /** The node's address on each link, link 0 first (two links: two addresses). */
  addresses: Schema.NonEmptyArray(Address),
  /** Lowest id wins ties (DC election, two_node tie-break); default: position in the list, from 1. */
  id: Schema.optional(Schema.Int.pipe(Schema.positive()))
})
export type ClusterNode = typeof ClusterNode.Type

export const DaemonConfig = Schema.Struct({
  cluster: Schema.Struct({
    name: Schema.String.pipe(Schema.minLength(1)),
    nodes: Schema.Array(ClusterNode).pipe(Schema.minItems(1))
  }),
  /** This node's name in `cluster.nodes`; default: the host name. */
  node: Schema.optional(NodeName),
  /** UDP port of every link. */
  port: Schema.optionalWith(Port, { default: () => 5405 }),
  /** The cluster's shared secret (written by `ha init`, copied by `ha join`), readable by root only. */
  keyFile: Schema.optionalWith(Schema.String, { default: () => "/etc/ha/authkey" }),
  /** The CIB and its history, fencing history: must survive reboots. */
  stateDir: Schema.optionalWith(Schema.String, { default: () => "/var/lib/ha" }),
  /** Runtime files (pid, API socket): gone after a reboot. */
  runDir: Schema.optionalWith(Schema.String, { default: () => "/run/ha" }),
  api: Schema.optionalWith(
    Schema.Struct({
      /** Default: `<runDir>/api.sock`. */
      socket: Schema.optional(Schema.String),
      /** Group allowed to use the API besides root; none by default (root only). */
      group: Schema.optional(Schema.String),
      /** Socket file mode; default 0600, or 0660 when a group is set. */
      mode: Schema.optional(Mode)
    }),
    { default: () => ({}) }
  ),
  log: Schema.optionalWith(
    Schema.Struct({
      level: Schema.optionalWith(oneOf("debug", "info", "warning", "error"), { default: () => "info" }),
      /** `text` (logfmt: readable in journald) or `json` (for log shippers). */
      format: Schema.optionalWith(oneOf("text", "json"), { default: () => "text" })
    }),
    { default: () => ({ level: "info" as const, format: "text" as const }) }
  ),
  /** Prometheus metrics over HTTP: off unless a port is given. */
  metrics: Schema.optional(
    Schema.Struct({
      port: Port,
      /** Default 127.0.0.1: metrics are not for the whole network unless asked. */
      address: Schema.optionalWith(Address, { default: () => "127.0.0.1" })
    })
  ),
  /** What SIGTERM does with this node's resources: move them away first, or just stop them. */
  shutdown: Schema.optionalWith(oneOf("move", "stop"), { default: () => "move" }),
  /**
   * More environment for this node's OCF agents, e.g. `HA_VARRUN` to keep agents' state apart
   * when several nodes share one host (tests). ha sets HA_SBIN_DIR, HA_API_SOCKET and HA_NODE_NAME.
   */
  agentEnvironment: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
    default: () => ({})
  }),
  /** How long a graceful stop waits for this node's resources to be moved or stopped (ms). */
  shutdownTimeoutMs: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 120_000 })
})
/** A checked configuration: `node` is always known (the host name when the file does not say). */
export type DaemonConfig = Omit<typeof DaemonConfig.Type, "node"> & { readonly node: string }

/** The API socket's path and mode after defaults. */
export const apiSocket = (config: DaemonConfig) => ({
  path: config.api.socket ?? `${config.runDir}/api.sock`,
  group: config.api.group,
  mode: Number.parseInt(config.api.mode ?? (config.api.group === undefined ? "0600" : "0660"), 8)
})

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  file: Schema.String,
  line: Schema.Number,
  column: Schema.Number,
  /** Dotted path of the field, e.g. `cluster.nodes[1].addresses[0]`; empty for the whole file. */
  field: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    const where = this.field === "" ? "" : ` ${this.field}:`
    return `${this.file}:${this.line}:${this.column}:${where} ${this.reason}`
  }
}

const decodeStruct = Schema.decodeUnknownEither(DaemonConfig, { errors: "first", onExcessProperty: "error" })

/**
 * Parses and checks a configuration file's text. `hostname` names this node when the file does not.
 */
export const parse = (
  text: string,
  file: string,
  hostname: string
): Either.Either<DaemonConfig, ConfigError> => {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false })
  const at = (offset: number | undefined, field: string, reason: string) => {
    const position = lines.linePos(offset ?? 0)
    return new ConfigError({ file, line: position.line, column: position.col, field, reason })
  }
  const syntax = document.errors[0]
  if (syntax !== undefined) return Either.left(at(syntax.pos[0], "", syntax.message.split("\n")[0]!))
  const decoded = decodeStruct(document.toJS() ?? {})
  if (Either.isLeft(decoded)) {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)[0]!
    const path = issue.path.map(String)
    const node = nodeAt(document.contents, path, issue._tag === "Unexpected")
    const reason =
      issue._tag === "Unexpected"
        ? `unknown field "${path.at(-1)}"`
        : issue.message.replace(/^Expected /, "expected ")
    return Either.left(at(node?.range?.[0], fieldName(path), reason))
  }
  const config = decoded.right
  const names = config.cluster.nodes.map((n) => n.name)
  const duplicate = names.find((name, i) => names.indexOf(name) !== i)
  if (duplicate !== undefined) {
    const index = names.lastIndexOf(duplicate)
    const node = nodeAt(document.contents, ["cluster", "nodes", String(index), "name"])
    return Either.left(
      at(node?.range?.[0], `cluster.nodes[${index}].name`, `node "${duplicate}" is listed twice`)
    )
  }
  const links = new Set(config.cluster.nodes.map((n) => n.addresses.length))
  if (links.size > 1) {
    const node = nodeAt(document.contents, ["cluster", "nodes"])
    return Either.left(
      at(
        node?.range?.[0],
        "cluster.nodes",
        "every node needs one address per link (same count for all nodes)"
      )
    )
  }
  const self = config.node ?? hostname
  if (!names.includes(self)) {
    const node = nodeAt(document.contents, ["node"])
    return Either.left(
      at(
        node?.range?.[0],
        "node",
        `this node "${self}" is not in cluster.nodes (${names.join(", ")}); set "node:" or fix the host name`
      )
    )
  }
  return Either.right({ ...config, node: self })
}

const fieldName = (path: ReadonlyArray<string>) =>
  path.reduce(
    (name, key) => (/^\d+$/.test(key) ? `${name}[${key}]` : name === "" ? key : `${name}.${key}`),
    ""
  )

/**
 * The YAML node at a path, or the deepest one that exists (a missing field points at its parent);
 * `key` points at the last field's key instead of its value (for fields that should not be there).
 */
const nodeAt = (root: unknown, path: ReadonlyArray<string>, key = false): Node | undefined => {
  let current = root as Node | undefined
  for (const [index, segment] of path.entries()) {
    let next: Node | undefined
    if (isMap(current)) {
      const pair = current.items.find((item) => isScalar(item.key) && String(item.key.value) === segment)
      const pointAtKey = key && index === path.length - 1
      next = ((pointAtKey ? undefined : pair?.value) ?? pair?.key) as Node | undefined
    } else if (isSeq(current)) {
      next = current.items[Number(segment)] as Node | undefined
    }
    if (next === undefined) return current
    current = next
  }
  return current
}
