// Liveness, readiness and metrics over HTTP, for Kubernetes probes, Prometheus and the local
// stack: /healthz answers while the process runs, /readyz while the database answers and the
// queue workers are registered, /metrics in Prometheus text format.
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export interface HealthChecks {
  ready: () => Promise<boolean>;
  metrics?: Registry;
}

export function startHealthServer(port: number, checks: HealthChecks): Promise<Server> {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (path === "/healthz") return send(200, { status: "ok" });
    if (path === "/readyz") {
      return (await checks.ready()) ? send(200, { status: "ready" }) : send(503, { status: "not ready" });
    }
    if (path === "/metrics" && checks.metrics) {
      try {
        const text = await checks.metrics.metrics();
        return response.writeHead(200, { "content-type": checks.metrics.contentType }).end(text);
      } catch (error) {
        return send(503, { error: { code: "metrics_unavailable", message: (error as Error).message } });
      }
    }
    send(404, { error: { code: "not_found", message: `No route for ${path}` } });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve(server));
  });
}
