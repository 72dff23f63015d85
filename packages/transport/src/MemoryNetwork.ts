/**
 * An in-memory datagram network for tests. Delivery delays go through Effect's Clock (so TestClock
 * drives them) and loss, duplication, reordering and jitter come from a seeded PRNG, so a run is
 * reproducible from its seed. Faults are set per address pair, per address (cut one node's link) or as
 * a partition of addresses into groups.
 */
import { Context, Effect, Layer, Option, Queue, type Scope } from "effect"
import {
  type Datagram,
  DatagramError,
  DatagramNetwork,
  type Endpoint,
  endpointKey,
  takeBatch
} from "./Datagram.ts"

export interface Conditions {
  /** Probability that a datagram is lost. */
  readonly loss: number
  /** Probability that a datagram is delivered twice. */
  readonly duplicate: number
  /** Probability that a datagram gets an extra delay of up to `reorderWindow` ms, overtaking others. */
  readonly reorder: number
  readonly reorderWindow: number
  /** One-way delay in ms, plus up to `jitter` ms. */
  readonly delay: number
  readonly jitter: number
}

export const perfect: Conditions = {
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderWindow: 10,
  delay: 0,
  jitter: 0
}

export interface Stats {
  readonly sent: number
  readonly delivered: number
  readonly lost: number
  readonly blocked: number
  readonly duplicated: number
}

export interface Recorded {
  readonly from: Endpoint
  readonly to: Endpoint
  readonly bytes: Uint8Array
}

export class MemoryNetwork extends Context.Tag("@ha/transport/MemoryNetwork")<
  MemoryNetwork,
  {
    /** Conditions for all traffic, or only between two addresses (both directions). */
    readonly setConditions: (
      conditions: Partial<Conditions>,
      between?: readonly [string, string]
    ) => Effect.Effect<void>
    /** Cuts every datagram to or from `address` (or only between `address` and `other`). */
    readonly cut: (address: string, other?: string) => Effect.Effect<void>
    readonly restore: (address: string, other?: string) => Effect.Effect<void>
    /** Addresses in different groups cannot reach each other; addresses in no group are unaffected. */
    readonly partition: (groups: ReadonlyArray<ReadonlyArray<string>>) => Effect.Effect<void>
    /** Removes every cut, partition and condition. */
    readonly heal: Effect.Effect<void>
    readonly stats: Effect.Effect<Stats>
    /** While on, every datagram sent is recorded (before faults apply). */
    readonly record: (on: boolean) => Effect.Effect<void>
    readonly recorded: Effect.Effect<ReadonlyArray<Recorded>>
    /** Delivers raw bytes to a bound socket as if sent from `from` (for forged and replayed packets). */
    readonly inject: (from: Endpoint, to: Endpoint, bytes: Uint8Array) => Effect.Effect<void>
    /** Datagrams delivered to sockets but not yet read. */
    readonly queued: Effect.Effect<number>
  }
>() {}

/** mulberry32: small, fast, good enough to pick faults; seeded for reproducibility. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`)

const make = (
  seed: number
): Effect.Effect<Context.Context<MemoryNetwork | DatagramNetwork>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const random = prng(seed)
    const sockets = new Map<string, Queue.Queue<Datagram>>()
    let base: Conditions = perfect
    const pairConditions = new Map<string, Conditions>()
    const cutAddresses = new Set<string>()
    const cutPairs = new Set<string>()
    let groups = new Map<string, number>()
    const stats = { sent: 0, delivered: 0, lost: 0, blocked: 0, duplicated: 0 }
    let nextPort = 40000
    let recording = false
    const recorded: Array<Recorded> = []

    const blocked = (from: string, to: string) => {
      if (cutAddresses.has(from) || cutAddresses.has(to) || cutPairs.has(pairKey(from, to))) return true
      const g1 = groups.get(from)
      const g2 = groups.get(to)
      return g1 !== undefined && g2 !== undefined && g1 !== g2
    }

    const deliver = (key: string, datagram: Datagram, delay: number) => {
      const queue = sockets.get(key)
      if (queue === undefined) return Effect.void
      const offer = Effect.suspend(() => {
        // Re-check at arrival: the receiving socket may be gone, or the link cut while in flight.
        const target = sockets.get(key)
        if (target === undefined || blocked(datagram.from.address, key.slice(0, key.lastIndexOf(":")))) {
          stats.blocked++
          return Effect.void
        }
        stats.delivered++
        return Queue.offer(target, datagram)
      })
      return delay <= 0
        ? offer
        : Effect.forkIn(Effect.delay(offer, `${delay} millis`), scope).pipe(Effect.asVoid)
    }

    const send = (from: Endpoint, bytes: Uint8Array, to: Endpoint) =>
      Effect.suspend(() => {
        stats.sent++
        if (recording) recorded.push({ from, to, bytes: bytes.slice() })
        if (blocked(from.address, to.address)) {
          stats.blocked++
          return Effect.void
        }
        const c = pairConditions.get(pairKey(from.address, to.address)) ?? base
        if (random() < c.loss) {
          stats.lost++
          return Effect.void
        }
        const copies = random() < c.duplicate ? 2 : 1
        if (copies === 2) stats.duplicated++
        const effects: Array<Effect.Effect<void>> = []
        for (let i = 0; i < copies; i++) {
          let delay = c.delay + (c.jitter > 0 ? random() * c.jitter : 0)
          if (random() < c.reorder) delay += random() * c.reorderWindow
          // A private copy, as a real network would deliver.
          effects.push(deliver(endpointKey(to), { bytes: bytes.slice(), from }, Math.round(delay)))
        }
        return Effect.all(effects, { discard: true })
      })

    const network = DatagramNetwork.of({
      bind: (endpoint) =>
        Effect.gen(function* () {
          const local = endpoint.port === 0 ? { address: endpoint.address, port: nextPort++ } : endpoint
          const key = endpointKey(local)
          if (sockets.has(key)) {
            return yield* Effect.fail(new DatagramError({ endpoint: key, message: "address already in use" }))
          }
          const queue = yield* Queue.unbounded<Datagram>()
          yield* Effect.acquireRelease(
            Effect.sync(() => sockets.set(key, queue)),
            () => Effect.sync(() => sockets.delete(key))
          )
          return {
            local,
            send: (bytes: Uint8Array, to: Endpoint) => send(local, bytes, to),
            receive: takeBatch(queue)
          }
        })
    })

    const control = MemoryNetwork.of({
      setConditions: (conditions, between) =>
        Effect.sync(() => {
          if (between === undefined) base = { ...base, ...conditions }
          else {
            const key = pairKey(between[0], between[1])
            pairConditions.set(key, { ...(pairConditions.get(key) ?? base), ...conditions })
          }
        }),
      cut: (address, other) =>
        Effect.sync(() => {
          if (other === undefined) cutAddresses.add(address)
          else cutPairs.add(pairKey(address, other))
        }),
      restore: (address, other) =>
        Effect.sync(() => {
          if (other === undefined) cutAddresses.delete(address)
          else cutPairs.delete(pairKey(address, other))
        }),
      partition: (partition) =>
        Effect.sync(() => {
          groups = new Map(
            partition.flatMap((group, index) => group.map((address) => [address, index] as const))
          )
        }),
      heal: Effect.sync(() => {
        base = perfect
        pairConditions.clear()
        cutAddresses.clear()
        cutPairs.clear()
        groups = new Map()
      }),
      stats: Effect.sync(() => ({ ...stats })),
      record: (on) =>
        Effect.sync(() => {
          recording = on
        }),
      recorded: Effect.sync(() => [...recorded]),
      inject: (from, to, bytes) => deliver(endpointKey(to), { bytes: bytes.slice(), from }, 0),
      queued: Effect.sync(() => {
        let total = 0
        for (const queue of sockets.values())
          total += Math.max(0, queue.unsafeSize().pipe(Option.getOrElse(() => 0)))
        return total
      })
    })

    return Context.make(MemoryNetwork, control).pipe(Context.add(DatagramNetwork, network))
  })

/** A fresh in-memory network; `seed` fixes every random fault decision. */
export const layer = (seed = 1): Layer.Layer<MemoryNetwork | DatagramNetwork> =>
  Layer.scopedContext(make(seed))
