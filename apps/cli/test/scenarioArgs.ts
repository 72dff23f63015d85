/**
 * Reads the `.args` files of the fixtures (the lines make-fixtures.sh hands to crm_simulate and
 * crm_attribute) as ha what-ifs, so the same inputs drive Pacemaker and ha.
 */
import { Either } from "effect"
import * as WhatIf from "../src/WhatIf.ts"

const simOption = (flag: string, value: string): WhatIf.WhatIf => {
  switch (flag) {
    case "-f":
    case "--node-fail":
      return { _tag: "NodeFail", node: value }
    case "-u":
    case "--node-up":
      return { _tag: "NodeUp", node: value }
    case "-d":
    case "--node-down":
      return { _tag: "NodeDown", node: value }
    case "-i":
    case "--op-inject":
      return { _tag: "OpResult", op: Either.getOrThrow(WhatIf.parseOpSpec(value)) }
    default:
      throw new Error(`unsupported crm_simulate option ${flag}`)
  }
}

export const whatIfsOfArgs = (text: string): Array<WhatIf.WhatIf> => {
  const out: Array<WhatIf.WhatIf> = []
  for (const line of text.split("\n")) {
    const [kind, ...words] = line.trim().split(/\s+/)
    if (!kind || kind.startsWith("#")) continue
    if (kind === "sim") {
      for (let i = 0; i < words.length; i += 2)
        out.push(simOption(words[i] as string, words[i + 1] as string))
    } else if (kind === "attr") {
      const [node = "", name = "", value = "", section = ""] = words
      if (section === "nodes" && name === "standby" && value === "on") out.push({ _tag: "Standby", node })
      else if (section === "status") out.push({ _tag: "NodeAttribute", node, name, value })
      else throw new Error(`unsupported attr line: ${line}`)
    } else if (kind === "prop") {
      out.push({ _tag: "SetProperty", name: words[0] as string, value: words[1] as string })
    } else throw new Error(`unknown line kind ${kind}`)
  }
  return out
}
