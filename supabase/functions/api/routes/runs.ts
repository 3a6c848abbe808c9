// Runs: a test run of an AREA, its execution history, one execution, and the replay of one. Test
// runs and replays go through the real queue and worker; the answer is the execution's id, and its
// result appears in the history when the worker is done.
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AuthEnv } from "../../_shared/auth.ts";
import { asCaller, type Fragment, type Transaction } from "../../_shared/db.ts";
import { ApiError } from "../../_shared/errors.ts";
import { catalogue } from "../catalogue.ts";
import { areaNotFound } from "./areas.ts";
import { decodeCursor, pageOf } from "../pagination.ts";
import { errors, Execution, IdParam, page, PageQuery, RunAccepted } from "../schemas.ts";

const tags = ["Runs"];
const security = [{ bearerAuth: [] }];

const TestRequest = z.strictObject({
  payload: z.record(z.string(), z.unknown()).optional().openapi({
    description: "The action's outputs to run on; default: the action's sample from the catalogue.",
  }),
}).openapi("TestRequest");

const ReplayRequest = z.strictObject({
  force: z.boolean().default(false).openapi({
    description: "Run the reactions that succeeded before too (as a new execution with new idempotency keys).",
  }),
}).openapi("ReplayRequest");

const accepted = {
  202: {
    description: "Queued; GET /api/executions/{id} shows the result",
    content: { "application/json": { schema: RunAccepted } },
  },
};

/** An optional JSON body: absent or empty means `{}`. */
const optionalBody = <T extends z.ZodType>(schema: T) => ({
  required: false,
  content: { "application/json": { schema } },
});

/**
 * Executions (events with their execution rows) matching `filter`, newest first. `filter` is a
 * SQL fragment on hook_logs `l`; RLS already limits the rows to the caller's.
 */
function selectExecutions(tx: Transaction, filter: Fragment, limit: number) {
  return tx`
    select l.id, l.area_id, l.origin, l.received_at::text as at, l.received_at, l.event_payload as event,
           case when x.status is not null then x.status::text
                when exists (select from public.execution_logs e where e.hook_log_id = l.id) then 'running'
                else 'pending' end as status,
           l.processed as settled, l.processed_at as finished_at, x.attempt, x.error_text,
           coalesce((
             select jsonb_agg(jsonb_build_object(
               'area_reaction_id', e.area_reaction_id, 'position', ar.position, 'service', s.key, 'name', sr.key,
               'status', e.status, 'attempt', e.attempt, 'idempotency_key', e.idempotency_key,
               'request', e.request_payload, 'response', e.response_payload, 'error_text', e.error_text,
               'started_at', e.started_at, 'finished_at', e.finished_at, 'duration_ms', e.duration_ms)
               order by ar.position)
             from public.execution_logs e
             join public.area_reactions ar on ar.id = e.area_reaction_id
             join public.service_reactions sr on sr.id = ar.service_reaction_id
             join public.services s on s.id = sr.service_id
             where e.hook_log_id = l.id), '[]') as reactions
    from public.hook_logs l
    left join public.execution_logs x on x.hook_log_id = l.id and x.area_reaction_id is null
    where ${filter}
    order by l.received_at desc, l.id desc
    limit ${limit}`;
}

type ExecutionRow = Awaited<ReturnType<typeof selectExecutions>>[number];

function present(row: ExecutionRow): z.infer<typeof Execution> {
  const { at: _at, ...execution } = row;
  return {
    ...execution,
    received_at: new Date(row.received_at).toISOString(),
    finished_at: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  } as z.infer<typeof Execution>;
}

export function runRoutes(app: OpenAPIHono<AuthEnv>) {
  app.openapi(
    createRoute({
      method: "post",
      path: "/areas/{id}/test",
      tags,
      security,
      summary: "Run an AREA once now",
      description: "On the action's sample, or the payload given; enabled or not. The AREA must be complete.",
      request: { params: IdParam, body: optionalBody(TestRequest) },
      responses: { ...accepted, ...errors(400, 401, 404, 413, 415, 422, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { payload } = c.req.valid("json") ?? {};
      const executionId = await asCaller(c.var.caller.claims, async (tx) => {
        // test_area() checks the AREA is the caller's; the action is looked up only for its sample.
        let run = payload;
        if (run === undefined) {
          const [{ definition }] = await tx`select public.area_definition(${id}::uuid) as definition`;
          if (!definition) throw areaNotFound(id);
          run = (await catalogue()).find((s) => s.key === definition.action?.service)?.actions
            .find((action) => action.key === definition.action?.name)?.sample ?? {};
        }
        const [row] = await tx`select public.test_area(${id}::uuid, ${JSON.stringify(run)}::text::jsonb) as id`;
        return row.id as string;
      });
      return c.json({ execution_id: executionId, status: "queued" as const }, 202, {
        location: `/api/executions/${executionId}`,
      });
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/areas/{id}/executions",
      tags,
      security,
      summary: "An AREA's executions, newest first, with their reaction rows",
      request: { params: IdParam, query: PageQuery },
      responses: {
        200: {
          description: "A page of executions",
          content: { "application/json": { schema: page(Execution, "ExecutionPage") } },
        },
        ...errors(400, 401, 404, 422, 503),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      const after = decodeCursor(cursor);
      const rows = await asCaller(c.var.caller.claims, async (tx) => {
        const [area] =
          await tx`select 1 from public.areas a where a.id = ${id}::uuid and a.user_id = ${c.var.caller.id}`;
        if (!area) throw areaNotFound(id);
        const filter = after
          ? tx`l.area_id = ${id}::uuid and (l.received_at, l.id) < (${after.at}::timestamptz, ${after.id}::uuid)`
          : tx`l.area_id = ${id}::uuid`;
        return await selectExecutions(tx, filter, limit + 1);
      });
      return c.json(pageOf(rows, limit, present), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/executions/{id}",
      tags,
      security,
      summary: "One execution with its reaction rows",
      request: { params: IdParam },
      responses: {
        200: { description: "The execution", content: { "application/json": { schema: Execution } } },
        ...errors(401, 404, 503),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const [row] = await asCaller(c.var.caller.claims, (tx) =>
        selectExecutions(
          tx,
          tx`l.id = ${id}::uuid and l.area_id in (select a.id from public.areas a where a.user_id = ${c.var.caller.id})`,
          1,
        ));
      if (!row) throw new ApiError(404, "not_found", `execution ${id} not found`);
      return c.json(present(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/executions/{id}/replay",
      tags,
      security,
      summary: "Run a finished execution again",
      description:
        "Without force, the same execution runs again and reactions that succeeded are skipped (same idempotency keys). With force, a new execution runs every reaction.",
      request: { params: IdParam, body: optionalBody(ReplayRequest) },
      responses: { ...accepted, ...errors(400, 401, 404, 409, 413, 415, 422, 503) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      // No body at all skips validation (and its defaults): `force` is then absent.
      const force = c.req.valid("json")?.force ?? false;
      const executionId = await asCaller(c.var.caller.claims, async (tx) => {
        const [row] = await tx`select public.replay_execution(${id}::uuid, ${force}) as id`;
        return row.id as string;
      });
      return c.json({ execution_id: executionId, status: "queued" as const }, 202, {
        location: `/api/executions/${executionId}`,
      });
    },
  );
}
