// Small helpers the bench measurements share (users, AREAs and signed webhooks come from ../areas.ts).

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
