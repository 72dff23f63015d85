/**
 * A deterministic runtime for whole-cluster simulations: a virtual clock and a scheduler that run
 * every fiber of the simulation in one JavaScript loop, as a discrete-event simulator does.
 *
 * Why not TestClock: `TestClock.adjust` decides that fibers are idle by polling them across real
 * `setTimeout` turns, which costs about a millisecond per timer and lets real time leak into the
 * order of events. Here fibers run on a scheduler we drain ourselves, and time jumps straight to the
 * next timer once no fiber can run, so a run is a pure function of its seed and as fast as the code.
 *
 * The only real asynchrony left is WebCrypto (the transport hashes the cluster name when it starts):
 * {@link SimRuntime.expectExternal} announces such work, and the driver lets real time pass without
 * moving the clock until its completion wakes a fiber, so it cannot change the order of simulated
 * events. A node frozen meanwhile is frozen once that work is done: parked before it, the work would
 * never complete and the clock would never move again.
 */
import { Clock, Duration, Effect, type Exit, Fiber, FiberRef, type Scheduler } from "effect"

interface Timer {
  readonly at: number
  readonly seq: number
  readonly wake: () => void
}

/** A binary min-heap of timers by (time, insertion order): ties fire in the order they were set. */
class TimerHeap {
  private readonly items: Array<Timer> = []
  private readonly cancelled = new Set<number>()
  get size() {
    return this.items.length - this.cancelled.size
  }
  push(timer: Timer) {
    const items = this.items
    items.push(timer)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }
  cancel(seq: number) {
    this.cancelled.add(seq)
  }
  pop(): Timer | undefined {
    for (;;) {
      const top = this.popRaw()
      if (top === undefined) return undefined
      if (!this.cancelled.delete(top.seq)) return top
    }
  }
  private popRaw(): Timer | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    items[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < items.length && before(items[l]!, items[m]!)) m = l
      if (r < items.length && before(items[r]!, items[m]!)) m = r
      if (m === i) break
      ;[items[i], items[m]] = [items[m]!, items[i]!]
      i = m
    }
    return top
  }
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

/** The simulated node a fiber belongs to (inherited by the fibers it forks); frozen nodes' fibers wait. */
export const currentNode: FiberRef.FiberRef<string | undefined> = FiberRef.unsafeMake<string | undefined>(
  undefined
)

const livelockTasks = 2_000_000
/** Event-loop turns (a millisecond or more each) to wait for real-time work before giving up. */
const maxTurnsWaited = 10_000

export interface Stats {
  /** Simulated milliseconds since the epoch the runtime started at. */
  readonly now: number
  readonly timersFired: number
  readonly tasksRun: number
}

export class SimRuntime {
  private now: number
  private seq = 0
  private readonly timers = new TimerHeap()
  private tasks: Array<() => void> = []
  private readonly parked = new Map<string, Array<() => void>>()
  private timersFired = 0
  private tasksRun = 0
  /** Real-time work (WebCrypto promises) the simulation is waiting for. */
  private external = 0
  /** True while the driver lets real time pass: a fiber woken then was woken by real-time work. */
  private inRealTime = false
  /** Nodes to freeze once the real-time work in flight is done. */
  private readonly freezeAfterExternal = new Set<string>()

  constructor(readonly epochMs = 1_700_000_000_000) {
    this.now = epochMs
  }

  readonly scheduler: Scheduler.Scheduler = {
    // one queue in arrival order: priorities only matter to Effect's own batching
    scheduleTask: (task, _priority, fiber) => {
      if (this.inRealTime && this.external > 0 && --this.external === 0) {
        for (const node of this.freezeAfterExternal) this.freeze(node)
        this.freezeAfterExternal.clear()
      }
      const node = fiber?.getFiberRef(currentNode)
      const parked = node === undefined ? undefined : this.parked.get(node)
      if (parked !== undefined) parked.push(task)
      else this.tasks.push(task)
    },
    shouldYield: (fiber) => (fiber.currentOpCount > 2048 ? 0 : false)
  }

  readonly clock: Clock.Clock = (() => {
    const runtime = this
    const currentTimeMillis = Effect.sync(() => runtime.now)
    const currentTimeNanos = Effect.sync(() => BigInt(runtime.now) * 1_000_000n)
    return {
      [Clock.ClockTypeId]: Clock.ClockTypeId,
      unsafeCurrentTimeMillis: () => runtime.now,
      currentTimeMillis,
      unsafeCurrentTimeNanos: () => BigInt(runtime.now) * 1_000_000n,
      currentTimeNanos,
      sleep: (duration: Duration.Duration) =>
        Effect.async<void>((resume) => {
          const seq = runtime.seq++
          const millis = Duration.toMillis(duration)
          runtime.timers.push({
            at: runtime.now + (Number.isFinite(millis) ? Math.max(0, millis) : 1e15),
            seq,
            wake: () => resume(Effect.void)
          })
          return Effect.sync(() => runtime.timers.cancel(seq))
        })
    }
  })()

  /**
   * Announces real-time work a fiber is about to await (a WebCrypto promise): the clock stays put
   * until its completion wakes the fiber.
   */
  expectExternal() {
    this.external++
  }

  /** Stops running `node`'s fibers (a paused VM): their work waits, their timers fire late. */
  freeze(node: string) {
    if (this.external > 0) this.freezeAfterExternal.add(node)
    else if (!this.parked.has(node)) this.parked.set(node, [])
  }

  thaw(node: string) {
    this.freezeAfterExternal.delete(node)
    const parked = this.parked.get(node)
    this.parked.delete(node)
    if (parked !== undefined) this.tasks.push(...parked)
  }

  get currentTime() {
    return this.now
  }

  stats(): Stats {
    return { now: this.now - this.epochMs, timersFired: this.timersFired, tasksRun: this.tasksRun }
  }

  /**
   * Runs every runnable task, including those they schedule. Fibers that keep each other busy
   * without ever waiting on the clock would spin forever at one instant: after `livelockTasks`
   * tasks the run stops with a livelock error.
   */
  private drain() {
    let ran = 0
    while (this.tasks.length > 0) {
      const batch = this.tasks
      this.tasks = []
      for (const task of batch) task()
      this.tasksRun += batch.length
      ran += batch.length
      if (ran > livelockTasks)
        throw new Error(
          `livelock: ${ran} fiber tasks ran at one simulated instant without waiting on the clock`
        )
    }
  }

  /**
   * Runs `effect` to its end on this runtime: fibers run until none can, then the clock jumps to
   * the next timer. Fails if the simulation deadlocks (nothing runnable, no timer, no real work).
   */
  async run<A, E>(effect: Effect.Effect<A, E>): Promise<Exit.Exit<A, E>> {
    const fiber = Effect.runFork(
      effect.pipe(Effect.withClock(this.clock), Effect.withScheduler(this.scheduler)),
      { scheduler: this.scheduler }
    )
    let exit: Exit.Exit<A, E> | undefined
    fiber.addObserver((e) => {
      exit = e
    })
    let sinceYield = 0
    let turnsWaited = 0
    for (;;) {
      this.drain()
      if (exit !== undefined) return exit
      if (this.external === 0) turnsWaited = 0
      if (this.external > 0 || ++sinceYield >= 20_000) {
        // real work in flight (or a long run): let the event loop turn without moving the clock
        sinceYield = 0
        if (this.external > 0 && ++turnsWaited > maxTurnsWaited)
          throw new Error(`simulation stuck: ${this.external} real-time completions awaited never came`)
        this.inRealTime = true
        await new Promise<void>((resolve) => setTimeout(resolve, 0))
        this.inRealTime = false
        continue
      }
      const timer = this.timers.pop()
      if (timer === undefined) {
        Effect.runFork(Fiber.interrupt(fiber), { scheduler: this.scheduler })
        this.drain()
        throw new Error("simulation deadlocked: no runnable fiber and no timer")
      }
      this.now = timer.at
      this.timersFired++
      timer.wake()
    }
  }
}
