import { execFile } from "node:child_process"
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs"
import { createConnection } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { Api, NodeApi } from "../src/index.ts"

const resources = new Set(["vip", "db"])

/** A few methods shaped like the daemon's: one that finds things, one that refuses, one with a bug. */
const methods: Api.Methods<never> = {
  "resource.move": Api.method(
    Schema.Struct({ resource: Schema.String, node: Schema.String }),
    ({ resource, node }) =>
      resources.has(resource)
        ? Effect.succeed({ moved: resource, to: node })
        : Effect.fail(new Api.ApiFailure({ code: "not-found", message: `no resource "${resource}"` }))
  ),
  "node.standby": Api.method(Schema.Struct({ node: Schema.String }), () =>
    Effect.fail(new Api.ApiFailure({ code: "refused", message: "no quorum: the cluster cannot act now" }))
  ),
  "debug.crash": Api.method(Schema.Struct({}), () => Effect.die(new Error("bug"))),
  ping: Api.method(Schema.Struct({}), () => Effect.succeed("pong"))
}

const answer = (line: string) => Effect.runSync(Api.answer(methods, line))

describe("Api.answer: every request gets an answer, whatever it is", () => {
  it("runs a method with its decoded parameters", () => {
    expect(answer('{"id":1,"method":"resource.move","params":{"resource":"vip","node":"beta"}}')).toEqual({
      id: 1,
      result: { moved: "vip", to: "beta" }
    })
  })

  it.each([
    ["{not json", null, "malformed", "not JSON"],
    ['{"id":2}', 2, "malformed", "method"],
    ['["ping"]', null, "malformed", "not a request"],
    ['{"id":3,"method":"resource.destroy"}', 3, "unknown-method", 'unknown method "resource.destroy"'],
    ['{"id":4,"method":"resource.move","params":{"resource":"vip"}}', 4, "invalid-params", "node"],
    [
      '{"id":5,"method":"resource.move","params":{"resource":"vip","node":"b","force":1}}',
      5,
      "invalid-params",
      "force"
    ],
    [
      '{"id":6,"method":"resource.move","params":{"resource":"nfs","node":"beta"}}',
      6,
      "not-found",
      'no resource "nfs"'
    ],
    ['{"id":"s7","method":"node.standby","params":{"node":"alpha"}}', "s7", "refused", "no quorum"],
    ['{"id":8,"method":"debug.crash"}', 8, "internal", "failed unexpectedly"],
    ['{"id":9,"method":"__proto__"}', 9, "unknown-method", "unknown method"]
  ])("%s → %s %s", (line, id, code, text) => {
    const response = answer(line)
    expect(response.id).toEqual(id)
    expect("error" in response && response.error.code).toBe(code)
    expect("error" in response && response.error.message).toContain(text)
  })
})

// like /run/ha: anyone may look in, the socket's own mode decides who may connect
const dir = mkdtempSync(join(tmpdir(), "ha-api-"))
chmodSync(dir, 0o755)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Sends raw text on a fresh connection and collects the answer lines until the server closes or 300 ms pass. */
const raw = (path: string, text: string) =>
  Effect.async<ReadonlyArray<string>>((resume) => {
    const socket = createConnection(path)
    let received = ""
    socket.setEncoding("utf8")
    socket.on("data", (chunk) => {
      received += chunk
    })
    const done = () => resume(Effect.succeed(received.split("\n").filter(Boolean)))
    socket.once("connect", () => socket.write(text))
    socket.once("close", done)
    const timer = setTimeout(() => socket.destroy(), 300)
    return Effect.sync(() => clearTimeout(timer))
  })

/** Runs the client as another user (nobody, with the given groups) in a child process. */
const callAs = (path: string, groups: string) =>
  new Promise<string>((resolve) => {
    const script = `const s=require("node:net").createConnection(${JSON.stringify(path)});s.on("connect",()=>{s.write('{"id":1,"method":"ping"}\\n')});s.on("data",d=>{process.stdout.write(String(d));s.end()});s.on("error",e=>process.stdout.write(e.code))`
    execFile(
      "setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        groups === "" ? "--clear-groups" : `--groups=${groups}`,
        process.execPath,
        "-e",
        script
      ],
      (_error, stdout) => resolve(stdout)
    )
  })

describe("NodeApi over a unix socket", () => {
  it.scopedLive("answers every line of a connection in order and outlives bad callers", () =>
    Effect.gen(function* () {
      const path = join(dir, "api.sock")
      yield* NodeApi.serve(methods, { path, mode: 0o600, maxLineBytes: 4096 })
      expect(statSync(path).mode & 0o777).toBe(0o600)
      const lines = yield* raw(
        path,
        '{"id":1,"method":"ping"}\ngarbage\n{"id":2,"method":"debug.crash"}\n{"id":3,"method":"resource.move","params":{"resource":"db","node":"alpha"}}\n'
      )
      expect(lines.map((line) => JSON.parse(line))).toEqual([
        { id: 1, result: "pong" },
        { id: null, error: { code: "malformed", message: expect.stringContaining("not JSON") } },
        { id: 2, error: { code: "internal", message: expect.any(String) } },
        { id: 3, result: { moved: "db", to: "alpha" } }
      ])
      // a line over the limit is answered once and the connection closed
      const flood = yield* raw(path, `{"id":1,"method":"ping","params":{"x":"${"x".repeat(10_000)}"}}\n`)
      expect(flood.map((line) => JSON.parse(line).error?.code)).toEqual(["too-large"])
      // and the server still answers
      expect(yield* NodeApi.call(path, "ping")).toBe("pong")
      const refused = yield* Effect.exit(NodeApi.call(path, "node.standby", { node: "alpha" }))
      expect(refused).toEqual(
        Exit.fail(
          new NodeApi.ApiClientError({ code: "refused", message: "no quorum: the cluster cannot act now" })
        )
      )
    })
  )

  it.scopedLive("lets in root only by default, and a configured group when asked", () =>
    Effect.gen(function* () {
      const rootOnly = join(dir, "root.sock")
      yield* NodeApi.serve(methods, { path: rootOnly, mode: 0o600 })
      expect(yield* Effect.promise(() => callAs(rootOnly, ""))).toBe("EACCES")
      const shared = join(dir, "group.sock")
      // gid 4 is "adm" on Debian; the socket's group decides, not the caller's name
      yield* NodeApi.serve(methods, { path: shared, mode: 0o660, group: 4 })
      expect(statSync(shared).gid).toBe(4)
      expect(yield* Effect.promise(() => callAs(shared, "4"))).toContain('"result":"pong"')
      expect(yield* Effect.promise(() => callAs(shared, ""))).toBe("EACCES")
      const client = yield* Effect.exit(NodeApi.call(join(dir, "absent.sock"), "ping"))
      expect(Exit.isFailure(client) && String(client.cause)).toContain("no daemon listening")
    })
  )

  it.scopedLive("refuses to take over a socket another daemon serves, and replaces a stale one", () =>
    Effect.gen(function* () {
      const path = join(dir, "twice.sock")
      yield* Effect.scoped(NodeApi.serve(methods, { path, mode: 0o600 }))
      yield* NodeApi.serve(methods, { path, mode: 0o600 })
      const second = yield* Effect.exit(Effect.scoped(NodeApi.serve(methods, { path, mode: 0o600 })))
      expect(Exit.isFailure(second) && String(second.cause)).toContain("another daemon is listening")
      expect(yield* NodeApi.call(path, "ping")).toBe("pong")
    })
  )
})
