// Every service AREA ships. The catalogue, about.json and the worker all start from here.
import type { ServiceDefinition } from "./define.ts";
import { http } from "./services/http/service.ts";
import { timer } from "./services/timer/service.ts";
import { webhook } from "./services/webhook/service.ts";

export const services: ServiceDefinition[] = [webhook, http, timer];
