import { execFile } from "node:child_process"
import * as dgram from "node:dgram"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..")
const deno = join(root, "..", "..", "node_modules", ".bin", "deno")

const freePorts = async (count: number) => {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<dgram.Socket>((resolve) => {
          const socket = dgram.createSocket("udp4")
          socket.bind(0, "127.0.0.1", () => resolve(socket))
        })
    )
  )
  const ports = sockets.map((s) => s.address().port)
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  return ports
}

describe("Deno 2", () => {
  it("runs the transport over Deno.listenDatagram (--unstable-net) and the in-memory network, with WebCrypto", async () => {
    const ports = await freePorts(4)
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        deno,
        [
          "run",
          "--unstable-net",
          "--allow-net",
          "--allow-read",
          "--allow-env",
          "test/deno/udpSmoke.ts",
          ...ports.map(String)
        ],
        { cwd: root, timeout: 60_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)
      )
    )
    const result = JSON.parse(output.trim().split("\n").at(-1)!)
    const exchanged = {
      texts: Array.from({ length: 9 }, (_, i) => `hello ${i}`),
      largeSize: 5000,
      links: ["up", "up"]
    }
    expect(result).toEqual({ runtime: "deno", udp: exchanged, memory: exchanged })
  }, 90_000)
})
