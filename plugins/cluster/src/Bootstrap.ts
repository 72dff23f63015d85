/**
 * `ha init` and `ha join`: how a cluster comes to exist. `init` writes the daemon's configuration
 * (`ha.yaml`, every node and its link addresses) and a fresh cluster key (`authkey`, mode 0600) on the
 * first node; `join` copies both from a node that has them, over ssh or from a directory, checks them,
 * and names this node in the copy. Nothing else happens behind the user's back: the files are the
 * whole state, shown and explained by the commands' output.
 */
import { execFile } from "node:child_process"
import { hostname } from "node:os"
import { Args, Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { DaemonConfig } from "@ha/daemon"
import { ClusterKey } from "@ha/transport"
import { Console, Effect, Either, Option, Schema } from "effect"
import { stringify } from "yaml"

/** A bad argument (exit code 2). */
export class BootstrapUsageError extends Schema.TaggedError<BootstrapUsageError>()("BootstrapUsageError", {
  problem: Schema.String
}) {
  readonly exitCode = 2
  override get message() {
    return this.problem
  }
}

/** Something to read or write is missing, invalid or already there (exit code 3). */
export class BootstrapInputError extends Schema.TaggedError<BootstrapInputError>()("BootstrapInputError", {
  problem: Schema.String
}) {
  readonly exitCode = 3
  override get message() {
    return this.problem
  }
}

const dir = Options.directory("dir").pipe(
  Options.withDefault("/etc/ha"),
  Options.withDescription("where ha.yaml and authkey are written (the daemon reads /etc/ha)")
)
const force = Options.boolean("force").pipe(Options.withDescription("replace existing ha.yaml and authkey"))
const thisNode = Options.text("this").pipe(
  Options.optional,
  Options.withDescription("this node's name in the cluster (default: the host name)")
)

/** `NAME=ADDR[,ADDR]`: a node and its address on each link. */
export const parseNodeSpec = (spec: string) => {
  const match = /^([^=\s]+)=([^=\s]+)$/.exec(spec)
  if (match === null) {
    return Either.left(
      new BootstrapUsageError({
        problem: `--node "${spec}": expected NAME=ADDRESS[,ADDRESS] (one address per link)`
      })
    )
  }
  return Either.right({ name: match[1]!, addresses: match[2]!.split(",") })
}

/** Checks the text as the daemon will, for the node that will read it. */
const check = (text: string, file: string, self: string) =>
  Either.match(DaemonConfig.parse(text, file, self), {
    onLeft: (error) => Effect.fail(new BootstrapInputError({ problem: error.message })),
    onRight: Effect.succeed
  })

/** Writes a file through a temporary name, so a reader never sees half of it. */
const writeAtomically = (path: string, text: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const temporary = `${path}.tmp-${process.pid}`
    yield* fs.writeFileString(temporary, text, { mode: 0o644 })
    yield* fs.rename(temporary, path)
  }).pipe(Effect.mapError((error) => new BootstrapInputError({ problem: `${path}: ${error.message}` })))

const refuseExisting = (paths: ReadonlyArray<string>, force: boolean) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    for (const path of paths) {
      if (!force && (yield* fs.exists(path).pipe(Effect.orElseSucceed(() => false)))) {
        return yield* new BootstrapInputError({
          problem: `${path} exists: this node is already configured (--force replaces it)`
        })
      }
    }
  })

const keys = (file: string) =>
  ClusterKey.KeyFile.pipe(
    Effect.provide(ClusterKey.layer),
    Effect.map((keyFile) => ({
      read: keyFile
        .read(file)
        .pipe(Effect.mapError((error) => new BootstrapInputError({ problem: error.message }))),
      write: (key: Uint8Array) =>
        keyFile
          .write(file, key)
          .pipe(Effect.mapError((error) => new BootstrapInputError({ problem: error.message })))
    }))
  )

const files = (directory: string) =>
  Effect.map(Path.Path, (path) => ({
    config: path.join(directory, "ha.yaml"),
    key: path.join(directory, "authkey")
  }))

export const init = Command.make(
  "init",
  {
    cluster: Options.text("cluster").pipe(Options.withDescription("the cluster's name")),
    nodes: Options.text("node").pipe(
      Options.repeated,
      Options.withDescription("NAME=ADDRESS[,ADDRESS]: a node and its address on each link; repeat per node")
    ),
    thisNode,
    dir,
    force
  },
  (a) =>
    Effect.gen(function* () {
      const nodes = []
      for (const spec of a.nodes) nodes.push(yield* parseNodeSpec(spec))
      if (nodes.length === 0)
        return yield* new BootstrapUsageError({ problem: "give every node with --node" })
      const self = Option.getOrElse(a.thisNode, hostname)
      const paths = yield* files(a.dir)
      const text = stringify({ cluster: { name: a.cluster, nodes }, node: self })
      yield* check(text, paths.config, self)
      yield* refuseExisting([paths.config, paths.key], a.force)
      const keyFile = yield* keys(paths.key)
      yield* keyFile.write(yield* ClusterKey.generateKey())
      yield* writeAtomically(paths.config, text)
      yield* Console.log(
        [
          `wrote ${paths.config} (cluster "${a.cluster}", ${nodes.length} nodes, this node ${self})`,
          `wrote ${paths.key} (a new 256-bit cluster key, mode 0600: keep it secret)`,
          `next, on every other node: ha join --from ${self}`
        ].join("\n")
      )
    })
).pipe(
  Command.withDescription("Start a cluster on this node: write its configuration and a new cluster key.")
)

export const keygen = Command.make(
  "keygen",
  {
    out: Options.file("out").pipe(
      Options.withDefault("/etc/ha/authkey"),
      Options.withDescription("the key file")
    ),
    force
  },
  (a) =>
    Effect.gen(function* () {
      yield* refuseExisting([a.out], a.force)
      const keyFile = yield* keys(a.out)
      yield* keyFile.write(yield* ClusterKey.generateKey())
      yield* Console.log(
        `wrote ${a.out} (a new 256-bit cluster key, mode 0600: copy it to every node, keep it secret)`
      )
    })
).pipe(
  Command.withDescription(
    "Write a new cluster key (ha init does this for a new cluster; use keygen to replace the key of every node)."
  )
)

/** Runs `ssh … HOST cat FILE` (no shell on this side) and returns the file's bytes. */
const fetchOverSsh = (ssh: string, host: string, file: string) =>
  Effect.async<Uint8Array, BootstrapInputError>((resume) => {
    execFile(
      ssh,
      ["-o", "BatchMode=yes", host, "cat", file],
      { encoding: "buffer", timeout: 30_000, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) =>
        resume(
          error === null
            ? Effect.succeed(new Uint8Array(stdout))
            : Effect.fail(
                new BootstrapInputError({
                  problem: `${host}:${file}: ${stderr.toString().trim().split("\n").at(-1) || error.message}`
                })
              )
        )
    )
  })

export const join = Command.make(
  "join",
  {
    from: Args.text({ name: "SOURCE" }).pipe(
      Args.withDescription(
        "a node of the cluster (fetched over ssh as root) or, with --from-dir, a directory"
      )
    ),
    fromDir: Options.boolean("from-dir").pipe(
      Options.withDescription("SOURCE is a directory holding ha.yaml and authkey (e.g. copied by hand)")
    ),
    ssh: Options.text("ssh").pipe(Options.withDefault("ssh"), Options.withDescription("the ssh program")),
    thisNode,
    dir,
    force
  },
  (a) =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const self = Option.getOrElse(a.thisNode, hostname)
      const target = yield* files(a.dir)
      const read = (name: string) =>
        a.fromDir
          ? fs
              .readFile(path.join(a.from, name))
              .pipe(
                Effect.mapError(
                  (error) => new BootstrapInputError({ problem: `${a.from}/${name}: ${error.message}` })
                )
              )
          : fetchOverSsh(a.ssh, a.from, `/etc/ha/${name}`)
      const source = a.fromDir ? path.join(a.from, "ha.yaml") : `${a.from}:/etc/ha/ha.yaml`
      const text = new TextDecoder().decode(yield* read("ha.yaml"))
      const key = yield* read("authkey")
      // the source's file names the source node; this node must be in its list under its own name
      const own = `${text.replace(/^node:.*$\n?/m, "").trimEnd()}\nnode: ${self}\n`
      const config = yield* check(own, source, self)
      yield* ClusterKey.validateKey(source.replace("ha.yaml", "authkey"), key).pipe(
        Effect.mapError((error) => new BootstrapInputError({ problem: error.message }))
      )
      yield* refuseExisting([target.config, target.key], a.force)
      const keyFile = yield* keys(target.key)
      yield* keyFile.write(key)
      yield* writeAtomically(target.config, own)
      yield* Console.log(
        [
          `wrote ${target.config} (cluster "${config.cluster.name}", this node ${self})`,
          `wrote ${target.key} (the cluster's key, mode 0600)`
        ].join("\n")
      )
    })
).pipe(Command.withDescription("Join this node to a cluster: copy its configuration and key from a member."))
