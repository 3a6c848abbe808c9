// A local fake of Open-Meteo's Forecast API (Node only), following its documented requests and answers:
// https://open-meteo.com/en/docs (GET /v1/forecast, `current=`, `daily=`, `timezone=`, `start_date`/`end_date`,
// the JSON object with `utc_offset_seconds`, `current`/`current_units`, `daily`/`daily_units`, and
// "In case an error occurs, for example a URL parameter is not correctly specified, a JSON error object is
// returned with a HTTP 400 status code": `{"error":true,"reason":"…"}`).
// https://open-meteo.com/en/terms: the free API is limited per client address (600 calls a minute, 5,000
// an hour, 10,000 a day); past that it answers 429 with the same error object.
// Times in the answer are local to `timezone` (GMT unless given), written without offset ("2026-01-05T08:00"),
// as Open-Meteo writes them. The fake's clock and weather are set by the test; it records every request.
import { type Received, sendJson, startReceiver } from "../receiver.ts";

export type RecordedRequest = Omit<Received, "body">;

export interface DailyWeather {
  temperature_2m_max: number | null;
  temperature_2m_min: number | null;
  precipitation_sum: number | null;
  weather_code: number | null;
}

export interface FakeOpenMeteo {
  origin: string;
  port: number;
  requests: RecordedRequest[];
  /** The fake's "now": `current` is the 15-minute step it falls in. Default: the real clock. */
  now: Date | undefined;
  /** The current temperature (°C) everywhere; null as Open-Meteo reports a missing value. */
  temperature: number | null;
  /** The forecast of a local date ("2026-01-05"); other dates get a mild, dry, cloudy day. */
  setDay(date: string, weather: Partial<DailyWeather>): void;
  /** The next `count` requests answer 429, with `Retry-After: retryAfter` when given. */
  rateLimit(options: { retryAfter?: number; count?: number }): void;
  close(): Promise<void>;
}

const CURRENT_VARIABLES: Record<string, string> = { temperature_2m: "°C", weather_code: "wmo code" };
const DAILY_VARIABLES: Record<string, string> = {
  temperature_2m_max: "°C",
  temperature_2m_min: "°C",
  precipitation_sum: "mm",
  weather_code: "wmo code",
};
const DEFAULT_DAY: DailyWeather = {
  temperature_2m_max: 12,
  temperature_2m_min: 4,
  precipitation_sum: 0,
  weather_code: 3,
};
/** `current` values are 15-minute steps ("interval": 900). */
const CURRENT_INTERVAL_SECONDS = 900;

class BadRequest extends Error {}

/** A coordinate as Open-Meteo parses it (a Float), range-checked with its messages. */
function coordinate(query: URLSearchParams, key: "latitude" | "longitude"): number {
  const text = query.get(key);
  const value = text === null || text.trim() === "" ? Number.NaN : Number(text);
  if (text === null) throw new BadRequest(`Value of type 'Float' required for key '${key}'.`);
  if (Number.isNaN(value)) {
    throw new BadRequest(`Cannot initialize Float from invalid String value ${text} for key ${key}`);
  }
  const limit = key === "latitude" ? 90 : 180;
  if (value < -limit || value > limit) {
    const name = key === "latitude" ? "Latitude" : "Longitude";
    throw new BadRequest(`${name} must be in range of -${limit} to ${limit}°. Given: ${value.toFixed(1)}.`);
  }
  return value;
}

function variables(query: URLSearchParams, key: "current" | "daily", known: Record<string, string>): string[] {
  const names = query.getAll(key).flatMap((value) => value.split(",")).filter(Boolean);
  for (const name of names) {
    if (!(name in known)) {
      throw new BadRequest(`Cannot initialize ForecastVariable from invalid String value ${name} for key ${key}`);
    }
  }
  return names;
}

/** Wall-clock parts of an instant in a time zone. */
function localParts(instant: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  const date = `${part("year")}-${part("month")}-${part("day")}`;
  const time = `${part("hour")}:${part("minute")}`;
  const offsetSeconds =
    (Date.parse(`${date}T${time}:${part("second")}Z`) - Math.floor(instant.getTime() / 1000) * 1000) /
    1000;
  return { date, time, offsetSeconds };
}

function abbreviation(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" }).formatToParts(instant)
    .find((part) => part.type === "timeZoneName")!.value;
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export async function startFakeOpenMeteo(options: { port?: number } = {}): Promise<FakeOpenMeteo> {
  const days = new Map<string, DailyWeather>();
  let limited: { retryAfter?: number; count: number } | undefined;

  // origin, port, requests and close are the server's, set once it listens.
  const fake = {
    origin: "",
    port: 0,
    requests: [] as RecordedRequest[],
    now: undefined as Date | undefined,
    temperature: 10 as number | null,
    setDay(date: string, weather: Partial<DailyWeather>) {
      days.set(date, { ...DEFAULT_DAY, ...days.get(date), ...weather });
    },
    rateLimit({ retryAfter, count = 1 }: { retryAfter?: number; count?: number }) {
      limited = { retryAfter, count };
    },
    close: async () => {},
  };

  function forecast(query: URLSearchParams) {
    const latitude = coordinate(query, "latitude");
    const longitude = coordinate(query, "longitude");
    const current = variables(query, "current", CURRENT_VARIABLES);
    const daily = variables(query, "daily", DAILY_VARIABLES);
    const timezone = query.get("timezone") ?? "GMT";
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    } catch {
      throw new BadRequest(`Invalid timezone`);
    }
    const now = fake.now ?? new Date();
    const step = new Date(
      Math.floor(now.getTime() / 1000 / CURRENT_INTERVAL_SECONDS) * CURRENT_INTERVAL_SECONDS * 1000,
    );
    const local = localParts(step, timezone);
    const body: Record<string, unknown> = {
      // The center of the grid cell used, a little away from the requested point.
      latitude: Math.round(latitude * 50) / 50,
      longitude: Math.round(longitude * 50) / 50,
      generationtime_ms: 0.05,
      utc_offset_seconds: local.offsetSeconds,
      timezone,
      timezone_abbreviation: abbreviation(step, timezone),
      elevation: 38,
    };
    if (current.length > 0) {
      body.current_units = {
        time: "iso8601",
        interval: "seconds",
        ...Object.fromEntries(current.map((name) => [name, CURRENT_VARIABLES[name]])),
      };
      const values: Record<string, number | null> = { temperature_2m: fake.temperature, weather_code: 3 };
      body.current = {
        time: `${local.date}T${local.time}`,
        interval: CURRENT_INTERVAL_SECONDS,
        ...Object.fromEntries(current.map((name) => [name, values[name]])),
      };
    }
    if (daily.length > 0) {
      const start = query.get("start_date");
      const end = query.get("end_date");
      if ((start === null) !== (end === null)) {
        throw new BadRequest("Parameter 'start_date' and 'end_date' must be set both or none");
      }
      const isoDate = /^\d{4}-\d{2}-\d{2}$/;
      for (const date of [start, end]) {
        if (date !== null && !isoDate.test(date)) {
          throw new BadRequest(`Invalid date format. Make sure to use 'YYYY-MM-DD'`);
        }
      }
      const first = start ?? localParts(now, timezone).date;
      const last = end ?? addDays(first, Number(query.get("forecast_days") ?? 7) - 1);
      if (last < first) throw new BadRequest("End-date must be larger or equals than start-date");
      const dates: string[] = [];
      for (let date = first; date <= last; date = addDays(date, 1)) dates.push(date);
      body.daily_units = {
        time: "iso8601",
        ...Object.fromEntries(daily.map((name) => [name, DAILY_VARIABLES[name]])),
      };
      body.daily = {
        time: dates,
        ...Object.fromEntries(daily.map((name) => [
          name,
          dates.map((date) => (days.get(date) ?? DEFAULT_DAY)[name as keyof DailyWeather]),
        ])),
      };
    }
    return body;
  }

  const server = await startReceiver((request, response) => {
    const url = new URL(request.url, "http://fake");
    if (limited && limited.count > 0) {
      limited.count--;
      const headers: Record<string, string> = limited.retryAfter === undefined
        ? {}
        : { "retry-after": String(limited.retryAfter) };
      return sendJson(response, 429, {
        error: true,
        reason: "Minutely API request limit exceeded. Please try again in one minute.",
      }, headers);
    }
    if (url.pathname !== "/v1/forecast" || request.method !== "GET") {
      return sendJson(response, 404, { error: true, reason: "Not Found" });
    }
    try {
      sendJson(response, 200, forecast(url.searchParams));
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      sendJson(response, 400, { error: true, reason: error.message });
    }
  }, { port: options.port });
  fake.origin = server.origin;
  fake.port = server.port;
  fake.requests = server.received;
  fake.close = server.close;
  return fake;
}
