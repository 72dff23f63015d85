/**
 * The CIB edits behind the API's resource and node commands, with Pacemaker's semantics and ids:
 *
 * - move / ban: `cli-prefer-RSC` (INFINITY on the node) and `cli-ban-RSC-on-NODE` (-INFINITY)
 *   location constraints, as `crm_resource --move` / `--ban` write them; clear removes them.
 * - enable / disable: the resource's `target-role` meta attribute (disable sets Stopped, enable
 *   removes it, as `pcs resource enable` does).
 * - standby / maintenance: the node's permanent attributes in `<nodes>` (`crm_standby` and
 *   `crm_attribute -N NODE -n maintenance` with their default lifetime).
 * - cleanup: the fail-counts and the operation history of the resource on the nodes where it
 *   failed, so the DC probes it there again (`crm_resource --cleanup`).
 *
 * Each edit is pure and says why it refuses: an unknown resource or node, or nothing to change.
 */
import { Cib, Score } from "@ha/cib"
import { Status } from "@ha/controller"
import { Either } from "effect"

/** Why an edit is not made; `code` is the API's error code. */
export interface Refusal {
  readonly code: "not-found" | "refused"
  readonly message: string
}

const notFound = (message: string): Refusal => ({ code: "not-found", message })
const refused = (message: string): Refusal => ({ code: "refused", message })

type Editable = Cib.Primitive | Cib.Group | Cib.Clone

/** A configured resource by id: its definition and the top-level resource that holds it. */
export interface Found {
  readonly resource: Editable
  readonly top: Cib.Resource
}

/** Finds a resource (top-level, group member, clone child) by id. */
export const findResource = (cib: Cib.Cib, id: string): Either.Either<Found, Refusal> => {
  for (const top of cib.configuration.resources) {
    if (top._tag === "Bundle") continue
    if (top.id === id) return Either.right({ resource: top, top })
    const children: ReadonlyArray<Editable> =
      top._tag === "Group"
        ? top.members
        : top._tag === "Clone"
          ? [top.child, ...(top.child._tag === "Group" ? top.child.members : [])]
          : []
    const child = children.find((c) => c.id === id)
    if (child !== undefined) return Either.right({ resource: child, top })
  }
  return Either.left(notFound(`no resource "${id}" in the configuration`))
}

/** The primitives a resource stands for (itself, a group's members, a clone's child's). */
export const primitivesOf = (resource: Editable): ReadonlyArray<string> =>
  resource._tag === "Primitive"
    ? [resource.id]
    : resource._tag === "Group"
      ? resource.members.map((m) => m.id)
      : primitivesOf(resource.child)

/** The resource that location constraints name: a clone's child stands for its clone. */
const constrained = (found: Found): string => (found.top._tag === "Clone" ? found.top.id : found.resource.id)

/** Checks a node is configured. */
export const findNode = (cib: Cib.Cib, name: string): Either.Either<Cib.Node, Refusal> => {
  const node = cib.configuration.nodes.find((n) => n.uname === name)
  return node === undefined
    ? Either.left(
        notFound(
          `no node "${name}" in the configuration (nodes: ${cib.configuration.nodes.map((n) => n.uname).join(", ")})`
        )
      )
    : Either.right(node)
}

const withConstraints = (cib: Cib.Cib, constraints: ReadonlyArray<Cib.Constraint>): Cib.Cib => ({
  ...cib,
  configuration: { ...cib.configuration, constraints }
})

const location = (id: string, rsc: string, node: string, score: number): Cib.Location => ({
  _tag: "Location",
  id,
  rsc,
  score,
  node,
  rules: [],
  resourceSets: []
})

export const preferId = (rsc: string) => `cli-prefer-${rsc}`
export const banId = (rsc: string, node: string) => `cli-ban-${rsc}-on-${node}`

/** `move RSC NODE`: prefer NODE with INFINITY (a ban from NODE is lifted). */
export const move = (cib: Cib.Cib, id: string, node: string): Either.Either<Cib.Cib, Refusal> =>
  Either.gen(function* () {
    const found = yield* findResource(cib, id)
    yield* findNode(cib, node)
    if (found.top._tag === "Clone")
      return yield* Either.left(
        refused(
          `${id} is part of the clone ${found.top.id}, which runs on several nodes: ban it from a node instead`
        )
      )
    const rsc = constrained(found)
    const existing = cib.configuration.constraints.find((c) => c.id === preferId(rsc))
    if (existing?._tag === "Location" && existing.node === node && existing.score === Score.INFINITY)
      return yield* Either.left(refused(`${rsc} is already moved to ${node} (${preferId(rsc)})`))
    const kept = cib.configuration.constraints.filter(
      (c) => c.id !== preferId(rsc) && c.id !== banId(rsc, node)
    )
    return withConstraints(cib, [...kept, location(preferId(rsc), rsc, node, Score.INFINITY)])
  })

/** `ban RSC NODE`: -INFINITY on NODE. */
export const ban = (cib: Cib.Cib, id: string, node: string): Either.Either<Cib.Cib, Refusal> =>
  Either.gen(function* () {
    const found = yield* findResource(cib, id)
    yield* findNode(cib, node)
    const rsc = constrained(found)
    if (cib.configuration.constraints.some((c) => c.id === banId(rsc, node)))
      return yield* Either.left(refused(`${rsc} is already banned from ${node} (${banId(rsc, node)})`))
    return withConstraints(cib, [
      ...cib.configuration.constraints,
      location(banId(rsc, node), rsc, node, -Score.INFINITY)
    ])
  })

/** `clear RSC [NODE]`: removes the move and ban constraints (on NODE only, when given). */
export const clear = (
  cib: Cib.Cib,
  id: string,
  node: string | undefined
): Either.Either<{ readonly cib: Cib.Cib; readonly removed: ReadonlyArray<string> }, Refusal> =>
  Either.gen(function* () {
    const found = yield* findResource(cib, id)
    if (node !== undefined) yield* findNode(cib, node)
    const rsc = constrained(found)
    const banPrefix = `cli-ban-${rsc}-on-`
    const removed = cib.configuration.constraints.filter(
      (c) =>
        c._tag === "Location" &&
        (node === undefined
          ? c.id === preferId(rsc) || c.id.startsWith(banPrefix)
          : (c.id === preferId(rsc) && c.node === node) || c.id === banId(rsc, node))
    )
    if (removed.length === 0)
      return yield* Either.left(
        refused(`${rsc} has no move or ban constraint${node === undefined ? "" : ` for ${node}`} to clear`)
      )
    const gone = new Set(removed.map((c) => c.id))
    return {
      cib: withConstraints(
        cib,
        cib.configuration.constraints.filter((c) => !gone.has(c.id))
      ),
      removed: [...gone]
    }
  })

/** Sets (or with `undefined` removes) a pair in the first rule-less set, creating it when needed. */
const mapResources = (cib: Cib.Cib, id: string, change: (r: Editable) => Editable): Cib.Cib => {
  const primitive = (p: Cib.Primitive): Cib.Primitive => (p.id === id ? (change(p) as Cib.Primitive) : p)
  const group = (g: Cib.Group): Cib.Group =>
    g.id === id ? (change(g) as Cib.Group) : { ...g, members: g.members.map(primitive) }
  const resources = cib.configuration.resources.map((r): Cib.Resource => {
    switch (r._tag) {
      case "Primitive":
        return primitive(r)
      case "Group":
        return group(r)
      case "Clone":
        if (r.id === id) return change(r)
        return { ...r, child: r.child._tag === "Group" ? group(r.child) : primitive(r.child) }
      default:
        return r
    }
  })
  return { ...cib, configuration: { ...cib.configuration, resources } }
}

/** `disable RSC` (target-role Stopped) and `enable RSC` (target-role removed). */
export const setTargetRole = (
  cib: Cib.Cib,
  id: string,
  role: "Stopped" | undefined
): Either.Either<Cib.Cib, Refusal> =>
  Either.gen(function* () {
    const { resource } = yield* findResource(cib, id)
    const current = Cib.metaValue(resource.metaAttributes, "target-role")
    if (role === "Stopped" && current === "Stopped")
      return yield* Either.left(refused(`${id} is already disabled (target-role Stopped)`))
    if (role === undefined && current === undefined)
      return yield* Either.left(refused(`${id} is not disabled (it has no target-role)`))
    return forceTargetRole(cib, id, role)
  })

/** The target-role to restore after a restart: the resource's own, if any. */
export const targetRole = (cib: Cib.Cib, id: string): string | undefined =>
  Either.match(findResource(cib, id), {
    onLeft: () => undefined,
    onRight: ({ resource }) => Cib.metaValue(resource.metaAttributes, "target-role")
  })

/** Sets the target-role to `role` exactly (restart's stop and restore), never refusing a no-op. */
export const forceTargetRole = (cib: Cib.Cib, id: string, role: string | undefined): Cib.Cib =>
  mapResources(cib, id, (r) => ({
    ...r,
    metaAttributes: Cib.setNvPair(r.metaAttributes, `${id}-meta_attributes`, "target-role", role)
  }))

export type NodeMode = "standby" | "online" | "maintenance"

/** `standby` and `maintenance` set the node's attribute; `online` removes both. */
export const setNodeMode = (cib: Cib.Cib, name: string, mode: NodeMode): Either.Either<Cib.Cib, Refusal> =>
  Either.gen(function* () {
    const node = yield* findNode(cib, name)
    const has = (attribute: string) => Cib.isTrue(Cib.metaValue(node.instanceAttributes, attribute))
    const setId = `nodes-${node.id}`
    let attributes = node.instanceAttributes
    if (mode === "online") {
      if (!has("standby") && !has("maintenance"))
        return yield* Either.left(refused(`${name} is neither in standby nor in maintenance`))
      attributes = Cib.setNvPair(
        Cib.setNvPair(attributes, setId, "standby", undefined),
        setId,
        "maintenance",
        undefined
      )
    } else {
      if (has(mode)) return yield* Either.left(refused(`${name} is already in ${mode}`))
      attributes = Cib.setNvPair(attributes, setId, mode, "on")
    }
    const nodes = cib.configuration.nodes.map((n) =>
      n === node ? { ...n, instanceAttributes: attributes } : n
    )
    return { ...cib, configuration: { ...cib.configuration, nodes } }
  })

/**
 * A node attribute as `crm_attribute` writes it: `reboot` lifetime in the node's transient
 * attributes (status; gone when the node leaves), `forever` in its `<node>` instance attributes.
 * `value` undefined deletes it. Setting what is already there is not a change: the same CIB comes
 * back (agents publish their promotion score on every monitor).
 */
export type Lifetime = "reboot" | "forever"

export const nodeAttribute = (cib: Cib.Cib, name: string, attribute: string, lifetime: Lifetime) =>
  Either.map(findNode(cib, name), (node) =>
    lifetime === "forever"
      ? Cib.metaValue(node.instanceAttributes, attribute)
      : Status.attribute(cib, name, attribute)
  )

export const setNodeAttribute = (
  cib: Cib.Cib,
  name: string,
  attribute: string,
  value: string | undefined,
  lifetime: Lifetime
): Either.Either<Cib.Cib, Refusal> =>
  Either.gen(function* () {
    const node = yield* findNode(cib, name)
    if ((yield* nodeAttribute(cib, name, attribute, lifetime)) === value) return cib
    if (lifetime === "reboot")
      return value === undefined
        ? Status.removeAttribute(cib, name, attribute)
        : Status.setAttribute(cib, name, attribute, value)
    const attributes = Cib.setNvPair(node.instanceAttributes, `nodes-${node.id}`, attribute, value)
    const nodes = cib.configuration.nodes.map((n) =>
      n === node ? { ...n, instanceAttributes: attributes } : n
    )
    return { ...cib, configuration: { ...cib.configuration, nodes } }
  })

/** A history id belongs to the primitive (anonymous clone instances are `rsc:N`). */
const historyOf = (primitives: ReadonlySet<string>) => (historyId: string) =>
  primitives.has(historyId.replace(/:\d+$/, ""))

const failAttribute = (primitives: ReadonlySet<string>) => (name: string | undefined) => {
  const match = /^(?:fail-count|last-failure)-(.+?)(?:#.*)?$/.exec(name ?? "")
  return match !== null && historyOf(primitives)(match[1]!)
}

const FAILED_OPERATION = /_last_failure_0$/

/**
 * `cleanup RSC [NODE]`: on every node (or NODE) where the resource has a fail-count or a failed
 * operation on record, its fail-counts and its operation history go, so the DC probes it again.
 */
export const cleanup = (
  cib: Cib.Cib,
  id: string,
  node: string | undefined
): Either.Either<{ readonly cib: Cib.Cib; readonly nodes: ReadonlyArray<string> }, Refusal> =>
  Either.gen(function* () {
    const { resource } = yield* findResource(cib, id)
    if (node !== undefined) yield* findNode(cib, node)
    const primitives = new Set(primitivesOf(resource))
    const isFailAttribute = failAttribute(primitives)
    const isHistory = historyOf(primitives)
    const cleaned: Array<string> = []
    const states = cib.status.nodes.map((state) => {
      const name = state.uname ?? cib.configuration.nodes.find((n) => n.id === state.id)?.uname
      if (name === undefined || (node !== undefined && name !== node)) return state
      const counted = (state.transientAttributes?.sets ?? []).some((set) =>
        set.nvpairs.some((p) => isFailAttribute(p.name))
      )
      const failedOps = (state.lrm?.resources ?? []).some(
        (r) => isHistory(r.id) && r.ops.some((o) => FAILED_OPERATION.test(o.id))
      )
      if (!counted && !failedOps) return state
      cleaned.push(name)
      const transient = state.transientAttributes
      return {
        ...state,
        ...(transient === undefined
          ? {}
          : {
              transientAttributes: {
                ...transient,
                sets: transient.sets.map((set) => ({
                  ...set,
                  nvpairs: set.nvpairs.filter((p) => !isFailAttribute(p.name))
                }))
              }
            }),
        ...(state.lrm === undefined
          ? {}
          : { lrm: { ...state.lrm, resources: state.lrm.resources.filter((r) => !isHistory(r.id)) } })
      }
    })
    if (cleaned.length === 0)
      return yield* Either.left(
        refused(`${id} has no failures to clean up${node === undefined ? "" : ` on ${node}`}`)
      )
    return { cib: { ...cib, status: { ...cib.status, nodes: states } }, nodes: cleaned }
  })
