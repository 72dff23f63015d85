/**
 * One simulated cluster run: N complete nodes (@ha/node over real Totem membership on the memory
 * network, a CIB store on a memory disk that survives reboots, the fencer and the controller) run
 * the seed stack (examples/pg-drbd) on simulated agents while a fault schedule plays; then faults
 * stop and the cluster must converge. The world (World.ts) checks the safety invariants throughout.
 */
import { type Cib, CibReplica, CibStore, CibStoreSettings, Storage, XmlCodec } from "@ha/cib"
import { Controller, Status } from "@ha/controller"
import { Executor } from "@ha/executor"
import { FenceAgent, FencingSettings } from "@ha/fencing"
import { Membership, MembershipSettings, type Quorum } from "@ha/membership"
import { Node } from "@ha/node"
import { Datagram, MemoryNetwork, Transport, TransportSettings } from "@ha/transport"
import {
  Cause,
  Context,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Random,
  Schedule,
  Scope,
  Stream
} from "effect"
import * as Faults from "./Faults.ts"
import { DeterministicAead } from "./internal/aead.ts"
import { currentNode, SimRuntime } from "./SimRuntime.ts"
import { type Mutation, modelOf, type Violation, World } from "./World.ts"

export interface Options {
  readonly seed: number
  readonly nodes: 2 | 3
  /** Length of the fault phase (simulated ms). */
  readonly durationMs: number
  /** The schedule to play (default: drawn from the seed). */
  readonly schedule?: ReadonlyArray<Faults.Scheduled>
  readonly kinds?: ReadonlyArray<Faults.Kind>
  readonly meanGapMs?: number
  /** Simulated time allowed to converge once faults stop. */
  readonly convergeMs?: number
  /** Agent action duration (ms). */
  readonly agentDurationMs?: number
  readonly mutation?: Mutation
  /** The seed stack's configuration (examples/pg-drbd/config.xml) as text. */
  readonly configXml: string
}

export interface Result {
  readonly seed: number
  readonly nodes: number
  readonly schedule: ReadonlyArray<Faults.Scheduled>
  readonly violations: ReadonlyArray<Violation>
  readonly trace: ReadonlyArray<string>
  /** Simulated ms the run covered. */
  readonly simulatedMs: number
  readonly wallMs: number
  readonly fencings: number
  readonly agentActions: number
  /** Timers fired and fiber tasks run (the simulation's work). */
  readonly timersFired: number
  readonly tasksRun: number
}

export const nodeNames: ReadonlyArray<string> = ["alpha", "beta", "gamma"]

const key = new Uint8Array(32).map((_, i) => (i * 31 + 7) & 0xff)

/** The seed stack for `n` nodes: a third node gets its own fence device, like the other two. */
export const stackConfig = (xml: string, n: number, mutation: Mutation | undefined): string => {
  let text = xml
  if (n === 3) {
    const start = text.indexOf('<primitive id="fence_beta"')
    const end = text.indexOf("</primitive>", start) + "</primitive>".length
    const gamma = text.slice(start, end).replaceAll("beta", "gamma").replace("192.0.2.12", "192.0.2.13")
    text = text.slice(0, end) + gamma + text.slice(end)
    text = text.replace(
      "</constraints>",
      '  <rsc_location id="fence_gamma-not-on-gamma" rsc="fence_gamma" node="gamma" score="-INFINITY"/>\n    </constraints>'
    )
  }
  if (mutation === "quorum-ignored")
    text = text.replace('name="no-quorum-policy" value="stop"', 'name="no-quorum-policy" value="ignore"')
  if (mutation === "ordering-ignored") {
    // the group's members become independent primitives with no order or colocation
    text = text
      .replace(/<group id="pg_stack">/, "")
      .replace(/<\/group>/, "")
      .replace(/<rsc_location id="pg_stack-prefers-alpha"[^>]*\/>/, "")
      .replace(/<rsc_colocation id="pg_stack-with-drbd-promoted"[^>]*\/>/, "")
      .replace(/<rsc_order id="drbd-promote-then-pg_stack"[^>]*\/>/, "")
  }
  return text
}

interface Running {
  readonly scope: Scope.CloseableScope
  readonly controller: Controller.Controller["Type"]
  readonly replica: CibReplica.CibReplica["Type"]
  readonly membership: Membership.Membership["Type"]
}

/**
 * The "quorum ignored" mutation: a membership that reports quorum whatever votequorum says (the
 * CIB, fencer and controller above it then act in a minority partition).
 */
const alwaysQuorate = (membership: Membership.Membership["Type"]): Membership.Membership["Type"] => {
  const quorate = (status: Quorum.Status): Quorum.Status => ({ ...status, quorate: true })
  return {
    ...membership,
    events: Stream.map(membership.events, (event) =>
      event._tag === "ViewInstalled" || event._tag === "QuorumChanged"
        ? { ...event, quorum: quorate(event.quorum) }
        : event
    ),
    quorum: Stream.map(membership.quorum, quorate),
    currentQuorum: Effect.map(membership.currentQuorum, quorate)
  }
}

/** A storage that fails every write while `failing()` holds (the disk is otherwise the machine's own). */
const faultyStorage = (disk: Storage.StorageService, failing: () => boolean): Storage.StorageService => {
  const guard =
    <A extends ReadonlyArray<unknown>, R>(
      operation: string,
      f: (...args: A) => Effect.Effect<R, Storage.StorageError>
    ) =>
    (...args: A) =>
      failing()
        ? Effect.fail(
            new Storage.StorageError({
              operation,
              file: String(args[0] ?? ""),
              reason: "simulated I/O error"
            })
          )
        : f(...args)
  return {
    ...disk,
    write: guard("write", disk.write),
    sync: guard("sync", disk.sync),
    rename: guard("rename", disk.rename)
  }
}

/** Runs one simulation; never throws for cluster misbehaviour (that is a violation in the result). */
export const run = async (options: Options): Promise<Result> => {
  const started = performance.now()
  const runtime = new SimRuntime()
  const names = nodeNames.slice(0, options.nodes)
  const nodes = names.map((name, i) => ({ name, id: i + 1 }))
  const idOf = (name: string) => names.indexOf(name) + 1
  const schedule =
    options.schedule ??
    Faults.generate(options.seed, {
      nodes: names,
      durationMs: options.durationMs,
      meanGapMs: options.meanGapMs ?? 20_000,
      ...(options.kinds === undefined ? {} : { kinds: options.kinds })
    })
  const trace: Array<string> = []
  const stamp = () => `${((runtime.currentTime - runtime.epochMs) / 1000).toFixed(3).padStart(9)}s`
  const say = (who: string, message: string) => {
    if (trace.length < 50_000) trace.push(`${stamp()} ${who.padEnd(6)} ${message}`)
  }
  const running = new Map<string, Running>()
  const disks = new Map(names.map((n) => [n, Storage.makeMemory()]))
  const diskFailing = new Set<string>()
  const pendingPowerOff: Array<{ node: string; reboot: boolean }> = []
  const cibText = stackConfig(options.configXml, options.nodes, options.mutation)
  let stop = false

  const world = new World(
    // the invariants judge by the unbroken configuration, whatever the mutation did to the cluster's
    modelOf(
      await Effect.runPromise(
        Effect.orDie(
          XmlCodec.decodeXml(stackConfig(options.configXml, options.nodes, undefined), { file: "config.xml" })
        )
      )
    ),
    names,
    {
      now: () => runtime.currentTime,
      trace: say,
      quorate: (node) => {
        const r = running.get(node)
        if (r === undefined) return false
        return Effect.runSync(r.membership.currentQuorum).quorate
      },
      powerOff: (node, reboot) => {
        // the machine stops at once; its scope is closed by the driver fiber
        runtime.freeze(node)
        pendingPowerOff.push({ node, reboot })
      }
    },
    options.agentDurationMs ?? 500,
    options.mutation
  )

  const topology = (id: number) => ({
    clusterName: "sim",
    nodeId: id,
    links: [0, 1].map((link) => ({ link, address: `10.0.${link}.${id}`, port: 5405 })),
    peers: nodes
      .filter((n) => n.id !== id)
      .map((n) => ({
        nodeId: n.id,
        links: [0, 1].map((link) => ({ link, address: `10.0.${link}.${n.id}`, port: 5405 }))
      }))
  })

  const program = Effect.gen(function* () {
    const networkContext = yield* Layer.build(MemoryNetwork.layer(options.seed))
    const network = Context.get(networkContext, MemoryNetwork.MemoryNetwork)
    const datagrams = Context.get(networkContext, Datagram.DatagramNetwork)
    // coarser timer ticks than the daemon's (10 ms Totem, 50 ms links): the protocols' timeouts are
    // hundreds of ms, and each tick is a wake-up of every node, most of a simulation's work
    const membershipSettings = MembershipSettings.make({
      twoNode: options.nodes === 2,
      tickInterval: Duration.millis(50)
    })

    const booting = new Set<string>()
    const boot = (name: string): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (running.has(name) || booting.has(name)) return Effect.void
        booting.add(name)
        return Effect.ensuring(
          bootNode(name, idOf(name)),
          Effect.sync(() => booting.delete(name))
        )
      })
    const bootNode = (name: string, id: number) =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        world.powerUp(name)
        // a machine that boots is not paused (a Freeze or a power-off may have left it frozen)
        runtime.thaw(name)
        // the transport hashes the cluster name with WebCrypto (real time) as it starts
        runtime.expectExternal()
        const beneath = Layer.mergeAll(
          Membership.layer.pipe(
            Layer.provideMerge(Transport.layerTest({ topology: topology(id), key })),
            Layer.provide(
              Layer.mergeAll(
                DeterministicAead,
                Layer.succeed(MemoryNetwork.MemoryNetwork, network),
                Layer.succeed(Datagram.DatagramNetwork, datagrams),
                TransportSettings.layer({
                  ...MembershipSettings.transportTimers(membershipSettings),
                  tickInterval: Duration.millis(100)
                }),
                Layer.succeed(MembershipSettings.MembershipSettings, membershipSettings)
              )
            )
          ),
          Executor.layerTest(
            ["drbd", "Filesystem", "IPaddr2", "pgsql"].map((type) => world.agent(name, type)),
            { nodeName: name }
          ),
          CibStore.layer.pipe(
            Layer.provide(
              Layer.mergeAll(
                Layer.succeed(
                  Storage.Storage,
                  faultyStorage(disks.get(name)!.storage, () => diskFailing.has(name))
                ),
                CibStoreSettings.layer()
              )
            )
          ),
          CibStoreSettings.layer(),
          FenceAgent.layerAgents([world.fenceDevice(name, "fence_ipmilan")]),
          FencingSettings.FencingSettings.layer({ tickMs: 500 })
        )
        const node = Node.layer({
          nodes,
          version: "1.0.0",
          mapAgent: (agent) => ({ class: "native", type: agent.type })
        })
        const layer = (
          options.mutation === "quorum-ignored"
            ? node.pipe(
                Layer.provide(
                  Layer.effect(Membership.Membership, Effect.map(Membership.Membership, alwaysQuorate))
                )
              )
            : node
        ).pipe(Layer.provideMerge(beneath))
        const context = yield* Layer.buildWithScope(layer, scope).pipe(
          Effect.locally(currentNode, name),
          Effect.annotateLogs("node", name)
        )
        if (!world.isPoweredOn(name)) {
          // fenced while it booted (a frozen boot): the machine is off, not a zombie running nothing
          yield* Scope.close(scope, Exit.void)
          return
        }
        const handle: Running = {
          scope,
          controller: Context.get(context, Controller.Controller),
          replica: Context.get(context, CibReplica.CibReplica),
          membership: Context.get(context, Membership.Membership)
        }
        running.set(name, handle)
        yield* Effect.forkIn(promotionScore(name, handle.replica), scope).pipe(
          Effect.locally(currentNode, name)
        )
        say(name, "booted")
      }).pipe(Effect.orDie)

    /** What DRBD's agent does with crm_master: a started instance publishes its promotion score. */
    const promotionScore = (name: string, replica: Running["replica"]) =>
      Effect.gen(function* () {
        const score = String(10_000 - 1000 * names.indexOf(name))
        const cib = yield* replica.query
        const state = world.stateOf(name, "drbd_pg")
        if (
          state === undefined ||
          state === "failed" ||
          Status.attribute(cib, name, "master-drbd_pg") === score
        )
          return
        yield* replica.update((current) => Status.setAttribute(current, name, "master-drbd_pg", score))
      }).pipe(Effect.ignore, Effect.repeat(Schedule.spaced(Duration.seconds(1))))

    const powerOff = (name: string) =>
      Effect.gen(function* () {
        const node = running.get(name)
        world.powerDown(name)
        if (node === undefined) return
        running.delete(name)
        // a frozen machine's fibers must run to be interrupted
        runtime.thaw(name)
        yield* Scope.close(node.scope, Exit.void)
        say(name, "powered off")
      })

    const bootAll = Effect.forEach(names, boot, { discard: true })

    /** Reboots the driver owes to fence devices (a reboot action boots the machine 5 s later). */
    const serviceFencing = Effect.gen(function* () {
      while (!stop) {
        const next = pendingPowerOff.shift()
        if (next === undefined) {
          yield* Effect.sleep(Duration.millis(100))
          continue
        }
        yield* powerOff(next.node)
        if (next.reboot)
          yield* Effect.fork(Effect.sleep(Duration.seconds(5)).pipe(Effect.zipRight(boot(next.node))))
      }
    })

    yield* bootAll
    yield* Effect.forkDaemon(serviceFencing)

    // an operator applies the seed stack once the cluster has formed
    const config = yield* Effect.orDie(XmlCodec.decodeXml(cibText, { file: "config.xml" }))
    yield* Effect.suspend((): Effect.Effect<unknown, unknown> => {
      const first = running.get(names[0]!)
      return first === undefined
        ? Effect.fail("down")
        : first.replica.update((cib: Cib.Cib) => ({ ...config, status: cib.status, version: cib.version }))
    }).pipe(
      Effect.retry(Schedule.spaced(Duration.seconds(1))),
      Effect.timeout(Duration.minutes(2)),
      Effect.orDie
    )
    say("sim", "seed stack applied")
    // faults begin once the stack runs (or after a minute: a cluster that cannot start it fails later)
    for (
      let waited = 0;
      waited < 60 && world.violations.length === 0 && (yield* convergenceProblem) !== undefined;
      waited++
    )
      yield* Effect.sleep(Duration.seconds(1))
    say("sim", "fault phase begins")

    /** Sleeps `millis`, waking early once an invariant broke (the run ends there). */
    const sleepUnlessViolated = (millis: number) =>
      Effect.gen(function* () {
        const until = runtime.currentTime + millis
        while (world.violations.length === 0 && runtime.currentTime < until)
          yield* Effect.sleep(Duration.millis(Math.min(1000, until - runtime.currentTime)))
      })

    // the fault phase
    const t0 = runtime.currentTime
    const undo: Array<Fiber.RuntimeFiber<void>> = []
    for (const s of schedule) {
      yield* sleepUnlessViolated(t0 + s.at - runtime.currentTime)
      if (world.violations.length > 0) break
      say("fault", Faults.describe(s))
      const revert = yield* inject(s.fault)
      undo.push(yield* Effect.fork(Effect.sleep(Duration.millis(s.durationMs)).pipe(Effect.zipRight(revert))))
    }
    yield* sleepUnlessViolated(t0 + options.durationMs - runtime.currentTime)

    // faults stop: heal everything, power every machine on, and wait for convergence
    yield* Effect.forEach(undo, Fiber.interrupt, { discard: true })
    yield* network.heal
    for (const n of names) runtime.thaw(n)
    world.clearFaults()
    diskFailing.clear()
    say("sim", "faults stopped")
    const deadline = runtime.currentTime + (options.convergeMs ?? 180_000)
    let problem: string | undefined = "not checked"
    while (world.violations.length === 0 && runtime.currentTime < deadline) {
      yield* Effect.sleep(Duration.seconds(1))
      if (pendingPowerOff.length === 0) yield* bootAll
      problem = yield* convergenceProblem
      if (problem === undefined) break
    }
    if (world.violations.length === 0 && problem !== undefined)
      world.violations.push({
        at: runtime.currentTime,
        invariant: "convergence",
        message: `not converged ${((options.convergeMs ?? 180_000) / 1000).toFixed(0)}s after faults stopped: ${problem}`
      })
    else if (problem === undefined) say("sim", "converged")
    stop = true
    for (const name of [...running.keys()]) yield* powerOff(name)

    function inject(fault: Faults.Fault): Effect.Effect<Effect.Effect<void>> {
      return Effect.gen(function* () {
        switch (fault._tag) {
          case "Crash":
            yield* powerOff(fault.node)
            return boot(fault.node)
          case "Freeze":
            runtime.freeze(fault.node)
            return Effect.sync(() => runtime.thaw(fault.node))
          case "Isolate": {
            const id = idOf(fault.node)
            yield* network.cut(`10.0.0.${id}`)
            yield* network.cut(`10.0.1.${id}`)
            return Effect.zipRight(network.restore(`10.0.0.${id}`), network.restore(`10.0.1.${id}`))
          }
          case "LinkDown": {
            const address = `10.0.${fault.link}.${idOf(fault.node)}`
            yield* network.cut(address)
            return network.restore(address)
          }
          case "MessageLoss":
            yield* network.setConditions({
              loss: fault.loss,
              duplicate: fault.loss / 4,
              reorder: fault.loss / 2
            })
            return network.setConditions({ loss: 0, duplicate: 0, reorder: 0 })
          case "MessageDelay":
            yield* network.setConditions({
              delay: Math.round(fault.delayMs / 2),
              jitter: Math.round(fault.delayMs / 2)
            })
            return network.setConditions({ delay: 0, jitter: 0 })
          case "StartFailure":
            world.faults.failingStarts.add(fault.node)
            return Effect.sync(() => world.faults.failingStarts.delete(fault.node))
          case "StopFailure":
            world.faults.failingStops.add(fault.node)
            return Effect.sync(() => world.faults.failingStops.delete(fault.node))
          case "ResourceCrash": {
            const resources = [...(world.machines.get(fault.node)?.keys() ?? [])].filter(
              (r) => world.stateOf(fault.node, r) === "started"
            )
            // drawn even when there is none, so that the draws after it stay where replays expect them
            const victim = resources[yield* Random.nextIntBetween(0, Math.max(1, resources.length))]
            if (victim !== undefined) {
              world.machines.get(fault.node)!.delete(victim)
              say("world", `${victim} died on ${fault.node}`)
            }
            return Effect.void
          }
          case "SlowAgents":
            world.faults.slowFactor = fault.factor
            return Effect.sync(() => {
              world.faults.slowFactor = 1
            })
          case "DiskFailure":
            diskFailing.add(fault.node)
            return Effect.sync(() => diskFailing.delete(fault.node))
          case "FenceFailure":
            world.faults.fenceFailing = true
            return Effect.sync(() => {
              world.faults.fenceFailing = false
            })
          case "SlowFence":
            world.faults.fenceDelayMs = fault.delayMs
            return Effect.sync(() => {
              world.faults.fenceDelayMs = 0
            })
        }
      })
    }
  })

  /** Why the cluster has not converged yet, or undefined once it has. */
  const convergenceProblem = Effect.gen(function* () {
    if (running.size < names.length) return `down: ${names.filter((n) => !running.has(n)).join(", ")}`
    const statuses = yield* Effect.forEach([...running.values()], (r) => r.controller.status)
    const dcs = new Set(statuses.map((s) => s.dc))
    if (dcs.size !== 1 || [...dcs][0] === undefined)
      return `DC: ${statuses.map((s) => `${s.self}->${s.dc ?? "none"}`).join(" ")}`
    const cibs = yield* Effect.forEach([...running.values()], (r) => r.replica.query)
    const versions = new Set(cibs.map((c) => JSON.stringify(c.version)))
    if (versions.size !== 1) return `CIB versions differ: ${[...versions].join(" ")}`
    const { model } = world
    for (const r of model.exclusive) {
      const on = world.activeOn(r)
      if (on.length !== 1 || world.stateOf(on[0]!, r) !== "started") return `${r} runs on [${on.join(", ")}]`
    }
    for (const [r, max] of model.promotable) {
      const promoted = names.filter((n) => world.stateOf(n, r) === "promoted")
      if (promoted.length !== Math.min(max, names.length)) return `${r} promoted on [${promoted.join(", ")}]`
    }
    return undefined
  })

  const logger = Logger.make(({ logLevel, message, annotations }) => {
    if (LogLevel.lessThan(logLevel, LogLevel.Info)) return
    let node = "sim"
    for (const [k, v] of annotations) if (k === "node") node = String(v)
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    say(node, `${logLevel.label.toLowerCase()}: ${text}`)
  })

  const exit = await runtime
    .run(
      program.pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.Info),
        Effect.withRandom(Random.make(options.seed)),
        Effect.scoped
      )
    )
    .catch((error: unknown) => Exit.die(error))
  if (Exit.isFailure(exit))
    world.violations.push({
      at: runtime.currentTime,
      invariant: "convergence",
      message: `the simulation stopped: ${Cause.pretty(exit.cause).split("\n")[0]}`
    })
  return {
    seed: options.seed,
    nodes: options.nodes,
    schedule,
    violations: world.violations,
    trace,
    simulatedMs: runtime.currentTime - runtime.epochMs,
    wallMs: performance.now() - started,
    fencings: world.fencings.length,
    agentActions: world.actions,
    timersFired: runtime.stats().timersFired,
    tasksRun: runtime.stats().tasksRun
  }
}

/** A failed run as people read it: how to replay it, the schedule, what broke, and the trace up to then. */
export const report = (result: Result, options: { readonly traceLines?: number } = {}): string => {
  const first = result.violations[0]
  const lines = [
    `seed ${result.seed}, ${result.nodes} nodes: ${first === undefined ? "no violation" : `VIOLATION ${first.invariant}: ${first.message}`}`,
    `replay: ha simulate --seed ${result.seed} --nodes ${result.nodes}`,
    "fault schedule:",
    ...(result.schedule.length === 0 ? ["  (none)"] : result.schedule.map((s) => `  ${Faults.describe(s)}`)),
    "trace:"
  ]
  const limit = options.traceLines ?? 80
  const trace = result.trace.length > limit ? ["  ...", ...result.trace.slice(-limit)] : result.trace
  return [...lines, ...trace.map((l) => `  ${l}`)].join("\n")
}
