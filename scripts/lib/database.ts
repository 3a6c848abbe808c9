// Schema management on the local cluster: the Supabase-compatibility bootstrap, migrations
// and seed through the Supabase CLI, and a reset that recreates the database.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { run } from "./processes.ts";
import { redact } from "./postgres.ts";

export const root = join(import.meta.dirname, "..", "..");

/** Applies scripts/sql/supabase-compat.sql (plain PostgreSQL only; Supabase has all of it). */
export async function applySupabaseCompat(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(readFileSync(join(root, "scripts/sql/supabase-compat.sql"), "utf8"));
  } finally {
    await client.end();
  }
}

/** `supabase db push --include-seed` against a database URL: applies only migrations it has not seen. */
export async function pushMigrations(url: string): Promise<string> {
  const result = await run(
    "supabase",
    ["db", "push", `--remote=${url}`, "--include-seed", "--yes", "--workdir", root],
    {
      cwd: root,
      // The local cluster has no TLS; saying so up front spares a failed TLS attempt and its warning.
      env: {
        ...process.env,
        PGSSLMODE: "disable",
        SUPABASE_YES: "1",
        DO_NOT_TRACK: "1",
        SUPABASE_TELEMETRY_DISABLED: "1",
      },
      allowFailure: true,
    },
  );
  if (result.code !== 0) {
    throw new Error(`supabase db push to ${redact(url)} failed:\n${(result.stderr + result.stdout).trim()}`);
  }
  return (result.stdout + result.stderr).trim();
}

/**
 * Drops and recreates the database named in `url`, then bootstraps and pushes.
 * `supabase db reset` is not used: on plain PostgreSQL it drops `auth` and the extensions.
 */
export async function recreateDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1)) || "postgres";
  const maintenance = new URL(url);
  maintenance.pathname = "/template1";
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const ident = client.escapeIdentifier(name);
    // pg_cron's launcher holds a connection to its database: WITH (FORCE) ends it, and the
    // launcher reconnects to the new database by itself.
    await client.query(`drop database if exists ${ident} with (force)`);
    await client.query(`create database ${ident}`);
  } finally {
    await client.end();
  }
  await applySupabaseCompat(url);
  await pushMigrations(url);
}
