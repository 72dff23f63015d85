/**
 * Data-driven LinkMachine scenarios: each testdata/*.json file lists inputs with, side by side, the exact
 * outputs expected (each output matched field by field against the listed fields) and optionally a
 * subset of the metrics afterwards. Node 1 (incarnation 1007) is the machine under test.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { decodePing, decodePong, encodePing, encodePong, type Frame } from "../src/internal/wire.ts"
import { type Input, LinkMachine, type Output } from "../src/LinkMachine.ts"
import { CLUSTER_HASH, settings } from "./harness.ts"
import { topology } from "./helpers.ts"

interface JsonFrame {
  kind: Frame["kind"]
  link: number
  sender: number
  incarnation: string
  seq: number
  destination?: number
  messageId?: number
  fragIndex?: number
  fragCount?: number
  text?: string
  ping?: { sentAt: number; knownIncarnation: string }
  pong?: { echoSentAt: number; echoIncarnation: string; knownIncarnation: string }
}

interface Step {
  input: Record<string, unknown> & { _tag: Input["_tag"]; now: number }
  expect: Array<Record<string, unknown>>
  metrics?: Record<string, unknown>
}

interface Scenario {
  description: string
  links?: number
  priorities?: Array<number>
  settings?: Record<string, unknown>
  steps: Array<Step>
}

const dir = join(import.meta.dirname, "..", "testdata")
const text = new TextEncoder()

const payloadOf = (where: string, frame: JsonFrame): Uint8Array => {
  if (frame.ping !== undefined) {
    return encodePing({ sentAt: frame.ping.sentAt, knownIncarnation: BigInt(frame.ping.knownIncarnation) })
  }
  if (frame.pong !== undefined) {
    return encodePong({
      echoSentAt: frame.pong.echoSentAt,
      echoIncarnation: BigInt(frame.pong.echoIncarnation),
      knownIncarnation: BigInt(frame.pong.knownIncarnation)
    })
  }
  if (frame.text !== undefined) return text.encode(frame.text)
  throw new Error(`${where}: frame needs one of "ping", "pong" or "text"`)
}

const toInput = (where: string, input: Step["input"]): Input => {
  if (input._tag !== "Received" && input._tag !== "Send" && input._tag !== "Broadcast") return input as Input
  if (input._tag !== "Received") {
    return { ...input, bytes: text.encode(String(input.text ?? "")) } as Input
  }
  const frame = input.frame as JsonFrame | undefined
  if (frame === undefined) throw new Error(`${where}: Received needs "frame"`)
  return {
    _tag: "Received",
    now: input.now,
    link: Number(input.link ?? frame.link),
    frame: {
      kind: frame.kind,
      link: frame.link,
      clusterHash: CLUSTER_HASH,
      sender: frame.sender,
      destination: frame.destination ?? 1,
      incarnation: BigInt(frame.incarnation),
      seq: frame.seq,
      messageId: frame.messageId ?? 0,
      fragIndex: frame.fragIndex ?? 0,
      fragCount: frame.fragCount ?? 1,
      payload: payloadOf(where, frame)
    }
  }
}

/** Outputs in the scenario files' JSON shape: bigints as decimal strings, bodies decoded. */
const toJson = (output: Output): Record<string, unknown> => {
  switch (output._tag) {
    case "Deliver":
      return { _tag: "Deliver", from: output.from, text: new TextDecoder().decode(output.bytes) }
    case "Transmit": {
      const { payload, clusterHash: _hash, incarnation, ...rest } = output.frame
      const body =
        rest.kind === "ping"
          ? { ping: decodePing(payload) }
          : rest.kind === "pong"
            ? { pong: decodePong(payload) }
            : { text: new TextDecoder().decode(payload) }
      return JSON.parse(
        JSON.stringify({ _tag: "Transmit", frame: { ...rest, incarnation, ...body } }, (_k, v) =>
          typeof v === "bigint" ? v.toString() : v
        )
      )
    }
    default:
      return { ...output }
  }
}

const files = readdirSync(dir).filter((f) => f.endsWith(".json"))

describe("LinkMachine scenarios (testdata/*.json)", () => {
  it("has scenarios", () => expect(files.length).toBeGreaterThanOrEqual(4))
  for (const file of files) {
    const scenario = JSON.parse(readFileSync(join(dir, file), "utf8")) as Scenario
    it(`${file}: ${scenario.description}`, () => {
      const machine = new LinkMachine(
        topology(1, [2], scenario.links ?? 1, scenario.priorities ?? []),
        settings(scenario.settings ?? {}),
        1007n,
        CLUSTER_HASH
      )
      scenario.steps.forEach((step, index) => {
        const where = `${file} step ${index + 1}`
        const outputs = machine.step(toInput(where, step.input)).map(toJson)
        expect(outputs, where).toHaveLength(step.expect.length)
        for (const [i, output] of outputs.entries()) {
          expect(output, `${where} output ${i + 1}`).toMatchObject(step.expect[i]!)
        }
        if (step.metrics !== undefined)
          expect(machine.metrics(), `${where} metrics`).toMatchObject(step.metrics)
      })
    })
  }
})
