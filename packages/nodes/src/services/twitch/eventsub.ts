// The EventSub webhook trigger the twitch stream actions share: the verifier and handshake of webhook.ts,
// the subscription created and deleted with the app access token (Twitch requires one for webhook
// transports; the user's token only resolves the channel), and notifications mapped to outputs.
// https://dev.twitch.tv/docs/eventsub/manage-subscriptions/
// https://dev.twitch.tv/docs/api/reference/#create-eventsub-subscription
// https://dev.twitch.tv/docs/api/reference/#get-eventsub-subscriptions
// https://dev.twitch.tv/docs/api/reference/#delete-eventsub-subscription
import { z } from "zod";
import {
  type NodeContext,
  parseParams,
  type TriggerEvent,
  type WebhookRegistration,
  type WebhookRequest,
  type WebhookTrigger,
} from "../../define.ts";
import { PermanentError, RetryableError } from "../../errors.ts";
import { jsonObject } from "../../json.ts";
import { broadcasterParam, helixPage, helixRequest, readHelixJson, twitchUser } from "./api.ts";
import { twitchMessageId, twitchMessageType, twitchWebhook } from "./webhook.ts";

const SUBSCRIPTIONS = "/helix/eventsub/subscriptions";
/** Pages of subscriptions read when looking for one that already exists. */
const MAX_LIST_PAGES = 20;

/** The params of a channel's EventSub action: which channel. */
export const channelParams = z.object({
  broadcaster: broadcasterParam(
    "The channel to watch, by login name (twitch.tv/<login>); blank for the connected account's own channel",
  ),
});

/** The broadcaster outputs every stream event carries. */
export const broadcasterOutputs = {
  broadcaster_id: z.string().meta({ description: "The channel's user id" }),
  broadcaster_login: z.string().meta({ description: "The channel's login name" }),
  broadcaster_name: z.string().meta({ description: "The channel's display name" }),
};

/** A string field of an event, else "" (an output is always present). */
export const eventText = (value: unknown) => typeof value === "string" ? value : "";

/** The broadcaster outputs of a notification's `event`. */
export function broadcasterOf(event: Record<string, unknown>) {
  return {
    broadcaster_id: eventText(event.broadcaster_user_id),
    broadcaster_login: eventText(event.broadcaster_user_login),
    broadcaster_name: eventText(event.broadcaster_user_name),
  };
}

export interface ChannelSubscription {
  /** The subscription type: `stream.online`. */
  type: string;
  version: string;
  /** The action's outputs from a notification's `event` object. */
  outputs(event: Record<string, unknown>): Record<string, unknown>;
}

/** The subscription object Twitch answers with, reduced to what is read here. */
interface Subscription {
  id?: unknown;
  type?: unknown;
  version?: unknown;
  condition?: { broadcaster_user_id?: unknown };
  transport?: { method?: unknown; callback?: unknown };
}

/** A webhook trigger on one EventSub subscription type whose condition is a broadcaster (the `broadcaster` param). */
export function channelEventTrigger(subscription: ChannelSubscription): WebhookTrigger {
  return {
    ...twitchWebhook,
    requiresRegistration: true,
    events: (request) => notificationEvents(request, subscription),
    subscribe: (ctx, registration) => subscribe(ctx, registration, subscription),
    unsubscribe: (ctx, registration) => unsubscribe(ctx, registration.subscriptionId),
  };
}

/**
 * A `notification` of this subscription type is one event keyed by Twitch-Eventsub-Message-Id (the same
 * when Twitch resends it). Verifications and revocations are answered by the handshake; anything else
 * makes no event.
 */
function notificationEvents(request: WebhookRequest, subscription: ChannelSubscription): TriggerEvent[] {
  if (twitchMessageType(request) !== "notification") return [];
  const body = jsonObject(request.body);
  const event = jsonObject(body?.event);
  const id = twitchMessageId(request);
  if (!id || !event || jsonObject(body?.subscription)?.type !== subscription.type) return [];
  return [{ dedupeKey: id, outputs: subscription.outputs(event) }];
}

/**
 * Resolves the channel (with the user's token), then creates the subscription with the app's token.
 * Twitch answers 202 and then sends the callback verification, which the handshake answers. A 409 (the
 * same subscription exists: a retried job whose first answer was lost) adopts the existing one.
 */
async function subscribe(
  ctx: NodeContext,
  registration: WebhookRegistration,
  subscription: ChannelSubscription,
): Promise<{ subscriptionId: string }> {
  const { broadcaster } = parseParams(channelParams, registration.params);
  const channel = await twitchUser(ctx, broadcaster, "broadcaster");
  const wanted = {
    type: subscription.type,
    version: subscription.version,
    condition: { broadcaster_user_id: channel.id },
    transport: { method: "webhook", callback: registration.endpoint, secret: registration.secret },
  };
  try {
    const response = await helixRequest(ctx, { method: "POST", path: SUBSCRIPTIONS, body: wanted, as: "app" });
    const { data } = await readHelixJson<{ data?: Subscription[] }>(response);
    const id = data?.[0]?.id;
    // Created, but unreadable: a retry meets the 409 below and adopts it.
    if (typeof id !== "string" || id === "") throw new RetryableError("Twitch created the subscription, naming no id");
    return { subscriptionId: id };
  } catch (error) {
    if (!(error instanceof PermanentError && error.status === 409)) throw error;
    const existing = await findSubscription(ctx, subscription, channel.id, registration.endpoint);
    if (existing) return { subscriptionId: existing };
    throw error;
  }
}

/** The id of this application's subscription of that type, channel and callback, if any. */
async function findSubscription(
  ctx: NodeContext,
  subscription: ChannelSubscription,
  broadcasterId: string,
  callback: string,
): Promise<string | undefined> {
  let after: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const { data, cursor } = await helixPage<Subscription>(ctx, {
      method: "GET",
      path: SUBSCRIPTIONS,
      query: { type: subscription.type, after },
      as: "app",
    });
    const found = data.find((candidate) =>
      candidate.version === subscription.version && candidate.condition?.broadcaster_user_id === broadcasterId &&
      candidate.transport?.method === "webhook" && candidate.transport.callback === callback
    );
    if (typeof found?.id === "string") return found.id;
    if (!cursor) return undefined;
    after = cursor;
  }
  return undefined;
}

/** Deletes the subscription; a 404 means Twitch no longer has it (revoked, or deleted before): done. */
async function unsubscribe(ctx: NodeContext, subscriptionId: string): Promise<void> {
  try {
    const response = await helixRequest(ctx, {
      method: "DELETE",
      path: SUBSCRIPTIONS,
      query: { id: subscriptionId },
      as: "app",
    });
    await response.body?.cancel();
  } catch (error) {
    if (error instanceof PermanentError && error.status === 404) return;
    throw error;
  }
}
