import { describe, expect, it } from "@effect/vitest"
import { Cib, Score, XmlCodec } from "@ha/cib"
import { Either, Schema } from "effect"
import { corpusDir, readText, xmlFiles } from "./corpus.ts"

const decode = (text: string) => Either.getOrThrow(XmlCodec.decodeXmlEither(text))

const sample = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<cib admin_epoch="1" epoch="22" num_updates="3" validate-with="pacemaker-3.0" have-quorum="1" execution-date="1648835858" remote-tls-port="9999">
  <configuration>
    <crm_config>
      <cluster_property_set id="opts">
        <nvpair id="opts-stonith" name="stonith-enabled" value="false"/>
        <nvpair id-ref="opts-stonith"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="node1" type="member">
        <utilization id="u1"><nvpair id="u1-cpu" name="cpu" value="4"/></utilization>
      </node>
      <node id="2" uname="node2"/>
    </nodes>
    <resources>
      <master id="ms">
        <meta_attributes id="ms-meta"><nvpair id="ms-max" name="promoted-max" value="1"/></meta_attributes>
        <primitive id="drbd" class="ocf" provider="linbit" type="drbd">
          <operations>
            <op id="drbd-mon" name="monitor" interval="P10S" timeout="1m" role="Master" start-delay="500ms"/>
          </operations>
        </primitive>
      </master>
      <group id="g">
        <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
          <instance_attributes id="ip-ia"><nvpair id="ip-addr" name="ip" value="a&amp;b &lt;c&gt; &quot;d&quot; &#233;&#x263A;"/></instance_attributes>
        </primitive>
      </group>
    </resources>
    <constraints>
      <rsc_colocation id="col" rsc="g" with-rsc="ms" with-rsc-role="Master" score="+INFINITY"/>
      <rsc_order id="ord" first="ms" first-action="promote" then="g" kind="Mandatory"/>
      <rsc_location id="loc" rsc="g">
        <rule id="r" score="-infinity" boolean-op="or">
          <expression id="e" attribute="#uname" operation="eq" value="node2"/>
          <date_expression id="d" operation="in_range" start="2020-01-01"><duration id="du" years="1"/></date_expression>
        </rule>
      </rsc_location>
    </constraints>
  </configuration>
  <status>
    <node_state id="1" uname="node1" in_ccm="true" crmd="online" join="member" expected="member" ha="active">
      <transient_attributes id="1"><instance_attributes id="status-1"><nvpair id="status-1-fc" name="fail-count-ip#start_0" value="INFINITY"/></instance_attributes></transient_attributes>
      <lrm id="1"><lrm_resources><lrm_resource id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
        <lrm_rsc_op id="ip_last_0" operation_key="ip_start_0" operation="start" interval="0" rc-code="1" op-status="0" call-id="7" last-rc-change="1600000000" exec-time="25" queue-time="0" last_run="1600000000"/>
      </lrm_resource></lrm_resources></lrm>
    </node_state>
  </status>
</cib>
`

describe("XmlCodec", () => {
  const cib = decode(sample)

  it("decodes the <cib> element", () => {
    expect(cib.version).toEqual({ adminEpoch: 1, epoch: 22, numUpdates: 3 })
    expect(cib.executionDate).toBe(1_648_835_858)
    expect(cib.haveQuorum).toBe("1")
    expect(cib.extra).toEqual({ "remote-tls-port": "9999" })
  })

  it("decodes resources with times in milliseconds and scores as numbers", () => {
    const [ms, group] = cib.configuration.resources
    expect(ms?._tag).toBe("Clone")
    if (ms?._tag !== "Clone" || group?._tag !== "Group") throw new Error("unexpected resources")
    expect(ms.legacyMaster).toBe(true)
    expect(Cib.isPromotable(ms)).toBe(true)
    expect(ms.child._tag === "Primitive" && ms.child.operations?.ops[0]).toMatchObject({
      interval: 10_000,
      timeout: 60_000,
      startDelay: 500,
      role: "Master"
    })
    expect(group.members[0]?.instanceAttributes[0]?.nvpairs[0]?.value).toBe('a&b <c> "d" é☺')
    expect(cib.configuration.clusterProperties[0]?.nvpairs[1]).toEqual({ idRef: "opts-stonith" })
    const [col, , loc] = cib.configuration.constraints
    expect(col).toMatchObject({ _tag: "Colocation", score: Score.INFINITY, withRscRole: "Master" })
    expect(loc?._tag === "Location" && loc.rules[0]).toMatchObject({
      score: -Score.INFINITY,
      booleanOp: "or",
      expressions: [{ _tag: "Expression" }, { _tag: "DateExpression", duration: { id: "du", years: "1" } }]
    })
  })

  it("decodes the status section", () => {
    const state = cib.status.nodes[0]
    expect(state).toMatchObject({ id: "1", inCcm: "true", extra: { ha: "active" } })
    expect(state?.transientAttributes?.sets[0]?.nvpairs[0]?.name).toBe("fail-count-ip#start_0")
    expect(state?.lrm?.resources[0]?.ops[0]).toMatchObject({
      operationKey: "ip_start_0",
      rcCode: 1,
      callId: 7,
      lastRcChange: 1_600_000_000,
      extra: { last_run: "1600000000" }
    })
  })

  it("encodes pretty-printed XML that decodes to the same model", () => {
    const xml = XmlCodec.encodeXml(cib)
    expect(xml).toContain('\n    <resources>\n      <master id="ms">\n')
    expect(xml).toContain('interval="10s" timeout="60s" role="Master" start-delay="500ms"')
    expect(xml).toContain('score="INFINITY"')
    expect(xml).toContain('value="a&amp;b &lt;c&gt; &quot;d&quot; é☺"')
    expect(decode(xml)).toEqual(cib)
  })

  it("keeps line breaks in attribute values through encode and decode", () => {
    const withNewline = decode(sample.replace('value="node2"', 'value="line1&#10;line2"'))
    const xml = XmlCodec.encodeXml(withNewline)
    expect(xml).toContain("line1&#10;line2")
    expect(decode(xml)).toEqual(withNewline)
  })

  it("produces models that satisfy the Schema (the typed contract)", () => {
    const validate = Schema.validateEither(Cib.Cib)
    expect(Either.isRight(validate(cib))).toBe(true)
    for (const name of xmlFiles(corpusDir)) {
      const result = validate(decode(readText(corpusDir, name)))
      if (Either.isLeft(result)) throw new Error(`${name}: ${result.left.message}`)
    }
  }, 120_000)

  it("builds from the Schema's empty CIB", () => {
    const xml = XmlCodec.encodeXml(Cib.empty)
    expect(decode(xml)).toEqual(Cib.empty)
  })
})
