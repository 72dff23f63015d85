/**
 * The resource agent interface every class implements (ocf, lsb, systemd, native), the request an
 * action receives and the result it gives, on the OCF scale.
 */
import { type Effect, Schema } from "effect"
import type { ExecStatusCode } from "./ExitCode.ts"
import type { AgentMetadata, MetadataParseError } from "./Metadata.ts"

export type AgentClass = "ocf" | "lsb" | "systemd" | "native"

export interface AgentRef {
  readonly class: AgentClass
  /** OCF only, e.g. `heartbeat`. */
  readonly provider?: string | undefined
  readonly type: string
}

export const actions = [
  "start",
  "stop",
  "monitor",
  "promote",
  "demote",
  "notify",
  "migrate_to",
  "migrate_from",
  "reload",
  "reload-agent",
  "validate-all",
  "meta-data"
] as const

export type Action = (typeof actions)[number]

export interface ActionRequest {
  /** The resource instance name (`OCF_RESOURCE_INSTANCE`), e.g. `vip` or `db:1` for a clone instance. */
  readonly resource: string
  readonly action: Action
  /** Instance parameters, without the `OCF_RESKEY_` prefix. */
  readonly params: Readonly<Record<string, string>>
  /**
   * Meta-attributes without the `CRM_meta_` prefix (clone, clone_max, notify_type, role, on_node,
   * …). `name`, `interval` and `timeout` are filled in from the request.
   */
  readonly meta: Readonly<Record<string, string>>
  readonly intervalMs: number
  readonly timeoutMs: number
}

export interface ActionResult {
  /** OCF exit code (other classes are mapped onto it). */
  readonly rc: number
  /** Pacemaker's op-status: `done` unless the action timed out or could not run. */
  readonly status: ExecStatusCode
  /** From the agent's `ocf-exit-reason:` stderr line, or the executor's own explanation. */
  readonly exitReason: string | undefined
  readonly stdout: string
  readonly stderr: string
  /** Output bytes beyond the cap, discarded. */
  readonly droppedBytes: number
  readonly execTimeMs: number
}

/** The agent's program is missing, not executable, or the reference names no agent. */
export class AgentNotInstalled extends Schema.TaggedError<AgentNotInstalled>()("AgentNotInstalled", {
  agent: Schema.String,
  path: Schema.String,
  reason: Schema.Literal("NotFound", "NotExecutable", "InvalidName", "Other"),
  detail: Schema.String
}) {
  override get message(): string {
    return `agent ${this.agent} (${this.path}): ${this.detail}`
  }
}

/** A parameter or meta-attribute that cannot be passed through the environment. */
export class InvalidParameter extends Schema.TaggedError<InvalidParameter>()("InvalidParameter", {
  agent: Schema.String,
  name: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `agent ${this.agent}: parameter "${this.name}": ${this.reason}`
  }
}

export type AgentError = AgentNotInstalled | InvalidParameter | MetadataParseError

export interface ResourceAgent {
  readonly ref: AgentRef
  readonly execute: (
    request: ActionRequest
  ) => Effect.Effect<ActionResult, AgentNotInstalled | InvalidParameter>
  readonly metadata: Effect.Effect<AgentMetadata, AgentError>
}

/** `ocf:heartbeat:IPaddr2`, `systemd:nginx`, `lsb:postgresql`, `native:Pg`. */
export const format = (ref: AgentRef): string =>
  ref.provider === undefined ? `${ref.class}:${ref.type}` : `${ref.class}:${ref.provider}:${ref.type}`

/** A malformed agent reference such as `ocf:IPaddr2` (no provider) or `foo:bar`. */
export class InvalidAgentRef extends Schema.TaggedError<InvalidAgentRef>()("InvalidAgentRef", {
  input: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `invalid agent "${this.input}": ${this.reason}`
  }
}

/** Parses `class:provider:type` (ocf) or `class:type` (others). */
export const parse = (input: string): AgentRef => {
  const parts = input.split(":")
  const [cls, a, b] = parts
  if (cls === "ocf") {
    if (parts.length !== 3 || !a || !b) {
      throw new InvalidAgentRef({ input, reason: "ocf agents are written ocf:<provider>:<type>" })
    }
    return { class: "ocf", provider: a, type: b }
  }
  if (cls === "lsb" || cls === "systemd" || cls === "native") {
    if (parts.length !== 2 || !a) {
      throw new InvalidAgentRef({ input, reason: `${cls} agents are written ${cls}:<type>` })
    }
    return { class: cls, type: a }
  }
  throw new InvalidAgentRef({
    input,
    reason: `unknown class "${cls}" (expected ocf, lsb, systemd or native)`
  })
}

/** A name that is safe as one path component (no traversal out of the agent directory). */
export const isSafeName = (name: string): boolean =>
  name.length > 0 && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0")
