import { Buffer } from "node:buffer"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { forkServerProgram } from "../src/internal/forkServer.pl.ts"

const hex = (text: string) => Buffer.from(text, "utf8").toString("hex")
const text = (hexText: string) => Buffer.from(hexText, "hex").toString("utf8")

/** The fork server's own protocol: one spawn, then the lines it answers until the child's output. */
const runThroughServer = (script: string) =>
  Effect.acquireRelease(
    Effect.sync(() => spawn("perl", ["-e", forkServerProgram], { stdio: ["pipe", "pipe", "inherit"] })),
    (server) => Effect.sync(() => server.kill("SIGKILL"))
  ).pipe(
    Effect.flatMap((server) =>
      Effect.async<ReadonlyArray<ReadonlyArray<string>>>((resume) => {
        const lines: Array<ReadonlyArray<string>> = []
        createInterface({ input: server.stdout }).on("line", (line) => {
          const fields = line.split(" ")
          lines.push(fields)
          if (fields[0] === "ready") {
            const args = ["-c", script].map(hex)
            server.stdin.write(
              `spawn 1 65536 ${hex("/bin/sh")} 2 ${args.join(" ")} 1 ${hex("PATH=/usr/bin:/bin")}\n`
            )
          }
          if (fields[0] === "output") resume(Effect.succeed(lines))
        })
      })
    ),
    Effect.timeoutFail({
      duration: "10 seconds",
      onTimeout: () => new Error("no output line from the fork server")
    })
  )

describe("fork server", () => {
  it.live(
    "reports an agent's output as soon as it exits, although a process it left behind holds the pipes",
    () =>
      Effect.gen(function* () {
        // like IPaddr2's start: prints, leaves send_arp running in the background with the same stdout
        const lines = yield* runThroughServer("echo started; echo warning >&2; sleep 30 & echo $! ; exit 0")
        expect(lines.map((fields) => fields[0])).toEqual(["ready", "pid", "exit", "output"])
        expect(lines[2]).toEqual(["exit", "1", "0", "-"])
        const [, , , outHead, outTail, , errHead, errTail] = lines[3]!
        const [started, background] = (text(outHead!) + text(outTail!)).trim().split("\n")
        expect(started).toBe("started")
        expect(text(errHead!) + text(errTail!)).toBe("warning\n")
        // the background process was left alone (it still runs); the test ends it
        const pid = Number(background)
        expect(() => process.kill(pid, 0)).not.toThrow()
        process.kill(pid, "SIGKILL")
      }).pipe(Effect.scoped),
    20_000
  )
})
