// npm run token: creates the local user once and prints a token the stack accepts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { jwtVerify } from "jose";
import pg from "pg";
import { root } from "../scripts/lib/database.ts";
import { nodeFlags, run } from "../scripts/lib/processes.ts";

const token = (email: string) =>
  run(process.execPath, [...nodeFlags, join(root, "scripts/token.ts"), email], {
    allowFailure: true,
  });

test("prints, as its last line, an HS256 access token for a user it creates once", async () => {
  const email = `token-${process.pid}@example.com`;
  const first = await token(email.toUpperCase());
  assert.equal(first.code, 0, first.stderr);
  const jwt = first.stdout.trim().split("\n").at(-1)!;
  const { payload, protectedHeader } = await jwtVerify(jwt, new TextEncoder().encode(process.env.SUPABASE_JWT_SECRET), {
    audience: "authenticated",
  });
  assert.equal(protectedHeader.alg, "HS256");
  assert.equal(payload.role, "authenticated");
  assert.equal(payload.email, email);
  assert.ok(payload.exp! - payload.iat! === 3600, "expires in one hour");

  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query("select id from auth.users where lower(email) = $1", [email]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].id, payload.sub);
  } finally {
    await client.end();
  }

  const second = await token(email);
  const again = await jwtVerify(
    second.stdout.trim().split("\n").at(-1)!,
    new TextEncoder().encode(process.env.SUPABASE_JWT_SECRET),
  );
  assert.equal(again.payload.sub, payload.sub, "the same user, not a new one");
});

test("rejects a missing or malformed email with usage and exit code 2", async () => {
  for (const bad of ["", "not-an-email"]) {
    const result = await token(bad);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /usage: npm run token -- <email>/);
  }
});
