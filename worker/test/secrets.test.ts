// The running worker seals the webhook secret create_area() issued: the stored value becomes
// AES-256-GCM ciphertext under AREA_ENCRYPTION_KEY that decrypts to the secret the user got.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, test } from "node:test";
import { loadKeyring, unseal } from "@area/nodes/crypto";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
after(() => pool.end());

test("a new webhook secret is sealed by the worker within seconds", async () => {
  const client = await pool.connect();
  let created: { id: string; webhook: { secret: string }; hook: { id: string } };
  try {
    const { rows: [user] } = await client.query("insert into auth.users (email) values ($1) returning id", [
      `secrets-${process.pid}@example.com`,
    ]);
    await client.query("begin");
    await client.query("set local role authenticated");
    await client.query("select set_config('request.jwt.claims', $1, true)", [
      JSON.stringify({ sub: user.id, role: "authenticated" }),
    ]);
    const { rows } = await client.query("select public.create_area($1) as area", [{
      name: "Sealed",
      action: { service: "webhook", name: "received" },
      reactions: [{ service: "http", name: "request", params: { url: "https://example.org" } }],
    }]);
    await client.query("commit");
    created = rows[0].area;
  } finally {
    client.release();
  }
  assert.match(created.webhook.secret, /^whsec_[0-9a-f]{64}$/);

  let stored: { key_id: string | null; secret: string } | undefined;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    ({ rows: [stored] } = await pool.query(
      "select key_id, secret from private.hook_job_secrets where hook_job_id = $1",
      [
        created.hook.id,
      ],
    ));
    if (stored?.key_id) break;
    await sleep(200);
  }
  assert.ok(stored?.key_id, "the worker sealed the secret");
  assert.notEqual(stored.secret, created.webhook.secret, "the plaintext is gone from the table");
  const keyring = await loadKeyring(process.env.AREA_ENCRYPTION_KEY);
  assert.equal(await unseal(keyring, stored.key_id, stored.secret), created.webhook.secret);
});
