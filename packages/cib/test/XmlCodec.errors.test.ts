import { describe, expect, it } from "@effect/vitest"
import { type Errors, XmlCodec } from "@ha/cib"
import { Effect, Either } from "effect"

/** A small valid CIB; `configuration` and `status` are spliced in. */
const cib = (
  configuration: string,
  status = ""
) => `<cib admin_epoch="0" epoch="1" num_updates="0" validate-with="pacemaker-3.9">
  <configuration>
    <crm_config/>
    <nodes>
      <node id="1" uname="node1"/>
    </nodes>
${configuration}
  </configuration>
  <status>${status}</status>
</cib>
`

const resources = `    <resources>
      <template id="tmpl" class="ocf" provider="heartbeat" type="Dummy"/>
      <primitive id="db" class="ocf" provider="heartbeat" type="pgsql">
        <operations>
          <op id="db-mon" name="monitor" interval="10s"/>
        </operations>
      </primitive>
      <primitive id="fence1" class="stonith" type="fence_ipmilan"/>
    </resources>`

const failure = (
  text: string,
  options: XmlCodec.DecodeOptions = { file: "cib.xml" }
): Errors.CibDecodeError => {
  const result = XmlCodec.decodeXmlEither(text, options)
  if (Either.isRight(result)) throw new Error("expected the decode to fail")
  return result.left
}

describe("XmlCodec errors", () => {
  it("accepts the valid base document", () => {
    expect(Either.isRight(XmlCodec.decodeXmlEither(cib(`${resources}\n    <constraints/>`)))).toBe(true)
  })

  it.effect("fails in the Effect channel too", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(XmlCodec.decodeXml("<cib", { file: "x.xml" }))
      expect(error._tag).toBe("XmlSyntaxError")
    })
  )

  it("reports malformed XML with line and column", () => {
    const error = failure(
      `<cib admin_epoch="0" epoch="1" num_updates="0">\n  <configuration>\n  </configurtion>\n</cib>`
    )
    expect(error).toMatchObject({ _tag: "XmlSyntaxError", file: "cib.xml", line: 3, column: 3 })
    expect(error.message).toMatch(/^cib\.xml:3:3: malformed XML: .*configurtion/)
  })

  it("reports unterminated documents, bad entities and stray text", () => {
    expect(failure("<cib><configuration>")).toMatchObject({ _tag: "XmlSyntaxError", line: 1 })
    expect(failure(`<cib a="&bogus;"/>`)).toMatchObject({ _tag: "XmlSyntaxError", line: 1, column: 9 })
    expect(failure(`<cib>\n  hello\n</cib>`)).toMatchObject({ _tag: "XmlSyntaxError", line: 2, column: 3 })
  })

  it("names an unsupported element and where it is", () => {
    const error = failure(
      cib(`${resources}\n    <constraints>\n      <rsc_gravity id="g"/>\n    </constraints>`)
    )
    expect(error).toMatchObject({
      _tag: "UnsupportedElementError",
      element: "rsc_gravity",
      line: 17,
      column: 7,
      path: "/cib/configuration/constraints/rsc_gravity[@id='g']"
    })
  })

  it("names an unknown attribute", () => {
    const error = failure(cib(`${resources.replace('interval="10s"', 'interval="10s" intervall="5s"')}`))
    expect(error).toMatchObject({
      _tag: "UnknownAttributeError",
      attribute: "intervall",
      line: 11,
      column: 57,
      path: "/cib/configuration/resources/primitive[@id='db']/operations/op[@id='db-mon']/@intervall"
    })
  })

  it("names a missing required attribute", () => {
    const error = failure(cib(`${resources.replace(' name="monitor"', "")}`))
    expect(error).toMatchObject({
      _tag: "MissingAttributeError",
      attribute: "name",
      line: 11,
      path: "/cib/configuration/resources/primitive[@id='db']/operations/op[@id='db-mon']"
    })
  })

  it("rejects a bad score", () => {
    const error = failure(
      cib(
        `${resources}\n    <constraints>\n      <rsc_location id="l" rsc="db" node="node1" score="lots"/>\n    </constraints>`
      )
    )
    expect(error).toMatchObject({
      _tag: "InvalidScoreError",
      value: "lots",
      attribute: "score",
      line: 17,
      column: 50
    })
    expect(error.message).toContain("rsc_location[@id='l']/@score")
  })

  it("rejects a bad interval", () => {
    const error = failure(cib(resources.replace('interval="10s"', 'interval="10 fortnights"')))
    expect(error).toMatchObject({
      _tag: "InvalidDurationError",
      value: "10 fortnights",
      attribute: "interval",
      line: 11
    })
  })

  it("keeps an unparseable timeout, as Pacemaker falls back to the default", () => {
    const result = XmlCodec.decodeXmlEither(
      cib(resources.replace('interval="10s"', 'interval="10s" timeout="bad"'))
    )
    const db = Either.getOrThrow(result).configuration.resources[0]
    expect(db?._tag === "Primitive" && db.operations?.ops[0]).toMatchObject({
      interval: 10_000,
      invalidTimeout: "bad"
    })
  })

  it("rejects a non-integer where an integer is required", () => {
    const error = failure(
      cib(
        `${resources}\n    <constraints/>`,
        `\n    <node_state id="1" uname="node1"><lrm id="1"><lrm_resources><lrm_resource id="db" class="ocf" type="pgsql"><lrm_rsc_op id="db_last_0" operation="start" interval="0" rc-code="zero" op-status="0" call-id="1"/></lrm_resource></lrm_resources></lrm></node_state>\n  `
      )
    )
    expect(error).toMatchObject({ _tag: "InvalidValueError", attribute: "rc-code", value: "zero" })
  })

  it("rejects duplicate ids and says where the first one is", () => {
    const error = failure(cib(resources.replace('id="fence1"', 'id="db"')))
    expect(error).toMatchObject({
      _tag: "DuplicateIdError",
      id: "db",
      line: 14,
      firstLine: 9,
      firstColumn: 7
    })
  })

  it("rejects duplicate ids between an nvpair and a resource", () => {
    const config = `${resources}\n    <rsc_defaults>\n      <meta_attributes id="d"><nvpair id="db" name="resource-stickiness" value="1"/></meta_attributes>\n    </rsc_defaults>`
    expect(failure(cib(config))).toMatchObject({ _tag: "DuplicateIdError", id: "db", line: 17 })
  })

  const dangling: Array<[string, string, string, string]> = [
    [
      "a location",
      `<constraints><rsc_location id="l" rsc="web" node="node1" score="1"/></constraints>`,
      "rsc",
      "web"
    ],
    [
      "a colocation",
      `<constraints><rsc_colocation id="c" rsc="db" with-rsc="web" score="1"/></constraints>`,
      "with-rsc",
      "web"
    ],
    ["an order", `<constraints><rsc_order id="o" first="web" then="db"/></constraints>`, "first", "web"],
    [
      "a resource set",
      `<constraints><rsc_order id="o"><resource_set id="s"><resource_ref id="db"/><resource_ref id="web"/></resource_set></rsc_order></constraints>`,
      "id",
      "web"
    ],
    ["a tag", `<constraints/><tags><tag id="t"><obj_ref id="web"/></tag></tags>`, "id", "web"],
    [
      "a fencing level",
      `<constraints/><fencing-topology><fencing-level id="f" index="1" target="node1" devices="fence1,fence2"/></fencing-topology>`,
      "devices",
      "fence2"
    ]
  ]
  for (const [what, xml, attribute, reference] of dangling) {
    it(`rejects a reference to a resource that does not exist from ${what}`, () => {
      const error = failure(cib(`${resources}\n    ${xml}`))
      expect(error).toMatchObject({
        _tag: "UnknownReferenceError",
        attribute,
        reference,
        file: "cib.xml",
        line: 16
      })
    })
  }

  it("rejects a primitive whose template does not exist", () => {
    const error = failure(
      cib(
        resources.replace(
          '<primitive id="db" class="ocf" provider="heartbeat" type="pgsql">',
          '<primitive id="db" template="tmpl2">'
        )
      )
    )
    expect(error).toMatchObject({
      _tag: "UnknownReferenceError",
      attribute: "template",
      reference: "tmpl2",
      line: 9
    })
  })

  it("accepts references to templates and tags in constraints", () => {
    const config = `${resources}\n    <constraints><rsc_location id="l" rsc="t" node="node1" score="1"/><rsc_location id="l2" rsc="tmpl" node="node1" score="1"/></constraints>\n    <tags><tag id="t"><obj_ref id="db"/></tag></tags>`
    expect(Either.isRight(XmlCodec.decodeXmlEither(cib(config)))).toBe(true)
  })

  it("rejects a node that does not exist when asked to check nodes", () => {
    const config = `${resources}\n    <constraints><rsc_location id="l" rsc="db" node="node9" score="1"/></constraints>`
    expect(Either.isRight(XmlCodec.decodeXmlEither(cib(config)))).toBe(true)
    const error = failure(cib(config), { file: "cib.xml", checkNodeReferences: true })
    expect(error).toMatchObject({
      _tag: "UnknownReferenceError",
      attribute: "node",
      reference: "node9",
      line: 16
    })
  })

  it("counts remote and guest nodes as nodes", () => {
    const config = `    <resources>
      <primitive id="remote1" class="ocf" provider="pacemaker" type="remote"/>
      <primitive id="vm1" class="ocf" provider="heartbeat" type="VirtualDomain">
        <meta_attributes id="vm1-meta"><nvpair id="vm1-rn" name="remote-node" value="guest1"/></meta_attributes>
      </primitive>
    </resources>
    <constraints>
      <rsc_location id="l1" rsc="vm1" node="remote1" score="1"/>
      <rsc_location id="l2" rsc="remote1" node="guest1" score="1"/>
    </constraints>`
    expect(Either.isRight(XmlCodec.decodeXmlEither(cib(config), { checkNodeReferences: true }))).toBe(true)
  })
})
