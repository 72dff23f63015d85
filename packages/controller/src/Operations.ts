/**
 * From a transition's resource action to the executor request that carries it out, and to the
 * result the transition expects: the primitive's agent and parameters, the operation's timeout
 * (its own, else op_defaults, else 20 s), clone and notification meta-attributes, the history id
 * the result is recorded under, and the expected OCF rc.
 */
import { Cib, Duration } from "@ha/cib"
import type { Executor, ResourceAgent } from "@ha/executor"
import type { Transition } from "@ha/policy"
import { Schema } from "effect"
import type { LrmTarget } from "./Status.ts"

export const DEFAULT_TIMEOUT_MS = 20_000

export interface Located {
  readonly primitive: Cib.Primitive
  readonly clone: Cib.Clone | undefined
  /** The group the primitive is a member of (a clone's child group included). */
  readonly group?: Cib.Group
}

/** The primitive behind a resource id (`db`, or a clone instance `drbd_pg:1`) and its clone. */
export const locate = (cib: Cib.Cib, resource: string): Located | undefined => {
  const base = resource.replace(/:\d+$/, "")
  for (const top of cib.configuration.resources) {
    switch (top._tag) {
      case "Primitive":
        if (top.id === base) return { primitive: top, clone: undefined }
        break
      case "Group": {
        const member = top.members.find((m) => m.id === base)
        if (member !== undefined) return { primitive: member, clone: undefined, group: top }
        break
      }
      case "Clone": {
        const child = top.child
        const primitive =
          child._tag === "Primitive"
            ? child.id === base
              ? child
              : undefined
            : child.members.find((m) => m.id === base)
        if (primitive !== undefined)
          return child._tag === "Group" ? { primitive, clone: top, group: child } : { primitive, clone: top }
        break
      }
      case "Bundle":
        break
    }
  }
  return undefined
}

/** Rule-less name/value pairs of attribute sets, first value of a name wins (as Pacemaker reads them). */
export const pairs = (sets: ReadonlyArray<Cib.NvSet>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const set of sets) {
    if (set.rules.length > 0) continue
    for (const pair of set.nvpairs) {
      if (pair.name !== undefined && pair.value !== undefined && !(pair.name in out))
        out[pair.name] = pair.value
    }
  }
  return out
}

const templateOf = (cib: Cib.Cib, primitive: Cib.Primitive) =>
  primitive.template === undefined
    ? undefined
    : cib.configuration.templates.find((t) => t.id === primitive.template)

/** The primitive with its template's fields filled in (its own fields win). */
const resolved = (cib: Cib.Cib, primitive: Cib.Primitive): Cib.Primitive => {
  const template = templateOf(cib, primitive)
  if (template === undefined) return primitive
  return {
    ...primitive,
    ...(primitive.class === undefined && template.class !== undefined ? { class: template.class } : {}),
    ...(primitive.provider === undefined && template.provider !== undefined
      ? { provider: template.provider }
      : {}),
    ...(primitive.type === undefined && template.type !== undefined ? { type: template.type } : {}),
    instanceAttributes: [...primitive.instanceAttributes, ...template.instanceAttributes],
    metaAttributes: [...primitive.metaAttributes, ...template.metaAttributes],
    ...(primitive.operations === undefined && template.operations !== undefined
      ? { operations: template.operations }
      : {})
  }
}

const primitives = (cib: Cib.Cib): ReadonlyArray<Cib.Primitive | Cib.Template> => {
  const all: Array<Cib.Primitive | Cib.Template> = []
  for (const r of cib.configuration.resources) {
    if (r._tag === "Primitive") all.push(r)
    else if (r._tag === "Group") all.push(...r.members)
    else if (r._tag === "Clone") all.push(...(r.child._tag === "Primitive" ? [r.child] : r.child.members))
  }
  return [...all, ...cib.configuration.templates]
}

const operationsOf = (cib: Cib.Cib, primitive: Cib.Primitive): ReadonlyArray<Cib.Operation> => {
  const ops = primitive.operations
  if (ops === undefined) return []
  if (ops.idRef === undefined) return ops.ops
  return primitives(cib).find((p) => p.operations?.id === ops.idRef)?.operations?.ops ?? []
}

/** Whether instances of the clone are anonymous (their history is kept under the bare child id). */
const anonymous = (clone: Cib.Clone) => !Cib.isTrue(Cib.metaValue(clone.metaAttributes, "globally-unique"))

export const isStonith = (located: Located): boolean => located.primitive.class === "stonith"

export const lrmTarget = (cib: Cib.Cib, resource: string, located: Located): LrmTarget => {
  const primitive = resolved(cib, located.primitive)
  return {
    id: located.clone !== undefined && anonymous(located.clone) ? primitive.id : resource,
    class: primitive.class,
    provider: primitive.provider,
    type: primitive.type
  }
}

/** The configured operation an action runs (monitors by interval), if any. */
export const configuredOperation = (
  cib: Cib.Cib,
  located: Located,
  task: string,
  interval: number
): Cib.Operation | undefined =>
  operationsOf(cib, resolved(cib, located.primitive)).find(
    (op) => op.name === task && (task !== "monitor" || op.interval === interval)
  )

/** The rc a successful action returns: 7 for a probe, 8 for a monitor of the promoted role, else 0. */
export const expectedRc = (cib: Cib.Cib, located: Located, action: Transition.Action): number => {
  if (action.task !== "monitor") return 0
  if (action.interval === 0) return 7
  const role = configuredOperation(cib, located, "monitor", action.interval)?.role
  return role !== undefined && Cib.normalizeRole(role) === "Promoted" ? 8 : 0
}

const notifyOperation: Record<string, string> = {
  running: "start",
  start: "start",
  stopped: "stop",
  stop: "stop",
  promoted: "promote",
  promote: "promote",
  demoted: "demote",
  demote: "demote"
}

const agentClasses = new Set<string>(["ocf", "lsb", "systemd", "native"])

/** The primitive names an agent class the executor cannot run (e.g. `heartbeat`, `service`, `nagios`). */
export class UnsupportedAgentClass extends Schema.TaggedError<UnsupportedAgentClass>()(
  "UnsupportedAgentClass",
  {
    resource: Schema.String,
    agentClass: Schema.String
  }
) {
  override get message() {
    return `resource ${this.resource}: agent class "${this.agentClass}" is not supported (ocf, lsb, systemd, native)`
  }
}

/** The executor request for a resource action, or why it cannot be made. */
export const request = (
  cib: Cib.Cib,
  action: Transition.Action,
  located: Located
): Executor.OperationRequest | UnsupportedAgentClass => {
  const primitive = resolved(cib, located.primitive)
  const resource = lrmTarget(cib, action.resource ?? primitive.id, located).id
  const agentClass = primitive.class ?? ""
  if (!agentClasses.has(agentClass)) return new UnsupportedAgentClass({ resource, agentClass })
  const agent: ResourceAgent.AgentRef = {
    class: agentClass as ResourceAgent.AgentClass,
    ...(primitive.provider === undefined ? {} : { provider: primitive.provider }),
    type: primitive.type ?? ""
  }
  const op = configuredOperation(cib, located, action.task, action.interval)
  const defaults = pairs(cib.configuration.opDefaults)
  const timeoutMs =
    op?.timeout ??
    (defaults.timeout === undefined ? undefined : Duration.parse(defaults.timeout)) ??
    DEFAULT_TIMEOUT_MS
  const meta: Record<string, string> = {}
  if (located.clone !== undefined) {
    const cloneMeta = pairs(located.clone.metaAttributes)
    for (const name of [
      "clone-max",
      "clone-node-max",
      "promoted-max",
      "promoted-node-max",
      "notify",
      "globally-unique"
    ]) {
      const value = cloneMeta[name]
      if (value !== undefined) meta[name.replaceAll("-", "_")] = value
    }
    const instance = /:(\d+)$/.exec(action.resource ?? "")?.[1]
    if (instance !== undefined) meta.clone = instance
  }
  if (action.task === "notify") {
    const match = /_(pre|post)_notify_([a-z]+)_\d+$/.exec(action.key)
    if (match !== null) {
      meta.notify_type = match[1]!
      meta.notify_operation = notifyOperation[match[2]!] ?? match[2]!
    }
  }
  if (op?.role !== undefined) meta.role = Cib.normalizeRole(op.role)
  return {
    resource,
    agent,
    operation: action.task as ResourceAgent.Action,
    // a group's and a clone's instance attributes are their members' parameters too (nearest wins),
    // as the scheduler digests them
    params: {
      ...pairs(located.clone?.instanceAttributes ?? []),
      ...pairs(located.group?.instanceAttributes ?? []),
      ...pairs(primitive.instanceAttributes),
      ...(op === undefined ? {} : pairs(op.instanceAttributes))
    },
    meta,
    intervalMs: action.interval,
    timeoutMs
  }
}

/** The recurring monitors of a resource for the executor to keep running. */
export const monitors = (cib: Cib.Cib, located: Located): ReadonlyArray<Executor.MonitorDefinition> =>
  operationsOf(cib, resolved(cib, located.primitive))
    .filter((op) => op.name === "monitor" && op.interval > 0 && op.enabled !== "false")
    .map((op) => ({
      intervalMs: op.interval,
      timeoutMs: op.timeout ?? DEFAULT_TIMEOUT_MS,
      ...(op.role === undefined ? {} : { role: Cib.normalizeRole(op.role) as Executor.MonitorRole })
    }))
