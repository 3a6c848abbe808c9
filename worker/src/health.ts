// Liveness and readiness over HTTP, for Kubernetes probes and the local stack:
// /healthz answers while the process runs, /readyz only while the database answers.
import { createServer, type Server } from "node:http";

export function startHealthServer(port: number, isReady: () => Promise<boolean>): Promise<Server> {
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (path === "/healthz") return send(200, { status: "ok" });
    if (path === "/readyz") {
      return (await isReady())
        ? send(200, { status: "ready" })
        : send(503, { status: "not ready", database: "unreachable" });
    }
    send(404, { error: { code: "not_found", message: `No route for ${path}` } });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve(server));
  });
}
