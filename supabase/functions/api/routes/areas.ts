// AREAs: create, list, read, change, delete, enable, disable. Every statement runs as the caller
// (RLS and the SQL functions' own checks decide), after the definition is checked against the
// live catalogue.
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AuthEnv } from "../../_shared/auth.ts";
import { asCaller, type Transaction } from "../../_shared/db.ts";
import { publicUrl } from "../../_shared/env.ts";
import { ApiError } from "../../_shared/errors.ts";
import { catalogue } from "../catalogue.ts";
import { checkAgainstCatalogue } from "../definition.ts";
import { decodeCursor, pageOf } from "../pagination.ts";
import { Area, AreaInput, AreaPatch, errors, IdParam, page, PageQuery } from "../schemas.ts";

type AreaRow = z.infer<typeof Area>;

/** private.area_result() plus the webhook's full URL. */
function present(area: Omit<AreaRow, "webhook"> & { webhook: { endpoint: string; secret: string | null } | null }) {
  return {
    ...area,
    webhook: area.webhook && { ...area.webhook, url: new URL(area.webhook.endpoint, publicUrl).href },
  } as AreaRow;
}

async function readArea(tx: Transaction, id: string): Promise<AreaRow> {
  const [row] = await tx`select private.area_result(${id}::uuid) as area`;
  if (!row?.area) throw areaNotFound(id);
  return present(row.area);
}

export const areaNotFound = (id: string) => new ApiError(404, "not_found", `AREA ${id} not found`);
const json = (value: unknown) => JSON.stringify(value);

const tags = ["AREAs"];
const security = [{ bearerAuth: [] }];
const areaResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: Area } },
});
const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export function areaRoutes(app: OpenAPIHono<AuthEnv>) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/areas",
      tags,
      security,
      summary: "Create an AREA",
      description: "Validated against the catalogue; for a webhook action the answer holds the secret, shown once.",
      request: { body: jsonBody(AreaInput) },
      responses: { 201: areaResponse("The AREA"), ...errors(400, 401, 413, 415, 422, 503) },
    }),
    async (c) => {
      const definition = c.req.valid("json");
      checkAgainstCatalogue(definition, await catalogue());
      const area = await asCaller(c.var.caller.claims, async (tx) => {
        const [row] = await tx`select public.create_area(${json(definition)}::text::jsonb) as area`;
        return present(row.area);
      });
      return c.json(area, 201, { location: `/api/areas/${area.id}` });
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/areas",
      tags,
      security,
      summary: "List your AREAs, newest first",
      request: { query: PageQuery },
      responses: {
        200: { description: "A page of AREAs", content: { "application/json": { schema: page(Area, "AreaPage") } } },
        ...errors(400, 401, 422, 503),
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid("query");
      const after = decodeCursor(cursor);
      const rows = await asCaller(
        c.var.caller.claims,
        (tx) =>
          tx`select private.area_result(a.id) as area, a.created_at::text as at, a.id
           from public.areas a
           where a.user_id = ${c.var.caller.id}::uuid
             ${after ? tx`and (a.created_at, a.id) < (${after.at}::timestamptz, ${after.id}::uuid)` : tx``}
           order by a.created_at desc, a.id desc
           limit ${limit + 1}`,
      );
      return c.json(pageOf(rows, limit, (row) => present(row.area)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/areas/{id}",
      tags,
      security,
      summary: "Read an AREA",
      request: { params: IdParam },
      responses: { 200: areaResponse("The AREA"), ...errors(401, 404, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      return c.json(await asCaller(c.var.caller.claims, (tx) => readArea(tx, id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/areas/{id}",
      tags,
      security,
      summary: "Change an AREA",
      description: "Fields given replace the current ones; `action` and `reactions` are replaced as a whole.",
      request: { params: IdParam, body: jsonBody(AreaPatch) },
      responses: { 200: areaResponse("The changed AREA"), ...errors(400, 401, 404, 413, 415, 422, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const changes = c.req.valid("json");
      checkAgainstCatalogue(changes, await catalogue());
      const area = await asCaller(c.var.caller.claims, async (tx) => {
        const [row] = await tx`select public.update_area(${id}::uuid, ${json(changes)}::text::jsonb) as area`;
        return present(row.area);
      });
      return c.json(area, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/areas/{id}",
      tags,
      security,
      summary: "Delete an AREA with its history",
      request: { params: IdParam },
      responses: { 204: { description: "Deleted" }, ...errors(401, 404, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const deleted = await asCaller(
        c.var.caller.claims,
        (tx) =>
          tx`delete from public.areas a where a.id = ${id}::uuid and a.user_id = ${c.var.caller.id}::uuid returning a.id`,
      );
      if (deleted.length === 0) throw areaNotFound(id);
      return c.body(null, 204);
    },
  );

  for (const [verb, enabled] of [["enable", true], ["disable", false]] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/areas/{id}/${verb}`,
        tags,
        security,
        summary: enabled ? "Enable an AREA (it must be complete)" : "Disable an AREA",
        request: { params: IdParam },
        responses: { 200: areaResponse("The AREA"), ...errors(401, 404, 422, 503) },
      }),
      async (c) => {
        const { id } = c.req.valid("param");
        const area = await asCaller(c.var.caller.claims, async (tx) => {
          const [row] = await tx`select public.set_area_enabled(${id}::uuid, ${enabled}) as area`;
          return present(row.area);
        });
        return c.json(area, 200);
      },
    );
  }
}
