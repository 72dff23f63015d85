/**
 * The daemon's program: read and check the configuration, set up logs, join the cluster (transport
 * and membership), serve the local API and, when asked, metrics; log every view and quorum change;
 * run until interrupted (SIGTERM/SIGINT through the runtime), then leave and remove the socket.
 */
import { mkdirSync, readFileSync } from "node:fs"
import { hostname } from "node:os"
import { Membership } from "@ha/membership"
import { Transport } from "@ha/transport"
import { Effect, Either, Metric, Option, Schema, Stream } from "effect"
import * as Api from "./Api.ts"
import * as ClusterNode from "./ClusterNode.ts"
import * as DaemonConfig from "./DaemonConfig.ts"
import * as Log from "./Log.ts"
import * as Metrics from "./Metrics.ts"
import * as NodeApi from "./platform/NodeApi.ts"
import * as NodeMetrics from "./platform/NodeMetrics.ts"

/** The configuration file cannot be read or is invalid: the daemon does not start. */
export class StartupError extends Schema.TaggedError<StartupError>()("StartupError", {
  message: Schema.String
}) {}

/** Reads and checks the configuration file. */
export const loadConfig = (path: string) =>
  Effect.gen(function* () {
    const text = yield* Effect.try({
      try: () => readFileSync(path, "utf8"),
      catch: (error) => new StartupError({ message: `${path}: ${(error as Error).message}` })
    })
    return yield* Either.match(DaemonConfig.parse(text, path, hostname()), {
      onLeft: (error) => Effect.fail(new StartupError({ message: error.message })),
      onRight: Effect.succeed
    })
  })

/** The API methods a node answers with what it knows so far: who it is, the view, quorum and links. */
const methods = (config: DaemonConfig.DaemonConfig) =>
  Effect.gen(function* () {
    const membership = yield* Membership.Membership
    const transport = yield* Transport.Transport
    const names = new Map([...ClusterNode.nodeIds(config)].map(([name, id]) => [id, name]))
    const name = (id: number) => names.get(id) ?? `node ${id}`
    const status = Api.method(Schema.Struct({}), () =>
      Effect.gen(function* () {
        const view = yield* membership.currentView
        const quorum = yield* membership.currentQuorum
        const links = yield* transport.status
        return {
          cluster: config.cluster.name,
          node: config.node,
          members: Option.match(view, { onNone: () => [], onSome: (v) => v.members.map(name) }),
          quorum: { quorate: quorum.quorate, votes: quorum.totalVotes, needed: quorum.quorum },
          peers: links.map((peer) => ({
            node: name(peer.nodeId),
            reachable: peer.reachable,
            links: peer.links.map((l) => ({ link: l.link, state: l.state }))
          }))
        }
      })
    )
    return { status } satisfies Api.Methods<never>
  })

/** Logs and exports every view and quorum change. */
const watchCluster = (config: DaemonConfig.DaemonConfig) =>
  Effect.gen(function* () {
    const membership = yield* Membership.Membership
    const names = new Map([...ClusterNode.nodeIds(config)].map(([name, id]) => [id, name]))
    yield* membership.views.pipe(
      Stream.runForEach((view) =>
        Effect.all([
          Effect.logInfo("membership view").pipe(
            Effect.annotateLogs({ members: view.members.map((id) => names.get(id) ?? id).join(",") })
          ),
          Metric.set(Metrics.members, view.members.length)
        ])
      ),
      Effect.forkScoped
    )
    yield* membership.quorum.pipe(
      Stream.changesWith((a, b) => a.quorate === b.quorate),
      Stream.runForEach((status) =>
        Effect.all([
          Effect.logInfo(status.quorate ? "quorum gained" : "quorum lost").pipe(
            Effect.annotateLogs({ votes: status.totalVotes, needed: status.quorum })
          ),
          Metric.set(Metrics.quorate, status.quorate ? 1 : 0)
        ])
      ),
      Effect.forkScoped
    )
  })

/** Runs the daemon for the given configuration file until interrupted. */
export const run = (path: string): Effect.Effect<never, StartupError> =>
  Effect.flatMap(loadConfig(path), (config) =>
    Effect.gen(function* () {
      for (const dir of [config.stateDir, config.runDir]) mkdirSync(dir, { recursive: true, mode: 0o755 })
      yield* watchCluster(config)
      const socket = DaemonConfig.apiSocket(config)
      yield* NodeApi.serve(yield* methods(config), socket)
      if (config.metrics !== undefined) {
        const port = yield* NodeMetrics.serve(config.metrics)
        yield* Effect.logInfo("metrics").pipe(Effect.annotateLogs({ address: config.metrics.address, port }))
      }
      yield* Effect.logInfo("started").pipe(
        Effect.annotateLogs({ node: config.node, cluster: config.cluster.name, api: socket.path })
      )
      return yield* Effect.never
    }).pipe(
      Effect.onInterrupt(() => Effect.logInfo("stopping")),
      Effect.scoped,
      Effect.provide(ClusterNode.layer(config, path)),
      // what stops a node from starting (a key file, an address in use, a socket taken) ends it
      Effect.mapError((error) =>
        error instanceof StartupError ? error : new StartupError({ message: error.message })
      ),
      Effect.provide(Log.layer(config.log))
    )
  )
