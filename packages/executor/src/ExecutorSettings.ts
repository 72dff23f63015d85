/**
 * The executor's settings: one Tag whose fields carry their defaults, a `layer(options)` that
 * overrides some of them, and a `Config` that reads them from the environment (`HA_EXECUTOR_*`).
 */
import { Config, Context, Layer } from "effect"

export interface ExecutorSettings {
  /** This node's name: `OCF_RESKEY_CRM_meta_on_node` and `on_node` in the records. */
  readonly nodeName: string
  /** Operations running at once on this node (Pacemaker's node-action-limit). */
  readonly maxConcurrentOperations: number
  /** Time between SIGTERM and SIGKILL to a timed-out agent's process group. */
  readonly killGraceMs: number
  /** Bytes of stdout and of stderr kept per operation; more is read and discarded. */
  readonly outputCapBytes: number
  /** Timeout of an operation that names none and whose agent declares none. */
  readonly defaultTimeoutMs: number
  /** Timeout of `meta-data` calls. */
  readonly metadataTimeoutMs: number
  /** OCF_ROOT: agents are at `<ocfRoot>/resource.d/<provider>/<type>`. */
  readonly ocfRoot: string
  /** Directory of LSB init scripts. */
  readonly lsbRoot: string
  readonly systemctlPath: string
  /** PATH given to agents (they get no other inherited environment). */
  readonly path: string
  /** HA_RSCTMP for OCF agents (state files of e.g. IPaddr2); unset leaves the agents' default. */
  readonly resourceTmpDir: string | undefined
  /**
   * A command prefix every agent is run under, e.g. `["/usr/bin/ip", "netns", "exec", "node1"]` or
   * `["/usr/bin/nsenter", "-t", "1234", "-m", "-n", "--"]` to run a node's agents in its namespaces.
   */
  readonly agentWrapper: ReadonlyArray<string>
  /**
   * More environment for OCF agents, e.g. `HA_SBIN_DIR` naming the directory of the cluster's
   * `crm_attribute`/`crm_master`/`crm_node`, through which agents such as DRBD and Stateful publish
   * their promotion scores.
   */
  readonly environment: Readonly<Record<string, string>>
}

export const defaults: ExecutorSettings = {
  nodeName: "localhost",
  maxConcurrentOperations: 4,
  killGraceMs: 5_000,
  outputCapBytes: 64 * 1024,
  defaultTimeoutMs: 20_000,
  metadataTimeoutMs: 5_000,
  ocfRoot: "/usr/lib/ocf",
  lsbRoot: "/etc/init.d",
  systemctlPath: "/usr/bin/systemctl",
  path: "/usr/sbin:/usr/bin:/sbin:/bin",
  resourceTmpDir: undefined,
  agentWrapper: [],
  environment: {}
}

export class Settings extends Context.Tag("@ha/executor/ExecutorSettings")<Settings, ExecutorSettings>() {}

export const layer = (options: Partial<ExecutorSettings> = {}): Layer.Layer<Settings> =>
  Layer.succeed(Settings, { ...defaults, ...options })

/** The settings from the environment, e.g. `HA_EXECUTOR_KILL_GRACE_MS=2000`. */
export const config: Config.Config<ExecutorSettings> = Config.nested(
  Config.all({
    nodeName: Config.string("NODE_NAME").pipe(
      Config.withDefault(defaults.nodeName),
      Config.withDescription("This node's name as the agents and the CIB status see it.")
    ),
    maxConcurrentOperations: Config.integer("MAX_CONCURRENT_OPERATIONS").pipe(
      Config.withDefault(defaults.maxConcurrentOperations),
      Config.withDescription("Operations running at once on this node.")
    ),
    killGraceMs: Config.integer("KILL_GRACE_MS").pipe(
      Config.withDefault(defaults.killGraceMs),
      Config.withDescription("Milliseconds between SIGTERM and SIGKILL to a timed-out agent's process group.")
    ),
    outputCapBytes: Config.integer("OUTPUT_CAP_BYTES").pipe(
      Config.withDefault(defaults.outputCapBytes),
      Config.withDescription("Bytes of stdout and of stderr kept per operation.")
    ),
    defaultTimeoutMs: Config.integer("DEFAULT_TIMEOUT_MS").pipe(
      Config.withDefault(defaults.defaultTimeoutMs),
      Config.withDescription("Timeout of operations that set none and whose agent declares none.")
    ),
    metadataTimeoutMs: Config.integer("METADATA_TIMEOUT_MS").pipe(
      Config.withDefault(defaults.metadataTimeoutMs),
      Config.withDescription("Timeout of meta-data calls.")
    ),
    ocfRoot: Config.string("OCF_ROOT").pipe(
      Config.withDefault(defaults.ocfRoot),
      Config.withDescription("Root of the OCF agent tree.")
    ),
    lsbRoot: Config.string("LSB_ROOT").pipe(
      Config.withDefault(defaults.lsbRoot),
      Config.withDescription("Directory of LSB init scripts.")
    ),
    systemctlPath: Config.string("SYSTEMCTL").pipe(
      Config.withDefault(defaults.systemctlPath),
      Config.withDescription("Path of systemctl.")
    ),
    path: Config.string("PATH").pipe(
      Config.withDefault(defaults.path),
      Config.withDescription("PATH given to agents.")
    ),
    resourceTmpDir: Config.string("RESOURCE_TMP_DIR").pipe(
      Config.option,
      Config.map((o) => (o._tag === "Some" ? o.value : undefined)),
      Config.withDescription("HA_RSCTMP for OCF agents.")
    ),
    agentWrapper: Config.array(Config.string(), "AGENT_WRAPPER").pipe(
      Config.withDefault(defaults.agentWrapper),
      Config.withDescription("Command prefix agents run under (comma-separated argv).")
    ),
    environment: Config.hashMap(Config.string(), "ENVIRONMENT").pipe(
      Config.map((map) => Object.fromEntries(map)),
      Config.withDefault(defaults.environment),
      Config.withDescription("More environment for OCF agents (NAME=value pairs).")
    )
  }),
  "HA_EXECUTOR"
)

export const layerConfig: Layer.Layer<Settings, import("effect").ConfigError.ConfigError> = Layer.effect(
  Settings,
  config
)
