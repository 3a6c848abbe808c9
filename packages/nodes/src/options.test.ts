// withOptions(): a field's loader is found through refinements and wrappers, its JSON Schema says so,
// and every shipped service's pickers are consistent (one loader per param name, schema and loader agree).
import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { jsonSchema } from "./catalogue.ts";
import type { ServiceDefinition } from "./define.ts";
import { matchesQuery, type OptionsLoader, optionsLoader, optionsLoaders, withOptions } from "./options.ts";
import { services } from "./registry.ts";

const colours: OptionsLoader = () => Promise.resolve({ options: [{ value: "red", label: "Red" }] });
const sizes: OptionsLoader = () => Promise.resolve({ options: [] });

function service(...params: z.ZodObject[]): ServiceDefinition {
  return {
    key: "paint",
    name: "Paint",
    description: "Test service",
    auth: "api_key",
    actions: [],
    reactions: params.map((fields, index) => ({
      key: `r${index}`,
      name: `Reaction ${index}`,
      description: "Test reaction",
      params: fields,
      run: () => Promise.resolve({}),
    })),
  };
}

test("a field keeps its loader through .meta(), checks, optional, default and preprocess", () => {
  const colour = withOptions(z.string().min(1), colours);
  const paint = service(
    z.object({
      described: colour.meta({ description: "The colour" }),
      refined: colour.trim().max(20),
      optional: colour.optional(),
      defaulted: colour.default("red"),
      preprocessed: z.preprocess((value) => String(value), colour),
      plain: z.string(),
    }),
  );
  for (const name of ["described", "refined", "optional", "defaulted", "preprocessed"]) {
    assert.equal(optionsLoader(paint, name), colours, name);
  }
  assert.equal(optionsLoader(paint, "plain"), undefined);
  assert.equal(optionsLoader(paint, "missing"), undefined);
  const properties = jsonSchema(paint.reactions[0].params).properties!;
  assert.equal((properties.described as Record<string, unknown>)["x-area-options"], true);
  assert.equal(properties.described.description, "The colour");
  assert.equal((properties.plain as Record<string, unknown>)["x-area-options"], undefined);
});

test("two nodes of a service naming a param alike share its loader; two loaders for one name are refused", () => {
  const colour = withOptions(z.string(), colours);
  const shared = service(z.object({ colour }), z.object({ colour: colour.meta({ description: "Other" }) }));
  assert.equal(optionsLoader(shared, "colour"), colours);
  const clash = service(z.object({ colour }), z.object({ colour: withOptions(z.string(), sizes) }));
  assert.throws(() => optionsLoaders(clash), /paint: param "colour" has two different option loaders \(r1 differs\)/);
});

test("every shipped param marked x-area-options has a loader, and every loader's param is marked", () => {
  for (const definition of services) {
    const loaders = optionsLoaders(definition);
    for (const node of [...definition.actions, ...definition.reactions]) {
      for (const [name, property] of Object.entries(jsonSchema(node.params).properties ?? {})) {
        const marked = (property as Record<string, unknown>)["x-area-options"] === true;
        assert.equal(marked, loaders.has(name), `${definition.key}/${node.key}.${name}`);
      }
    }
  }
});

test("q matches the label or the value, case-insensitively; blank matches everything", () => {
  const option = { value: "C0123", label: "#General" };
  assert.ok(matchesQuery(option, "gen"));
  assert.ok(matchesQuery(option, "c01"));
  assert.ok(matchesQuery(option, "  "));
  assert.ok(matchesQuery(option, undefined));
  assert.ok(!matchesQuery(option, "random"));
});
