/**
 * The fencer's window on the cluster: a totally ordered broadcast with membership (the contract of
 * the membership layer, being written in packages/membership). `layerTest`/`MemoryCluster` is an
 * in-memory cluster for tests: one global order, and partitions that split membership.
 */
import { Context, Effect, Queue, Ref, Stream } from "effect"
import type { ClusterMessage } from "./Fencer.ts"

export type ClusterEvent =
  | { readonly _tag: "Delivered"; readonly message: ClusterMessage }
  | { readonly _tag: "Membership"; readonly members: ReadonlyArray<string> }

export class ClusterPort extends Context.Tag("@ha/fencing/ClusterPort")<
  ClusterPort,
  {
    readonly self: string
    /** Delivered to every member of the sender's partition, itself included, in one order for all. */
    readonly broadcast: (message: ClusterMessage) => Effect.Effect<void>
    /** Deliveries and membership changes, the current membership first. */
    readonly events: Stream.Stream<ClusterEvent>
  }
>() {}

export interface MemoryCluster {
  readonly port: (node: string) => ClusterPort["Type"]
  /** Splits the cluster: each group only hears itself. A node in no group is alone. */
  readonly partition: (groups: ReadonlyArray<ReadonlyArray<string>>) => Effect.Effect<void>
  /** Every message broadcast so far, with its sender. */
  readonly sent: Effect.Effect<ReadonlyArray<{ readonly from: string; readonly message: ClusterMessage }>>
}

export const makeMemoryCluster = (nodes: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const queues = new Map<string, Queue.Queue<ClusterEvent>>()
    for (const node of nodes) queues.set(node, yield* Queue.unbounded<ClusterEvent>())
    const groups = yield* Ref.make<ReadonlyArray<ReadonlyArray<string>>>([nodes])
    const sent = yield* Ref.make<ReadonlyArray<{ from: string; message: ClusterMessage }>>([])
    const groupOf = (all: ReadonlyArray<ReadonlyArray<string>>, node: string) =>
      all.find((g) => g.includes(node)) ?? [node]
    for (const node of nodes) queues.get(node)!.unsafeOffer({ _tag: "Membership", members: [...nodes] })
    const cluster: MemoryCluster = {
      port: (node) => ({
        self: node,
        broadcast: (message) =>
          Effect.gen(function* () {
            const all = yield* Ref.get(groups)
            yield* Ref.update(sent, (list) => [...list, { from: node, message }])
            // Offered synchronously to every member, so all queues get broadcasts in the same order.
            yield* Effect.sync(() => {
              for (const member of groupOf(all, node))
                queues.get(member)?.unsafeOffer({ _tag: "Delivered", message })
            })
          }),
        events: Stream.fromQueue(queues.get(node)!)
      }),
      partition: (next) =>
        Effect.gen(function* () {
          yield* Ref.set(groups, next)
          yield* Effect.sync(() => {
            for (const node of nodes)
              queues.get(node)!.unsafeOffer({ _tag: "Membership", members: [...groupOf(next, node)] })
          })
        }),
      sent: Ref.get(sent)
    }
    return cluster
  })
