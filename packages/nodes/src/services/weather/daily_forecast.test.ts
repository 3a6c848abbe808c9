// daily_forecast against a local fake of Open-Meteo, through the node fetch the worker gives nodes.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { PollContext } from "../../define.ts";
import { PermanentError, RetryableError } from "../../errors.ts";
import { type FakeOpenMeteo, startFakeOpenMeteo } from "../../../../../tests/support/fakes/open_meteo.ts";
import { pollContext } from "../../../../../tests/support/node_context.ts";
import { dailyForecast } from "./daily_forecast.ts";
import { weather } from "./service.ts";

const polling = dailyForecast.trigger.polling!;

async function fake(t: TestContext): Promise<FakeOpenMeteo> {
  const server = await startFakeOpenMeteo();
  t.after(() => server.close());
  return server;
}

/** The context the worker builds for a weather poll at `scheduledAt`. */
function at(server: FakeOpenMeteo, scheduledAt: string): PollContext {
  server.now = new Date(scheduledAt);
  return pollContext(weather, {
    env: { OPEN_METEO_URL: server.origin },
    scheduledAt: new Date(scheduledAt),
    name: "weather.daily_forecast",
  });
}

/** The engine parses params with the action's schema before poll(). */
const params = (values: Record<string, unknown>) =>
  dailyForecast.params.parse({ latitude: 48.8566, longitude: 2.3522, ...values }) as Record<string, unknown>;
const paris = params({ time: "07:30", timezone: "Europe/Paris" });

test("the baseline and the checks before the time call nothing; at the time it fires the day's forecast", async (t) => {
  const server = await fake(t);
  server.setDay("2026-01-05", {
    temperature_2m_max: 9.3,
    temperature_2m_min: 4.1,
    precipitation_sum: 2.5,
    weather_code: 61,
  });
  const baseline = await polling.poll(at(server, "2026-01-05T06:00:00Z"), paris, undefined);
  assert.deepEqual(baseline, { events: [], cursor: { last: "2026-01-05T06:00:00.000Z", count: 0 } });
  assert.deepEqual(await polling.poll(at(server, "2026-01-05T06:29:00Z"), paris, baseline.cursor), { events: [] });
  assert.equal(server.requests.length, 0, "checking the clock costs no call");

  // 07:30 in Paris is 06:30Z in winter.
  const due = await polling.poll(at(server, "2026-01-05T06:30:00Z"), paris, baseline.cursor);
  assert.deepEqual(due, {
    events: [{
      dedupeKey: "2026-01-05",
      outputs: {
        date: "2026-01-05",
        max: 9.3,
        min: 4.1,
        precipitation: 2.5,
        weather_code: 61,
        summary: "Slight rain, 4.1 to 9.3 °C, 2.5 mm of precipitation",
      },
    }],
    cursor: { last: "2026-01-05T06:30:00.000Z", count: 1 },
  });
  const url = new URL(server.requests[0].url, "http://fake");
  assert.equal(url.pathname, "/v1/forecast");
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    latitude: "48.8566",
    longitude: "2.3522",
    daily: "temperature_2m_max,temperature_2m_min,precipitation_sum,weather_code",
    timezone: "Europe/Paris",
    start_date: "2026-01-05",
    end_date: "2026-01-05",
  });

  assert.deepEqual(await polling.poll(at(server, "2026-01-05T18:00:00Z"), paris, due.cursor), { events: [] });
  assert.equal(server.requests.length, 1, "once a day");
  const tomorrow = await polling.poll(at(server, "2026-01-06T06:30:20Z"), paris, due.cursor);
  assert.deepEqual(tomorrow.events[0].outputs, {
    date: "2026-01-06",
    max: 12,
    min: 4,
    precipitation: 0,
    weather_code: 3,
    summary: "Overcast, 4 to 12 °C, no precipitation",
  });
});

test("the day is the local one; after downtime only the latest missed day fires", async (t) => {
  const server = await fake(t);
  // 06:00 in Auckland on the 6th is 17:00Z on the 5th (summer time, UTC+13).
  const auckland = params({ latitude: -36.85, longitude: 174.76, time: "06:00", timezone: "Pacific/Auckland" });
  const cursor = { last: "2026-01-01T00:00:00.000Z", count: 2 };
  const result = await polling.poll(at(server, "2026-01-05T17:00:30Z"), auckland, cursor);
  assert.deepEqual(result.events.map((event) => event.dedupeKey), ["2026-01-06"]);
  assert.deepEqual(result.cursor, { last: "2026-01-05T17:00:00.000Z", count: 3 });
  assert.equal(new URL(server.requests[0].url, "http://fake").searchParams.get("start_date"), "2026-01-06");
});

test("a refused or incomplete answer keeps the cursor, so the next check asks again", async (t) => {
  const server = await fake(t);
  const cursor = { last: "2026-01-05T06:00:00.000Z", count: 0 };
  server.rateLimit({ retryAfter: 30 });
  await assert.rejects(
    polling.poll(at(server, "2026-01-05T06:30:00Z"), paris, cursor),
    (error) => error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 30,
  );
  server.setDay("2026-01-05", { weather_code: null });
  await assert.rejects(
    polling.poll(at(server, "2026-01-05T06:31:00Z"), paris, cursor),
    (error) => error instanceof RetryableError && /no complete forecast for 2026-01-05/.test(error.message),
  );
  server.setDay("2026-01-05", { weather_code: 95 });
  const late = await polling.poll(at(server, "2026-01-05T06:32:00Z"), paris, cursor);
  assert.equal(late.events[0].outputs.summary, "Thunderstorm, 4 to 12 °C, no precipitation");
  assert.equal((late.cursor as { last: string }).last, "2026-01-05T06:30:00.000Z", "fired_at stays the scheduled time");

  // The engine refuses such coordinates first; Open-Meteo's own 400 is permanent.
  await assert.rejects(
    polling.poll(at(server, "2026-01-05T06:33:00Z"), { ...paris, longitude: 200 }, cursor),
    (error) =>
      error instanceof PermanentError && error.status === 400 &&
      error.message.includes("Longitude must be in range of -180 to 180°. Given: 200.0."),
  );
});

test("params are validated with messages naming the field", () => {
  const problems = (values: Record<string, unknown>) => {
    const result = dailyForecast.params.safeParse({ latitude: 48.85, longitude: 2.35, time: "07:30", ...values });
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
  };
  assert.deepEqual(dailyForecast.params.parse({ latitude: 48.85, longitude: 2.35, time: "07:30" }), {
    latitude: 48.85,
    longitude: 2.35,
    time: "07:30",
    timezone: "UTC",
  });
  assert.deepEqual(problems({ time: "7:30" }), ["time: must be a time of day as HH:MM (00:00 to 23:59)"]);
  assert.deepEqual(problems({ time: "24:00" }), ["time: must be a time of day as HH:MM (00:00 to 23:59)"]);
  assert.deepEqual(problems({ latitude: -91 }), ["latitude: Too small: expected number to be >=-90"]);
  assert.deepEqual(problems({ timezone: "CEST" }), [
    "timezone: not a time zone: use an IANA name such as Europe/Paris",
  ]);
});
