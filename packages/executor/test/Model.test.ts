import { readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Option } from "effect"
import {
  Digest,
  ExecutorSettings,
  ExitCode,
  Interval,
  Lsb,
  Metadata,
  Ocf,
  OperationRecord,
  ResourceAgent
} from "../src/index.ts"

const record: OperationRecord.OperationRecord = {
  id: "A_start_0",
  operationKey: "A_start_0",
  operation: "start",
  resource: "A",
  agent: "ocf:pacemaker:Dummy",
  interval: 0,
  rcCode: 0,
  opStatus: 0,
  callId: 1,
  lastRun: 0,
  lastRcChange: 0,
  execTime: 1,
  queueTime: 0,
  opDigest: "f2317cad3d54cec5d7d7aa7d0bf35cf8",
  exitReason: "",
  onNode: "alpha"
}

const corpus = new URL("../../../../shared/conformance/pacemaker-scheduler/", import.meta.url)

/** The resource parameters and recorded op-digests of every `ocf` primitive with no rules in a corpus CIB. */
const recordedDigests = (file: string) => {
  const xml = readFileSync(new URL(file, corpus), "utf8")
  const params = new Map<string, Record<string, string>>()
  for (const primitive of xml.matchAll(/<primitive id="([^"]+)"[^>]*>([\s\S]*?)<\/primitive>/g)) {
    const attrs = /<instance_attributes[^>]*>([\s\S]*?)<\/instance_attributes>/.exec(primitive[2]!)?.[1] ?? ""
    params.set(
      primitive[1]!,
      Object.fromEntries(
        [...attrs.matchAll(/<nvpair[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])
      )
    )
  }
  const ops = [...xml.matchAll(/<lrm_resource id="([^"]+)"[^>]*>([\s\S]*?)<\/lrm_resource>/g)].flatMap((r) =>
    [...r[2]!.matchAll(/<lrm_rsc_op [^>]*interval="0"[^>]*op-digest="([0-9a-f]+)"/g)].map((m) => ({
      resource: r[1]!,
      digest: m[1]!
    }))
  )
  return { params, ops }
}

describe("Digest", () => {
  it("matches the op-digests real Pacemaker recorded for one-shot operations", () => {
    const { params, ops } = recordedDigests("594.xml")
    const checked = ops.filter((op) => params.has(op.resource))
    expect(checked.length).toBeGreaterThan(3)
    for (const op of checked) expect(Digest.opDigest(params.get(op.resource)!, 0, 20000)).toBe(op.digest)
  })

  it("includes the timeout of recurring operations, as in 1-a-then-bm-move-b.xml", () => {
    const xml = readFileSync(new URL("1-a-then-bm-move-b.xml", corpus), "utf8")
    const recorded = /operation="monitor"[^>]*interval="60000"[^>]*op-digest="([0-9a-f]+)"/.exec(xml)![1]
    expect(Digest.opDigest({}, 60000, 20000)).toBe(recorded)
    expect(Digest.opDigest({}, 0, 20000)).not.toBe(recorded)
  })

  it("matches the restart and secure digests real Pacemaker recorded across the corpus", () => {
    const restart = { checked: 0, matched: 0 }
    const secure = { checked: 0, matched: 0 }
    for (const file of readdirSync(corpus).filter((f) => f.endsWith(".xml"))) {
      const xml = readFileSync(new URL(file, corpus), "utf8")
      const primitives = new Map<string, { params: Record<string, string>; fence: boolean }>()
      for (const p of xml.matchAll(/<primitive [^>]*?\bid="([^"]+)"[^>]*>([\s\S]*?)<\/primitive>/g)) {
        if (p[2]!.includes("<rule")) continue
        const attrs = /<instance_attributes[^>]*>([\s\S]*?)<\/instance_attributes>/.exec(p[2]!)?.[1] ?? ""
        const params = Object.fromEntries(
          [...attrs.matchAll(/<nvpair[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])
        )
        primitives.set(p[1]!, { params, fence: /class="stonith"/.test(p[0]) })
      }
      for (const r of xml.matchAll(/<lrm_resource id="([^"]+)"[^>]*>([\s\S]*?)<\/lrm_resource>/g)) {
        const primitive = primitives.get(r[1]!)
        if (!primitive) continue
        for (const [op] of r[2]!.matchAll(/<lrm_rsc_op [^>]*>/g)) {
          const attribute = (name: string) => new RegExp(` ${name}="([^"]*)"`).exec(op)?.[1]
          const names = (list: string) => list.trim().split(/\s+/)
          const forceRestart = attribute("op-force-restart")
          const restartRecorded = attribute("op-restart-digest")
          if (forceRestart !== undefined && restartRecorded) {
            restart.checked++
            if (Digest.restartDigest(primitive.params, names(forceRestart)) === restartRecorded)
              restart.matched++
          }
          const secureParams = attribute("op-secure-params")
          const secureRecorded = attribute("op-secure-digest")
          if (secureParams !== undefined && secureRecorded) {
            secure.checked++
            const computed = Digest.secureDigest(primitive.params, names(secureParams), primitive.fence)
            if (computed === secureRecorded) secure.matched++
          }
        }
      }
    }
    // The rest are scenarios whose configuration was edited after the operation ran: the very
    // change the digests exist to detect.
    expect(restart.checked).toBeGreaterThan(2000)
    expect(restart.matched / restart.checked).toBeGreaterThan(0.99)
    expect(secure.checked).toBeGreaterThan(900)
    expect(secure.matched / secure.checked).toBeGreaterThan(0.9)
  })

  it("lists the parameters that force a restart and the secret ones from the meta-data", () => {
    const parameter = (name: string, flags: Partial<Metadata.ParameterSpec>): Metadata.ParameterSpec => ({
      name,
      required: false,
      unique: false,
      uniqueGroup: undefined,
      reloadable: false,
      private: false,
      deprecated: false,
      type: "string",
      default: undefined,
      options: [],
      shortdesc: "",
      longdesc: "",
      ...flags
    })
    const action = (name: string): Metadata.ActionSpec => ({
      name,
      timeoutMs: undefined,
      intervalMs: undefined,
      depth: undefined,
      role: undefined,
      startDelayMs: undefined
    })
    const agent = (ocfVersion: string, actions: string[]): Metadata.AgentMetadata => ({
      name: "A",
      version: "9.9",
      ocfVersion,
      shortdesc: "",
      longdesc: "",
      parameters: [
        parameter("state", { unique: true }),
        parameter("passwd", { reloadable: true }),
        parameter("token", { reloadable: true, private: true })
      ],
      actions: actions.map(action)
    })
    expect(Metadata.forceRestartParameters(agent("1.1", ["start", "reload-agent"]))).toEqual(["state"])
    expect(Metadata.forceRestartParameters(agent("1.0", ["start", "reload"]))).toEqual(["state"])
    expect(Metadata.forceRestartParameters(agent("1.1", ["start", "reload"]))).toBeUndefined()
    expect(Metadata.forceRestartParameters(agent("1.0", ["start"]))).toBeUndefined()
    expect(Metadata.privateParameters(agent("1.1", []))).toEqual(["passwd", "token"])
    expect(OperationRecord.toAttributes({ ...record, opForceRestart: ["state"] })["op-force-restart"]).toBe(
      " state "
    )
  })

  it("ignores meta-attributes and the order of parameters, not their values", () => {
    const a = Digest.opDigest({ ip: "10.0.0.1", nic: "eth0", CRM_meta_name: "start" }, 0, 20000)
    expect(Digest.opDigest({ nic: "eth0", ip: "10.0.0.1" }, 0, 1)).toBe(a)
    expect(Digest.opDigest({ nic: "eth0", ip: "10.0.0.2" }, 0, 20000)).not.toBe(a)
    expect(Digest.opDigest({ v: 'a"<b>&' }, 0, 0)).toMatch(/^[0-9a-f]{32}$/)
  })
})

describe("Interval", () => {
  it("reads Pacemaker time specifications", () => {
    expect(Interval.parseMs("20s")).toEqual(Option.some(20_000))
    expect(Interval.parseMs("20")).toEqual(Option.some(20_000))
    expect(Interval.parseMs("500ms")).toEqual(Option.some(500))
    expect(Interval.parseMs("2min")).toEqual(Option.some(120_000))
    expect(Interval.parseMs("1h")).toEqual(Option.some(3_600_000))
    expect(Interval.parseMs("PT1M30S")).toEqual(Option.some(90_000))
    expect(Interval.parseMs("soon")).toEqual(Option.none())
    expect(Interval.parseMs("PT")).toEqual(Option.none())
  })
})

describe("ExitCode", () => {
  it("maps LSB status codes onto OCF and leaves other actions' codes 0-7 alone", () => {
    expect(ExitCode.fromLsb("status", 0)).toBe(ExitCode.Ocf.ok)
    expect([1, 2, 3].map((c) => ExitCode.fromLsb("status", c))).toEqual([7, 7, 7])
    expect(ExitCode.fromLsb("status", 4)).toBe(ExitCode.Ocf.error)
    expect(ExitCode.fromLsb("status", 150)).toBe(ExitCode.Ocf.notInstalled)
    expect(ExitCode.fromLsb("start", 5)).toBe(ExitCode.Ocf.notInstalled)
    expect(ExitCode.fromLsb("start", 3)).toBe(ExitCode.Ocf.unimplementedFeature)
    expect(ExitCode.fromLsb("stop", 42)).toBe(ExitCode.Ocf.error)
    expect(ExitCode.ocfName(8)).toBe("running (promoted)")
  })
})

describe("ResourceAgent references", () => {
  it("parses and formats class:provider:type", () => {
    const ref = ResourceAgent.parse("ocf:heartbeat:IPaddr2")
    expect(ref).toEqual({ class: "ocf", provider: "heartbeat", type: "IPaddr2" })
    expect(ResourceAgent.format(ref)).toBe("ocf:heartbeat:IPaddr2")
    expect(ResourceAgent.parse("systemd:nginx")).toEqual({ class: "systemd", type: "nginx" })
    expect(() => ResourceAgent.parse("ocf:IPaddr2")).toThrow(/ocf:<provider>:<type>/)
    expect(() => ResourceAgent.parse("upstart:x")).toThrow(/unknown class "upstart"/)
  })
})

describe("Metadata", () => {
  const xml = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="Web" version="1.2">
  <version>1.1</version>
  <longdesc lang="en">Runs a
    web server.</longdesc>
  <shortdesc lang="en">web</shortdesc>
  <parameters>
    <parameter name="port" required="1" unique="1">
      <longdesc lang="en">TCP port</longdesc><shortdesc lang="en">port</shortdesc>
      <content type="integer" default="80"/>
    </parameter>
    <parameter name="mode" unique-group="g" reloadable="1">
      <shortdesc lang="en">mode</shortdesc>
      <content type="select" default="fast"><option value="fast"/><option value="safe"/></content>
    </parameter>
  </parameters>
  <actions>
    <action name="start" timeout="40s"/>
    <action name="monitor" timeout="20s" interval="10s" depth="0" role="Promoted"/>
  </actions>
</resource-agent>`

  it("parses parameters and actions into the typed model", () => {
    const meta = Metadata.parse(xml, "ocf:test:Web")
    expect(meta.name).toBe("Web")
    expect(meta.version).toBe("1.2")
    expect(meta.longdesc).toBe("Runs a web server.")
    expect(meta.parameters.map((p) => [p.name, p.required, p.unique, p.type, p.default])).toEqual([
      ["port", true, true, "integer", "80"],
      ["mode", false, false, "select", "fast"]
    ])
    expect(meta.parameters[1]).toMatchObject({
      uniqueGroup: "g",
      reloadable: true,
      options: ["fast", "safe"]
    })
    expect(meta.actions).toEqual([
      {
        name: "start",
        timeoutMs: 40_000,
        intervalMs: undefined,
        depth: undefined,
        role: undefined,
        startDelayMs: undefined
      },
      {
        name: "monitor",
        timeoutMs: 20_000,
        intervalMs: 10_000,
        depth: 0,
        role: "Promoted",
        startDelayMs: undefined
      }
    ])
    expect(Metadata.actionTimeoutMs(meta, "start")).toBe(40_000)
  })

  it("reports unknown, missing and out-of-range parameters", () => {
    const meta = Metadata.parse(xml, "ocf:test:Web")
    expect(Metadata.validateParameters(meta, { port: "8080", mode: "safe" })).toEqual([])
    const issues = Metadata.validateParameters(meta, { prot: "8080", mode: "slow" })
    expect(issues.map((i) => [i._tag, i.name])).toEqual([
      ["MissingRequiredParameter", "port"],
      ["InvalidOption", "mode"],
      ["UnknownParameter", "prot"]
    ])
    expect(issues[2]!.message).toContain('unknown parameter "prot"')
  })

  it("names the line of malformed meta-data", () => {
    const broken =
      '<resource-agent name="x">\n<parameters>\n<parameter name="a">\n</parameters>\n</resource-agent>'
    expect(() => Metadata.parse(broken, "ocf:test:Broken")).toThrow(
      /ocf:test:Broken:4:\d+: invalid agent meta-data/
    )
    expect(() => Metadata.parse("<agent/>", "x")).toThrow(/expected <resource-agent>/)
    const badTime =
      '<resource-agent name="x"><actions>\n<action name="start" timeout="soon"/></actions></resource-agent>'
    expect(() => Metadata.parse(badTime, "x")).toThrow(/x:2:0: .*timeout="soon" is not a time/)
  })

  it("reads an LSB header as meta-data", () => {
    const script = readFileSync(new URL("../testdata/init.d/fakesvc", import.meta.url), "utf8")
    const meta = Lsb.headerMetadata("fakesvc", script)
    expect(meta.shortdesc).toBe("A fake service for tests")
    expect(meta.longdesc).toBe(
      "Keeps its state in /tmp/ha-executor-fakesvc.state; status uses the LSB codes (3 = not running)."
    )
  })
})

describe("ExecutorSettings", () => {
  it.effect("reads HA_EXECUTOR_* from the environment with defaults for the rest", () =>
    Effect.gen(function* () {
      const settings = yield* ExecutorSettings.config
      expect(settings).toEqual({
        ...ExecutorSettings.defaults,
        killGraceMs: 2000,
        agentWrapper: ["/usr/sbin/ip", "netns", "exec", "n1"]
      })
    }).pipe(
      Effect.withConfigProvider(
        ConfigProvider.fromMap(
          new Map([
            ["HA_EXECUTOR_KILL_GRACE_MS", "2000"],
            ["HA_EXECUTOR_AGENT_WRAPPER", "/usr/sbin/ip,netns,exec,n1"]
          ]),
          { pathDelim: "_" } // as ConfigProvider.fromEnv reads process environment names
        )
      )
    )
  )
})

describe("Ocf.environment", () => {
  it("passes a notify action of a real transition graph to the agent as Pacemaker does", () => {
    const exp = readFileSync(new URL("a-demote-then-b-migrate.exp", corpus), "utf8")
    const op =
      /<rsc_op id="\d+" operation="notify" operation_key="rsc1:1_post_notify_demote_0"[\s\S]*?<attributes ([^>]*)\/>/.exec(
        exp
      )!
    const attributes = Object.fromEntries(
      [...op[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])
    )
    const { params, meta } = Ocf.splitAttributes(attributes)
    expect(meta.notify_key_type).toBe("post")
    const env = Ocf.environment(
      { class: "ocf", provider: "pacemaker", type: "Stateful" },
      { resource: "rsc1:1", action: "notify", params, meta, intervalMs: 0, timeoutMs: Number(meta.timeout) },
      { ...ExecutorSettings.defaults, nodeName: "node1" }
    )
    // Every attribute of the graph action, meta or not, reaches the agent as OCF_RESKEY_<name> unchanged.
    for (const [name, value] of Object.entries(attributes)) expect(env[`OCF_RESKEY_${name}`]).toBe(value)
    expect(env.OCF_RESKEY_CRM_meta_notify_demote_resource).toBe("rsc1:0")
    expect(env.OCF_RESKEY_CRM_meta_notify_inactive_resource).toBe(" ")
  })
})
