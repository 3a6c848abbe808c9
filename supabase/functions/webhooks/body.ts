// Reading a delivery's body without trusting its size, and parsing it: shared by the per-hook route
// (app.ts) and the app-level routes of providers that sign once per application (slack.ts).

/** Largest body accepted, in bytes (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The body, or null as soon as it exceeds `limit` bytes (the rest is never read). */
export async function readCapped(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | null> {
  if (!stream) return new Uint8Array();
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

const utf8 = new TextDecoder();

/**
 * The body as text, or parsed when `json` (a blank JSON body is null). Invalid JSON is reported, not
 * thrown: a route answers it only once the request is authenticated.
 */
export function parseBody(rawBody: Uint8Array, json: boolean): { body: unknown; invalidJson: boolean } {
  const text = utf8.decode(rawBody);
  if (!json) return { body: text, invalidJson: false };
  try {
    return { body: text.trim() === "" ? null : JSON.parse(text), invalidJson: false };
  } catch {
    return { body: text, invalidJson: true };
  }
}
