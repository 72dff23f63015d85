/**
 * The DC's reach to the executor of every node. In the daemon, requests for other nodes travel
 * over the cluster transport to their executors (apps/daemon provides that `layer`); here are the
 * contract and the in-memory implementation over in-process executors (one per node) that the
 * tests and the in-process cluster use.
 */
import type { Executor, OperationRecord, ResourceAgent } from "@ha/executor"
import { Context, Effect, Layer, Ref, Schema, Stream } from "effect"

/** The node cannot be reached (not running, or cut off): the operation did not run there. */
export class NodeUnreachable extends Schema.TaggedError<NodeUnreachable>()("NodeUnreachable", {
  node: Schema.String
}) {
  override get message() {
    return `node ${this.node} cannot be reached`
  }
}

export interface NodeExecutorsService {
  readonly execute: (
    node: string,
    request: Executor.OperationRequest
  ) => Effect.Effect<OperationRecord.OperationRecord, NodeUnreachable>
  /** Keeps the resource's recurring monitors running on the node (see Executor.define). */
  readonly define: (
    node: string,
    definition: Executor.ResourceDefinition
  ) => Effect.Effect<void, NodeUnreachable>
  /** Results reported by the nodes' executors (each carries its `onNode`), monitor failures included. */
  readonly records: Stream.Stream<OperationRecord.OperationRecord>
}

export class NodeExecutors extends Context.Tag("@ha/controller/NodeExecutors")<
  NodeExecutors,
  NodeExecutorsService
>() {}

export interface MemoryExecutors {
  readonly service: NodeExecutorsService
  /** Cuts a node off (its executor keeps running, as a crashed node's processes might) or reconnects it. */
  readonly setReachable: (node: string, reachable: boolean) => Effect.Effect<void>
}

export interface MemoryOptions {
  /** Rewrites the agents a CIB names onto the agents the executors have (e.g. ocf → scripted natives). */
  readonly mapAgent?: (agent: ResourceAgent.AgentRef) => ResourceAgent.AgentRef
}

/** Over in-process executors, by node name. */
export const makeMemory = (
  executors: ReadonlyMap<string, Executor.ExecutorService>,
  options: MemoryOptions = {}
): Effect.Effect<MemoryExecutors> =>
  Effect.gen(function* () {
    const cut = yield* Ref.make(new Set<string>())
    const mapAgent = options.mapAgent ?? ((agent) => agent)
    const reach = (node: string) =>
      Effect.gen(function* () {
        const executor = executors.get(node)
        if (executor === undefined || (yield* Ref.get(cut)).has(node))
          return yield* new NodeUnreachable({ node })
        return executor
      })
    const records = Stream.mergeAll(
      [...executors.entries()].map(([node, executor]) =>
        executor.records.pipe(Stream.filterEffect(() => Ref.get(cut).pipe(Effect.map((c) => !c.has(node)))))
      ),
      { concurrency: "unbounded" }
    )
    return {
      service: {
        execute: (node, request) =>
          reach(node).pipe(Effect.flatMap((e) => e.execute({ ...request, agent: mapAgent(request.agent) }))),
        define: (node, definition) =>
          reach(node).pipe(
            Effect.flatMap((e) => e.define({ ...definition, agent: mapAgent(definition.agent) }))
          ),
        records
      },
      setReachable: (node, reachable) =>
        Ref.update(cut, (c) => {
          const next = new Set(c)
          if (reachable) next.delete(node)
          else next.add(node)
          return next
        })
    }
  })

export const layerMemory = (memory: MemoryExecutors): Layer.Layer<NodeExecutors> =>
  Layer.succeed(NodeExecutors, memory.service)
