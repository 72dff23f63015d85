/**
 * The ids the YAML format generates for what people should not have to name, in Pacemaker's usual
 * style (as its tools and pcs write them). Shared by the decoder (which assigns them) and the
 * encoder (which leaves out ids equal to them).
 */
import * as Duration from "../Duration.ts"
import * as Score from "../Score.ts"

/** n-th item of a list named from `base`: base, base-1, base-2, … */
export const indexed = (base: string, index: number): string => (index === 0 ? base : `${base}-${index}`)

export const nvpairId = (setId: string, name: string): string => `${setId}-${name}`

export const PROPERTIES_SET = "cib-bootstrap-options"
export const RSC_DEFAULTS_SET = "rsc-defaults"
export const OP_DEFAULTS_SET = "op-defaults"
export const instanceSet = (owner: string): string => `${owner}-instance_attributes`
export const metaSet = (owner: string): string => `${owner}-meta_attributes`
export const utilizationSet = (owner: string): string => `${owner}-utilization`
export const nodeAttributesSet = (nodeId: string): string => `nodes-${nodeId}`
export const nodeUtilizationSet = (nodeId: string): string => `nodes-${nodeId}-utilization`

export const opBase = (resource: string, name: string, interval: number): string =>
  `${resource}-${name}-interval-${Duration.format(interval)}`
export const ruleBase = (owner: string): string => `${owner}-rule`
export const expressionBase = (rule: string): string => `${rule}-expr`
export const resourceSetBase = (constraint: string): string => `${constraint}-set`
export const fencingLevelId = (target: string, index: number): string => `fl-${target}-${index}`

const joined = (parts: ReadonlyArray<string | undefined>) => parts.filter((p) => p !== undefined).join("-")

/** Resources named by a constraint's sets, for naming set constraints. */
export const setsLabel = (
  sets: ReadonlyArray<{ readonly resources: ReadonlyArray<string> }>
): string | undefined => (sets.length === 0 ? undefined : sets.flatMap((s) => s.resources).join("-"))

export const locationBase = (c: {
  readonly rsc?: string | undefined
  readonly rscPattern?: string | undefined
  readonly node?: string | undefined
  readonly score?: number | undefined
  readonly resourceSets: ReadonlyArray<{ readonly resources: ReadonlyArray<string> }>
}): string =>
  joined([
    "location",
    c.rsc ?? c.rscPattern ?? setsLabel(c.resourceSets),
    c.node,
    c.score === undefined ? undefined : Score.format(c.score)
  ])

export const colocationBase = (c: {
  readonly rsc?: string | undefined
  readonly withRsc?: string | undefined
  readonly score?: number | undefined
  readonly resourceSets: ReadonlyArray<{ readonly resources: ReadonlyArray<string> }>
}): string =>
  joined([
    "colocation",
    c.rsc ?? setsLabel(c.resourceSets),
    c.withRsc,
    c.score === undefined ? undefined : Score.format(c.score)
  ])

export const orderBase = (c: {
  readonly first?: string | undefined
  readonly then?: string | undefined
  readonly kind?: string | undefined
  readonly resourceSets: ReadonlyArray<{ readonly resources: ReadonlyArray<string> }>
}): string => joined(["order", c.first ?? setsLabel(c.resourceSets), c.then, c.kind?.toLowerCase()])

export const ticketBase = (c: {
  readonly ticket: string
  readonly rsc?: string | undefined
  readonly resourceSets: ReadonlyArray<{ readonly resources: ReadonlyArray<string> }>
}): string => joined(["ticket", c.ticket, c.rsc ?? setsLabel(c.resourceSets)])

/** Names generated from a base that may repeat: base, base-1, base-2, … in order of use. */
export class NameCounter {
  private readonly used = new Map<string, number>()
  peek(base: string): string {
    return indexed(base, this.used.get(base) ?? 0)
  }
  take(base: string): string {
    const name = this.peek(base)
    this.used.set(base, (this.used.get(base) ?? 0) + 1)
    return name
  }
}
