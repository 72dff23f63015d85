/**
 * The datagram socket service the transport runs over. Implementations: `platform/NodeUdp.ts`
 * (node:dgram), `platform/DenoUdp.ts` (Deno.listenDatagram) and `MemoryNetwork.ts` (in-memory, for
 * tests). `layerFaults` wraps any of them with switches that silence chosen sockets, to cut a "link"
 * of a real UDP setup from a test.
 */
import { Chunk, Context, Effect, HashSet, Layer, Queue, Ref, Schema, type Scope } from "effect"

export interface Endpoint {
  readonly address: string
  readonly port: number
}

export const endpointKey = (endpoint: Endpoint): string => `${endpoint.address}:${endpoint.port}`

export interface Datagram {
  readonly bytes: Uint8Array
  readonly from: Endpoint
}

export class DatagramError extends Schema.TaggedError<DatagramError>()("DatagramError", {
  endpoint: Schema.String,
  message: Schema.String
}) {}

/** Most datagrams handed over by one `receive`: batching saves a wake-up per datagram under load. */
export const RECEIVE_BATCH = 256

/** Takes a receive batch from a queue of datagrams. */
export const takeBatch = (queue: Queue.Dequeue<Datagram>): Effect.Effect<ReadonlyArray<Datagram>> =>
  Effect.map(Queue.takeBetween(queue, 1, RECEIVE_BATCH), Chunk.toReadonlyArray)

export interface DatagramSocket {
  /** The bound address (port resolved when 0 was asked). */
  readonly local: Endpoint
  /** Best effort, as UDP: errors are reported, never retried. */
  readonly send: (bytes: Uint8Array, to: Endpoint) => Effect.Effect<void, DatagramError>
  /** Waits for the next datagrams: at least one, and all already waiting (up to RECEIVE_BATCH). */
  readonly receive: Effect.Effect<ReadonlyArray<Datagram>>
}

export class DatagramNetwork extends Context.Tag("@ha/transport/DatagramNetwork")<
  DatagramNetwork,
  {
    /** Binds a socket for the lifetime of the scope. */
    readonly bind: (endpoint: Endpoint) => Effect.Effect<DatagramSocket, DatagramError, Scope.Scope>
  }
>() {}

/** Switches that make chosen local sockets deaf and mute (test hook for cutting one link). */
export class DatagramFaults extends Context.Tag("@ha/transport/DatagramFaults")<
  DatagramFaults,
  {
    readonly cut: (local: Endpoint) => Effect.Effect<void>
    readonly restore: (local: Endpoint) => Effect.Effect<void>
  }
>() {}

export const layerFaults: Layer.Layer<DatagramNetwork | DatagramFaults, never, DatagramNetwork> =
  Layer.effectContext(
    Effect.gen(function* () {
      const inner = yield* DatagramNetwork
      const cut = yield* Ref.make(HashSet.empty<string>())
      const isCut = (endpoint: Endpoint) => Ref.get(cut).pipe(Effect.map(HashSet.has(endpointKey(endpoint))))
      const network = DatagramNetwork.of({
        bind: (endpoint) =>
          Effect.map(inner.bind(endpoint), (socket) => ({
            local: socket.local,
            send: (bytes, to) =>
              Effect.flatMap(isCut(socket.local), (silent) =>
                silent ? Effect.void : socket.send(bytes, to)
              ),
            receive: Effect.flatMap(socket.receive, function loop(batch): Effect.Effect<
              ReadonlyArray<Datagram>
            > {
              return Effect.flatMap(isCut(socket.local), (deaf) =>
                deaf ? Effect.flatMap(socket.receive, loop) : Effect.succeed(batch)
              )
            })
          }))
      })
      const faults = DatagramFaults.of({
        cut: (local) => Ref.update(cut, HashSet.add(endpointKey(local))),
        restore: (local) => Ref.update(cut, HashSet.remove(endpointKey(local)))
      })
      return Context.make(DatagramNetwork, network).pipe(Context.add(DatagramFaults, faults))
    })
  )
