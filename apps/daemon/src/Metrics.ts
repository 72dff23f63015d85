/**
 * What the daemon exports to Prometheus (opt-in, `metrics.port`), as Effect metrics, and their
 * rendering in Prometheus' text exposition format (version 0.0.4).
 */
import { Metric, MetricBoundaries, type MetricPair, MetricState, Option } from "effect"

/** Members of the current membership view. */
export const members = Metric.gauge("ha_members", { description: "Nodes in this node's membership view." })
/** 1 when this node's partition has quorum. */
export const quorate = Metric.gauge("ha_quorate", {
  description: "1 if this node's partition has quorum, else 0."
})
/** Up links to each peer, tagged `peer`. */
export const linksUp = Metric.gauge("ha_links_up", { description: "Cluster links up to a peer (tag peer)." })
/** Resources per role on this node, tagged `role`. */
export const resources = Metric.gauge("ha_resources", {
  description: "Resources active on this node (tag role: active), from the CIB's status."
})
export const operationFailures = Metric.counter("ha_operation_failures_total", {
  description: "Resource operation failures the DC counted (tags resource, operation, node).",
  incremental: true
})
export const fencingActions = Metric.counter("ha_fencing_total", {
  description: "Nodes the DC had fenced (tags target, result).",
  incremental: true
})
export const transitionSeconds = Metric.histogram(
  "ha_transition_seconds",
  MetricBoundaries.exponential({ start: 0.01, factor: 2, count: 14 }),
  "Time from a transition's start to its completion or abort, on the DC."
)

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const number = (value: number | bigint) =>
  typeof value === "bigint"
    ? value.toString()
    : Number.isNaN(value)
      ? "NaN"
      : value === Number.POSITIVE_INFINITY
        ? "+Inf"
        : value === Number.NEGATIVE_INFINITY
          ? "-Inf"
          : String(value)
const labels = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.length === 0 ? "" : `{${pairs.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(",")}}`

/** The snapshot as Prometheus text: one HELP and TYPE per metric name, then its samples. */
export const render = (snapshot: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, { type: string; help: string; samples: Array<string> }>()
  const family = (name: string, type: string, help: string | undefined) => {
    const existing = families.get(name)
    if (existing !== undefined) return existing.samples
    const created = { type, help: help ?? name, samples: [] as Array<string> }
    families.set(name, created)
    return created.samples
  }
  for (const { metricKey, metricState } of snapshot) {
    const { name } = metricKey
    const description = Option.getOrUndefined(metricKey.description)
    const tags = metricKey.tags.map((tag) => [tag.key, tag.value] as const)
    if (MetricState.isCounterState(metricState)) {
      family(name, "counter", description).push(`${name}${labels(tags)} ${number(metricState.count)}`)
    } else if (MetricState.isGaugeState(metricState)) {
      family(name, "gauge", description).push(`${name}${labels(tags)} ${number(metricState.value)}`)
    } else if (MetricState.isHistogramState(metricState)) {
      const samples = family(name, "histogram", description)
      for (const [bound, count] of metricState.buckets) {
        samples.push(`${name}_bucket${labels([...tags, ["le", number(bound)]])} ${count}`)
      }
      if (!metricState.buckets.some(([bound]) => bound === Number.POSITIVE_INFINITY)) {
        samples.push(`${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${metricState.count}`)
      }
      samples.push(`${name}_sum${labels(tags)} ${number(metricState.sum)}`)
      samples.push(`${name}_count${labels(tags)} ${metricState.count}`)
    } else if (MetricState.isFrequencyState(metricState)) {
      const samples = family(name, "counter", description)
      for (const [value, count] of metricState.occurrences) {
        samples.push(`${name}${labels([...tags, ["value", value]])} ${count}`)
      }
    } else if (MetricState.isSummaryState(metricState)) {
      const samples = family(name, "summary", description)
      for (const [quantile, value] of metricState.quantiles) {
        if (value._tag === "Some") {
          samples.push(`${name}${labels([...tags, ["quantile", String(quantile)]])} ${number(value.value)}`)
        }
      }
      samples.push(`${name}_sum${labels(tags)} ${number(metricState.sum)}`)
      samples.push(`${name}_count${labels(tags)} ${metricState.count}`)
    }
  }
  return [...families.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, { type, help, samples }]) =>
      [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`, ...samples].join("\n")
    )
    .join("\n")
    .concat("\n")
}
