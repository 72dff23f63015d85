/**
 * A cluster of namespace "machines" on this host (../shared/lab/netns/README.md shows why each piece
 * is built this way): every node is a network namespace with a long-lived init in its own pid, mount,
 * uts and ipc namespaces, joined to the others by two independent bridges (the cluster's two links);
 * a client namespace on the first link probes the service; a loop device with ext4 is the storage
 * every node can reach. Powering a node off kills its init (and so every process and mount of it)
 * and drops its carrier.
 *
 * Safety: the bridges get no address in the root namespace, the lab subnets get blackhole routes
 * there, and every probe runs inside a namespace, so no lab packet can leave the machine. Everything
 * is named after one prefix and torn down from that prefix, also when a test fails or a previous run
 * died half-way.
 */
import { execFile } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Data, Duration, Effect, Ref, Schedule, type Scope } from "effect"

export class LabError extends Data.TaggedError("LabError")<{
  readonly command: ReadonlyArray<string>
  readonly reason: string
}> {
  override get message(): string {
    return `lab: ${this.command.join(" ")}: ${this.reason}`
  }
}

export interface LabOptions {
  /** Names every namespace, bridge, link and file of this lab: at most 6 characters. */
  readonly prefix: string
  /** Cluster nodes (not counting the client). */
  readonly nodes: number
  /** The /24 of each link, e.g. "10.91.0" (ring 0) and "10.92.0" (ring 1). */
  readonly subnets?: readonly [string, string]
  /** Where per-node directories, pid files and the disk image live. */
  readonly root?: string
  /** Size of the shared ext4 disk in MiB (0: no disk). */
  readonly diskMiB?: number
  /**
   * Directories each node gets its own copy of (skeleton and ownership, no files), e.g. a cluster
   * stack's state and configuration directories; kept under the node's directory across power cycles.
   */
  readonly privateDirs?: ReadonlyArray<string>
}

export interface LabNode {
  readonly name: string
  /** The node's address on each link. */
  readonly addresses: readonly [string, string]
  /** Host-side ends of its links (down = no carrier inside the node). */
  readonly hostLinks: readonly [string, string]
  readonly dir: string
  readonly initPidFile: string
  /** Where the node's copy of a private directory lives on the host. */
  readonly privatePath: (path: string) => string
}

export type LinkFault = "carrier" | "drop"

export interface ExecResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const scripts = join(import.meta.dirname, "..", "scripts")
export const bootScript = join(scripts, "boot-node.sh")

const defaultSubnets = ["10.91.0", "10.92.0"] as const

export const run = (command: ReadonlyArray<string>, options: { readonly timeoutMs?: number } = {}) =>
  Effect.async<ExecResult>((resume) => {
    const child = execFile(
      command[0]!,
      command.slice(1),
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resume(Effect.succeed({ code, stdout, stderr: stderr || (error?.message ?? "") }))
      }
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** Runs a command that must succeed. */
export const must = (command: ReadonlyArray<string>, options: { readonly timeoutMs?: number } = {}) =>
  run(command, options).pipe(
    Effect.filterOrFail(
      (result) => result.code === 0,
      (result) => new LabError({ command, reason: `exit ${result.code}: ${result.stderr.trim()}` })
    )
  )

const ignore = (command: ReadonlyArray<string>) => Effect.asVoid(run(command))

const readPid = (file: string): number | undefined => {
  if (!existsSync(file)) return undefined
  const pid = Number(readFileSync(file, "utf8").trim())
  return Number.isInteger(pid) && pid > 1 && existsSync(`/proc/${pid}`) ? pid : undefined
}

/**
 * Removes everything a lab with this prefix may have left: node inits, the loop device, namespaces,
 * bridges, forward rules and (unless another lab is running) the blackhole routes. Idempotent.
 */
export const teardown = (prefix: string, root = defaultRoot(prefix)) =>
  Effect.gen(function* () {
    if (existsSync(root)) {
      for (const entry of readdirSync(root)) {
        const pid = readPid(join(root, entry, "init.pid"))
        if (pid !== undefined) yield* ignore(["kill", "-9", String(pid)])
      }
      const image = join(root, "disk.img")
      if (existsSync(image)) {
        // a killed node's mounts go away with its mount namespace, a moment after its init dies
        for (const attempt of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
          const loops = (yield* run(["losetup", "-j", image])).stdout
          const devices = [...loops.matchAll(/^(\/dev\/loop\d+):/gm)].map((m) => m[1]!)
          if (devices.length === 0) break
          for (const device of devices) yield* ignore(["losetup", "-d", device])
          yield* Effect.sleep(Duration.millis(50 * attempt))
        }
      }
    }
    const namespaces = (yield* run(["ip", "netns", "list"])).stdout
    for (const [, ns] of namespaces.matchAll(/^(\S+)/gm)) {
      if (ns!.startsWith(prefix)) yield* ignore(["ip", "netns", "del", ns!])
    }
    const links = (yield* run(["ip", "-o", "link", "show"])).stdout
    for (const [, link] of links.matchAll(/^\d+: ([^:@\s]+)/gm)) {
      if (link!.startsWith(prefix)) yield* ignore(["ip", "link", "del", link!])
    }
    for (const bridge of bridgesOf(prefix)) {
      // delete until none is left: a crashed run may have inserted the rule more than once
      while ((yield* run(["iptables", "-D", "FORWARD", ...forwardRule(prefix, bridge)])).code === 0) {}
    }
    const manifest = join(root, "subnets")
    if (existsSync(manifest) && otherLabs(prefix).length === 0) {
      for (const subnet of readFileSync(manifest, "utf8").split("\n").filter(Boolean)) {
        yield* ignore(["ip", "route", "del", "blackhole", `${subnet}.0/24`])
      }
    }
    rmSync(root, { recursive: true, force: true })
  })

const bridgesOf = (prefix: string) => [`${prefix}b0`, `${prefix}b1`] as const
const forwardRule = (prefix: string, bridge: string) =>
  ["-i", bridge, "-o", bridge, "-m", "comment", "--comment", `ha-lab ${prefix}`, "-j", "ACCEPT"] as const

const labsRoot = "/tmp/ha-e2e"
const defaultRoot = (prefix: string) => join(labsRoot, prefix)
const otherLabs = (prefix: string) =>
  existsSync(labsRoot) ? readdirSync(labsRoot).filter((name) => name !== prefix) : []

/** Builds the lab; closing the scope tears it down. */
export const make = (options: LabOptions): Effect.Effect<Lab, LabError, Scope.Scope> =>
  Effect.acquireRelease(build(options), (lab) => teardown(lab.prefix, lab.root))

export interface Lab {
  readonly prefix: string
  readonly root: string
  readonly nodes: ReadonlyArray<LabNode>
  /** The client namespace (on link 0) from which probes run. */
  readonly client: string
  readonly clientAddress: string
  /** A free address on link 0 for a floating IP. */
  readonly floatingIp: string
  readonly subnets: readonly [string, string]
  /** The shared disk, when one was asked for. */
  readonly disk: string | undefined
  readonly node: (name: string) => LabNode
  /** Runs a command inside a node (all its namespaces); the node must be powered on. */
  readonly exec: (node: string, command: ReadonlyArray<string>) => Effect.Effect<ExecResult, LabError>
  /** Runs a command in the client namespace. */
  readonly probe: (command: ReadonlyArray<string>) => Effect.Effect<ExecResult>
  readonly isOn: (node: string) => boolean
  readonly powerOff: (node: string) => Effect.Effect<void, LabError>
  readonly powerOn: (node: string) => Effect.Effect<void, LabError>
  readonly cutLink: (node: string, ring: 0 | 1, fault?: LinkFault) => Effect.Effect<void, LabError>
  readonly healLink: (node: string, ring: 0 | 1, fault?: LinkFault) => Effect.Effect<void, LabError>
  /** The powered-on nodes that have the shared disk mounted right now. */
  readonly diskMountedOn: Effect.Effect<ReadonlyArray<string>>
  /** The powered-on nodes that hold an address right now (e.g. the floating IP). */
  readonly addressHeldBy: (address: string) => Effect.Effect<ReadonlyArray<string>>
}

const build = (options: LabOptions) =>
  Effect.gen(function* () {
    const { prefix } = options
    if (!/^[a-z][a-z0-9]{0,5}$/.test(prefix)) {
      return yield* new LabError({ command: ["lab"], reason: `prefix "${prefix}" must be 1-6 of [a-z0-9]` })
    }
    const root = options.root ?? defaultRoot(prefix)
    const subnets = options.subnets ?? defaultSubnets
    yield* teardown(prefix, root)
    mkdirSync(root, { recursive: true })
    writeFileSync(join(root, "subnets"), `${subnets.join("\n")}\n`)
    // the safety net first: nothing addressed to the lab may follow the root namespace's default route
    for (const subnet of subnets) yield* must(["ip", "route", "replace", "blackhole", `${subnet}.0/24`])

    const bridges = bridgesOf(prefix)
    for (const bridge of bridges) {
      yield* must(["ip", "link", "add", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
      yield* must(["ip", "link", "set", bridge, "up"])
      // bridged frames pass the root namespace's FORWARD chain (br_netfilter): keep them flowing
      yield* must(["iptables", "-I", "FORWARD", ...forwardRule(prefix, bridge)])
    }
    const attach = (ns: string, ring: 0 | 1, address: string) =>
      Effect.gen(function* () {
        const hostLink = `${ns}r${ring}`
        yield* must([
          "ip",
          "link",
          "add",
          hostLink,
          "type",
          "veth",
          "peer",
          "name",
          `eth${ring}`,
          "netns",
          ns
        ])
        yield* must(["ip", "link", "set", hostLink, "master", bridges[ring], "up"])
        yield* must(["ip", "-n", ns, "addr", "add", `${address}/24`, "dev", `eth${ring}`])
        yield* must(["ip", "-n", ns, "link", "set", `eth${ring}`, "up"])
        return hostLink
      })

    const nodes: Array<LabNode> = []
    for (let i = 1; i <= options.nodes; i++) {
      const name = `${prefix}n${i}`
      const dir = join(root, name)
      mkdirSync(join(dir, "state"), { recursive: true })
      yield* must(["ip", "netns", "add", name])
      yield* must(["ip", "-n", name, "link", "set", "lo", "up"])
      const addresses = [`${subnets[0]}.${10 + i}`, `${subnets[1]}.${10 + i}`] as const
      const hostLinks = [yield* attach(name, 0, addresses[0]), yield* attach(name, 1, addresses[1])] as const
      nodes.push({
        name,
        addresses,
        hostLinks,
        dir,
        initPidFile: join(dir, "init.pid"),
        privatePath: (path) => join(dir, "private", path)
      })
    }
    const client = `${prefix}c`
    const clientAddress = `${subnets[0]}.50`
    yield* must(["ip", "netns", "add", client])
    yield* must(["ip", "-n", client, "link", "set", "lo", "up"])
    yield* attach(client, 0, clientAddress)

    let disk: string | undefined
    if ((options.diskMiB ?? 0) > 0) {
      const image = join(root, "disk.img")
      yield* must(["truncate", "-s", `${options.diskMiB}M`, image])
      disk = (yield* must(["losetup", "--find", "--show", image])).stdout.trim()
      yield* must(["mkfs.ext4", "-q", "-F", disk])
    }

    const node = (name: string) => {
      const found = nodes.find((n) => n.name === name)
      if (found === undefined) throw new Error(`lab: no node ${name}`)
      return found
    }
    const initPid = (name: string) => readPid(node(name).initPidFile)
    const isOn = (name: string) => initPid(name) !== undefined

    const powerOn = (name: string) =>
      Effect.gen(function* () {
        const n = node(name)
        yield* must([bootScript, n.dir, n.name, ...(options.privateDirs ?? [])])
        for (const link of n.hostLinks) yield* must(["ip", "link", "set", link, "up"])
      })
    const powerOff = (name: string) =>
      Effect.gen(function* () {
        const n = node(name)
        for (const link of n.hostLinks) yield* must(["ip", "link", "set", link, "down"])
        const pid = initPid(name)
        if (pid !== undefined) yield* must(["kill", "-9", String(pid)])
        rmSync(join(n.dir, "ready"), { force: true })
        // the pid is gone once the kernel has reaped the whole node
        yield* Effect.suspend(() => (existsSync(`/proc/${pid}`) ? Effect.fail("up") : Effect.void)).pipe(
          Effect.retry(Schedule.spaced(Duration.millis(10)).pipe(Schedule.upTo(Duration.seconds(5)))),
          Effect.ignore
        )
      })

    const exec = (name: string, command: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const pid = initPid(name)
        if (pid === undefined) return yield* new LabError({ command, reason: `node ${name} is powered off` })
        return yield* run([
          "nsenter",
          "-t",
          String(pid),
          "-m",
          "-u",
          "-i",
          "-n",
          "-p",
          "--wd=/",
          "--",
          ...command
        ])
      })

    const linkFault = (action: "cut" | "heal", name: string, ring: 0 | 1, fault: LinkFault) => {
      const n = node(name)
      if (fault === "carrier")
        return must(["ip", "link", "set", n.hostLinks[ring], action === "cut" ? "down" : "up"])
      const flag = action === "cut" ? "-I" : "-D"
      return Effect.all([
        must(["ip", "netns", "exec", n.name, "iptables", flag, "INPUT", "-i", `eth${ring}`, "-j", "DROP"]),
        must(["ip", "netns", "exec", n.name, "iptables", flag, "OUTPUT", "-o", `eth${ring}`, "-j", "DROP"])
      ]).pipe(Effect.asVoid)
    }

    const diskMountedOn = Effect.sync(() => {
      if (disk === undefined) return []
      return nodes
        .filter((n) => {
          const pid = initPid(n.name)
          if (pid === undefined) return false
          try {
            return readFileSync(`/proc/${pid}/mountinfo`, "utf8")
              .split("\n")
              .some((line) => line.split(" - ")[1]?.split(" ")[1] === disk)
          } catch {
            return false // the node died while we looked
          }
        })
        .map((n) => n.name)
    })

    const addressHeldBy = (address: string) =>
      Effect.forEach(
        nodes.filter((n) => isOn(n.name)),
        (n) =>
          run(["ip", "-n", n.name, "-4", "-o", "addr", "show"]).pipe(
            Effect.map((result) => (result.stdout.includes(` ${address}/`) ? [n.name] : []))
          )
      ).pipe(Effect.map((held) => held.flat()))

    const lab: Lab = {
      prefix,
      root,
      nodes,
      client,
      clientAddress,
      floatingIp: `${subnets[0]}.100`,
      subnets,
      disk,
      node,
      exec,
      probe: (command) => run(["ip", "netns", "exec", client, ...command]),
      isOn,
      powerOff,
      powerOn,
      cutLink: (name, ring, fault = "carrier") => linkFault("cut", name, ring, fault),
      healLink: (name, ring, fault = "carrier") => linkFault("heal", name, ring, fault),
      diskMountedOn,
      addressHeldBy
    }
    for (const n of nodes) yield* powerOn(n.name)
    return lab
  }).pipe(Effect.tapError(() => teardown(options.prefix, options.root ?? defaultRoot(options.prefix))))

/**
 * Samples an exclusivity condition (e.g. "the disk is mounted on at most one node") in the
 * background for the rest of the scope; `violations` lists every sample that broke it.
 */
export const watch = <A>(
  sample: Effect.Effect<ReadonlyArray<A>>,
  every: Duration.DurationInput = Duration.millis(50)
) =>
  Effect.gen(function* () {
    const violations = yield* Ref.make<
      ReadonlyArray<{ readonly at: number; readonly holders: ReadonlyArray<A> }>
    >([])
    const samples = yield* Ref.make(0)
    yield* sample.pipe(
      Effect.tap((holders) =>
        Effect.all([
          Ref.update(samples, (n) => n + 1),
          holders.length > 1
            ? Ref.update(violations, (v) => [...v, { at: Date.now(), holders }])
            : Effect.void
        ])
      ),
      Effect.repeat(Schedule.spaced(every)),
      Effect.forkScoped
    )
    return { violations: Ref.get(violations), samples: Ref.get(samples) }
  })
