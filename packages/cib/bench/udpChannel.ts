/**
 * A {@link ReplicationChannel} over loopback UDP for the store benchmark, until `@ha/membership`
 * provides the real one: a fixed sequencer (the lowest node) numbers every broadcast and sends it
 * to all nodes, which deliver in sequence order. Loopback drops datagrams when a socket buffer is
 * full, so submissions are resent until seen delivered, and a node that sees a gap asks the
 * sequencer for the missing messages. One static view of all nodes, installed once every node has
 * said it is ready. No failure handling: a benchmark tool, not a membership protocol.
 *
 * Datagrams: 1 ready (node), 2 submit (sender, sender's number, payload), 3 sequenced (seq, sender,
 * sender's number, payload), 4 start, 5 nack (node, first missing seq).
 */
import * as dgram from "node:dgram"
import { Effect, Queue, type Scope, Stream } from "effect"
import type { Event, NodeId, ReplicationChannelService } from "../src/ReplicationChannel.ts"

const READY = 1
const SUBMIT = 2
const SEQUENCED = 3
const START = 4
const NACK = 5

const RESEND_MS = 20

export const portOf = (basePort: number, node: NodeId) => basePort + node

const header = (type: number, ...fields: ReadonlyArray<number>): Uint8Array => {
  const bytes = new Uint8Array(1 + 4 * fields.length)
  bytes[0] = type
  const view = new DataView(bytes.buffer)
  fields.forEach((f, i) => {
    view.setUint32(1 + 4 * i, f)
  })
  return bytes
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

export const make = (
  self: NodeId,
  nodes: ReadonlyArray<NodeId>,
  basePort: number
): Effect.Effect<ReplicationChannelService, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sequencer = Math.min(...nodes)
    const events = yield* Queue.unbounded<Event>()
    const socket = dgram.createSocket({ type: "udp4", recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 })
    yield* Effect.addFinalizer(() => Effect.sync(() => socket.close()))
    yield* Effect.async<void>((resume) => {
      socket.bind(portOf(basePort, self), "127.0.0.1", () => resume(Effect.void))
    })
    const send = (node: NodeId, bytes: Uint8Array) => socket.send(bytes, portOf(basePort, node), "127.0.0.1")

    // sequencer state
    const ready = new Set<NodeId>()
    let startSent = false
    const log: Array<Uint8Array> = []
    const nextFrom = new Map<NodeId, number>()
    // member state
    let started = false
    let expected = 0
    const early = new Map<number, Uint8Array>()
    let submitted = 0
    const unacknowledged = new Map<number, { readonly bytes: Uint8Array; sentAt: number }>()

    const deliver = (msg: Uint8Array) => {
      const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
      const sender = view.getUint32(5)
      if (sender === self) unacknowledged.delete(view.getUint32(9))
      Queue.unsafeOffer(events, { _tag: "Message", sender, payload: msg.slice(13) })
    }

    socket.on("message", (msg: Uint8Array) => {
      const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
      switch (msg[0]) {
        case READY:
          ready.add(view.getUint32(1))
          if (ready.size === nodes.length && !startSent) {
            startSent = true
            for (const node of nodes) send(node, header(START))
          }
          return
        case SUBMIT: {
          const sender = view.getUint32(1)
          const number = view.getUint32(5)
          // resent or out of order: the sender resends in order until it sees its message
          if (number !== (nextFrom.get(sender) ?? 0)) return
          nextFrom.set(sender, number + 1)
          const out = concat(header(SEQUENCED, log.length, sender, number), msg.subarray(9))
          log.push(out)
          for (const node of nodes) send(node, out)
          return
        }
        case NACK: {
          const node = view.getUint32(1)
          for (let seq = view.getUint32(5); seq < log.length && seq < view.getUint32(5) + 64; seq++)
            send(node, log[seq] as Uint8Array)
          return
        }
        case SEQUENCED: {
          const seq = view.getUint32(1)
          if (seq < expected) return
          early.set(seq, msg.slice())
          for (let next = early.get(expected); next !== undefined; next = early.get(expected)) {
            early.delete(expected++)
            deliver(next)
          }
          return
        }
        case START:
          if (started) return
          started = true
          Queue.unsafeOffer(events, {
            _tag: "View",
            view: { id: 1, members: [...nodes].sort((a, b) => a - b), quorate: true }
          })
          return
      }
    })

    const hello = header(READY, self)
    const timer = setInterval(() => {
      if (!started) send(sequencer, hello)
      if (early.size > 0) send(sequencer, header(NACK, self, expected))
      const now = performance.now()
      for (const pending of unacknowledged.values()) {
        if (now - pending.sentAt < RESEND_MS) continue
        pending.sentAt = now
        send(sequencer, pending.bytes)
      }
    }, RESEND_MS)
    send(sequencer, hello)
    yield* Effect.addFinalizer(() => Effect.sync(() => clearInterval(timer)))

    return {
      self,
      events: Stream.fromQueue(events),
      broadcast: (payload) =>
        Effect.sync(() => {
          const number = submitted++
          const bytes = concat(header(SUBMIT, self, number), payload)
          unacknowledged.set(number, { bytes, sentAt: performance.now() })
          send(sequencer, bytes)
        })
    }
  })
