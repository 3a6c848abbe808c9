// The Slack app's one Request URL, POST /functions/v1/webhooks/slack, through the local gateway as Slack
// calls it: signed with the app's signing secret (SLACK_SIGNING_SECRET, set by npm test for the stack and
// this suite alike), the url_verification handshake, and a message fanned out to the slack/message_posted
// hooks of the event's workspace and channel only, each storing it once per event_id. AREAs are created
// with create_area() by their owners; connections are inserted as the OAuth callback would store them.
import assert from "node:assert/strict";
import postgres from "postgres";
import { signHmacSha256 } from "../../../packages/nodes/src/hmac.ts";

const functionsUrl = Deno.env.get("FUNCTIONS_URL");
// DATABASE_URL, not SUPABASE_DB_URL: another suite of this run points that one at a closed port.
const databaseUrl = Deno.env.get("DATABASE_URL");
const signingSecret = Deno.env.get("SLACK_SIGNING_SECRET");
const eventsUrl = `${functionsUrl}/webhooks/slack`;

const sql = postgres(databaseUrl ?? "", { max: 2, onnotice: () => {} });
Deno.test.afterAll(() => sql.end());

function slackTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}

/** A fresh workspace id per test, so that tests never see each other's hooks. */
const newTeam = () => `T${crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`;

/** A user connected to `team` (as the OAuth callback stores it) watching `channel`; returns the hook id. */
async function watch(team: string, channel: string, enabled = true): Promise<string> {
  if (!functionsUrl || !databaseUrl || !signingSecret) {
    throw new Error("FUNCTIONS_URL, DATABASE_URL and SLACK_SIGNING_SECRET are not set: run through npm test");
  }
  return await sql.begin(async (tx) => {
    const [user] = await tx`insert into auth.users (email) values (${`slack-${crypto.randomUUID()}@example.com`})
                            returning id`;
    const [connection] = await tx`
      insert into public.user_services (user_id, service_id, provider_account_id, provider_login)
      select ${user.id}, id, ${team}, 'Test workspace' from public.services where key = 'slack' returning id`;
    await tx`set local role authenticated`;
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: user.id, role: "authenticated" })}, true)`;
    const definition = {
      name: `Slack ${channel}`,
      enabled,
      action: { service: "slack", name: "message_posted", params: { channel }, connection_id: connection.id },
      reactions: [{ service: "http", name: "request", params: { url: "https://example.org/hook", body: "{{text}}" } }],
    };
    const [{ area }] = await tx`select public.create_area(${JSON.stringify(definition)}::text::jsonb) as area`;
    return area.hook.id as string;
  });
}

async function send(payload: unknown, options: { secret?: string; headers?: Record<string, string> } = {}) {
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${await signHmacSha256(options.secret ?? signingSecret!, `v0:${timestamp}:${body}`)}`;
  return await fetch(eventsUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": signature,
      ...options.headers,
    },
    body,
  });
}

/** An event_callback carrying a person's message, as Slack sends message.channels. */
function message(team: string, channel: string, event: Record<string, unknown> = {}) {
  return {
    token: "unused",
    team_id: team,
    api_app_id: "A0AREATEST",
    event: {
      type: "message",
      channel,
      channel_type: "channel",
      user: "U0AUTHOR01",
      text: "Deploy finished",
      ts: "1767268800.000100",
      event_ts: "1767268800.000100",
      ...event,
    },
    type: "event_callback",
    event_id: `Ev${crypto.randomUUID().replaceAll("-", "").slice(0, 10).toUpperCase()}`,
    event_time: 1767268800,
    authorizations: [{ team_id: team, user_id: "U0AREABOT", is_bot: true }],
  };
}

async function hookLogs(hookJobId: string) {
  return await sql<{ dedupe_key: string; event_payload: Record<string, unknown> }[]>`
    select dedupe_key, event_payload from public.hook_logs where hook_job_id = ${hookJobId}`;
}

slackTest("url_verification gets its challenge back; an unsigned or badly signed request is 401", async () => {
  const challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P";
  const verified = await send({ token: "unused", challenge, type: "url_verification" });
  assert.equal(verified.status, 200);
  assert.match(verified.headers.get("content-type") ?? "", /^text\/plain/);
  assert.equal(await verified.text(), challenge);

  const forged = await send({ challenge, type: "url_verification" }, { secret: "not the app's" });
  assert.equal(forged.status, 401);
  assert.equal((await forged.json()).error.code, "unauthorized");
  const unsigned = await fetch(eventsUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ challenge, type: "url_verification" }),
  });
  assert.equal(unsigned.status, 401);
  await unsigned.body?.cancel();
});

slackTest("a message reaches every hook of its workspace and channel, once per event_id", async () => {
  const team = newTeam();
  const [first, second, otherChannel, disabled, otherTeam] = [
    await watch(team, "C0GENERAL1"),
    await watch(team, "C0GENERAL1"),
    await watch(team, "C0RANDOM01"),
    await watch(team, "C0GENERAL1", false),
    await watch(newTeam(), "C0GENERAL1"),
  ];
  const event = message(team, "C0GENERAL1");
  const response = await send(event);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "accepted", hooks: 2, accepted: 2 });
  for (const hook of [first, second]) {
    const [log, ...more] = await hookLogs(hook);
    assert.equal(more.length, 0);
    assert.equal(log.dedupe_key, event.event_id);
    assert.deepEqual(log.event_payload, {
      text: "Deploy finished",
      user: "U0AUTHOR01",
      channel: "C0GENERAL1",
      ts: "1767268800.000100",
      thread_ts: "",
      team,
      event_time: "2026-01-01T12:00:00.000Z",
    });
  }
  for (const hook of [otherChannel, disabled, otherTeam]) assert.equal((await hookLogs(hook)).length, 0);

  // Slack's retry of the same event (X-Slack-Retry-Num) is stored nowhere again.
  const retried = await send(event, { headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" } });
  assert.equal(retried.status, 200);
  assert.deepEqual(await retried.json(), { status: "duplicate", hooks: 2, accepted: 0 });
  assert.equal((await hookLogs(first)).length, 1);
});

slackTest("what no hook wants still gets 200: other channels, bots' messages, edits, other events", async () => {
  const team = newTeam();
  const hook = await watch(team, "C0GENERAL1");
  const answers = [
    [message(team, "C0ELSEWHER"), "unmatched"],
    [message(newTeam(), "C0GENERAL1"), "unmatched"],
    [message(team, "C0GENERAL1", { bot_id: "B0AREABOT1" }), "ignored"],
    [message(team, "C0GENERAL1", { subtype: "message_changed" }), "ignored"],
    [{ ...message(team, "C0GENERAL1"), event: { type: "reaction_added", user: "U0AUTHOR01" } }, "ignored"],
    [{ type: "app_rate_limited", team_id: team, minute_rate_limited: 1767268800, api_app_id: "A0AREATEST" }, ""],
  ] as const;
  for (const [payload, status] of answers) {
    const response = await send(payload);
    assert.equal(response.status, 200, status);
    if (status === "") await response.body?.cancel();
    else assert.equal((await response.json()).status, status);
  }
  assert.equal((await hookLogs(hook)).length, 0);
});

slackTest("the per-hook route still serves a Slack hook, beside the app-level one", async () => {
  const team = newTeam();
  const hook = await watch(team, "C0GENERAL1");
  const event = message(team, "C0GENERAL1");
  const body = JSON.stringify(event);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const response = await fetch(`${eventsUrl}/${hook}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": `v0=${await signHmacSha256(signingSecret!, `v0:${timestamp}:${body}`)}`,
    },
    body,
  });
  assert.equal(response.status, 202);
  await response.body?.cancel();
  assert.deepEqual((await hookLogs(hook)).map((log) => log.dedupe_key), [event.event_id]);
});
