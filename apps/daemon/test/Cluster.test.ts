/**
 * Three daemons as separate processes on loopback (two links each: 127.0.1.x and 127.0.2.x), talking
 * through their real transport and membership, queried through their real API sockets.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createConnection } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { ClusterKey } from "@ha/transport"
import { Effect, Schedule } from "effect"
import { NodeApi } from "../src/index.ts"

const root = mkdtempSync(join(tmpdir(), "ha-daemons-"))
const port = 20000 + (process.pid % 20000)
const names = ["n1", "n2", "n3"]
const main = new URL("../src/main.ts", import.meta.url).pathname
const daemons = new Map<string, ChildProcess>()
const logs = new Map<string, Array<string>>()

afterAll(() => {
  for (const child of daemons.values()) child.kill("SIGKILL")
  rmSync(root, { recursive: true, force: true })
})

const configFor = (name: string) => {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  const cluster = names
    .map((n, i) => `    - { name: ${n}, addresses: [127.0.1.${i + 1}, 127.0.2.${i + 1}] }`)
    .join("\n")
  const file = join(dir, "ha.yaml")
  writeFileSync(
    file,
    `cluster:\n  name: loop\n  nodes:\n${cluster}\nnode: ${name}\nport: ${port}\nkeyFile: ${root}/authkey\nstateDir: ${dir}/state\nrunDir: ${dir}/run\n`
  )
  return { file, socket: join(dir, "run", "api.sock") }
}

const start = (name: string) => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=source", main, "--config", configFor(name).file],
    {
      stdio: ["ignore", "ignore", "pipe"]
    }
  )
  const lines: Array<string> = []
  logs.set(name, lines)
  child
    .stderr!.setEncoding("utf8")
    .on("data", (chunk: string) => lines.push(...chunk.split("\n").filter(Boolean)))
  daemons.set(name, child)
  return child
}

interface Status {
  readonly members: ReadonlyArray<string>
  readonly quorum: { readonly quorate: boolean }
}

const status = (name: string) =>
  NodeApi.call(configFor(name).socket, "status") as Effect.Effect<Status, NodeApi.ApiClientError>

/** Polls a node's status until it satisfies `done` (or 60 s pass). */
const until = (name: string, done: (s: Status) => boolean) =>
  status(name).pipe(
    Effect.filterOrFail(done, () => "not yet" as const),
    Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds")))
  )

const exited = (child: ChildProcess) =>
  Effect.async<number | null>((resume) => {
    if (child.exitCode !== null) return resume(Effect.succeed(child.exitCode))
    child.once("exit", (code) => resume(Effect.succeed(code)))
  })

describe("three daemons on loopback", () => {
  it.live(
    "form one view with quorum, lose a killed node, keep answering bad callers, stop cleanly",
    () =>
      Effect.gen(function* () {
        const key = yield* ClusterKey.generateKey()
        writeFileSync(join(root, "authkey"), key)
        chmodSync(join(root, "authkey"), 0o600)
        for (const name of names) start(name)

        for (const name of names) {
          const formed = yield* until(name, (s) => s.members.length === 3 && s.quorum.quorate)
          expect([...formed.members].sort()).toEqual(names)
        }

        // garbage on the socket is answered, and the daemon keeps serving
        const reply = yield* Effect.async<string>((resume) => {
          const socket = createConnection(configFor("n1").socket)
          socket.setEncoding("utf8")
          socket.once("connect", () => socket.write("{{{\n"))
          socket.once("data", (data: string) => {
            socket.end()
            resume(Effect.succeed(data))
          })
        })
        expect(JSON.parse(reply).error.code).toBe("malformed")

        // a node that dies without a word leaves the view; the two others keep quorum (2 of 3 votes)
        daemons.get("n3")!.kill("SIGKILL")
        const after = yield* until("n1", (s) => s.members.length === 2)
        expect([...after.members].sort()).toEqual(["n1", "n2"])
        expect(after.quorum.quorate).toBe(true)

        // SIGTERM: a clean exit that removes the API socket
        for (const name of ["n1", "n2"]) {
          daemons.get(name)!.kill("SIGTERM")
          yield* exited(daemons.get(name)!)
          expect(existsSync(configFor(name).socket)).toBe(false)
        }
        expect(logs.get("n1")!.join("\n")).toMatch(/message="membership view" members=n1,n2,n3/)
        expect(logs.get("n1")!.join("\n")).toMatch(/message=stopping/)
      }).pipe(Effect.timeout("120 seconds")),
    150_000
  )

  it.live(
    "refuses a bad configuration file in one line, exit 3",
    () =>
      Effect.gen(function* () {
        const file = join(root, "bad.yaml")
        writeFileSync(file, "cluster:\n  name: x\n  nodes: []\n")
        const child = spawn(
          process.execPath,
          ["--import", "tsx", "--conditions=source", main, "--config", file],
          {
            stdio: ["ignore", "ignore", "pipe"]
          }
        )
        let stderr = ""
        child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
          stderr += chunk
        })
        expect(yield* exited(child)).toBe(3)
        expect(stderr.trim()).toMatch(new RegExp(`^ha-daemon: ${file}:3:10: cluster.nodes: `))
        expect(stderr.trim().split("\n")).toHaveLength(1)
      }),
    60_000
  )
})
