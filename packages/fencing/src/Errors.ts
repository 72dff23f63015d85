/**
 * Typed errors of the fencing package. Configuration errors name the CIB element they come from as
 * a path (e.g. `/cib/configuration/resources/primitive[@id='fence-a']/instance_attributes/nvpair[@name='pcmk_host_check']`),
 * since the CIB model keeps no line numbers; the XML decoder reports those for malformed input.
 */
import { Schema } from "effect"

/** A stonith resource names an agent that is neither a registered native agent nor an installed fence_* program. */
export class UnknownAgentError extends Schema.TaggedError<UnknownAgentError>()("UnknownAgentError", {
  device: Schema.String,
  agent: Schema.String,
  path: Schema.String,
  searched: Schema.String,
  /** Why a program that exists was not usable (its meta-data failed). */
  detail: Schema.optionalWith(Schema.String, { exact: true })
}) {
  override get message(): string {
    const what = this.detail === undefined ? "which is not installed" : `which is not usable: ${this.detail}`
    return `${this.path}: fence device ${this.device} uses agent "${this.agent}", ${what} (looked in ${this.searched})`
  }
}

/** A device attribute has a value that cannot be used. */
export class InvalidDeviceAttributeError extends Schema.TaggedError<InvalidDeviceAttributeError>()(
  "InvalidDeviceAttributeError",
  {
    device: Schema.String,
    attribute: Schema.String,
    value: Schema.String,
    path: Schema.String,
    reason: Schema.String
  }
) {
  override get message(): string {
    return `${this.path}: fence device ${this.device}: ${this.attribute}="${this.value}" ${this.reason}`
  }
}

/** A device that, as configured, can never fence any node. */
export class DeviceWithoutHostsError extends Schema.TaggedError<DeviceWithoutHostsError>()(
  "DeviceWithoutHostsError",
  {
    device: Schema.String,
    path: Schema.String,
    reason: Schema.String
  }
) {
  override get message(): string {
    return `${this.path}: fence device ${this.device} cannot fence any node: ${this.reason}`
  }
}

/** A fencing-topology level names a device that is not configured, or is not a stonith resource. */
export class MissingTopologyDeviceError extends Schema.TaggedError<MissingTopologyDeviceError>()(
  "MissingTopologyDeviceError",
  { level: Schema.String, device: Schema.String, path: Schema.String }
) {
  override get message(): string {
    return `${this.path}: fencing level ${this.level} names device "${this.device}", which is not a configured stonith resource`
  }
}

/** A fencing-topology level whose target is missing or unusable. */
export class InvalidTopologyLevelError extends Schema.TaggedError<InvalidTopologyLevelError>()(
  "InvalidTopologyLevelError",
  { level: Schema.String, path: Schema.String, reason: Schema.String }
) {
  override get message(): string {
    return `${this.path}: fencing level ${this.level}: ${this.reason}`
  }
}

export type FencingConfigError =
  | UnknownAgentError
  | InvalidDeviceAttributeError
  | DeviceWithoutHostsError
  | MissingTopologyDeviceError
  | InvalidTopologyLevelError

/** Powering a namespace node off or on failed (fence-netns). */
export class NodePowerError extends Schema.TaggedError<NodePowerError>()("NodePowerError", {
  node: Schema.String,
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `node ${this.node}: power ${this.operation} failed: ${this.reason}`
  }
}

/** A fencing request ended without the agent confirming that the target is down. */
export class FenceFailedError extends Schema.TaggedError<FenceFailedError>()("FenceFailedError", {
  target: Schema.String,
  action: Schema.String,
  attempts: Schema.Number,
  reason: Schema.String
}) {
  override get message(): string {
    return `fencing ${this.target} (${this.action}) failed after ${this.attempts} attempt(s): ${this.reason}`
  }
}

/** A fence_* program exists but its meta-data could not be read. */
export class AgentMetadataError extends Schema.TaggedError<AgentMetadataError>()("AgentMetadataError", {
  agent: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `${this.agent}: ${this.reason}`
  }
}
