// The email connection: its declared settings (what the api validates and stores), and the identity
// check that logs in to both real servers before a connection is stored.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { fieldRows } from "../../catalogue.ts";
import { AuthError, RetryableError } from "../../errors.ts";
import {
  ACCOUNT,
  ALLOWED_LOOPBACK,
  connectionSettings,
  startFakeImap,
  startFakeSmtp,
} from "../../../../../tests/support/fakes/email.ts";
import { nodeContext } from "../../../../../tests/support/node_context.ts";
import { emailCredentials, emailIdentity, serverSettings } from "./api.ts";
import { email } from "./service.ts";

async function servers(t: TestContext) {
  const smtp = await startFakeSmtp(ACCOUNT);
  const imap = await startFakeImap(ACCOUNT);
  t.after(() => Promise.all([smtp.close(), imap.close()]));
  return { smtp: smtp.port, imap: imap.port };
}

const identityOf = (settings: Record<string, unknown>) =>
  emailIdentity(nodeContext(email, { credentials: settings, env: ALLOWED_LOOPBACK }));

test("the identity of a connection is its address, once both servers accepted the login", async (t) => {
  const ports = await servers(t);
  assert.equal(email.auth, "api_key");
  assert.deepEqual(await identityOf(connectionSettings(ports, { address: "Ada@Example.com" })), {
    id: "ada@example.com",
    login: "Ada@Example.com",
  });
});

test("a password either server refuses is an AuthError naming that server; a server down is retryable", async (t) => {
  const ports = await servers(t);
  await assert.rejects(
    identityOf(connectionSettings(ports, { smtp_password: "wrong" })),
    (error) => error instanceof AuthError && /SMTP server 127\.0\.0\.1 refused the login/.test(error.message),
  );
  await assert.rejects(
    identityOf(connectionSettings(ports, { imap_password: "wrong" })),
    (error) => error instanceof AuthError && /IMAP server 127\.0\.0\.1 refused the login/.test(error.message),
  );
  await assert.rejects(identityOf(connectionSettings({ ...ports, imap: 1 })), RetryableError);
});

test("the settings a user gives are checked field by field; passwords are secrets in the catalogue", () => {
  const valid = connectionSettings({ smtp: 465, imap: 993 });
  assert.equal(emailCredentials.safeParse(valid).success, true);
  const cases: [Record<string, unknown>, string][] = [
    [{ address: "ada" }, "address"],
    [{ smtp_host: "smtp.example.com/path" }, "smtp_host"],
    [{ imap_port: 0 }, "imap_port"],
    [{ smtp_security: "ssl" }, "smtp_security"],
    [{ imap_password: "" }, "imap_password"],
    [{ display_name: "Ada\r\nBcc: eve@example.org" }, "display_name"],
  ];
  for (const [change, field] of cases) {
    const parsed = emailCredentials.safeParse({ ...valid, ...change });
    assert.deepEqual(parsed.error?.issues.map((issue) => issue.path.join(".")), [field], JSON.stringify(change));
  }
  const types = Object.fromEntries(fieldRows(emailCredentials).map((row) => [row.name, row.type]));
  assert.equal(types.smtp_password, "secret");
  assert.equal(types.imap_password, "secret");
  assert.equal(types.address, "email");
});

test("ports default by security mode: 465/587/25 for SMTP, 993/143 for IMAP", () => {
  const base = connectionSettings({}, { smtp_port: undefined, imap_port: undefined });
  const port = (security: string) => {
    const parsed = emailCredentials.parse({ ...base, smtp_security: security, imap_security: security });
    return [serverSettings(parsed, "smtp").port, serverSettings(parsed, "imap").port];
  };
  assert.deepEqual([port("tls"), port("starttls"), port("none")], [[465, 993], [587, 143], [25, 143]]);
});
