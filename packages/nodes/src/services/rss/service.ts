import type { ServiceDefinition } from "../../define.ts";
import { newItem } from "./new_item.ts";

export const rss: ServiceDefinition = {
  key: "rss",
  name: "RSS and Atom feeds",
  description: "Follow any RSS or Atom feed.",
  icon: "rss",
  auth: "none",
  actions: [newItem],
  reactions: [],
};
