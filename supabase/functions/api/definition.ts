// The checks of an AREA definition against the live catalogue, as zod built from it: the service
// and the action or reaction exist, and the params are the declared ones with the required ones
// present. Values are then checked by create_area()/update_area() in SQL, the one authority on
// types, placeholders and connections (supabase-js callers get the same rules). An action's params
// hold no placeholders, so they also go through the node's own zod schema here: a cron expression
// or a recurrence rule that could never run is refused when the AREA is written, not at its first poll.
import { z } from "@hono/zod-openapi";
import { findAction } from "../../../packages/nodes/src/registry.ts";
import { declarations } from "../_shared/env.ts";
import { validationError } from "../_shared/errors.ts";
import type { CatalogueParam, CatalogueService } from "./catalogue.ts";

const present = z.custom<unknown>((value) => value !== undefined && value !== null, { message: "is required" });

function paramsSchema(params: CatalogueParam[]) {
  return z.strictObject(
    Object.fromEntries(params.map((param) => [param.name, param.required ? present : z.unknown().optional()])),
  );
}

function nodeSchema(kind: "action" | "reaction", services: CatalogueService[]) {
  return z.looseObject({ service: z.string(), name: z.string(), params: z.record(z.string(), z.unknown()) })
    .superRefine((value, ctx) => {
      const service = services.find((candidate) => candidate.key === value.service);
      if (!service) {
        ctx.addIssue({
          code: "custom",
          path: ["service"],
          message: `unknown service "${value.service}" (one of ${services.map((s) => s.key).join(", ")})`,
        });
        return;
      }
      const nodes = kind === "action" ? service.actions : service.reactions;
      const node = nodes.find((candidate) => candidate.key === value.name);
      if (!node) {
        const known = nodes.map((n) => n.key).join(", ") || "none";
        ctx.addIssue({
          code: "custom",
          path: ["name"],
          message: `${service.key} has no ${kind} "${value.name}" (${kind}s: ${known})`,
        });
        return;
      }
      const declared = paramsSchema(node.params).safeParse(value.params);
      const own = kind === "action" && declared.success
        ? findAction(declarations, service.key, node.key)?.params.safeParse(value.params)
        : undefined;
      for (const issue of [...(declared.error?.issues ?? []), ...(own?.error?.issues ?? [])]) {
        ctx.addIssue({ ...issue, path: ["params", ...issue.path] } as Parameters<typeof ctx.addIssue>[0]);
      }
    });
}

/** Throws a 422 naming every field of `definition`'s action and reactions the catalogue refuses. */
export function checkAgainstCatalogue(
  definition: { action?: unknown; reactions?: unknown[] },
  services: CatalogueService[],
): void {
  const schema = z.looseObject({
    action: nodeSchema("action", services).optional(),
    reactions: z.array(nodeSchema("reaction", services)).optional(),
  });
  const result = schema.safeParse(definition);
  if (!result.success) throw validationError(result.error);
}
