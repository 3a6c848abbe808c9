// Supabase's own database linter (security and performance) over the migrated schema: any
// WARN or ERROR fails, except the few listed here, each with its reason.
import assert from "node:assert/strict";
import { test } from "node:test";
import { run } from "../scripts/lib/processes.ts";
import { root } from "../scripts/lib/database.ts";

interface Lint {
  name: string;
  level: string;
  detail: string;
  metadata?: { schema?: string; name?: string };
}

const accepted: { lint: string; schema: string; object: string; why: string }[] = [
  {
    lint: "function_search_path_mutable",
    schema: "pgboss",
    object: "job_now",
    why:
      "pg-boss's clock must stay a SET-free SQL function so the planner inlines it; it is not exposed and reads only pg_catalog.now()",
  },
  {
    lint: "function_search_path_mutable",
    schema: "private",
    object: "pgboss_job_row",
    why:
      "builds one job row per scheduled poll (100k in a tick): a SET clause would stop the planner inlining it (~4x slower); it is not exposed and names nothing but its own schema-qualified type",
  },
];

test("supabase db advisors finds no WARN or ERROR", async () => {
  const { stdout } = await run("supabase", [
    "db",
    "advisors",
    `--remote=${process.env.DATABASE_URL}`,
    "--level",
    "warn",
    "--output",
    "json",
  ], { cwd: root, env: { ...process.env, PGSSLMODE: "disable", DO_NOT_TRACK: "1" } });
  const lints = JSON.parse(stdout || "[]") as Lint[];
  const remaining = lints.filter((lint) =>
    !accepted.some((ok) =>
      ok.lint === lint.name && ok.schema === lint.metadata?.schema && ok.object === lint.metadata?.name
    )
  );
  assert.deepEqual(remaining.map((lint) => `${lint.level} ${lint.name}: ${lint.detail}`), []);
});
