/**
 * The daemon's program: read and check the configuration, set up logs, join the cluster (transport
 * and membership), serve the local API and, when asked, metrics; log every view and quorum change;
 * run until interrupted (SIGTERM/SIGINT through the runtime), then leave and remove the socket.
 */
import { mkdirSync, readFileSync } from "node:fs"
import { hostname } from "node:os"
import { type Cib, CibReplica } from "@ha/cib"
import { Controller, Status } from "@ha/controller"
import { Membership } from "@ha/membership"
import { Transport } from "@ha/transport"
import { Clock, Duration, Effect, Either, Metric, Schedule, Schema, Stream } from "effect"
import * as ClusterNode from "./ClusterNode.ts"
import * as DaemonConfig from "./DaemonConfig.ts"
import * as Log from "./Log.ts"
import * as Methods from "./Methods.ts"
import * as Metrics from "./Metrics.ts"
import * as Edits from "./methods/Edits.ts"
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

const prepareDirectories = (config: DaemonConfig.DaemonConfig) => {
  for (const dir of [config.stateDir, `${config.stateDir}/cib`, config.runDir, `${config.runDir}/rsctmp`])
    mkdirSync(dir, { recursive: true, mode: 0o755 })
}

/** Logs what the DC does: elections, transitions and their outcome, failures, fencing. */
const watchController = Effect.gen(function* () {
  const controller = yield* Controller.Controller
  yield* controller.events.pipe(
    Stream.runForEach((event) => {
      switch (event._tag) {
        case "Elected":
          return Effect.logInfo("DC elected").pipe(Effect.annotateLogs({ dc: event.dc ?? "none" }))
        case "TransitionStarted":
          return Effect.logInfo("transition started").pipe(
            Effect.annotateLogs({
              graph: event.graph,
              actions: event.actions,
              reasons: event.reasons.join("; ")
            })
          )
        case "TransitionFinished":
          return Effect.logInfo("transition finished").pipe(
            Effect.annotateLogs({
              graph: event.graph,
              outcome: event.outcome,
              done: `${event.done}/${event.total}`,
              ms: event.durationMs
            })
          )
        case "Completed":
          return event.ok
            ? Effect.logDebug("action done").pipe(
                Effect.annotateLogs({ action: event.key, node: event.node ?? "" })
              )
            : Effect.logWarning("action failed").pipe(
                Effect.annotateLogs({ action: event.key, node: event.node ?? "", detail: event.detail })
              )
        case "FailureCounted":
          return Effect.logWarning("failure").pipe(
            Effect.annotateLogs({
              resource: event.resource,
              operation: event.operation,
              node: event.node,
              rc: event.rc
            })
          )
        case "NodeFenced":
          return Effect.logWarning("node fenced").pipe(Effect.annotateLogs({ node: event.node }))
        case "PlanFailed":
          return Effect.logError("cannot plan").pipe(Effect.annotateLogs({ reason: event.reason }))
        default:
          return Effect.void
      }
    }),
    Effect.forkScoped
  )
})

/**
 * Feeds the metrics that are not views or quorum: links up per peer (every 5 s), resources active
 * on this node (on every CIB change), and, on the DC, transition durations, failures and fencing.
 */
const watchMetrics = (config: DaemonConfig.DaemonConfig) =>
  Effect.gen(function* () {
    const transport = yield* Transport.Transport
    const replica = yield* CibReplica.CibReplica
    const controller = yield* Controller.Controller
    const names = new Map([...ClusterNode.nodeIds(config)].map(([name, id]) => [id, name]))
    yield* transport.status.pipe(
      Effect.flatMap((peers) =>
        Effect.forEach(peers, (peer) =>
          Metric.set(
            Metric.tagged(Metrics.linksUp, "peer", names.get(peer.nodeId) ?? String(peer.nodeId)),
            peer.links.filter((l) => l.state === "up").length
          )
        )
      ),
      Effect.repeat(Schedule.spaced("5 seconds")),
      Effect.forkScoped
    )
    yield* replica.changes.pipe(
      Stream.runForEach(() =>
        Effect.flatMap(replica.query, (cib) =>
          Metric.set(
            Metric.tagged(Metrics.resources, "role", "active"),
            Status.activeResources(cib, config.node).size
          )
        )
      ),
      Effect.forkScoped
    )
    yield* controller.events.pipe(
      Stream.runForEach((event) => {
        switch (event._tag) {
          case "TransitionFinished":
            return Metric.update(Metrics.transitionSeconds, event.durationMs / 1000)
          case "FailureCounted":
            return Metric.increment(
              Metric.tagged(
                Metric.tagged(
                  Metric.tagged(Metrics.operationFailures, "resource", event.resource),
                  "operation",
                  event.operation
                ),
                "node",
                event.node
              )
            )
          case "NodeFenced":
            return Metric.increment(
              Metric.tagged(
                Metric.tagged(Metrics.fencingActions, "target", event.node),
                "result",
                "succeeded"
              )
            )
          default:
            return Effect.void
        }
      }),
      Effect.forkScoped
    )
  })

/**
 * `shutdown: stop`: the resources active on `node` are disabled cluster-wide (target-role Stopped,
 * `ha resource enable` starts them again) instead of failing over. Clones are left alone: their
 * instance here stops, the others go on.
 */
const stopActive = (cib: Cib.Cib, node: string): Cib.Cib => {
  let updated = cib
  for (const id of Status.activeResources(cib, node)) {
    Either.map(Edits.findResource(updated, id.replace(/:\d+$/, "")), ({ top }) => {
      if (top._tag !== "Clone") updated = Edits.forceTargetRole(updated, top.id, "Stopped")
    })
  }
  return updated
}

/**
 * A graceful stop: this node asks to shut down (Pacemaker's `shutdown` node attribute), the DC
 * moves or stops its resources, and the node leaves once none is active here, or after
 * `timeoutMs` (then the cluster treats what is left as it would a lost node's).
 */
const leave = (config: DaemonConfig.DaemonConfig, timeoutMs: number) =>
  Effect.gen(function* () {
    const replica = yield* CibReplica.CibReplica
    const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    yield* replica.update((cib) => {
      const leaving = Status.setAttribute(cib, config.node, "shutdown", String(now))
      return config.shutdown === "stop" ? stopActive(leaving, config.node) : leaving
    })
    yield* Effect.logInfo("waiting for this node's resources to stop")
    yield* replica.query.pipe(
      Effect.map((cib) => Status.activeResources(cib, config.node).size === 0),
      Effect.repeat({ schedule: Schedule.spaced("200 millis"), until: (done) => done })
    )
    yield* Effect.logInfo("no resources active here")
  }).pipe(
    Effect.timeout(Duration.millis(timeoutMs)),
    Effect.catchAll((error) => Effect.logWarning(`leaving without a clean hand-over: ${error.message}`))
  )

/** Runs the daemon for the given configuration file until interrupted. */
export const run = (path: string): Effect.Effect<never, StartupError> =>
  Effect.flatMap(loadConfig(path), (config) =>
    Effect.gen(function* () {
      yield* watchCluster(config)
      yield* watchController
      yield* watchMetrics(config)
      const socket = DaemonConfig.apiSocket(config)
      yield* NodeApi.serve(yield* Methods.make(config), socket)
      if (config.metrics !== undefined) {
        const port = yield* NodeMetrics.serve(config.metrics)
        yield* Effect.logInfo("metrics").pipe(Effect.annotateLogs({ address: config.metrics.address, port }))
      }
      yield* Effect.logInfo("started").pipe(
        Effect.annotateLogs({ node: config.node, cluster: config.cluster.name, api: socket.path })
      )
      return yield* Effect.never.pipe(
        Effect.onInterrupt(() =>
          Effect.logInfo("stopping").pipe(Effect.zipRight(leave(config, config.shutdownTimeoutMs)))
        )
      )
    }).pipe(
      Effect.scoped,
      Effect.provide(ClusterNode.layer(config, path)),
      // what stops a node from starting (a key file, an address in use, a socket taken) ends it
      Effect.mapError((error) =>
        error instanceof StartupError ? error : new StartupError({ message: error.message })
      ),
      Effect.provide(Log.layer(config.log)),
      // the state and run directories exist before anything (the CIB store) opens them
      (main) =>
        Effect.try({
          try: () => prepareDirectories(config),
          catch: (error) => new StartupError({ message: (error as Error).message })
        }).pipe(Effect.zipRight(main))
    )
  )
