// Local JWTs, as Supabase local issues them: anon and service-role API keys and user
// access tokens, all HS256 with the stack's generated secret.
import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";

export function generateJwtSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** An AREA_ENCRYPTION_KEY value: a key id and 32 random bytes. */
export function generateEncryptionKey(): string {
  return `local-${Date.now().toString(36)}:${randomBytes(32).toString("base64")}`;
}

function sign(secret: string, claims: Record<string, unknown>, expiresIn: string): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** The project's anon or service_role key (long-lived, like Supabase's). */
export function apiKey(secret: string, role: "anon" | "service_role"): Promise<string> {
  return sign(secret, { iss: "supabase-demo", role }, "10y");
}

/** A user's access token, shaped like a Supabase Auth session token. */
export function accessToken(
  secret: string,
  supabaseUrl: string,
  user: { id: string; email: string; appMetadata: Record<string, unknown>; userMetadata: Record<string, unknown> },
): Promise<string> {
  return sign(secret, {
    iss: `${supabaseUrl}/auth/v1`,
    sub: user.id,
    aud: "authenticated",
    role: "authenticated",
    email: user.email,
    app_metadata: user.appMetadata,
    user_metadata: user.userMetadata,
    is_anonymous: false,
  }, "1h");
}
