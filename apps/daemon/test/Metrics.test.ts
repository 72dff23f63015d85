import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric, MetricBoundaries } from "effect"
import { Metrics, NodeMetrics } from "../src/index.ts"

describe("Metrics", () => {
  it.effect("renders counters, gauges and histograms in Prometheus' text format", () =>
    Effect.gen(function* () {
      const failures = Metric.counter("t_failures_total", { description: "Failed ops.", incremental: true })
      const quorate = Metric.gauge("t_quorate", { description: "Quorum." })
      const latency = Metric.histogram(
        "t_latency_seconds",
        MetricBoundaries.fromIterable([0.1, 1]),
        "Latency."
      )
      yield* Metric.increment(Metric.tagged(failures, "resource", 'db "main"'))
      yield* Metric.incrementBy(Metric.tagged(failures, "resource", "vip"), 2)
      yield* Metric.set(quorate, 1)
      for (const seconds of [0.05, 0.5, 5]) yield* Metric.update(latency, seconds)
      const text = Metrics.render(yield* Metric.snapshot)
      const family = (name: string) =>
        text
          .split("\n")
          .filter((line) => line.includes(name))
          .join("\n")
      const [help, type, ...samples] = family("t_failures_total").split("\n")
      expect([help, type]).toEqual(["# HELP t_failures_total Failed ops.", "# TYPE t_failures_total counter"])
      expect(samples.sort()).toEqual([
        't_failures_total{resource="db \\"main\\""} 1',
        't_failures_total{resource="vip"} 2'
      ])
      expect(family("t_quorate")).toBe("# HELP t_quorate Quorum.\n# TYPE t_quorate gauge\nt_quorate 1")
      expect(family("t_latency_seconds")).toBe(
        [
          "# HELP t_latency_seconds Latency.",
          "# TYPE t_latency_seconds histogram",
          't_latency_seconds_bucket{le="0.1"} 1',
          't_latency_seconds_bucket{le="1"} 2',
          't_latency_seconds_bucket{le="+Inf"} 3',
          "t_latency_seconds_sum 5.55",
          "t_latency_seconds_count 3"
        ].join("\n")
      )
      expect(text.endsWith("\n")).toBe(true)
    })
  )

  it.scopedLive("serves GET /metrics, and nothing else, on the configured address", () =>
    Effect.gen(function* () {
      yield* Metric.set(Metrics.quorate, 1)
      const port = yield* NodeMetrics.serve({ address: "127.0.0.1", port: 0 })
      const scrape = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/metrics`))
      expect(scrape.headers.get("content-type")).toContain("version=0.0.4")
      expect(yield* Effect.promise(() => scrape.text())).toContain("# TYPE ha_quorate gauge\nha_quorate 1")
      const other = yield* Effect.promise(() => fetch(`http://127.0.0.1:${port}/admin`))
      expect(other.status).toBe(404)
    })
  )
})
