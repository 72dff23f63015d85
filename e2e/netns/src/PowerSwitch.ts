/**
 * The lab's power switch ("BMC"): a server in the root namespace, on a unix socket file that every
 * node can reach whatever happens to the cluster links (file sockets are not scoped by network
 * namespace), answering `off NODE`, `on NODE`, `status NODE` and `list` with one line. `bin/fence_lab`
 * is the fence agent that talks to it. Every action is recorded, so tests can check who was powered
 * off and when.
 */
import { existsSync, unlinkSync } from "node:fs"
import { createServer } from "node:net"
import { Effect, Ref, Runtime, type Scope } from "effect"
import type { Lab, LabError } from "./Lab.ts"

export interface PowerEvent {
  readonly at: number
  readonly action: "off" | "on"
  readonly node: string
}

export interface PowerSwitch {
  readonly path: string
  readonly history: Effect.Effect<ReadonlyArray<PowerEvent>>
}

/**
 * Serves the lab's nodes on `path` until the scope closes. `afterBoot` runs after a node is powered
 * on (e.g. to start its cluster stack, like a machine that boots into it).
 */
export const serve = (
  lab: Lab,
  path: string,
  afterBoot: (node: string) => Effect.Effect<void, LabError> = () => Effect.void
): Effect.Effect<PowerSwitch, never, Scope.Scope> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const history = yield* Ref.make<ReadonlyArray<PowerEvent>>([])
    const known = new Set(lab.nodes.map((n) => n.name))
    const handle = (line: string): Effect.Effect<string> => {
      const [verb, node] = line.trim().split(/\s+/)
      if (verb === "list") return Effect.succeed(lab.nodes.map((n) => n.name).join(" "))
      if (node === undefined || !known.has(node)) return Effect.succeed(`error: unknown node "${node ?? ""}"`)
      if (verb === "status") return Effect.succeed(lab.isOn(node) ? "on" : "off")
      if (verb !== "off" && verb !== "on") return Effect.succeed(`error: unknown request "${verb}"`)
      const action: PowerEvent["action"] = verb
      const act =
        action === "off"
          ? lab.powerOff(node)
          : lab.isOn(node)
            ? Effect.void
            : lab.powerOn(node).pipe(Effect.zipRight(afterBoot(node)))
      return act.pipe(
        Effect.zipRight(Ref.update(history, (events) => [...events, { at: Date.now(), action, node }])),
        Effect.as("ok"),
        Effect.catchAll((error) => Effect.succeed(`error: ${error.message}`))
      )
    }
    const server = createServer((socket) => {
      socket.setEncoding("utf8")
      let buffer = ""
      socket.on("data", (chunk: string) => {
        buffer += chunk
        const end = buffer.indexOf("\n")
        if (end < 0) return
        const line = buffer.slice(0, end)
        buffer = ""
        Runtime.runPromise(runtime)(handle(line)).then((answer) => socket.end(`${answer}\n`))
      })
      socket.on("error", () => socket.destroy())
    })
    if (existsSync(path)) unlinkSync(path)
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.listen(path, () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          if (existsSync(path)) unlinkSync(path)
        })
    )
    return { path, history: Ref.get(history) }
  })
