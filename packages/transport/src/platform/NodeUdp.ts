/** DatagramNetwork over node:dgram (Node.js only; the rest of the package runs on Deno too). */
import * as dgram from "node:dgram"
import { isIPv6 } from "node:net"
import { Chunk, Effect, Layer, Queue } from "effect"
import { type Datagram, DatagramError, DatagramNetwork, type Endpoint, endpointKey } from "../Datagram.ts"

/** Datagrams waiting to be read per socket; beyond, new ones are dropped as a full NIC queue would. */
const RECEIVE_QUEUE = 16384

/** Batches (one per turn of the event loop, each up to libuv's 32 reads per socket) per `receive`. */
const RECEIVE_BATCHES = 8

const SOCKET_BUFFER = 4 * 1024 * 1024

const ignoreSendError = () => {}

const bind = (endpoint: Endpoint) =>
  Effect.gen(function* () {
    // Batches of datagrams, RECEIVE_QUEUE datagrams at most in all.
    const queue = yield* Queue.unbounded<ReadonlyArray<Datagram>>()
    let queued = 0
    const socket = yield* Effect.acquireRelease(
      Effect.async<dgram.Socket, DatagramError>((resume) => {
        const socket = dgram.createSocket({ type: isIPv6(endpoint.address) ? "udp6" : "udp4" })
        const onError = (error: Error) =>
          resume(Effect.fail(new DatagramError({ endpoint: endpointKey(endpoint), message: error.message })))
        socket.once("error", onError)
        socket.bind(endpoint.port, endpoint.address, () => {
          socket.off("error", onError)
          // Later socket errors (e.g. ICMP unreachable) must not crash the process; UDP is best effort.
          socket.on("error", () => {})
          // Bursts (fragments of a large message) overflow the default ~200 KiB kernel buffers; the
          // kernel caps these requests at net.core.{r,w}mem_max.
          try {
            socket.setRecvBufferSize(SOCKET_BUFFER)
            socket.setSendBufferSize(SOCKET_BUFFER)
          } catch {}
          resume(Effect.succeed(socket))
        })
      }),
      (socket) => Effect.sync(() => socket.close())
    )
    // Datagrams read in one turn of the event loop are handed over together (at its check phase,
    // right after the poll phase that read them): one wake-up of the receiving fiber per batch
    // instead of per datagram, which is most of the receive cost under load.
    let arrived: Array<Datagram> = []
    const handOver = () => {
      queue.unsafeOffer(arrived)
      arrived = []
    }
    socket.on("message", (message, remote) => {
      if (queued >= RECEIVE_QUEUE) return
      queued++
      const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength)
      if (arrived.length === 0) setImmediate(handOver)
      arrived.push({ bytes, from: { address: remote.address, port: remote.port } })
    })
    const address = socket.address()
    return {
      local: { address: address.address, port: address.port },
      // Fire and forget, as UDP is: waiting for each send callback would serialize the sender, and a
      // failed send is a lost packet that heartbeats detect. Only synchronous misuse is reported.
      send: (bytes: Uint8Array, to: Endpoint) =>
        Effect.try({
          try: () => socket.send(bytes, to.port, to.address, ignoreSendError),
          catch: (error) => new DatagramError({ endpoint: endpointKey(to), message: String(error) })
        }),
      receive: Effect.map(Queue.takeBetween(queue, 1, RECEIVE_BATCHES), (batches) => {
        const datagrams = Chunk.toReadonlyArray(batches).flat()
        queued -= datagrams.length
        return datagrams
      })
    }
  })

export const layer: Layer.Layer<DatagramNetwork> = Layer.succeed(
  DatagramNetwork,
  DatagramNetwork.of({ bind })
)
