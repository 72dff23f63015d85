/**
 * Checks a candidate CIB before the store accepts it: the model's schema, then the references
 * between configuration objects (the checks the XML decoder makes on files, made here on the model
 * since updates arrive as models). The first problem is reported with the path of the field.
 */
import { Either, ParseResult, Schema } from "effect"
import {
  type Cib,
  Cib as CibSchema,
  type Configuration,
  Lrm,
  LrmResource,
  NodeState,
  type Resource,
  type ResourceSet,
  TicketState
} from "../../Cib.ts"
import { isRecord } from "../structural.ts"

export interface Problem {
  /** Where, as a path through the model: `configuration/constraints[loc-1]/rsc`. */
  readonly path: string
  readonly reason: string
}

const validateSchema = Schema.validateEither(CibSchema)

const formatPath = (path: ReadonlyArray<PropertyKey>): string => path.map(String).join("/")

interface Collected {
  readonly ids: Map<string, string>
  readonly duplicates: Array<Problem>
  /** id-ref fields (nvsets, rules, operations referring to another object), with their paths */
  readonly idRefs: Array<[string, string]>
}

/** Every `id` of the configuration's objects (nodes excepted: their ids are not XML ids), with its path. */
const collectIds = (value: unknown, path: string, out: Collected): void => {
  if (Array.isArray(value)) {
    value.forEach((element, i) => {
      const key = isRecord(element) && typeof element.id === "string" ? element.id : String(i)
      collectIds(element, `${path}[${key}]`, out)
    })
    return
  }
  if (!isRecord(value)) return
  if (typeof value.id === "string") {
    const first = out.ids.get(value.id)
    if (first !== undefined)
      out.duplicates.push({
        path: `${path}/id`,
        reason: `duplicate id "${value.id}" (first used at ${first})`
      })
    else out.ids.set(value.id, path)
  }
  if (typeof value.idRef === "string") out.idRefs.push([value.idRef, `${path}/idRef`])
  for (const [key, child] of Object.entries(value)) {
    // opaque XML (bundles, ACLs, alert selects) is kept verbatim and not ours to check
    if (key === "xml" || key === "acls" || key === "select") continue
    if (typeof child === "object" && child !== null) collectIds(child, `${path}/${key}`, out)
  }
}

const resourceIds = (resources: ReadonlyArray<Resource>, out: Set<string>): void => {
  for (const r of resources) {
    out.add(r.id)
    if (r._tag === "Group") resourceIds(r.members, out)
    else if (r._tag === "Clone") resourceIds([r.child], out)
    else if (r._tag === "Bundle" && r.primitive !== undefined) out.add(r.primitive)
  }
}

const checkReferences = (configuration: Configuration): Problem | undefined => {
  const collected: Collected = { ids: new Map(), duplicates: [], idRefs: [] }
  const { nodes: _nodes, ...rest } = configuration
  collectIds(rest, "configuration", collected)
  if (collected.duplicates[0] !== undefined) return collected.duplicates[0]
  const ids = collected.ids

  const resources = new Set<string>()
  resourceIds(configuration.resources, resources)
  const templates = new Set(configuration.templates.map((t) => t.id))
  const tags = new Set(configuration.tags.map((t) => t.id))
  const constrainable = (id: string) => resources.has(id) || templates.has(id) || tags.has(id)

  const problems: Array<Problem> = []
  const expect = (ok: boolean, path: string, what: string, id: string) => {
    if (!ok) problems.push({ path, reason: `refers to ${what} "${id}", which does not exist` })
  }
  const checkPrimitive = (p: { readonly id: string; readonly template?: string }, path: string) => {
    if (p.template !== undefined)
      expect(templates.has(p.template), `${path}/template`, "template", p.template)
  }
  for (const r of configuration.resources) {
    const path = `configuration/resources[${r.id}]`
    if (r._tag === "Primitive") checkPrimitive(r, path)
    else if (r._tag === "Group") for (const m of r.members) checkPrimitive(m, `${path}/members[${m.id}]`)
    else if (r._tag === "Clone") {
      const child = r.child
      if (child._tag === "Primitive") checkPrimitive(child, `${path}/child[${child.id}]`)
      else for (const m of child.members) checkPrimitive(m, `${path}/child[${child.id}]/members[${m.id}]`)
    }
  }
  const checkSets = (sets: ReadonlyArray<ResourceSet>, path: string) => {
    sets.forEach((set, i) => {
      for (const id of set.resources)
        expect(constrainable(id), `${path}/resourceSets[${set.id ?? i}]/resources`, "resource", id)
    })
  }
  for (const c of configuration.constraints) {
    const path = `configuration/constraints[${c.id}]`
    const refs: Array<[string, string | undefined]> =
      c._tag === "Colocation"
        ? [
            ["rsc", c.rsc],
            ["withRsc", c.withRsc]
          ]
        : c._tag === "Order"
          ? [
              ["first", c.first],
              ["then", c.then]
            ]
          : [["rsc", c.rsc]]
    for (const [field, id] of refs)
      if (id !== undefined) expect(constrainable(id), `${path}/${field}`, "resource", id)
    checkSets(c.resourceSets, path)
  }
  for (const level of configuration.fencingTopology)
    for (const device of level.devices)
      expect(
        resources.has(device),
        `configuration/fencingTopology[${level.id}]/devices`,
        "fencing device",
        device
      )
  for (const tag of configuration.tags)
    for (const ref of tag.refs) expect(ids.has(ref), `configuration/tags[${tag.id}]/refs`, "object", ref)
  for (const [id, path] of collected.idRefs) expect(ids.has(id), path, "object", id)
  return problems[0]
}

/** The candidate, or the first problem found in it. */
export const validate = (candidate: unknown): Either.Either<Cib, Problem> => {
  const checked = validateSchema(candidate)
  if (Either.isLeft(checked)) {
    const issue = ParseResult.ArrayFormatter.formatErrorSync(checked.left)[0]
    return Either.left({
      path: issue === undefined ? "" : formatPath(issue.path),
      reason: issue?.message ?? "does not match the CIB schema"
    })
  }
  const problem = checkReferences(checked.right.configuration)
  return problem === undefined ? Either.right(checked.right) : Either.left(problem)
}

// ---------------------------------------------------------------------------------------------
// Checking an update: only what changed

const validateShell = Schema.validateEither(CibSchema.omit("configuration", "status"))
const validateNodeStateShell = Schema.validateEither(NodeState.omit("lrm"))
const validateLrmShell = Schema.validateEither(Lrm.omit("resources"))
const validateLrmResource = Schema.validateEither(LrmResource)
const validateTickets = Schema.validateEither(Schema.Array(TicketState))

/** Thrown inside {@link validateChange} when a changed part does not check: the full check says why. */
class Invalid {}

const valid = <A, E>(result: Either.Either<A, E>): A => {
  if (Either.isLeft(result)) throw new Invalid()
  return result.right
}

/** `candidates` with the elements also in `previous` (the same objects) kept, and the others checked by `check`. */
const checkElements = <A>(
  candidates: unknown,
  previous: ReadonlyArray<A>,
  check: (candidate: unknown, previous: A | undefined) => A
): ReadonlyArray<A> => {
  if (!Array.isArray(candidates)) throw new Invalid()
  let known: Set<unknown> | undefined
  return candidates.map((candidate: unknown, i) => {
    // an update changes few elements in place and appends: the same position is the usual match
    if (previous[i] === candidate) return candidate as A
    known ??= new Set(previous)
    return known.has(candidate) ? (candidate as A) : check(candidate, previous[i])
  })
}

const checkNodeState = (candidate: unknown, previous: NodeState | undefined): NodeState => {
  const shell = valid(validateNodeStateShell(candidate))
  // an `lrm` field that is there but undefined is the full check's to refuse
  if (!Object.hasOwn(candidate as object, "lrm")) return shell
  const lrm = (candidate as { readonly lrm?: unknown }).lrm
  const lrmShell = valid(validateLrmShell(lrm))
  const resources = checkElements(
    (lrm as { readonly resources?: unknown }).resources,
    previous?.id === shell.id ? (previous?.lrm?.resources ?? []) : [],
    (resource) => valid(validateLrmResource(resource))
  )
  return { ...shell, lrm: { ...lrmShell, resources } }
}

/**
 * {@link validate} for a candidate made from `before`, a CIB the store already checked: the parts
 * it shares with `before` (the same objects: updates copy only the path to what they change) are
 * not checked again, and the result keeps them, so that digests and diffs of the next versions
 * find them unchanged. When the configuration changed everything is checked (its references span
 * the whole of it); status parts have no references, so a changed `node_state` or `lrm_resource` is
 * checked alone. A candidate that does not pass is checked in full, for the full check's report.
 */
export const validateChange = (before: Cib, candidate: unknown): Either.Either<Cib, Problem> => {
  if (!isRecord(candidate) || candidate.configuration !== before.configuration || !isRecord(candidate.status))
    return validate(candidate)
  try {
    const shell = valid(validateShell(candidate))
    const status = candidate.status
    const nodes = checkElements(status.nodes, before.status.nodes, checkNodeState)
    const tickets =
      status.tickets === before.status.tickets
        ? before.status.tickets
        : valid(validateTickets(status.tickets))
    return Either.right({ ...shell, configuration: before.configuration, status: { nodes, tickets } })
  } catch (e) {
    if (e instanceof Invalid) return validate(candidate)
    throw e
  }
}
