// renderParams: {{placeholders}} in reaction params over an action's outputs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PermanentError } from "./errors.ts";
import { renderParams } from "./template.ts";

const outputs = {
  body: {
    text: "Hello",
    action: "opened",
    items: ["first", { id: 7 }],
    count: 3,
    draft: false,
    nothing: null,
    html: `<b>"Tom" & 'Jerry'</b>`,
    "trailing-": "hyphen last",
  },
  headers: { "content-type": "application/json", "x-request-id": "r-1" },
  query: {},
  received_at: "2026-01-01T12:00:00.000Z",
};

test("a dotted path reaches into json outputs", () => {
  assert.equal(renderParams("Said: {{body.text}}", outputs), "Said: Hello");
});

test("whitespace inside the braces is allowed", () => {
  assert.equal(renderParams("{{  body.action  }}!", outputs), "opened!");
});

test("segments may hold hyphens, even as their last character", () => {
  assert.equal(renderParams("type={{headers.content-type}}", outputs), "type=application/json");
  assert.equal(renderParams("{{headers.x-request-id}}/{{body.trailing-}}", outputs), "r-1/hyphen last");
});

test("numeric segments index arrays", () => {
  assert.equal(renderParams("{{body.items.0}} then {{body.items.1.id}}", outputs), "first then 7");
});

test("a string that is exactly one placeholder yields the raw value", () => {
  assert.deepEqual(renderParams("{{body}}", outputs), outputs.body);
  assert.deepEqual(renderParams(" {{ body.items }} ".trim(), outputs), ["first", { id: 7 }]);
  assert.equal(renderParams("{{body.count}}", outputs), 3);
  assert.equal(renderParams("{{body.draft}}", outputs), false);
  assert.equal(renderParams("{{body.nothing}}", outputs), null);
});

test("inside a longer string objects render as JSON, scalars as text, null as nothing", () => {
  assert.equal(
    renderParams("items={{body.items}} count={{body.count}} draft={{body.draft}} nothing=[{{body.nothing}}]", outputs),
    'items=["first",{"id":7}] count=3 draft=false nothing=[]',
  );
});

test("a missing path renders empty, alone or inside a string", () => {
  assert.equal(renderParams("{{body.missing.deeper}}", outputs), "");
  assert.equal(renderParams("[{{body.missing}}] [{{headers.x-none}}] [{{body.items.9}}]", outputs), "[] [] []");
});

test("nested params objects and arrays are walked; keys and non-strings are kept", () => {
  assert.deepEqual(
    renderParams({
      url: "https://example.org/{{body.action}}",
      headers: { "x-{{body.text}}": "{{headers.x-request-id}}" },
      list: ["{{body.count}}", 42, true, null, { deep: "{{body.items.0}}" }],
      payload: "{{body}}",
    }, outputs),
    {
      url: "https://example.org/opened",
      headers: { "x-{{body.text}}": "r-1" },
      list: [3, 42, true, null, { deep: "first" }],
      payload: outputs.body,
    },
  );
});

test("nothing is HTML-escaped", () => {
  assert.equal(renderParams("<p>{{body.html}}</p>", outputs), `<p><b>"Tom" & 'Jerry'</b></p>`);
});

test("strings without placeholders are returned as they are", () => {
  assert.equal(renderParams("plain {text} with braces", outputs), "plain {text} with braces");
  assert.equal(renderParams(`{"text": "json as a string"}`, outputs), `{"text": "json as a string"}`);
});

test("a placeholder's value is data: templates inside it are not rendered again", () => {
  assert.equal(renderParams("{{body.text}}!", { body: { text: "{{secret}}" }, secret: "leak" }), "{{secret}}!");
});

test("only own properties are reachable", () => {
  assert.equal(renderParams("[{{body.constructor}}] [{{body.hasOwnProperty}}]", outputs), "[] []");
});

test("a template Liquid cannot parse is a PermanentError naming the param", () => {
  assert.throws(
    () => renderParams({ message: { text: "Hi {{body.text" } }, outputs),
    (error: unknown) => error instanceof PermanentError && /^message\.text: .*not closed/.test(error.message),
  );
  assert.throws(
    () => renderParams(["ok", "{% if %}"], outputs),
    (error: unknown) => error instanceof PermanentError && error.message.startsWith("[1]: "),
  );
});

test("tags that would load other templates do not exist", () => {
  for (const tag of ["include", "render", "layout"]) {
    assert.throws(
      () => renderParams(`{% ${tag} 'secrets.txt' %}`, outputs),
      (error: unknown) => error instanceof PermanentError && error.message.includes(`tag "${tag}" not found`),
    );
  }
});

test("the same template renders again from the cache with other outputs", () => {
  const template = "{{body.text}} / {{body.count}}";
  assert.equal(renderParams(template, outputs), "Hello / 3");
  assert.equal(renderParams(template, { body: { text: "Bye", count: 4 } }), "Bye / 4");
});
