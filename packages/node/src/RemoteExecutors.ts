/**
 * The controller's `NodeExecutors` over a membership channel: the DC's requests to run or define
 * operations travel as JSON messages to the node named in them, which runs them on its own
 * executor and broadcasts the result; every node also broadcasts its recurring monitors' results.
 * As Pacemaker's controllers talk to each other over CPG, nothing but the membership is needed,
 * and a node outside the DC's view is unreachable by construction.
 *
 * Every node runs this service: it serves the requests addressed to it, whoever is DC.
 */

import { NodeExecutors } from "@ha/controller"
import { Executor, type OperationRecord, type ResourceAgent } from "@ha/executor"
import type { Channel } from "@ha/membership"
import { Deferred, Effect, Layer, Option, PubSub, Ref, Schema, type Scope, Stream } from "effect"
import type { ClusterNodes } from "./ClusterNodes.ts"

/** Messages on the execution channel. Operation requests and records are plain JSON data. */
type Message =
  | {
      readonly _tag: "Execute"
      readonly id: string
      readonly to: string
      readonly request: Executor.OperationRequest
    }
  | {
      readonly _tag: "Define"
      readonly id: string
      readonly to: string
      readonly definition: Executor.ResourceDefinition
    }
  | { readonly _tag: "Executed"; readonly id: string; readonly record: OperationRecord.OperationRecord }
  | { readonly _tag: "Defined"; readonly id: string }
  | { readonly _tag: "Reported"; readonly record: OperationRecord.OperationRecord }

const Envelope = Schema.parseJson(
  Schema.Struct(
    { _tag: Schema.Literal("Execute", "Define", "Executed", "Defined", "Reported") },
    { key: Schema.String, value: Schema.Unknown }
  )
)
const decodeEnvelope = Schema.decodeUnknownOption(Envelope)
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export interface Options {
  /** Rewrites the agents requests name onto the agents this node's executor has (simulations). */
  readonly mapAgent?: (agent: ResourceAgent.AgentRef) => ResourceAgent.AgentRef
}

type Reply =
  | { readonly _tag: "Executed"; readonly record: OperationRecord.OperationRecord }
  | { readonly _tag: "Defined" }

export const make = (
  channel: Channel.ChannelService,
  nodes: ClusterNodes,
  executor: Executor.ExecutorService,
  options: Options = {}
): Effect.Effect<NodeExecutors.NodeExecutorsService, never, Scope.Scope> =>
  Effect.gen(function* () {
    const self = nodes.nameOf(channel.self)
    const mapAgent = options.mapAgent ?? ((agent) => agent)
    const members = yield* Ref.make<ReadonlySet<string>>(new Set())
    const waiting = new Map<
      string,
      { readonly node: string; readonly reply: Deferred.Deferred<Reply, NodeExecutors.NodeUnreachable> }
    >()
    const reported = yield* PubSub.unbounded<OperationRecord.OperationRecord>()
    let sequence = 0

    const send = (message: Message) => channel.broadcast(encoder.encode(JSON.stringify(message)))

    const serve = (message: Message): Effect.Effect<void> => {
      switch (message._tag) {
        case "Execute":
          return executor
            .execute({ ...message.request, agent: mapAgent(message.request.agent) })
            .pipe(Effect.flatMap((record) => send({ _tag: "Executed", id: message.id, record })))
        case "Define":
          return executor
            .define({ ...message.definition, agent: mapAgent(message.definition.agent) })
            .pipe(Effect.zipRight(send({ _tag: "Defined", id: message.id })))
        default:
          return Effect.void
      }
    }

    const settle = (id: string, reply: Reply) =>
      Effect.suspend(() => {
        const entry = waiting.get(id)
        waiting.delete(id)
        return entry === undefined ? Effect.void : Deferred.succeed(entry.reply, reply)
      })

    const receive = (event: Channel.ChannelEvent): Effect.Effect<void, never, Scope.Scope> =>
      Effect.gen(function* () {
        if (event._tag === "View") {
          const now = new Set(event.view.members.map(nodes.nameOf))
          yield* Ref.set(members, now)
          // a request to a node that left will never be answered: it did not run (or its node is gone)
          for (const [id, entry] of waiting) {
            if (now.has(entry.node)) continue
            waiting.delete(id)
            yield* Deferred.fail(entry.reply, new NodeExecutors.NodeUnreachable({ node: entry.node }))
          }
          return
        }
        const text = decoder.decode(event.payload)
        const decoded = decodeEnvelope(text)
        if (Option.isNone(decoded)) {
          return yield* Effect.logWarning(
            `execution: unreadable message from node ${event.sender}: ${text.slice(0, 80)}`
          )
        }
        const message = decoded.value as unknown as Message
        switch (message._tag) {
          case "Execute":
          case "Define":
            // each request runs in its own fiber: a long start must not hold up a monitor or a stop
            if (message.to === self) yield* Effect.forkScoped(serve(message))
            return
          case "Executed":
            return yield* settle(message.id, { _tag: "Executed", record: message.record })
          case "Defined":
            return yield* settle(message.id, { _tag: "Defined" })
          case "Reported":
            return yield* PubSub.publish(reported, message.record)
        }
      })

    yield* Effect.forkScoped(Stream.runForEach(channel.events, receive))
    // recurring monitors' results go to whoever is DC; one-shot results travel as replies
    yield* Effect.forkScoped(
      Stream.runForEach(
        Stream.filter(executor.records, (record) => record.interval > 0),
        (record) => send({ _tag: "Reported", record })
      )
    )

    const request = (node: string, make: (id: string) => Message) =>
      Effect.gen(function* () {
        if (!(yield* Ref.get(members)).has(node)) return yield* new NodeExecutors.NodeUnreachable({ node })
        const id = `${self}:${++sequence}`
        const reply = yield* Deferred.make<Reply, NodeExecutors.NodeUnreachable>()
        waiting.set(id, { node, reply })
        yield* send(make(id))
        return yield* Deferred.await(reply).pipe(
          Effect.onInterrupt(() => Effect.sync(() => waiting.delete(id)))
        )
      })

    return {
      execute: (node, operation) =>
        request(node, (id) => ({ _tag: "Execute", id, to: node, request: operation })).pipe(
          Effect.flatMap((reply) =>
            reply._tag === "Executed"
              ? Effect.succeed(reply.record)
              : Effect.die("a Define reply to an Execute")
          )
        ),
      define: (node, definition) =>
        request(node, (id) => ({ _tag: "Define", id, to: node, definition })).pipe(Effect.asVoid),
      records: Stream.fromPubSub(reported)
    }
  })

/** Over the channel in `channel` and this node's executor. */
export const layer = (channel: Channel.ChannelService, nodes: ClusterNodes, options: Options = {}) =>
  Layer.scoped(
    NodeExecutors.NodeExecutors,
    Effect.flatMap(Executor.Executor, (executor) => make(channel, nodes, executor, options))
  )
