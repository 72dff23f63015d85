/**
 * The simulated machines: what really runs where (the ground truth the invariants judge, never a
 * node's CIB), the resource agents that change it, and the fence devices that power machines off.
 *
 * Safety invariants are checked at the moment an agent action begins, so a violation names the
 * action that broke the rule:
 * - exclusive (non-clone) resources are active on at most one machine, promoted instances of a
 *   promotable clone on at most `promoted-max`; "active" runs from the start call to the end of a
 *   successful stop, and a power-off ends it (a fenced machine runs nothing);
 * - a group member starts only once the members before it run on that machine and stops only
 *   once those after it are stopped; a resource colocated with a promoted clone starts only where
 *   that clone is promoted, and the clone is not demoted under it;
 * - a machine starts, promotes or fences only while its membership has quorum.
 */
import { type Cib, Cib as CibModule } from "@ha/cib"
import { ExitCode, Native as NativeAgent, type ResourceAgent } from "@ha/executor"
import { type FenceAgent, Native as NativeFence } from "@ha/fencing"
import { Effect } from "effect"

export type State = "starting" | "started" | "promoting" | "promoted" | "demoting" | "stopping" | "failed"

/** The parts of the configuration the invariants need, read from the CIB. */
export interface Model {
  /** Each group's members, in start order. */
  readonly groups: ReadonlyArray<ReadonlyArray<string>>
  /** Primitives outside clones (at most one machine runs each). */
  readonly exclusive: ReadonlySet<string>
  /** Promotable clones' primitives and their promoted-max. */
  readonly promotable: ReadonlyMap<string, number>
  /** Primitive -> the promotable primitive that must be promoted on the same machine. */
  readonly needsPromoted: ReadonlyMap<string, string>
}

export const modelOf = (cib: Cib.Cib): Model => {
  const groups: Array<ReadonlyArray<string>> = []
  const exclusive = new Set<string>()
  const promotable = new Map<string, number>()
  const membersOf = new Map<string, ReadonlyArray<string>>()
  const primitiveOfClone = new Map<string, string>()
  for (const r of cib.configuration.resources) {
    if (r._tag === "Primitive" && r.class !== "stonith") exclusive.add(r.id)
    if (r._tag === "Group") {
      const members = r.members.map((m) => m.id)
      groups.push(members)
      membersOf.set(r.id, members)
      for (const m of members) exclusive.add(m)
    }
    if (r._tag === "Clone" && r.child._tag === "Primitive") {
      primitiveOfClone.set(r.id, r.child.id)
      if (CibModule.isPromotable(r))
        promotable.set(r.child.id, Number(CibModule.metaValue(r.metaAttributes, "promoted-max") ?? "1"))
    }
  }
  const needsPromoted = new Map<string, string>()
  for (const c of cib.configuration.constraints) {
    if (c._tag !== "Colocation" || c.rsc === undefined || c.withRsc === undefined) continue
    if (c.withRscRole !== "Promoted" && c.withRscRole !== "Master") continue
    const target = primitiveOfClone.get(c.withRsc)
    if (target === undefined || !promotable.has(target)) continue
    for (const member of membersOf.get(c.rsc) ?? [c.rsc]) needsPromoted.set(member, target)
  }
  return { groups, exclusive, promotable, needsPromoted }
}

export interface Violation {
  readonly at: number
  readonly invariant: "exclusive" | "promoted-max" | "order" | "colocation" | "quorum" | "convergence"
  readonly message: string
}

/** Faults the schedule turns on and off for agents and fence devices. */
export interface AgentFaults {
  /** Machines whose next starts fail (rc 1) while set. */
  readonly failingStarts: Set<string>
  /** Machines whose stops fail (rc 1) while set: the cluster must fence them. */
  readonly failingStops: Set<string>
  /** Multiplies every agent duration. */
  slowFactor: number
  /** Fence devices answer failure while set. */
  fenceFailing: boolean
  /** Extra time a fence action takes (ms). */
  fenceDelayMs: number
}

const noFaults = (): AgentFaults => ({
  failingStarts: new Set(),
  failingStops: new Set(),
  slowFactor: 1,
  fenceFailing: false,
  fenceDelayMs: 0
})

/** The test-only broken variants the invariants must catch. */
export type Mutation = "fencing-skipped" | "ordering-ignored" | "quorum-ignored"

export interface Hooks {
  readonly now: () => number
  readonly trace: (node: string, message: string) => void
  /** Whether `node`'s membership has quorum right now. */
  readonly quorate: (node: string) => boolean
  /** Powers `node` off (its scope closed) and schedules its reboot when `reboot`. */
  readonly powerOff: (node: string, reboot: boolean) => void
}

const { Ocf } = ExitCode

const baseOf = (resource: string) => {
  const colon = resource.indexOf(":")
  return colon < 0 ? resource : resource.slice(0, colon)
}

type Change = "start" | "stop" | "promote" | "demote"

/** A changing action's state while it runs, and once it succeeded (undefined: stopped). */
const transient: Record<Change, State> = {
  start: "starting",
  promote: "promoting",
  demote: "demoting",
  stop: "stopping"
}
const after: Record<Change, State | undefined> = {
  start: "started",
  promote: "promoted",
  demote: "started",
  stop: undefined
}

export class World {
  /** machine -> resource (clone instance names folded to the primitive) -> state; absent = stopped */
  readonly machines = new Map<string, Map<string, State>>()
  readonly violations: Array<Violation> = []
  /** Replaced whole by {@link clearFaults}: read it through the world each time. */
  faults: AgentFaults = noFaults()
  readonly fencings: Array<{ readonly at: number; readonly by: string; readonly target: string }> = []
  actions = 0

  constructor(
    readonly model: Model,
    readonly nodes: ReadonlyArray<string>,
    readonly hooks: Hooks,
    readonly agentDurationMs: number,
    readonly mutation: Mutation | undefined
  ) {
    for (const n of nodes) this.machines.set(n, new Map())
  }

  /** Turns every agent and fence device fault off (the fault phase is over). */
  clearFaults() {
    this.faults = noFaults()
  }

  stateOf(node: string, resource: string): State | undefined {
    return this.machines.get(node)?.get(resource)
  }

  private set(node: string, resource: string, state: State | undefined) {
    const m = this.machines.get(node)!
    if (state === undefined) m.delete(resource)
    else m.set(resource, state)
  }

  /** Machines without power: what their dying fibers still try has no effect. */
  private readonly off = new Set<string>()

  /** Everything on `node` stops at once (power off). */
  powerDown(node: string) {
    this.off.add(node)
    this.machines.get(node)?.clear()
  }

  powerUp(node: string) {
    this.off.delete(node)
  }

  isPoweredOn(node: string): boolean {
    return !this.off.has(node)
  }

  /** Where `resource` is active (anything but stopped). */
  activeOn(resource: string): ReadonlyArray<string> {
    return this.nodes.filter((n) => this.stateOf(n, resource) !== undefined)
  }

  private violate(invariant: Violation["invariant"], message: string) {
    this.violations.push({ at: this.hooks.now(), invariant, message })
    this.hooks.trace("world", `VIOLATION ${invariant}: ${message}`)
  }

  /** The checks made when `action` begins on `node` for `resource`. */
  private check(node: string, resource: string, action: Change) {
    const { model } = this
    if ((action === "start" || action === "promote") && !this.hooks.quorate(node))
      this.violate("quorum", `${action} ${resource} on ${node}, which has no quorum`)
    if (action === "start" && model.exclusive.has(resource)) {
      const others = this.activeOn(resource).filter((n) => n !== node)
      if (others.length > 0)
        this.violate("exclusive", `start ${resource} on ${node} while it is active on ${others.join(", ")}`)
    }
    if (action === "promote") {
      const max = model.promotable.get(resource) ?? 1
      const promoted = this.nodes.filter((n) => {
        const s = this.stateOf(n, resource)
        return n !== node && (s === "promoted" || s === "promoting" || s === "demoting")
      })
      if (promoted.length + 1 > max)
        this.violate(
          "promoted-max",
          `promote ${resource} on ${node} while promoted on ${promoted.join(", ")} (promoted-max ${max})`
        )
    }
    for (const group of model.groups) {
      const i = group.indexOf(resource)
      if (i < 0) continue
      if (action === "start") {
        const missing = group.slice(0, i).filter((m) => this.stateOf(node, m) !== "started")
        if (missing.length > 0)
          this.violate("order", `start ${resource} on ${node} before ${missing.join(", ")} runs there`)
      }
      if (action === "stop") {
        const running = group.slice(i + 1).filter((m) => this.stateOf(node, m) !== undefined)
        if (running.length > 0)
          this.violate("order", `stop ${resource} on ${node} while ${running.join(", ")} still runs there`)
      }
    }
    const needed = model.needsPromoted.get(resource)
    if (action === "start" && needed !== undefined && this.stateOf(node, needed) !== "promoted")
      this.violate("colocation", `start ${resource} on ${node} where ${needed} is not promoted`)
    if (action === "demote" || (action === "stop" && model.promotable.has(resource))) {
      const dependants = [...model.needsPromoted]
        .filter(([r, p]) => p === resource && this.stateOf(node, r) !== undefined)
        .map(([r]) => r)
      if (dependants.length > 0)
        this.violate("colocation", `${action} ${resource} on ${node} under ${dependants.join(", ")}`)
    }
  }

  /** One machine's agent of `type`: runs actions against the ground truth after the checks. */
  agent(node: string, type: string): ResourceAgent.ResourceAgent {
    const world = this
    const act = (action: Change | "monitor" | "notify") => (request: ResourceAgent.ActionRequest) =>
      Effect.gen(function* () {
        // a powered-off machine's fibers run until interrupted, but its agents do nothing
        if (world.off.has(node)) return yield* Effect.never
        const resource = baseOf(request.resource)
        const before = world.stateOf(node, resource)
        if (action === "monitor") {
          // a monitor reports what runs; a half-done start reads as running, a failed one as failed
          const rc =
            before === undefined
              ? Ocf.notRunning
              : before === "promoted"
                ? Ocf.runningPromoted
                : before === "failed"
                  ? Ocf.error
                  : Ocf.ok
          return { rc }
        }
        if (action === "notify") return { rc: Ocf.ok }
        world.actions++
        world.check(node, resource, action)
        world.set(node, resource, transient[action])
        world.hooks.trace(node, `${action} ${request.resource}`)
        yield* Effect.sleep(Math.round(world.agentDurationMs * world.faults.slowFactor))
        if (world.off.has(node)) return yield* Effect.never
        const fails =
          (action === "start" && world.faults.failingStarts.has(node)) ||
          (action === "stop" && world.faults.failingStops.has(node))
        if (fails) {
          // a failed start or stop leaves the resource in an unknown, possibly active state
          world.set(node, resource, "failed")
          world.hooks.trace(node, `${action} ${request.resource} failed`)
          return { rc: Ocf.error, exitReason: "simulated failure" }
        }
        world.set(node, resource, after[action])
        return { rc: Ocf.ok }
      })
    return NativeAgent.make(type, {
      metadata: {
        name: type,
        version: "1.0",
        ocfVersion: "1.0",
        shortdesc: `simulated ${type}`,
        longdesc: "A simulated agent whose resources live in the simulator's world.",
        parameters: [],
        actions: (["start", "stop", "monitor", "promote", "demote", "notify", "meta-data"] as const).map(
          (name) => ({
            name,
            timeoutMs: 20_000,
            intervalMs: name === "monitor" ? 10_000 : undefined,
            depth: undefined,
            role: undefined,
            startDelayMs: undefined
          })
        )
      },
      actions: {
        start: act("start"),
        stop: act("stop"),
        promote: act("promote"),
        demote: act("demote"),
        monitor: act("monitor"),
        notify: act("notify")
      }
    })
  }

  /** A fence device run by `node`: `off` and `reboot` power the target machine off for real. */
  fenceDevice(node: string, name: string): FenceAgent.FenceAgent {
    const world = this
    return NativeFence.make({
      name,
      info: {
        hostParameter: "plug",
        parameters: ["plug", "ip", "username", "password", "lanplus"],
        actions: ["on", "off", "reboot", "status", "monitor", "list", "metadata"]
      },
      handle: (action, params) =>
        Effect.gen(function* () {
          if (world.off.has(node)) return yield* Effect.never
          if (action !== "off" && action !== "reboot") return { code: 0 }
          const target = params.plug ?? "?"
          if (!world.hooks.quorate(node)) world.violate("quorum", `${node} fences ${target} without quorum`)
          world.hooks.trace(node, `fence ${action} ${target}`)
          if (world.faults.fenceDelayMs > 0) yield* Effect.sleep(world.faults.fenceDelayMs)
          if (world.off.has(node)) return yield* Effect.never
          if (world.faults.fenceFailing) {
            world.hooks.trace(node, `fence ${action} ${target}: device failed`)
            return { code: 1, output: "simulated device failure" }
          }
          if (world.mutation !== "fencing-skipped") {
            world.powerDown(target)
            world.hooks.powerOff(target, action === "reboot")
          }
          world.fencings.push({ at: world.hooks.now(), by: node, target })
          return { code: 0, output: "Success" }
        })
    })
  }
}
