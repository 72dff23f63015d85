/**
 * The local API's methods (see Api.ts for the protocol): what `ha` asks a node. Reads answer from
 * this node's copy of the CIB and its view of the membership; changes go through the replicated
 * CIB (so they need quorum) and are carried out by the DC; fencing goes through the fencer.
 * The methods are documented in the README ("API methods").
 */
import { type Cib, CibReplica, Diff, Version, XmlCodec, YamlConfig } from "@ha/cib"
import { Controller } from "@ha/controller"
import { type Fencer, FencerService, Manual } from "@ha/fencing"
import { Membership } from "@ha/membership"
import type { Node } from "@ha/node"
import { Transport } from "@ha/transport"
import { Clock, Duration, Effect, Either, Option, Schema } from "effect"
import * as Api from "./Api.ts"
import * as ClusterNode from "./ClusterNode.ts"
import type * as DaemonConfig from "./DaemonConfig.ts"
import * as ClusterView from "./methods/ClusterView.ts"
import * as Edits from "./methods/Edits.ts"
import * as LogEntry from "./methods/LogEntry.ts"

/** What the methods need: a complete node over its membership and transport. */
export type Requirements = Node.Services | Membership.Membership | Transport.Transport

const Resource = Schema.String.pipe(Schema.minLength(1)).annotations({ title: "resource id" })
const NodeName = Schema.String.pipe(Schema.minLength(1)).annotations({ title: "node name" })
const Millis = Schema.Int.pipe(Schema.between(0, 3_600_000)).annotations({ title: "milliseconds" })

/** A configuration as text: CIB XML (its status is ignored) or ha's YAML. */
const ConfigText = {
  text: Schema.String,
  /** Sniffed from the text when absent: XML starts with `<`. */
  format: Schema.optional(Schema.Literal("xml", "yaml")),
  /** Named in error messages. */
  file: Schema.optional(Schema.String)
}

const VersionText = Schema.String.pipe(
  Schema.pattern(/^\d+\.\d+\.\d+$/, { message: () => "a CIB version: admin_epoch.epoch.num_updates" })
)

const parseVersion = (text: string): Cib.Version => {
  const [adminEpoch = 0, epoch = 0, numUpdates = 0] = text.split(".").map(Number)
  return { adminEpoch, epoch, numUpdates }
}

const failure = (code: Api.ApiFailure["code"], message: string) => new Api.ApiFailure({ code, message })
const refusal = (r: Edits.Refusal) => new Api.ApiFailure(r)

/** Decodes a configuration text, or refuses it with the decoder's reason (file, line, column, field). */
const decodeConfiguration = (input: {
  readonly text: string
  readonly format?: "xml" | "yaml" | undefined
  readonly file?: string | undefined
}): Either.Either<Cib.Configuration, Api.ApiFailure> => {
  const file = input.file ?? "(configuration)"
  const format = input.format ?? (input.text.trimStart().startsWith("<") ? "xml" : "yaml")
  const decoded: Either.Either<Cib.Configuration, { readonly message: string }> =
    format === "xml"
      ? Either.map(XmlCodec.decodeXmlEither(input.text, { file }), (cib) => cib.configuration)
      : YamlConfig.decodeEither(input.text, { file })
  return Either.mapLeft(decoded, (error) => failure("refused", `invalid configuration: ${error.message}`))
}

/** The new configuration, keeping the configured nodes it does not list (apply never removes a node). */
const replaceConfiguration = (cib: Cib.Cib, configuration: Cib.Configuration): Cib.Cib => {
  const listed = new Set(configuration.nodes.map((n) => n.uname))
  const nodes = [...configuration.nodes, ...cib.configuration.nodes.filter((n) => !listed.has(n.uname))]
  return { ...cib, configuration: { ...configuration, nodes } }
}

/** The API methods of a node. */
export const make = (config: DaemonConfig.DaemonConfig) =>
  Effect.gen(function* () {
    const membership = yield* Membership.Membership
    const transport = yield* Transport.Transport
    const replica = yield* CibReplica.CibReplica
    const controller = yield* Controller.Controller
    const fencer = yield* FencerService.FencerService
    const names = new Map([...ClusterNode.nodeIds(config)].map(([name, id]) => [id, name]))
    const name = (id: number) => names.get(id) ?? `node ${id}`

    const members = Effect.map(
      membership.currentView,
      Option.match({ onNone: () => new Set<string>(), onSome: (v) => new Set(v.members.map(name)) })
    )
    const nowSeconds = Effect.map(Clock.currentTimeMillis, (ms) => Math.floor(ms / 1000))

    /** The cluster view now, or why the scheduler cannot read the CIB. */
    const view = Effect.gen(function* () {
      const cib = yield* replica.query
      return {
        cib,
        view: ClusterView.make(cib, yield* members, yield* nowSeconds)
      }
    })

    const requireQuorum = Effect.flatMap(membership.currentQuorum, (quorum) =>
      quorum.quorate
        ? Effect.void
        : Effect.fail(
            failure(
              "refused",
              `${config.node} has no quorum: the cluster's configuration cannot be changed now`
            )
          )
    )

    /**
     * Commits an edit through the DC. It is checked on this node's copy first (for its refusal),
     * then recomputed on the copy the update is made against (a concurrent change wins the race).
     */
    const commit = <A>(
      edit: (cib: Cib.Cib) => Either.Either<A, Edits.Refusal>,
      cibOf: (a: A) => Cib.Cib,
      options: CibReplica.ReplicaUpdateOptions = {}
    ) =>
      Effect.gen(function* () {
        yield* requireQuorum
        const checked = edit(yield* replica.query)
        if (Either.isLeft(checked)) return yield* Effect.fail(refusal(checked.left))
        const update = replica
          .update(
            (current) =>
              Either.match(edit(current), { onLeft: () => current, onRight: (result) => cibOf(result) }),
            options
          )
          .pipe(Effect.map((committed) => committed.after))
        const after = yield* update.pipe(
          // The membership changed before the DC answered: once in sync again, the edit is either
          // in the CIB (it now refuses as a no-op: done) or not (it is made again, once).
          Effect.catchTag("UpdateInterrupted", () =>
            Effect.gen(function* () {
              yield* replica.awaitSynced
              const current = yield* replica.query
              return Either.isLeft(edit(current)) ? current.version : yield* update
            })
          ),
          Effect.mapError((error) => failure("refused", error.message))
        )
        return { result: checked.right, version: Version.format(after) }
      })
    const commitCib = (edit: (cib: Cib.Cib) => Either.Either<Cib.Cib, Edits.Refusal>) =>
      Effect.map(
        commit(edit, (cib) => cib),
        ({ version }) => ({ version })
      )

    /** Where a resource runs now (every node of its primitives and clone instances). */
    const runningOn = (cib: Cib.Cib, id: string) =>
      Effect.gen(function* () {
        const found = Edits.findResource(cib, id)
        if (Either.isLeft(found)) return yield* Effect.fail(refusal(found.left))
        const primitives = new Set(Edits.primitivesOf(found.right.resource))
        const current = yield* Either.match(ClusterView.schedule(cib, yield* nowSeconds), {
          onLeft: (error) => Effect.fail(failure("refused", error.message)),
          onRight: Effect.succeed
        })
        return new Set(
          current.placements
            .filter((p) => primitives.has(p.resource.replace(/:\d+$/, "")))
            .flatMap((p) => p.current.map((c) => c.node))
        )
      })

    /** The one node a resource runs on, for move and ban without a node. */
    const soleNode = (cib: Cib.Cib, id: string, verb: string) =>
      Effect.flatMap(runningOn(cib, id), (nodes) => {
        const [only, ...others] = [...nodes]
        if (only === undefined)
          return Effect.fail(failure("refused", `${id} is not running anywhere: name the node to ${verb}`))
        if (others.length > 0)
          return Effect.fail(
            failure("refused", `${id} runs on ${[...nodes].join(", ")}: name the node to ${verb}`)
          )
        return Effect.succeed(only)
      })

    /** Whether the cluster has nothing left to do: a DC, no pending action, the DC's engine idle. */
    const settledness = Effect.gen(function* () {
      const status = yield* controller.status
      const { view: current } = yield* view
      if (status.dc === undefined)
        return { settled: false, pending: { actions: 0, decisions: ["no DC elected yet"] } }
      if (Either.isLeft(current))
        return { settled: false, pending: { actions: 0, decisions: [current.left.message] } }
      const pending = current.right.pending
      const engineIdle = status.dc !== status.self || status.idle
      return { settled: pending.actions === 0 && engineIdle, pending }
    })

    /** Waits until the cluster settles or the time is up; never fails. */
    const waitSettled = (timeoutMs: number) =>
      Effect.gen(function* () {
        const start = yield* Clock.currentTimeMillis
        while (true) {
          const { settled, pending } = yield* settledness
          const waitedMs = (yield* Clock.currentTimeMillis) - start
          if (settled || waitedMs >= timeoutMs)
            return { settled, waitedMs, pending: pending.decisions, actions: pending.actions }
          yield* Effect.sleep(Duration.millis(Math.min(200, timeoutMs - waitedMs)))
        }
      })

    const status = Api.method(Schema.Struct({}), () =>
      Effect.gen(function* () {
        const current = yield* view
        const quorum = yield* membership.currentQuorum
        const links = yield* transport.status
        const controllerStatus = yield* controller.status
        const finished = (yield* controller.history).findLast((e) => e._tag === "TransitionFinished")
        return {
          cluster: config.cluster.name,
          node: config.node,
          dc: controllerStatus.dc ?? null,
          members: [...(yield* members)],
          quorum: { quorate: quorum.quorate, votes: quorum.totalVotes, needed: quorum.quorum },
          peers: links.map((peer) => ({
            node: name(peer.nodeId),
            reachable: peer.reachable,
            links: peer.links.map((l) => ({ link: l.link, state: l.state }))
          })),
          version: Version.format(current.cib.version),
          ...Either.match(current.view, {
            onLeft: (error) => ({ nodes: [], resources: [], failures: [], problem: error.message }),
            onRight: (v) => ({
              nodes: v.nodes,
              resources: v.resources,
              failures: v.failures,
              pending: v.pending.decisions
            })
          }),
          ...(finished === undefined
            ? {}
            : {
                lastTransition: {
                  graph: finished.graph,
                  outcome: finished.outcome,
                  done: finished.done,
                  total: finished.total,
                  durationMs: finished.durationMs,
                  at: finished.at,
                  reasons: finished.reasons
                }
              })
        }
      })
    )

    const cibGet = Api.method(
      Schema.Struct({ format: Schema.optional(Schema.Literal("xml", "yaml", "json")) }),
      ({ format }) =>
        Effect.gen(function* () {
          const cib = yield* replica.query
          const version = Version.format(cib.version)
          switch (format ?? "xml") {
            case "json":
              return { version, cib }
            case "yaml":
              return yield* Either.match(YamlConfig.encodeEither(cib.configuration), {
                onLeft: (error) => Effect.fail(failure("refused", error.message)),
                onRight: (yaml) => Effect.succeed({ version, yaml })
              })
            default:
              return { version, xml: XmlCodec.encodeXml(cib) }
          }
        })
    )

    const cibApply = Api.method(
      Schema.Struct({ ...ConfigText, expectedVersion: Schema.optional(VersionText) }),
      (params) =>
        Effect.gen(function* () {
          const configuration = yield* decodeConfiguration(params)
          const before = yield* replica.query
          const edit = (cib: Cib.Cib): Either.Either<Cib.Cib, Edits.Refusal> => {
            const next = replaceConfiguration(cib, configuration)
            return Version.configurationDigest(next.configuration) ===
              Version.configurationDigest(cib.configuration)
              ? Either.left({ code: "refused", message: "the cluster already has this configuration" })
              : Either.right(next)
          }
          const options =
            params.expectedVersion === undefined
              ? {}
              : { expectedVersion: parseVersion(params.expectedVersion) }
          const { result, version } = yield* commit(edit, (cib) => cib, options)
          return {
            version,
            changes: Diff.render(Diff.diff(before, result)).filter((l) => !l.startsWith("~ version"))
          }
        })
    )

    const plan = Api.method(Schema.Struct({ config: Schema.optional(Schema.Struct(ConfigText)) }), (params) =>
      Effect.gen(function* () {
        const cib = yield* replica.query
        const proposed =
          params.config === undefined
            ? cib
            : replaceConfiguration(cib, yield* decodeConfiguration(params.config))
        const transition = yield* Either.match(ClusterView.schedule(proposed, yield* nowSeconds), {
          onLeft: (error) => Effect.fail(failure("refused", error.message)),
          onRight: Effect.succeed
        })
        return {
          version: Version.format(cib.version),
          changes: params.config === undefined ? [] : Diff.render(Diff.diff(cib, proposed)),
          ...ClusterView.pendingOf(transition)
        }
      })
    )

    const ResourceOnNode = Schema.Struct({ resource: Resource, node: Schema.optional(NodeName) })

    const move = Api.method(ResourceOnNode, ({ resource, node }) =>
      Effect.gen(function* () {
        const cib = yield* replica.query
        if (node === undefined) {
          // Pacemaker's move without a node: away from where it runs now
          const from = yield* soleNode(cib, resource, "move it away from")
          const { version } = yield* commitCib((c) => Edits.ban(c, resource, from))
          return { resource, away: from, constraint: Edits.banId(resource, from), version }
        }
        const nodes = yield* runningOn(cib, resource)
        if (nodes.size === 1 && nodes.has(node) && Either.isRight(Edits.findNode(cib, node)))
          return yield* Effect.fail(failure("refused", `${resource} is already running on ${node}`))
        const { version } = yield* commitCib((c) => Edits.move(c, resource, node))
        return { resource, to: node, constraint: Edits.preferId(resource), version }
      })
    )

    const ban = Api.method(ResourceOnNode, ({ resource, node }) =>
      Effect.gen(function* () {
        const from = node ?? (yield* soleNode(yield* replica.query, resource, "ban it from"))
        const { version } = yield* commitCib((c) => Edits.ban(c, resource, from))
        return { resource, from, constraint: Edits.banId(resource, from), version }
      })
    )

    const clear = Api.method(ResourceOnNode, ({ resource, node }) =>
      Effect.map(
        commit(
          (c) => Edits.clear(c, resource, node),
          (r) => r.cib
        ),
        ({ result, version }) => ({ resource, removed: result.removed, version })
      )
    )

    const cleanup = Api.method(ResourceOnNode, ({ resource, node }) =>
      Effect.map(
        commit(
          (c) => Edits.cleanup(c, resource, node),
          (r) => r.cib
        ),
        ({ result, version }) => ({ resource, nodes: result.nodes, version })
      )
    )

    const targetRole = (role: "Stopped" | undefined) =>
      Api.method(Schema.Struct({ resource: Resource }), ({ resource }) =>
        Effect.map(
          commitCib((c) => Edits.setTargetRole(c, resource, role)),
          ({ version }) => ({
            resource,
            targetRole: role ?? null,
            version
          })
        )
      )

    const restart = Api.method(
      Schema.Struct({ resource: Resource, timeoutMs: Schema.optional(Millis) }),
      ({ resource, timeoutMs = 120_000 }) =>
        Effect.gen(function* () {
          const cib = yield* replica.query
          if ((yield* runningOn(cib, resource)).size === 0)
            return yield* Effect.fail(
              failure("refused", `${resource} is not running: there is nothing to restart`)
            )
          const original = Edits.targetRole(cib, resource)
          const setRole = (role: string | undefined) =>
            commit(
              (c) => Either.right(Edits.forceTargetRole(c, resource, role)),
              (c) => c
            )
          yield* setRole("Stopped")
          const stopped = yield* waitSettled(timeoutMs)
          // the target-role is put back whatever happened: a restart must not leave it stopped
          yield* setRole(original)
          if (!stopped.settled)
            return yield* Effect.fail(
              failure(
                "refused",
                `${resource} did not stop within ${timeoutMs} ms (pending: ${stopped.pending.join("; ")}); its target-role is restored`
              )
            )
          const started = yield* waitSettled(timeoutMs)
          if (!started.settled)
            return yield* Effect.fail(
              failure(
                "refused",
                `${resource} stopped but the cluster did not settle within ${timeoutMs} ms after starting it again (pending: ${started.pending.join("; ")})`
              )
            )
          return { resource, stoppedMs: stopped.waitedMs, startedMs: started.waitedMs }
        })
    )

    const nodeMode = (mode: Edits.NodeMode) =>
      Api.method(Schema.Struct({ node: NodeName }), ({ node }) =>
        Effect.map(
          commitCib((c) => Edits.setNodeMode(c, node, mode)),
          ({ version }) => ({
            node,
            mode,
            version
          })
        )
      )

    const configuredNode = (node: string) =>
      Effect.flatMap(replica.query, (cib) =>
        Either.match(Edits.findNode(cib, node), {
          onLeft: (r) => Effect.fail(refusal(r)),
          onRight: () => Effect.void
        })
      )

    const fenceNode = Api.method(
      Schema.Struct({ node: NodeName, action: Schema.optional(Schema.Literal("off", "reboot", "on")) }),
      ({ node, action }) =>
        Effect.gen(function* () {
          yield* configuredNode(node)
          const done = yield* Manual.fence(node, action).pipe(
            Effect.provideService(FencerService.FencerService, fencer),
            Effect.mapError((error) => failure("refused", error.message))
          )
          return { ...done, executor: done.executor ?? null }
        })
    )

    const fenceHistory = Api.method(Schema.Struct({ node: Schema.optional(NodeName) }), ({ node }) =>
      Effect.map(fencer.history(node), (entries) => ({ entries: entries.map(fenceEntryJson) }))
    )

    const fenceConfirm = Api.method(
      Schema.Struct({ node: NodeName, verified: Schema.optional(Schema.Boolean) }),
      ({ node, verified }) =>
        Effect.gen(function* () {
          yield* configuredNode(node)
          if (verified !== true)
            return yield* Effect.fail(
              failure(
                "refused",
                `${Manual.confirmWarning(node)}\nNot confirmed: ask again with "verified": true once you have made sure.`
              )
            )
          if ((yield* members).has(node))
            return yield* Effect.fail(
              failure(
                "refused",
                `${node} is a member of the cluster right now: it is not down, nothing to confirm`
              )
            )
          yield* fencer.confirm(node)
          return { node, confirmed: true }
        })
    )

    const log = Api.method(
      Schema.Struct({ limit: Schema.optional(Schema.Int.pipe(Schema.between(1, 10_000))) }),
      ({ limit = 200 }) =>
        Effect.gen(function* () {
          const events = (yield* controller.history).map((e) => LogEntry.ofController(config.node, e))
          const fencing = (yield* fencer.history()).map(LogEntry.ofFencing)
          const entries = [...events, ...fencing].sort((a, b) => a.at - b.at)
          return { node: config.node, entries: entries.slice(Math.max(0, entries.length - limit)) }
        })
    )

    /**
     * Node attributes, as agents set them through `crm_attribute`/`crm_master` (libexec/): DRBD and
     * Stateful publish their promotion scores this way. Setting the value already there commits nothing.
     */
    const Lifetime = Schema.optionalWith(Schema.Literal("reboot", "forever"), {
      default: () => "reboot" as const
    })
    const AttributeName = Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_.:#-]{1,256}$/)).annotations({
      title: "attribute name"
    })
    const attributeUpdate = Api.method(
      Schema.Struct({
        node: NodeName,
        name: AttributeName,
        value: Schema.NullOr(Schema.String),
        lifetime: Lifetime
      }),
      ({ node, name, value, lifetime }) =>
        Effect.gen(function* () {
          const edit = (cib: Cib.Cib) => Edits.setNodeAttribute(cib, node, name, value ?? undefined, lifetime)
          const current = yield* replica.query
          const checked = edit(current)
          if (Either.isLeft(checked)) return yield* Effect.fail(refusal(checked.left))
          if (checked.right === current) return { node, name, value, changed: false }
          yield* commit(edit, (cib) => cib)
          return { node, name, value, changed: true }
        })
    )
    const attributeQuery = Api.method(
      Schema.Struct({ node: NodeName, name: AttributeName, lifetime: Lifetime }),
      ({ node, name, lifetime }) =>
        Effect.flatMap(replica.query, (cib) =>
          Either.match(Edits.nodeAttribute(cib, node, name, lifetime), {
            onLeft: (r) => Effect.fail(refusal(r)),
            onRight: (value) => Effect.succeed({ node, name, value: value ?? null })
          })
        )
    )

    const transitionWait = Api.method(
      Schema.Struct({ timeoutMs: Schema.optional(Millis) }),
      ({ timeoutMs = 60_000 }) => waitSettled(timeoutMs)
    )

    return {
      status,
      "cib.get": cibGet,
      "cib.apply": cibApply,
      plan,
      "resource.move": move,
      "resource.ban": ban,
      "resource.clear": clear,
      "resource.restart": restart,
      "resource.cleanup": cleanup,
      "resource.enable": targetRole(undefined),
      "resource.disable": targetRole("Stopped"),
      "node.standby": nodeMode("standby"),
      "node.online": nodeMode("online"),
      "node.maintenance": nodeMode("maintenance"),
      "fence.node": fenceNode,
      "fence.history": fenceHistory,
      "fence.confirm": fenceConfirm,
      log,
      "transition.wait": transitionWait,
      "attribute.update": attributeUpdate,
      "attribute.query": attributeQuery
    } satisfies Api.Methods<never>
  })

const fenceEntryJson = (e: Fencer.HistoryEntry) => ({ ...e, executor: e.executor ?? null })
