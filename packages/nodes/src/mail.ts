// What the reactions that send email share (email/send_email over SMTP, google/send_email through
// Gmail): recipient lists checked address by address, and a Message-ID derived from the execution's
// idempotency key.
import { z } from "zod";
import { sha256Hex } from "./bytes.ts";

/** `ada@example.com` or `Ada Lovelace <ada@example.com>`. */
const ADDRESS_ENTRY = /^(?:[^<>]*<([^<>\s]+)>|([^<>\s]+))$/;
const email = z.email();

/** The address inside `Name <address>` or a bare address, if it is a valid one. */
export function addressOf(entry: string): string | undefined {
  const [, bracketed, bare] = ADDRESS_ENTRY.exec(entry.trim()) ?? [];
  const address = bracketed ?? bare;
  return address !== undefined && email.safeParse(address).success ? address : undefined;
}

/**
 * Comma-separated addresses, each checked (a typo fails here, naming it, rather than as a bounce
 * later); the entries as written, names kept. At least one, unless `allowBlank` (an optional field:
 * a form leaves an unused one blank, which is then an empty list).
 */
export function addressList(options: { description: string; placeholder: string; allowBlank?: boolean }) {
  const text = options.allowBlank ? z.string().trim() : z.string().trim().min(1);
  return text.max(10_000).transform((value, ctx) => {
    const entries = value.split(",").map((entry) => entry.trim()).filter(Boolean);
    if (entries.length === 0 && !options.allowBlank) {
      ctx.addIssue({ code: "custom", message: "needs at least one address" });
    }
    for (const entry of entries) {
      if (!addressOf(entry)) ctx.addIssue({ code: "custom", message: `"${entry}" is not an email address` });
    }
    return entries;
  }).meta({ description: options.description, placeholder: options.placeholder });
}

/**
 * The Message-ID (without its angle brackets) of one (event, reaction)'s email: the same for every
 * attempt, so a retry after a send whose answer was lost carries the same id as the first (mail systems
 * and clients that deduplicate by it, RFC 5322 §3.6.4, show it once; Gmail can be searched for it).
 */
export async function messageIdFor(idempotencyKey: string, domain: string): Promise<string> {
  return `${(await sha256Hex(idempotencyKey)).slice(0, 40)}@${domain}`;
}
