// temperature_crosses against a local fake of Open-Meteo, through the node fetch the worker gives nodes.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { PollContext, PollResult } from "../../define.ts";
import { PermanentError, RetryableError } from "../../errors.ts";
import type { FetchFunction } from "../../fetch.ts";
import { type FakeOpenMeteo, startFakeOpenMeteo } from "../../../../../tests/support/fakes/open_meteo.ts";
import { pollContext } from "../../../../../tests/support/node_context.ts";
import { weather } from "./service.ts";
import { temperatureCrosses } from "./temperature_crosses.ts";

const polling = temperatureCrosses.trigger.polling!;
const PARIS = { latitude: 48.8566, longitude: 2.3522 };

async function fake(t: TestContext): Promise<FakeOpenMeteo> {
  const server = await startFakeOpenMeteo();
  t.after(() => server.close());
  return server;
}

/** The context the worker builds for a weather poll: no credentials, so no 401 means "reconnect". */
function context(env: Record<string, string>, fetch: FetchFunction = globalThis.fetch): PollContext {
  return pollContext(weather, { env, fetch, name: "weather.temperature_crosses" });
}

/** The engine parses params with the action's schema before poll(). */
const params = (values: Record<string, unknown>) =>
  temperatureCrosses.params.parse({ ...PARIS, ...values }) as Record<string, unknown>;

/** Polls as the engine does: the cursor moves only when the poll returns one. */
function poller(server: FakeOpenMeteo, values: Record<string, unknown>) {
  const ctx = context({ OPEN_METEO_URL: server.origin });
  const parsed = params(values);
  let cursor: unknown;
  return async (temperature: number | null, now: string): Promise<PollResult> => {
    server.temperature = temperature;
    server.now = new Date(now);
    const result = await polling.poll(ctx, parsed, cursor);
    if (result.cursor !== undefined) cursor = result.cursor;
    return result;
  };
}

test("asks Open-Meteo for the current temperature at the place, as documented", async (t) => {
  const server = await fake(t);
  const poll = poller(server, { threshold: 25 });
  await poll(20, "2026-07-01T12:07:00Z");
  assert.equal(server.requests.length, 1);
  const [request] = server.requests;
  assert.equal(request.method, "GET");
  const url = new URL(request.url, "http://fake");
  assert.equal(url.pathname, "/v1/forecast");
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    latitude: "48.8566",
    longitude: "2.3522",
    current: "temperature_2m",
  });
});

test("fires on the crossing only: below→above once, nothing while above, again after going back", async (t) => {
  const server = await fake(t);
  const poll = poller(server, { threshold: 25 });
  assert.deepEqual((await poll(20, "2026-07-01T10:00:00Z")).events, [], "the baseline only notes the side");
  assert.deepEqual((await poll(24.9, "2026-07-01T10:05:00Z")).events, []);
  assert.deepEqual((await poll(25, "2026-07-01T10:10:00Z")).events, [], "at the threshold is not above it");

  const crossed = await poll(25.4, "2026-07-01T10:20:00Z");
  assert.deepEqual(crossed.events, [{
    dedupeKey: "above:2026-07-01T10:15:00.000Z",
    outputs: {
      temperature: 25.4,
      threshold: 25,
      observed_at: "2026-07-01T10:15:00.000Z",
      latitude: 48.8566,
      longitude: 2.3522,
    },
  }]);
  assert.deepEqual((await poll(27, "2026-07-01T10:25:00Z")).events, [], "staying above fires nothing");
  assert.deepEqual((await poll(26, "2026-07-01T10:40:00Z")).events, []);
  assert.deepEqual((await poll(23, "2026-07-01T11:00:00Z")).events, [], "dropping back fires nothing");
  const again = await poll(25.1, "2026-07-01T11:30:00Z");
  assert.deepEqual(again.events.map((event) => [event.dedupeKey, event.outputs.temperature]), [
    ["above:2026-07-01T11:30:00.000Z", 25.1],
  ]);
  assert.equal(server.requests.length, 8, "one call per poll");
});

test("a reading already beyond the threshold at the first poll does not fire", async (t) => {
  const server = await fake(t);
  const poll = poller(server, { threshold: 25 });
  assert.deepEqual(await poll(30, "2026-07-01T10:00:00Z"), {
    events: [],
    cursor: { beyond: true, threshold: 25, direction: "above" },
  });
  assert.deepEqual((await poll(31, "2026-07-01T10:15:00Z")).events, []);
});

test("direction below fires when the temperature drops below the threshold", async (t) => {
  const server = await fake(t);
  const poll = poller(server, { threshold: 0, direction: "below" });
  await poll(2, "2026-01-05T06:00:00Z");
  assert.deepEqual((await poll(0, "2026-01-05T06:15:00Z")).events, []);
  const frost = await poll(-0.5, "2026-01-05T06:30:00Z");
  assert.deepEqual(frost.events[0].outputs, {
    temperature: -0.5,
    threshold: 0,
    observed_at: "2026-01-05T06:30:00.000Z",
    latitude: 48.8566,
    longitude: 2.3522,
  });
  assert.deepEqual((await poll(-3, "2026-01-05T06:45:00Z")).events, []);
});

test("a changed threshold or direction takes a new baseline; a missing reading keeps the last side", async (t) => {
  const server = await fake(t);
  const ctx = context({ OPEN_METEO_URL: server.origin });
  server.temperature = 22;
  const below25 = { beyond: false, threshold: 25, direction: "above" };
  assert.deepEqual(await polling.poll(ctx, params({ threshold: 20 }), below25), {
    events: [],
    cursor: { beyond: true, threshold: 20, direction: "above" },
  });
  server.temperature = null;
  assert.deepEqual(await polling.poll(ctx, params({ threshold: 20 }), below25), { events: [] });
});

test("Open-Meteo's 400 is permanent, its 429 retryable with Retry-After; the cursor stays", async (t) => {
  const server = await fake(t);
  const ctx = context({ OPEN_METEO_URL: server.origin });
  const cursor = { beyond: false, threshold: 25, direction: "above" };
  // The engine refuses such params before any poll; Open-Meteo would refuse them too.
  assert.match(
    temperatureCrosses.params.safeParse({ latitude: 95, longitude: 2.35, threshold: 25 }).error!.issues
      .map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("\n"),
    /^latitude: Too big: expected number to be <=90$/,
  );
  await assert.rejects(
    polling.poll(ctx, { latitude: 95, longitude: 2.35, threshold: 25, direction: "above" }, cursor),
    (error) =>
      error instanceof PermanentError && error.status === 400 &&
      error.message.includes("Latitude must be in range of -90 to 90°. Given: 95.0."),
  );

  server.rateLimit({ retryAfter: 60 });
  await assert.rejects(
    polling.poll(ctx, params({ threshold: 25 }), cursor),
    (error) =>
      error instanceof RetryableError && error.status === 429 && error.retryAfterSeconds === 60 &&
      /Minutely API request limit exceeded/.test(error.message),
  );
  server.temperature = 26;
  const next = await polling.poll(ctx, params({ threshold: 25 }), cursor);
  assert.equal(next.events.length, 1, "the crossing missed by the refused poll fires on the next one");
});

test("an answer without the documented shape fails permanently, naming what is missing", async () => {
  const ctx = context({ OPEN_METEO_URL: "http://127.0.0.1:9" }, () => Promise.resolve(Response.json({ current: {} })));
  await assert.rejects(
    polling.poll(ctx, params({ threshold: 25 }), undefined),
    (error) => error instanceof PermanentError && /unexpected body/.test(error.message) && /time/.test(error.message),
  );
});

test("calls the real API unless OPEN_METEO_URL says otherwise", async () => {
  const called: string[] = [];
  const ctx = context({}, (url) => {
    called.push(url.href);
    return Promise.resolve(
      Response.json({ utc_offset_seconds: 0, current: { time: "2026-07-01T10:00", temperature_2m: 20 } }),
    );
  });
  await polling.poll(ctx, params({ threshold: 25 }), undefined);
  assert.deepEqual(called, [
    "https://api.open-meteo.com/v1/forecast?latitude=48.8566&longitude=2.3522&current=temperature_2m",
  ]);
});
