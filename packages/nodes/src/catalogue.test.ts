// Catalogue rows derived from zod declarations: each param type, required/default, options.
import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { catalogueDocument, credentialsSchema, fieldRows, jsonSchema, redactSecrets } from "./catalogue.ts";
import { secret } from "./define.ts";
import { services } from "./registry.ts";

test("zod fields map to catalogue param rows with their type, rules and order", () => {
  const rows = fieldRows(z.object({
    name: z.string().regex(/^[a-z]+$/).meta({ description: "A name", placeholder: "ada" }),
    site: z.url(),
    mail: z.email().optional(),
    when: z.iso.datetime(),
    count: z.number().int().min(1),
    on: z.boolean().default(false),
    level: z.enum(["low", "high"]).default("low"),
    extra: z.record(z.string(), z.string()),
    token: secret("API token"),
    anything: z.unknown(),
  }));
  const byName = Object.fromEntries(rows.map((row) => [row.name, row]));
  assert.deepEqual(rows.map((row) => [row.name, row.type]), [
    ["name", "string"],
    ["site", "url"],
    ["mail", "email"],
    ["when", "date"],
    ["count", "number"],
    ["on", "boolean"],
    ["level", "enum"],
    ["extra", "json"],
    ["token", "secret"],
    ["anything", "json"],
  ]);
  assert.deepEqual(
    rows.filter((row) => row.required).map((row) => row.name),
    ["name", "site", "when", "count", "extra", "token"],
    "optional, defaulted and unconstrained fields are not required",
  );
  assert.equal(byName.name.validation_regex, "^[a-z]+$");
  assert.equal(byName.name.placeholder, "ada");
  assert.equal(byName.name.description, "A name");
  assert.equal(byName.mail.validation_regex, null, "zod's own email pattern is not copied: the type checks it");
  assert.deepEqual(byName.level.options, ["low", "high"]);
  assert.equal(byName.level.default_value, "low");
  assert.equal(byName.on.default_value, false);
  assert.deepEqual(rows.map((row) => row.display_order), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test("the shipped catalogue has the generic webhook, http and timer nodes with their outputs", () => {
  const document = catalogueDocument(services);
  const webhook = document.services.find((service) => service.key === "webhook")!;
  assert.deepEqual(webhook.actions[0].outputs.map((output) => [output.name, output.type]), [
    ["body", "json"],
    ["headers", "json"],
    ["query", "json"],
    ["received_at", "date"],
  ]);
  assert.equal(webhook.actions[0].webhook_supported, true);
  const http = document.services.find((service) => service.key === "http")!;
  assert.deepEqual(http.reactions[0].params.map((param) => param.name), ["url", "method", "headers", "body"]);
  const timer = document.services.find((service) => service.key === "timer")!;
  assert.deepEqual(timer.actions.map((action) => action.key), ["every_interval", "cron", "at_datetime", "rrule"]);
  assert.equal(timer.actions[0].polling_interval_param, "seconds");
  assert.equal(timer.actions[0].min_polling_interval_seconds, 5);
  const cron = timer.actions[1];
  assert.equal(cron.min_polling_interval_seconds, 60);
  assert.equal(cron.polling_interval_param, null);
  assert.deepEqual(cron.params.map((param) => [param.name, param.type, param.required, param.default_value]), [
    ["expression", "string", true, null],
    ["timezone", "string", false, "UTC"],
  ]);
  assert.deepEqual(cron.outputs.map((output) => [output.name, output.type]), [["fired_at", "date"], [
    "count",
    "number",
  ]]);
  assert.equal(document.services.some((service) => service.key === "bench"), false, "bench nodes are not shipped");
});

test("redactSecrets hides exactly the params typed secret", () => {
  const fields = z.object({ url: z.url(), token: secret("API token"), note: z.string().optional() });
  assert.deepEqual(redactSecrets(fields, { url: "https://example.org", token: "s3cr3t", note: "hi" }), {
    url: "https://example.org",
    token: "[redacted]",
    note: "hi",
  });
  const plain = { url: "https://example.org" };
  assert.equal(redactSecrets(z.object({ url: z.url() }), plain), plain);
});

test("every api_key service declares its credentials, with at least one secret, and how to check them", () => {
  const apiKeyServices = services.filter((service) => service.auth === "api_key");
  assert.ok(apiKeyServices.some((service) => service.key === "discord"));
  for (const service of apiKeyServices) {
    assert.ok(service.apiKey, `${service.key} is api_key but declares no apiKey: nobody could connect it`);
    const rows = fieldRows(service.apiKey.credentials);
    assert.ok(rows.some((row) => row.type === "secret"), `${service.key}: type its keys with secret()`);
  }
  for (const service of services.filter((service) => service.auth !== "api_key")) {
    assert.equal(credentialsSchema(service), null, `${service.key} connects otherwise`);
  }
});

test("credentialsSchema: the declared credentials' JSON Schema, secret fields write-only", () => {
  const fields = z.object({ host: z.string().meta({ description: "Server" }), key: secret("API key") });
  const schema = credentialsSchema({ ...services[0], auth: "api_key", apiKey: { credentials: fields, identity } })!;
  assert.deepEqual(schema.properties, {
    host: { type: "string", description: "Server" },
    key: { type: "string", minLength: 1, description: "API key", "x-area-type": "secret", writeOnly: true },
  });
  assert.deepEqual(schema.required, ["host", "key"]);
  assert.equal(jsonSchema(fields).properties!.key.writeOnly, undefined, "the shared params schema is not changed");
});

const identity = () => Promise.resolve({ id: "1", login: "someone" });
