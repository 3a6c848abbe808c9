// Small helpers the bench measurements share (users and AREAs come from ../areas.ts).
import { createHmac } from "node:crypto";
import type pg from "pg";
import { waitFor } from "../areas.ts";

/** The headers of a generic webhook (webhook/received) POST of `body` signed with the AREA's secret. */
export function signedWebhookHeaders(secret: string, body: string): Record<string, string> {
  const signature = createHmac("sha256", secret).update(body).digest("hex");
  return { "content-type": "application/json", "x-area-signature": `sha256=${signature}` };
}

/** Waits until the worker has sealed the hook's webhook secret (it does so within seconds of create_area). */
export async function waitForSealedSecret(pool: pg.Pool, hookJobId: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(`the worker to seal the secret of hook ${hookJobId}`, async () => {
    const { rows } = await pool.query(
      "select 1 from private.hook_job_secrets where hook_job_id = $1 and key_id is not null",
      [hookJobId],
    );
    return rows[0];
  }, timeoutMs);
}

/** Whether the gateway serves a function of that name (it answers 404 NOT_FOUND for unknown ones). */
export async function functionServed(functionsUrl: string, name: string): Promise<boolean> {
  const response = await fetch(`${functionsUrl}/${name}/`, { method: "OPTIONS" });
  const text = await response.text();
  return !(response.status === 404 && text.includes("Requested function was not found"));
}

/** The q-quantile (0..1) of numbers, nearest-rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
