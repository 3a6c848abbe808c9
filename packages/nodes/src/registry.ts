// Every service AREA ships. The catalogue, about.json and the worker all start from here.
import type { ActionDefinition, Env, ReactionDefinition, ServiceDefinition } from "./define.ts";
import { bench } from "./services/bench/service.ts";
import { discord } from "./services/discord/service.ts";
import { discordWebhook } from "./services/discord_webhook/service.ts";
import { email } from "./services/email/service.ts";
import { github } from "./services/github/service.ts";
import { google } from "./services/google/service.ts";
import { http } from "./services/http/service.ts";
import { rss } from "./services/rss/service.ts";
import { slack } from "./services/slack/service.ts";
import { timer } from "./services/timer/service.ts";
import { twitch } from "./services/twitch/service.ts";
import { weather } from "./services/weather/service.ts";
import { webhook } from "./services/webhook/service.ts";

/** The shipped services: the seed and the docs list these. */
export const services: ServiceDefinition[] = [
  webhook,
  http,
  timer,
  github,
  discord,
  discordWebhook,
  rss,
  weather,
  email,
  google,
  twitch,
  slack,
];

/** The services a runtime serves: the shipped ones, plus the no-op bench nodes when AREA_ENABLE_BENCH_NODES=1. */
export function enabledServices(env: Env): ServiceDefinition[] {
  return env.AREA_ENABLE_BENCH_NODES === "1" ? [...services, bench] : services;
}

export function findAction(
  catalogue: readonly ServiceDefinition[],
  serviceKey: string,
  actionKey: string,
): ActionDefinition | undefined {
  return catalogue.find((service) => service.key === serviceKey)?.actions.find((action) => action.key === actionKey);
}

export function findReaction(
  catalogue: readonly ServiceDefinition[],
  serviceKey: string,
  reactionKey: string,
): ReactionDefinition | undefined {
  return catalogue.find((service) => service.key === serviceKey)?.reactions.find((node) => node.key === reactionKey);
}
