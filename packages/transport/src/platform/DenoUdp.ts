/**
 * DatagramNetwork over Deno 2's `Deno.listenDatagram` (still behind `--unstable-net` in Deno 2.9: run
 * with `deno run --unstable-net --allow-net`). The Deno namespace is typed locally so that this module
 * compiles under Node's tsc; it is only evaluated when the layer is built on Deno.
 */
import { Effect, Layer, Queue } from "effect"
import {
  type Datagram,
  DatagramError,
  DatagramNetwork,
  type Endpoint,
  endpointKey,
  takeBatch
} from "../Datagram.ts"

interface DenoNetAddr {
  readonly transport: "udp"
  readonly hostname: string
  readonly port: number
}

interface DenoDatagramConn {
  readonly addr: DenoNetAddr
  receive(): Promise<[Uint8Array, DenoNetAddr]>
  send(bytes: Uint8Array, to: DenoNetAddr): Promise<number>
  close(): void
}

interface DenoNamespace {
  listenDatagram(options: { transport: "udp"; hostname: string; port: number }): DenoDatagramConn
}

const RECEIVE_QUEUE = 16384

const deno = (endpoint: Endpoint): Effect.Effect<DenoNamespace, DatagramError> => {
  const candidate = (globalThis as { Deno?: Partial<DenoNamespace> }).Deno
  return typeof candidate?.listenDatagram === "function"
    ? Effect.succeed(candidate as DenoNamespace)
    : Effect.fail(
        new DatagramError({
          endpoint: endpointKey(endpoint),
          message: "Deno.listenDatagram is unavailable: run on Deno 2 with --unstable-net --allow-net"
        })
      )
}

const bind = (endpoint: Endpoint) =>
  Effect.gen(function* () {
    const api = yield* deno(endpoint)
    let closed = false
    const conn = yield* Effect.acquireRelease(
      Effect.try({
        try: () => api.listenDatagram({ transport: "udp", hostname: endpoint.address, port: endpoint.port }),
        catch: (error) => new DatagramError({ endpoint: endpointKey(endpoint), message: String(error) })
      }),
      (conn) =>
        Effect.sync(() => {
          closed = true
          conn.close()
        })
    )
    const queue = yield* Queue.dropping<Datagram>(RECEIVE_QUEUE)
    // One reader fiber per socket. A receive error on an open socket (e.g. ECONNREFUSED left by an
    // ICMP port-unreachable) is a lost packet, not the end of the socket; closing ends the loop.
    yield* Effect.tryPromise(() => conn.receive()).pipe(
      Effect.flatMap(([bytes, from]) =>
        queue.offer({ bytes, from: { address: from.hostname, port: from.port } })
      ),
      Effect.catchAll((error) => (closed ? Effect.fail(error) : Effect.void)),
      Effect.forever,
      Effect.ignore,
      Effect.forkScoped
    )
    return {
      local: { address: conn.addr.hostname, port: conn.addr.port },
      send: (bytes: Uint8Array, to: Endpoint) =>
        Effect.tryPromise({
          try: () => conn.send(bytes, { transport: "udp", hostname: to.address, port: to.port }),
          catch: (error) => new DatagramError({ endpoint: endpointKey(to), message: String(error) })
        }).pipe(Effect.asVoid),
      receive: takeBatch(queue)
    }
  })

export const layer: Layer.Layer<DatagramNetwork> = Layer.succeed(
  DatagramNetwork,
  DatagramNetwork.of({ bind })
)
