/**
 * `ha status`: the running cluster as this node's daemon sees it, through the local API. So far the
 * membership: who is in the view, quorum, and the state of every link to every peer.
 */
import { Command, Options } from "@effect/cli"
import { NodeApi } from "@ha/daemon"
import { Console, Effect, Schema } from "effect"

/** The daemon cannot be reached or refused the request (exit code 4: the cluster, not the input). */
export class DaemonUnavailableError extends Schema.TaggedError<DaemonUnavailableError>()(
  "DaemonUnavailableError",
  {
    problem: Schema.String
  }
) {
  readonly exitCode = 4
  override get message() {
    return this.problem
  }
}

export const ClusterStatus = Schema.Struct({
  cluster: Schema.String,
  node: Schema.String,
  members: Schema.Array(Schema.String),
  quorum: Schema.Struct({ quorate: Schema.Boolean, votes: Schema.Number, needed: Schema.Number }),
  peers: Schema.Array(
    Schema.Struct({
      node: Schema.String,
      reachable: Schema.Boolean,
      links: Schema.Array(Schema.Struct({ link: Schema.Number, state: Schema.String }))
    })
  )
})
export type ClusterStatus = typeof ClusterStatus.Type

/** The status for people: one line for the cluster, one per peer with its links. */
export const render = (status: ClusterStatus): string =>
  [
    `Cluster ${status.cluster}, seen from ${status.node}: ${
      status.quorum.quorate ? "quorate" : "NO QUORUM"
    } (${status.quorum.votes} votes, ${status.quorum.needed} needed)`,
    `Members: ${status.members.length === 0 ? "(none yet)" : status.members.join(", ")}`,
    ...status.peers.map(
      (peer) =>
        `  ${peer.node}: ${peer.reachable ? "reachable" : "UNREACHABLE"}; ${peer.links
          .map((l) => `link ${l.link} ${l.state}`)
          .join(", ")}`
    )
  ].join("\n")

export const command = Command.make(
  "status",
  {
    socket: Options.text("socket").pipe(
      Options.withDefault("/run/ha/api.sock"),
      Options.withDescription("the daemon's API socket")
    ),
    json: Options.boolean("json").pipe(Options.withDescription("print the status as JSON"))
  },
  ({ socket, json }) =>
    Effect.gen(function* () {
      const answer = yield* NodeApi.call(socket, "status", {}, { timeoutMs: 10_000 }).pipe(
        Effect.mapError((error) => new DaemonUnavailableError({ problem: error.message }))
      )
      const status = yield* Schema.decodeUnknown(ClusterStatus)(answer).pipe(
        Effect.mapError(
          (error) =>
            new DaemonUnavailableError({ problem: `the daemon's answer is not a status: ${error.message}` })
        )
      )
      yield* Console.log(json ? JSON.stringify(status, null, 2) : render(status))
    })
).pipe(Command.withDescription("Show the running cluster as this node's daemon sees it."))
