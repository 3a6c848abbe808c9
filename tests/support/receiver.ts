// A real HTTP server on 127.0.0.1 for tests (Node only): records every request, body included,
// then lets the test's handler (or a provider fake's) answer it.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

export interface ReceiverOptions {
  /** Port on 127.0.0.1 (0: any free one). */
  port?: number;
}

/**
 * Listens on 127.0.0.1 (rejecting if it cannot, a port in use say) and hands each request, once its
 * body is read, to `answer`; a promise it returns is awaited.
 */
export async function startReceiver(
  answer: (request: Received, response: ServerResponse) => unknown,
  options: ReceiverOptions = {},
): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer(async (incoming, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk);
    const request = {
      method: incoming.method!,
      url: incoming.url!,
      headers: incoming.headers,
      body: Buffer.concat(chunks).toString(),
    };
    received.push(request);
    await answer(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Answers `body` as JSON (`content-type: application/json; charset=utf-8`), or with no body when it is
 * undefined; `headers` come after the content type and may replace it.
 */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
    ...headers,
  });
  response.end(body === undefined ? undefined : JSON.stringify(body));
}
