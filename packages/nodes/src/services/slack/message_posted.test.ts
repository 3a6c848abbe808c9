// slack/message_posted: which Events API payloads fire it and with what outputs, through the same
// mapping the app-level route (POST /webhooks/slack) uses; the per-hook trigger filters by channel.
// Payloads follow https://docs.slack.dev/reference/events/message.channels and the event wrapper.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { WebhookRequest } from "../../define.ts";
import { signHmacSha256 } from "../../hmac.ts";
import { messagePosted, slackChannelMessage } from "./message_posted.ts";
import { SLACK_SIGNING_SECRET_ENV } from "./webhook.ts";

const CHANNEL = "C2147483705";

function callback(event: Record<string, unknown>, wrapper: Record<string, unknown> = {}) {
  return {
    token: "XXYYZZ",
    team_id: "T123ABC456",
    api_app_id: "A123ABC456",
    event: {
      type: "message",
      channel: CHANNEL,
      user: "U2147483697",
      text: "Hello world",
      ts: "1355517523.000005",
      event_ts: "1355517523.000005",
      channel_type: "channel",
      ...event,
    },
    type: "event_callback",
    authorizations: [{ enterprise_id: null, team_id: "T123ABC456", user_id: "U0BOT", is_bot: true }],
    event_id: "Ev123ABC456",
    event_time: 1355517523,
    ...wrapper,
  };
}

test("a person's message in a public channel: outputs, dedupe key = event_id, the workspace and channel", () => {
  assert.deepEqual(slackChannelMessage(callback({})), {
    teamIds: ["T123ABC456"],
    channel: CHANNEL,
    event: {
      dedupeKey: "Ev123ABC456",
      outputs: {
        text: "Hello world",
        user: "U2147483697",
        channel: CHANNEL,
        ts: "1355517523.000005",
        thread_ts: "",
        team: "T123ABC456",
        event_time: "2012-12-14T20:38:43.000Z",
      },
    },
  });
  assert.deepEqual(
    Object.keys(slackChannelMessage(callback({}))!.event.outputs).sort(),
    Object.keys(messagePosted.outputs.shape).sort(),
    "every declared output, and only those",
  );
  assert.deepEqual(Object.keys(messagePosted.sample).sort(), Object.keys(messagePosted.outputs.shape).sort());
});

test("a file shared with a comment and a thread reply also sent to the channel fire; the latter names its thread", () => {
  assert.equal(slackChannelMessage(callback({ subtype: "file_share", text: "" }))?.event.outputs.text, "");
  const broadcast = slackChannelMessage(callback({
    subtype: "thread_broadcast",
    ts: "1355517600.000001",
    thread_ts: "1355517523.000005",
  }));
  assert.equal(broadcast?.event.outputs.thread_ts, "1355517523.000005");
  // A thread's first message carries thread_ts equal to its own ts: it is in the channel.
  assert.notEqual(slackChannelMessage(callback({ thread_ts: "1355517523.000005" })), null);
});

test("bots, apps, edits, deletions, joins, hidden thread replies and private channels do not fire", () => {
  const ignored: [string, unknown][] = [
    ["a bot's message", callback({ subtype: "bot_message", bot_id: "B123", user: undefined })],
    ["an app's post (this platform's own)", callback({ bot_id: "B0KRQLJ9H", app_id: "A123ABC456" })],
    ["an edit", callback({ subtype: "message_changed", message: { text: "edited" } })],
    ["a deletion", callback({ subtype: "message_deleted", deleted_ts: "1355517523.000005" })],
    ["a join", callback({ subtype: "channel_join", text: "<@U2147483697> has joined the channel" })],
    ["a thread reply not sent to the channel", callback({ ts: "1355517600.000001", thread_ts: "1355517523.000005" })],
    ["a private channel's message", callback({ channel_type: "group" })],
    ["a direct message", callback({ channel_type: "im", channel: "D024BE91L" })],
    ["another event type", callback({ type: "reaction_added" })],
    ["no event_id", callback({}, { event_id: undefined })],
    ["not an event_callback", { ...callback({}), type: "url_verification" }],
    ["no author", callback({ user: undefined })],
    ["a malformed ts", callback({ ts: "now" })],
    ["not JSON", "token=x&team_id=T1"],
    ["null", null],
  ];
  for (const [name, payload] of ignored) assert.equal(slackChannelMessage(payload), null, name);
});

test("the workspaces are the wrapper's team_id and the authorizations' (a channel shared across organisations)", () => {
  const shared = slackChannelMessage(callback({}, {
    team_id: "T0OTHERORG",
    authorizations: [{ team_id: "T123ABC456", user_id: "U0BOT", is_bot: true }, { team_id: null }, "junk"],
  }));
  assert.deepEqual(shared?.teamIds, ["T0OTHERORG", "T123ABC456"]);
  assert.equal(shared?.event.outputs.team, "T0OTHERORG");
  assert.deepEqual(slackChannelMessage(callback({}, { authorizations: "none" }))?.teamIds, ["T123ABC456"]);
});

test("a NUL in the text is dropped: Postgres cannot store it", () => {
  assert.equal(slackChannelMessage(callback({ text: "a\u0000b" }))?.event.outputs.text, "ab");
});

test("the per-hook trigger: verified with the app's signing secret, filtered by the hook's channel", async () => {
  const webhook = messagePosted.trigger.webhook!;
  assert.equal(webhook.requiresRegistration, false);
  const payload = callback({});
  const raw = JSON.stringify(payload);
  const timestamp = "1355517530";
  const request: WebhookRequest = {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": `v0=${await signHmacSha256("signing-secret", `v0:${timestamp}:${raw}`)}`,
    },
    query: {},
    rawBody: new TextEncoder().encode(raw),
    body: payload,
    receivedAt: new Date(Number(timestamp) * 1000),
  };
  assert.equal(await webhook.verify(request, "hook secret", { [SLACK_SIGNING_SECRET_ENV]: "signing-secret" }), true);
  assert.equal(await webhook.verify(request, "signing-secret", {}), false);
  assert.equal(webhook.handshake!(request), null);
  assert.deepEqual(webhook.events(request, { channel: CHANNEL }).map((event) => event.dedupeKey), ["Ev123ABC456"]);
  assert.deepEqual(webhook.events(request, { channel: "C0OTHER000" }), []);
});

test("params: a public channel's id, named in the error otherwise", () => {
  assert.equal(messagePosted.params.safeParse({ channel: CHANNEL }).success, true);
  for (const channel of ["#general", "general", "D024BE91L", "c2147483705", ""]) {
    const parsed = messagePosted.params.safeParse({ channel });
    assert.equal(parsed.success, false, channel);
    assert.match(parsed.error!.issues[0].message, /must be a public channel's id/, channel);
    assert.deepEqual(parsed.error!.issues[0].path, ["channel"]);
  }
});
