import type { ServiceDefinition } from "../../define.ts";
import { request } from "./request.ts";

export const http: ServiceDefinition = {
  key: "http",
  name: "HTTP",
  description: "Call any HTTP endpoint.",
  icon: "globe",
  auth: "none",
  actions: [],
  reactions: [request],
};
