// Structured logs: one JSON object per line.
export function log(
  level: "debug" | "info" | "warn" | "error",
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  console.log(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }));
}
