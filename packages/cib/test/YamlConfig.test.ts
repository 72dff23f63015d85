import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Cib, Duration, XmlCodec, YamlConfig } from "@ha/cib"
import { Effect, Either } from "effect"

const here = new URL(".", import.meta.url).pathname
const example = join(here, "../../../examples/pg-drbd")
const errorsDir = join(here, "../testdata/yaml/errors")

const decodeYaml = (text: string, file?: string) =>
  Either.getOrThrow(YamlConfig.decodeEither(text, file === undefined ? {} : { file }))
const decodeXml = (text: string) => Either.getOrThrow(XmlCodec.decodeXmlEither(text))

/**
 * config.xml names its nvsets, nvpairs and ops in its own style ("vip-params", "vip-ip",
 * "vip-monitor-10s"); this renames exactly those to the ids the YAML format generates, leaving
 * everything else (resource, node and constraint ids included) as it is.
 */
const withGeneratedSubIds = (c: Cib.Configuration): Cib.Configuration => {
  const sets = (list: ReadonlyArray<Cib.NvSet>, base: string): Array<Cib.NvSet> =>
    list.map((set, i) => {
      const id = i === 0 ? base : `${base}-${i}`
      return { ...set, id, nvpairs: set.nvpairs.map((p) => ({ ...p, id: `${id}-${p.name}` })) }
    })
  const primitive = (p: Cib.Primitive): Cib.Primitive => ({
    ...p,
    instanceAttributes: sets(p.instanceAttributes, `${p.id}-instance_attributes`),
    metaAttributes: sets(p.metaAttributes, `${p.id}-meta_attributes`),
    ...(p.operations === undefined
      ? {}
      : {
          operations: {
            ...p.operations,
            ops: p.operations.ops.map((op) => ({
              ...op,
              id: `${p.id}-${op.name}-interval-${Duration.format(op.interval)}`
            }))
          }
        })
  })
  const resource = (r: Cib.Resource): Cib.Resource => {
    switch (r._tag) {
      case "Primitive":
        return primitive(r)
      case "Group":
        return {
          ...r,
          metaAttributes: sets(r.metaAttributes, `${r.id}-meta_attributes`),
          members: r.members.map(primitive)
        }
      case "Clone":
        return {
          ...r,
          metaAttributes: sets(r.metaAttributes, `${r.id}-meta_attributes`),
          child: resource(r.child) as Cib.Primitive | Cib.Group
        }
      case "Bundle":
        return r
    }
  }
  return { ...c, resources: c.resources.map(resource) }
}

describe("YamlConfig: the example cluster", () => {
  const yamlText = readFileSync(join(example, "cluster.yaml"), "utf8")
  const fromXml = decodeXml(readFileSync(join(example, "config.xml"), "utf8")).configuration

  it("decodes cluster.yaml to config.xml's configuration (only nvset, nvpair and op ids differ)", () => {
    const fromYaml = decodeYaml(yamlText, "cluster.yaml")
    expect(fromYaml).toEqual(withGeneratedSubIds(fromXml))
    // what is compared exactly, without renaming
    expect(fromYaml.constraints).toEqual(fromXml.constraints)
    expect(fromYaml.clusterProperties).toEqual(fromXml.clusterProperties)
    expect(fromYaml.rscDefaults).toEqual(fromXml.rscDefaults)
    expect(fromYaml.nodes).toEqual(fromXml.nodes)
    expect(fromYaml.resources.map((r) => r.id)).toEqual(fromXml.resources.map((r) => r.id))
  })

  it("is the example the package README shows", () => {
    const readme = readFileSync(join(here, "../README.md"), "utf8")
    const shown = /```yaml\n(properties:[\s\S]*?)```/.exec(readme)?.[1]
    expect(shown).toBe(yamlText.slice(yamlText.indexOf("properties:")))
  })

  it("generates ids in Pacemaker's style", () => {
    const c = decodeYaml(yamlText)
    const stack = c.resources.find((r) => r.id === "pg_stack") as Cib.Group
    const vip = stack.members.find((m) => m.id === "vip") as Cib.Primitive
    expect(vip.instanceAttributes[0]?.id).toBe("vip-instance_attributes")
    expect(vip.instanceAttributes[0]?.nvpairs.map((p) => p.id)).toEqual([
      "vip-instance_attributes-ip",
      "vip-instance_attributes-cidr_netmask"
    ])
    expect(vip.operations?.ops.map((o) => [o.id, o.interval, o.timeout])).toEqual([
      ["vip-monitor-interval-10s", 10_000, 20_000]
    ])
    const clone = c.resources.find((r) => r.id === "drbd_pg_clone") as Cib.Clone
    expect(Cib.isPromotable(clone)).toBe(true)
    expect(clone.metaAttributes[0]?.nvpairs[0]).toEqual({
      id: "drbd_pg_clone-meta_attributes-promotable",
      name: "promotable",
      value: "true"
    })
  })

  it("encodes the example back to the same compact text", () => {
    const c = decodeYaml(yamlText)
    const text = Either.getOrThrow(YamlConfig.encodeEither(c))
    expect(decodeYaml(text)).toEqual(c)
    expect(text).toContain("promotable:\n      drbd_pg:")
    expect(text).toContain("- { monitor: 10s, timeout: 20s }")
    expect(text).toContain("- prefer: { rsc: pg_stack, node: alpha, score: 50, id: pg_stack-prefers-alpha }")
    expect(text).not.toContain("instance_attributes")
  })

  it.effect("works as an Effect too", () =>
    Effect.gen(function* () {
      const c = yield* YamlConfig.decode(yamlText)
      const text = yield* YamlConfig.encode(c)
      expect(yield* YamlConfig.decode(text)).toEqual(c)
    })
  )
})

describe("YamlConfig: forms", () => {
  it("reads ops in short and long form, generated ids made unique", () => {
    const c = decodeYaml(`
resources:
  db:
    agent: ocf:heartbeat:pgsql
    ops:
      - monitor: 20s
      - { monitor: 20s, role: Promoted, timeout: 1m }
      - { name: start, interval: 0, timeout: PT2M, on-fail: restart }
      - { name: monitor, interval: 500ms, params: { depth: 10 } }
`)
    const ops = (c.resources[0] as Cib.Primitive).operations?.ops ?? []
    expect(ops.map((o) => [o.id, o.name, o.interval, o.timeout, o.role, o.onFail])).toEqual([
      ["db-monitor-interval-20s", "monitor", 20_000, undefined, undefined, undefined],
      ["db-monitor-interval-20s-1", "monitor", 20_000, 60_000, "Promoted", undefined],
      ["db-start-interval-0s", "start", 0, 120_000, undefined, "restart"],
      ["db-monitor-interval-500ms", "monitor", 500, undefined, undefined, undefined]
    ])
    expect(ops[3]?.instanceAttributes).toEqual([
      {
        id: "db-monitor-interval-500ms-instance_attributes",
        rules: [],
        nvpairs: [{ id: "db-monitor-interval-500ms-instance_attributes-depth", name: "depth", value: "10" }]
      }
    ])
  })

  it("keeps scalars as written text (no YAML 1.1/1.2 typing)", () => {
    const c = decodeYaml("properties: { stonith-enabled: yes, timeout: 010, ratio: 1.50, empty: '' }")
    expect(c.clusterProperties[0]?.nvpairs.map((p) => p.value)).toEqual(["yes", "010", "1.50", ""])
  })

  it("reads location rules, sets with rules and scores, and constraint sets", () => {
    const c = decodeYaml(`
nodes:
  alpha: { attributes: { site: a } }
  beta: { id: "2", attributes: { site: b }, utilization: { cpu: 4 } }
resources:
  a: { agent: ocf:heartbeat:Dummy }
  b: { agent: ocf:heartbeat:Dummy }
  c:
    agent: ocf:heartbeat:Dummy
    meta:
      - values: { target-role: Started }
      - score: 10
        rules:
          - or:
              - { date: date_spec, spec: { hours: 9-16, weekdays: 1-5 } }
              - { date: in_range, start: "2026-01-01", duration: { months: 1 } }
        values: { resource-stickiness: 0 }
constraints:
  - location:
      rsc: a
      rules:
        - score: -INFINITY
          and:
            - { attribute: site, op: eq, value: b }
            - { attribute: pingd, op: lte, value: 0, type: integer }
  - colocate: { sets: [[a, b], { resources: [c], role: Promoted, sequential: false }], score: INFINITY }
  - order: { first: a, then: b, kind: Optional }
`)
    const [location, colocation, order] = c.constraints
    expect(location).toEqual({
      _tag: "Location",
      id: "location-a",
      rsc: "a",
      resourceSets: [],
      rules: [
        {
          _tag: "Rule",
          id: "location-a-rule",
          score: -1_000_000,
          expressions: [
            {
              _tag: "Expression",
              id: "location-a-rule-expr",
              attribute: "site",
              operation: "eq",
              value: "b"
            },
            {
              _tag: "Expression",
              id: "location-a-rule-expr-1",
              attribute: "pingd",
              operation: "lte",
              value: "0",
              type: "integer"
            }
          ]
        }
      ]
    })
    expect(colocation).toEqual({
      _tag: "Colocation",
      id: "colocation-a-b-c-INFINITY",
      score: 1_000_000,
      resourceSets: [
        { id: "colocation-a-b-c-INFINITY-set", resources: ["a", "b"] },
        { id: "colocation-a-b-c-INFINITY-set-1", resources: ["c"], role: "Promoted", sequential: "false" }
      ]
    })
    expect(order?.id).toBe("order-a-b-optional")
    expect(c.nodes[0]).toEqual({
      id: "alpha",
      uname: "alpha",
      instanceAttributes: [
        { id: "nodes-alpha", rules: [], nvpairs: [{ id: "nodes-alpha-site", name: "site", value: "a" }] }
      ],
      utilization: []
    })
    expect(c.nodes[1]?.utilization[0]?.id).toBe("nodes-2-utilization")
    const meta = (c.resources[2] as Cib.Primitive).metaAttributes
    expect(meta.map((s) => s.id)).toEqual(["c-meta_attributes", "c-meta_attributes-1"])
    expect(meta[1]?.score).toBe(10)
    expect(meta[1]?.rules[0]?.booleanOp).toBe("or")
    expect(meta[1]?.rules[0]?.expressions[0]).toEqual({
      _tag: "DateExpression",
      id: "c-meta_attributes-1-rule-expr",
      operation: "date_spec",
      dateSpec: { hours: "9-16", weekdays: "1-5" }
    })
  })

  it("reads fencing topology in map and list form, tags and alerts", () => {
    const c = decodeYaml(`
nodes: { alpha: {}, beta: {} }
resources:
  ipmi_a: { agent: stonith:fence_ipmilan }
  pdu1: { agent: stonith:fence_apc }
  pdu2: { agent: stonith:fence_apc }
fencing-topology:
  alpha: [ipmi_a, [pdu1, pdu2]]
tags:
  power: [pdu1, pdu2]
alerts:
  mail:
    path: /usr/share/pacemaker/alerts/alert_smtp.sh
    recipients: { ops: ops@example.com }
`)
    expect(c.fencingTopology).toEqual([
      { id: "fl-alpha-1", index: 1, target: "alpha", devices: ["ipmi_a"] },
      { id: "fl-alpha-2", index: 2, target: "alpha", devices: ["pdu1", "pdu2"] }
    ])
    expect(c.tags).toEqual([{ id: "power", refs: ["pdu1", "pdu2"] }])
    expect(c.alerts[0]?.recipients).toEqual([
      { id: "ops", value: "ops@example.com", instanceAttributes: [], metaAttributes: [] }
    ])
    const list = decodeYaml(`
nodes: { alpha: {} }
resources: { ipmi_a: { agent: stonith:fence_ipmilan } }
fencing-topology:
  - { index: 1, target-attribute: rack, target-value: r1, devices: [ipmi_a], id: rack1 }
`)
    expect(list.fencingTopology).toEqual([
      { id: "rack1", index: 1, targetAttribute: "rack", targetValue: "r1", devices: ["ipmi_a"] }
    ])
  })

  it("refuses bundles, ACLs and alert selections at encode time with a typed error", () => {
    const bundle: Cib.Bundle = {
      _tag: "Bundle",
      id: "web",
      xml: { name: "bundle", attributes: [["id", "web"]], children: [] }
    }
    const withBundle = { ...Cib.empty.configuration, resources: [bundle] }
    const error = Either.getLeft(YamlConfig.encodeEither(withBundle))
    expect(error._tag === "Some" && error.value._tag).toBe("InexpressibleError")
    expect(error._tag === "Some" && error.value.path).toBe("resources.web")
    const withAcls = { ...Cib.empty.configuration, acls: { name: "acls", attributes: [], children: [] } }
    expect(
      Either.getLeft(YamlConfig.encodeEither(withAcls)).pipe((e) => e._tag === "Some" && e.value.path)
    ).toBe("acls")
  })
})

interface Expectation {
  readonly tag: string
  readonly line: number
  readonly column: number
  readonly path: string
  readonly fields: Record<string, string>
}

const expectation = (text: string): Expectation => {
  const m = /^# expect: (\w+) (\d+):(\d+) (\S+)(.*)$/m.exec(text)
  if (m === null) throw new Error("missing '# expect:' line")
  const fields = Object.fromEntries(
    (m[5] ?? "")
      .trim()
      .split(/\s+/)
      .filter((f) => f !== "")
      .map((f) => f.split("=") as [string, string])
  )
  return { tag: m[1] as string, line: Number(m[2]), column: Number(m[3]), path: m[4] as string, fields }
}

describe("YamlConfig: errors name file, line, column and field (testdata/yaml/errors)", () => {
  for (const name of readdirSync(errorsDir).filter((f) => f.endsWith(".yaml"))) {
    it(name, () => {
      const text = readFileSync(join(errorsDir, name), "utf8")
      const expected = expectation(text)
      const result = YamlConfig.decodeEither(text, { file: name })
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isRight(result)) return
      const error = result.left
      expect({
        tag: error._tag,
        line: error.line,
        column: error.column,
        path: error.path,
        file: error.file
      }).toEqual({
        tag: expected.tag,
        line: expected.line,
        column: expected.column,
        path: expected.path,
        file: name
      })
      for (const [field, value] of Object.entries(expected.fields))
        expect(String((error as unknown as Record<string, unknown>)[field])).toBe(value)
      expect(error.message).toContain(`${name}:${expected.line}:${expected.column}`)
    })
  }
})

const corpus = join(here, "../../../../shared/conformance/pacemaker-scheduler")

describe("YamlConfig: the Pacemaker scheduler corpus", () => {
  it("round-trips every configuration the format can express, and says why for the others", {
    timeout: 300_000
  }, () => {
    let decoded = 0
    let roundTripped = 0
    const refused = new Map<string, number>()
    for (const file of readdirSync(corpus).filter((f) => f.endsWith(".xml"))) {
      const cib = XmlCodec.decodeXmlEither(readFileSync(join(corpus, file), "utf8"))
      if (Either.isLeft(cib)) continue
      decoded++
      const text = YamlConfig.encodeEither(cib.right.configuration)
      if (Either.isRight(text)) {
        expect(decodeYaml(text.right, file)).toEqual(cib.right.configuration)
        roundTripped++
        continue
      }
      const reason = /bundles|ACLs|alert <select>/.test(text.left.reason)
        ? text.left.reason
        : /refers to node .* which does not exist/.test(text.left.reason)
          ? "a constraint or fencing level names a node that is not declared"
          : `unexpected: ${text.left.message}`
      refused.set(reason, (refused.get(reason) ?? 0) + 1)
    }
    console.log(`YAML round trip: ${roundTripped} of ${decoded} decoded corpus configurations`)
    for (const [reason, count] of refused) console.log(`  not expressible (${count}): ${reason}`)
    expect([...refused.keys()].filter((r) => r.startsWith("unexpected"))).toEqual([])
    expect(roundTripped + [...refused.values()].reduce((a, b) => a + b, 0)).toBe(decoded)
    expect(roundTripped).toBeGreaterThan(0)
  })
})
