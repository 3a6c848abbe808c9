import type { ServiceDefinition } from "../../define.ts";
import { received } from "./received.ts";

export const webhook: ServiceDefinition = {
  key: "webhook",
  name: "Webhook",
  description: "Trigger an AREA from any system that can send a signed HTTP request.",
  icon: "webhook",
  auth: "none",
  actions: [received],
  reactions: [],
};
