/**
 * The opt-in Prometheus endpoint: `GET /metrics` on the configured address and port, nothing else.
 */
import { createServer } from "node:http"
import { Effect, Metric, Schema } from "effect"
import { render } from "../Metrics.ts"

export class MetricsServerError extends Schema.TaggedError<MetricsServerError>()("MetricsServerError", {
  address: Schema.String,
  port: Schema.Number,
  reason: Schema.String
}) {
  override get message(): string {
    return `metrics on ${this.address}:${this.port}: ${this.reason}`
  }
}

/** Serves the metrics until the scope closes; resolves to the bound port (useful with port 0). */
export const serve = (options: { readonly address: string; readonly port: number }) =>
  Effect.acquireRelease(
    Effect.async<{ readonly port: number; readonly close: () => void }, MetricsServerError>((resume) => {
      const server = createServer((request, response) => {
        if (request.method !== "GET" || request.url?.split("?")[0] !== "/metrics") {
          response.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics is served\n")
          return
        }
        response
          .writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
          .end(render(Metric.unsafeSnapshot()))
      })
      server.once("error", (error) =>
        resume(Effect.fail(new MetricsServerError({ ...options, reason: error.message })))
      )
      server.listen(options.port, options.address, () => {
        const bound = server.address()
        resume(
          Effect.succeed({
            port: typeof bound === "object" && bound !== null ? bound.port : options.port,
            close: () => server.close()
          })
        )
      })
    }),
    (server) => Effect.sync(server.close)
  ).pipe(Effect.map((server) => server.port))
