// Real agents acting on real system objects the test creates and removes: a network namespace
// (IPaddr2), an ext4 loop device (Filesystem) and a PostgreSQL cluster on it (pgsql). Needs root.
import { execFileSync } from "node:child_process"
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ExecStatus, Ocf } from "../src/ExitCode.ts"
import { Executor } from "../src/index.ts"
import { isRoot, live, tempDir } from "./layers.ts"

const sh = (command: string, ...args: Array<string>) =>
  execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
const quietly = (command: string, ...args: Array<string>) => {
  try {
    sh(command, ...args)
  } catch {
    // cleanup of something that may not exist
  }
}

const pgBin = "/usr/lib/postgresql/15/bin"
const why = isRoot ? "" : "needs root (network namespaces, loop devices, mount): run the tests as root"
if (!isRoot) console.warn(`Lab.test.ts skipped: ${why}`)

const heartbeat = (type: string) => ({ class: "ocf", provider: "heartbeat", type }) as const
const op = (
  executor: Executor.ExecutorService,
  resource: string,
  type: string,
  params: Record<string, string>,
  operation: "start" | "stop" | "monitor",
  timeoutMs = 60_000
) =>
  executor
    .execute({ resource, agent: heartbeat(type), operation, params, timeoutMs })
    .pipe(Effect.tap((r) => Effect.sync(() => r.opStatus !== ExecStatus.done && console.error(r))))

describe.skipIf(!isRoot)("IPaddr2 in a network namespace", () => {
  const suffix = `${process.pid % 10000}`
  const netns = `hxe${suffix}`
  const subnet = `10.251.${process.pid % 250}`
  const dir = tempDir("ipaddr2")
  beforeAll(() => {
    sh("ip", "netns", "add", netns)
    sh("ip", "-n", netns, "link", "set", "lo", "up")
    // A veth pair with both ends inside the namespace (this kernel has no dummy driver), no route out.
    sh("ip", "-n", netns, "link", "add", "hxd0", "type", "veth", "peer", "name", "hxd1")
    sh("ip", "-n", netns, "link", "set", "hxd1", "up")
    sh("ip", "-n", netns, "addr", "add", `${subnet}.1/24`, "dev", "hxd0")
    sh("ip", "-n", netns, "link", "set", "hxd0", "up")
  })
  afterAll(() => {
    quietly("ip", "netns", "del", netns)
    rmSync(dir, { recursive: true, force: true })
  })

  const layer = live({ agentWrapper: ["/usr/sbin/ip", "netns", "exec", netns], resourceTmpDir: dir })
  const addresses = () => sh("ip", "-n", netns, "-o", "-4", "addr", "show", "dev", "hxd0")

  it.live("adds the address on start and removes it on stop", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const params = { ip: `${subnet}.100`, cidr_netmask: "24", nic: "hxd0" }
      const rc = (operation: "start" | "stop" | "monitor") =>
        op(executor, "vip", "IPaddr2", params, operation).pipe(Effect.map((r) => r.rcCode))
      expect(yield* rc("monitor")).toBe(Ocf.notRunning)
      expect(yield* rc("start")).toBe(Ocf.ok)
      expect(addresses()).toContain(`${subnet}.100/24`)
      expect(yield* rc("monitor")).toBe(Ocf.ok)
      expect(yield* rc("stop")).toBe(Ocf.ok)
      expect(addresses()).not.toContain(`${subnet}.100/24`)
      expect(yield* rc("monitor")).toBe(Ocf.notRunning)
    }).pipe(Effect.provide(layer))
  )
})

describe.skipIf(!isRoot)("Filesystem on an ext4 loop device, and PostgreSQL on it", () => {
  const dir = tempDir("fs")
  const image = join(dir, "disk.img")
  const mountpoint = join(dir, "mnt")
  const socketdir = join(dir, "socket")
  const pgdata = join(mountpoint, "pgdata")
  const port = String(20_000 + (process.pid % 20_000))
  let device = ""
  const postgres = (() => {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith("postgres:"))
    return line === undefined
      ? undefined
      : { uid: Number(line.split(":")[2]), gid: Number(line.split(":")[3]) }
  })()

  beforeAll(() => {
    chmodSync(dir, 0o755)
    mkdirSync(mountpoint)
    sh("truncate", "-s", "96M", image)
    device = sh("losetup", "--find", "--show", image).trim()
    sh("mkfs.ext4", "-q", "-F", device)
  })
  afterAll(() => {
    if (existsSync(join(pgdata, "postmaster.pid"))) {
      quietly(
        "runuser",
        "-u",
        "postgres",
        "--",
        `${pgBin}/pg_ctl`,
        "-D",
        pgdata,
        "-m",
        "immediate",
        "-w",
        "stop"
      )
    }
    quietly("umount", mountpoint)
    if (device !== "") quietly("losetup", "-d", device)
    rmSync(dir, { recursive: true, force: true })
  })

  const layer = live({ resourceTmpDir: dir })
  const fsParams = () => ({ device, directory: mountpoint, fstype: "ext4" })
  const mounted = () => readFileSync("/proc/self/mountinfo", "utf8").includes(` ${mountpoint} `)

  it.live("mounts on start, unmounts on stop, with monitor following", () =>
    Effect.gen(function* () {
      const executor = yield* Executor.Executor
      const rc = (operation: "start" | "stop" | "monitor") =>
        op(executor, "fs", "Filesystem", fsParams(), operation).pipe(Effect.map((r) => r.rcCode))
      expect(yield* rc("monitor")).toBe(Ocf.notRunning)
      expect(yield* rc("start")).toBe(Ocf.ok)
      expect(mounted()).toBe(true)
      expect(yield* rc("monitor")).toBe(Ocf.ok)
      expect(yield* rc("stop")).toBe(Ocf.ok)
      expect(mounted()).toBe(false)
      expect(yield* rc("monitor")).toBe(Ocf.notRunning)
    }).pipe(Effect.provide(layer))
  )

  it.live.skipIf(postgres === undefined || !existsSync(`${pgBin}/pg_ctl`))(
    "starts, monitors and stops PostgreSQL through ocf:heartbeat:pgsql with its data on that filesystem",
    () =>
      Effect.gen(function* () {
        const executor = yield* Executor.Executor
        expect((yield* op(executor, "fs", "Filesystem", fsParams(), "start")).rcCode).toBe(Ocf.ok)
        mkdirSync(pgdata)
        mkdirSync(socketdir)
        chownSync(pgdata, postgres!.uid, postgres!.gid)
        chownSync(socketdir, postgres!.uid, postgres!.gid)
        sh("runuser", "-u", "postgres", "--", `${pgBin}/initdb`, "-D", pgdata, "--auth=trust", "--no-sync")
        // Only a private Unix socket: no TCP port to collide with, and the agent's socketdir is where the server listens.
        appendFileSync(
          join(pgdata, "postgresql.conf"),
          `\nlisten_addresses = ''\nunix_socket_directories = '${socketdir}'\n`
        )
        const params = {
          pgctl: `${pgBin}/pg_ctl`,
          psql: `${pgBin}/psql`,
          pgdata,
          pgport: port,
          socketdir,
          logfile: join(dir, "postgres.log")
        }
        const rc = (operation: "start" | "stop" | "monitor") =>
          op(executor, "db", "pgsql", params, operation).pipe(Effect.map((r) => r.rcCode))
        expect(yield* rc("monitor")).toBe(Ocf.notRunning)
        expect(yield* rc("start")).toBe(Ocf.ok)
        expect(yield* rc("monitor")).toBe(Ocf.ok)
        const answer = sh(
          "runuser",
          "-u",
          "postgres",
          "--",
          `${pgBin}/psql`,
          "-h",
          socketdir,
          "-p",
          port,
          "-Atc",
          "select 6*7"
        )
        expect(answer.trim()).toBe("42")
        expect(yield* rc("stop")).toBe(Ocf.ok)
        expect(yield* rc("monitor")).toBe(Ocf.notRunning)
        expect((yield* op(executor, "fs", "Filesystem", fsParams(), "stop")).rcCode).toBe(Ocf.ok)
        expect(mounted()).toBe(false)
      }).pipe(Effect.provide(layer)),
    120_000
  )
})
