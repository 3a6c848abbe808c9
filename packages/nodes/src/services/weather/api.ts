// Open-Meteo's Forecast API as the weather nodes call it: the base URL (OPEN_METEO_URL, default the
// real API), no key, and its answers read with the documented shapes.
// https://open-meteo.com/en/docs
import { z } from "zod";
import { baseUrl, type NodeContext } from "../../define.ts";
import { PermanentError } from "../../errors.ts";
import { readJson } from "../../fetch.ts";

export const OPEN_METEO_URL = "https://api.open-meteo.com";

/** A place's params, as Open-Meteo takes them (WGS84; it answers 400 outside these ranges). */
export const placeParams = {
  latitude: z.number().min(-90).max(90).meta({ description: "Latitude of the place (WGS84)", placeholder: "48.8566" }),
  longitude: z.number().min(-180).max(180).meta({
    description: "Longitude of the place (WGS84)",
    placeholder: "2.3522",
  }),
};

/**
 * GET /v1/forecast with `query`, its JSON read with `shape`. Errors are the node fetch's: Open-Meteo's
 * 400 `{"error":true,"reason":…}` (a parameter it refuses) is permanent, its 429 (the free API's per-address
 * limits) and 5xx are retryable, with Retry-After when it sends one.
 */
export async function forecast<T extends z.ZodType>(
  ctx: NodeContext,
  query: Record<string, string>,
  shape: T,
): Promise<z.output<T>> {
  const base = baseUrl(ctx.env, "OPEN_METEO_URL", OPEN_METEO_URL);
  const response = await ctx.fetch(`${base}/v1/forecast?${new URLSearchParams(query)}`, {
    headers: { accept: "application/json" },
  });
  const body = await readJson(response, "Open-Meteo answered a body that is not JSON");
  const parsed = shape.safeParse(body);
  if (!parsed.success) {
    throw new PermanentError(`Open-Meteo answered an unexpected body: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** An instant from Open-Meteo's local time ("2026-01-05T08:00", no offset) and the answer's utc_offset_seconds. */
export function instantOf(localTime: string, utcOffsetSeconds: number): Date {
  const wallClock = Date.parse(`${localTime}Z`);
  if (Number.isNaN(wallClock)) throw new PermanentError(`Open-Meteo answered an unreadable time: ${localTime}`);
  return new Date(wallClock - utcOffsetSeconds * 1000);
}

// WMO weather interpretation codes (WW), as Open-Meteo documents them.
const WMO_CODES: Record<number, string> = {
  0: "Clear sky",
  1: "Mainly clear",
  2: "Partly cloudy",
  3: "Overcast",
  45: "Fog",
  48: "Depositing rime fog",
  51: "Light drizzle",
  53: "Moderate drizzle",
  55: "Dense drizzle",
  56: "Light freezing drizzle",
  57: "Dense freezing drizzle",
  61: "Slight rain",
  63: "Moderate rain",
  65: "Heavy rain",
  66: "Light freezing rain",
  67: "Heavy freezing rain",
  71: "Slight snow fall",
  73: "Moderate snow fall",
  75: "Heavy snow fall",
  77: "Snow grains",
  80: "Slight rain showers",
  81: "Moderate rain showers",
  82: "Violent rain showers",
  85: "Slight snow showers",
  86: "Heavy snow showers",
  95: "Thunderstorm",
  96: "Thunderstorm with slight hail",
  99: "Thunderstorm with heavy hail",
};

/** The readable name of a WMO weather code ("Slight rain"). */
export function weatherDescription(code: number): string {
  return WMO_CODES[code] ?? `Weather code ${code}`;
}
