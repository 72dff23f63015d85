/** Drives LinkMachines directly (no crypto, no sockets): frames go straight from one machine to another. */
import { LinkMachine, type MachineSettings, machineSettings, type Output } from "../src/LinkMachine.ts"
import { defaults } from "../src/TransportSettings.ts"
import { topology } from "./helpers.ts"

export const CLUSTER_HASH = 0x12345678

export const settings = (overrides: Partial<MachineSettings> = {}): MachineSettings => ({
  ...machineSettings(defaults),
  ...overrides
})

export type Frame = Extract<Output, { _tag: "Transmit" }>["frame"]

export class Harness {
  readonly machines = new Map<number, LinkMachine>()
  readonly delivered: Array<{ to: number; from: number; bytes: Uint8Array }> = []
  readonly outputs: Array<{ node: number; output: Output }> = []
  inFlight: Array<Frame> = []
  now = 0

  constructor(ids: ReadonlyArray<number>, overrides: Partial<MachineSettings> = {}, links = 1) {
    for (const id of ids) {
      const peers = ids.filter((p) => p !== id)
      this.machines.set(
        id,
        new LinkMachine(
          topology(id, peers, links),
          settings(overrides),
          BigInt(id) * 1000n + 7n,
          CLUSTER_HASH
        )
      )
    }
  }

  machine(id: number): LinkMachine {
    return this.machines.get(id)!
  }

  step(id: number, input: Parameters<LinkMachine["step"]>[0]): Array<Output> {
    const outputs = this.machine(id).step(input)
    for (const output of outputs) {
      this.outputs.push({ node: id, output })
      if (output._tag === "Transmit") this.inFlight.push(output.frame)
      if (output._tag === "Deliver") this.delivered.push({ to: id, from: output.from, bytes: output.bytes })
    }
    return outputs
  }

  /** Delivers in-flight frames (through `network`, which may drop, duplicate or reorder) until none remain. */
  flush(network: (frames: Array<Frame>) => Array<Frame> = (f) => f): void {
    while (this.inFlight.length > 0) {
      const frames = network(this.inFlight)
      this.inFlight = []
      for (const frame of frames) {
        this.step(frame.destination, { _tag: "Received", now: this.now, link: frame.link, frame })
      }
    }
  }

  /** Delivers exactly `frames` (e.g. reordered, partial, duplicated), then flushes what they cause. */
  deliver(frames: ReadonlyArray<Frame>): void {
    for (const frame of frames)
      this.step(frame.destination, { _tag: "Received", now: this.now, link: frame.link, frame })
    this.flush()
  }

  /** Ticks every machine each `every` ms for `millis` ms, flushing after each tick. */
  run(millis: number, every = 50): void {
    const end = this.now + millis
    while (this.now < end) {
      this.now += every
      for (const id of this.machines.keys()) this.step(id, { _tag: "Tick", now: this.now })
      this.flush()
    }
  }
}
