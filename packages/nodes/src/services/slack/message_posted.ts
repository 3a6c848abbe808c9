// slack/message_posted: a message in a public channel, delivered by Slack's Events API (`message.channels`).
// A Slack app has ONE Request URL for every workspace that installed it, so events do not arrive per hook:
// the webhooks function's app-level route (POST /webhooks/slack, supabase/functions/webhooks/slack.ts)
// verifies them with the app's signing secret, reads them with slackChannelMessage() and fans each out to
// the hooks of this action whose connection is to the event's workspace and whose `channel` matches.
// https://docs.slack.dev/reference/events/message.channels
// https://docs.slack.dev/reference/events/message (subtypes)
// https://docs.slack.dev/apis/events-api/ (the event wrapper: team_id, event_id, authorizations)
import { z } from "zod";
import { withOptions } from "../../options.ts";
import { listChannels } from "./channels.ts";
import type { ActionDefinition, TriggerEvent } from "../../define.ts";
import { jsonObject } from "../../json.ts";
import { deliveryId } from "../../webhook_auth.ts";
import { slackWebhook } from "./webhook.ts";

/** Message subtypes that are someone writing in the channel: a file with its comment, a thread reply also sent there. */
const WRITTEN_SUBTYPES = new Set(["file_share", "thread_broadcast"]);
const SLACK_ID = /^[A-Z0-9]{2,}$/;
const MESSAGE_TS = /^\d+\.\d+$/;

const params = z.object({
  channel: z.string().trim().regex(/^C[A-Z0-9]{2,}$/, "must be a public channel's id (C0123ABCDEF)").meta({
    description: "The public channel to watch, by id (channel details → About, at the bottom); the app must be in it",
    placeholder: "C0123ABCDEF",
  }).apply((field) => withOptions(field, listChannels)),
});

const outputs = z.object({
  text: z.string().meta({ description: "The message's text (Slack mrkdwn: <@U…> mentions, <url|label> links)" }),
  user: z.string().meta({ description: "The author's user id (U…)" }),
  channel: z.string().meta({ description: "The channel's id" }),
  ts: z.string().meta({ description: "The message's id in its channel; reply in its thread with thread_ts = {{ts}}" }),
  thread_ts: z.string().meta({
    description: "For a thread reply also sent to the channel, its thread's ts; empty for any other message",
  }),
  team: z.string().meta({ description: "The workspace's id (T…)" }),
  event_time: z.iso.datetime().meta({ description: "When Slack saw the message (UTC)" }),
});

/** A message event that fires this action, and where it belongs. */
export interface SlackChannelMessage {
  /**
   * The workspaces whose installation the event is delivered for: the wrapper's `team_id` and those of
   * its `authorizations` (they differ for a channel shared with another organisation).
   */
  teamIds: string[];
  channel: string;
  event: TriggerEvent;
}

const text = (value: unknown) => typeof value === "string" ? value : "";

/**
 * The Events API payload as a message of this action, or null when it is none. The rule: an
 * `event_callback` with an `event_id` whose event is a `message` in a public channel (`channel_type`
 * "channel"), written by a person (a `user`, no `bot_id`: an app's posts, this platform's included,
 * never fire, so an AREA posting where it listens cannot loop), plain or of a WRITTEN_SUBTYPES subtype
 * (edits, deletions, joins, topic changes… are not new messages), and seen in the channel (a thread
 * reply not also sent to the channel is not). Private channels are left out on purpose: every member
 * of a workspace who connects it could otherwise read a private channel the app is in.
 */
export function slackChannelMessage(payload: unknown): SlackChannelMessage | null {
  const wrapper = jsonObject(payload);
  const event = jsonObject(wrapper?.event);
  const eventId = deliveryId(wrapper?.event_id);
  if (!wrapper || !event || !eventId || wrapper.type !== "event_callback" || event.type !== "message") return null;
  const { subtype, user, channel, ts, thread_ts: threadTs } = event;
  if (subtype !== undefined && !(typeof subtype === "string" && WRITTEN_SUBTYPES.has(subtype))) return null;
  if (event.bot_id !== undefined || event.channel_type !== "channel") return null;
  if (typeof user !== "string" || typeof channel !== "string" || typeof ts !== "string" || !MESSAGE_TS.test(ts)) {
    return null;
  }
  const inThread = typeof threadTs === "string" && threadTs !== ts;
  if (inThread && subtype !== "thread_broadcast") return null;

  const authorized = Array.isArray(wrapper.authorizations)
    ? wrapper.authorizations.map((authorization) => jsonObject(authorization)?.team_id)
    : [];
  const teamIds = [...new Set([wrapper.team_id, ...authorized])]
    .filter((id): id is string => typeof id === "string" && SLACK_ID.test(id));
  const seconds = typeof wrapper.event_time === "number" ? wrapper.event_time : Number(ts);
  return {
    teamIds,
    channel,
    event: {
      dedupeKey: eventId,
      outputs: {
        // Postgres cannot store NUL in jsonb, and no one types it.
        text: text(event.text).replaceAll("\0", ""),
        user,
        channel,
        ts,
        thread_ts: inThread ? threadTs : "",
        team: teamIds[0] ?? "",
        event_time: new Date(Math.floor(seconds * 1000)).toISOString(),
      },
    },
  };
}

export const messagePosted: ActionDefinition = {
  key: "message_posted",
  name: "Message posted in a channel",
  description: "A person posts a message in a public channel the app was added to (messages from apps and bots, " +
    "edits and thread replies not sent to the channel do not count).",
  params,
  outputs,
  sample: {
    text: "Deploy finished :rocket:",
    user: "U0123ABCDEF",
    channel: "C0123ABCDEF",
    ts: "1767268800.000100",
    thread_ts: "",
    team: "T0123ABCDEF",
    event_time: "2026-01-01T12:00:00.000Z",
  },
  trigger: {
    webhook: {
      // The app's one Request URL is set once by the operator, not per hook.
      requiresRegistration: false,
      ...slackWebhook,
      // The per-hook route (POST /webhooks/slack/<hook id>) keeps working for a request signed by the app;
      // the workspace is checked by the app-level route, which is the one Slack calls.
      events(request, raw) {
        const message = slackChannelMessage(request.body);
        return message && message.channel === raw.channel ? [message.event] : [];
      },
    },
  },
};
