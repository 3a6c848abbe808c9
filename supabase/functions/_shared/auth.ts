// Who is calling: a Supabase Auth access token, verified with jose. Supabase signs with either
// the project's asymmetric signing keys (JWKS) or the legacy HS256 secret; both are accepted,
// chosen by the token's `alg`, so a project can rotate from one to the other without downtime.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from "jose";
import type { MiddlewareHandler } from "hono";
import { isUuid } from "./ids.ts";
import { ApiError } from "./errors.ts";

/** The verified claims of a signed-in user, as PostgREST would hand them to Postgres. */
export interface Caller {
  id: string;
  claims: JWTPayload & { sub: string; role: "authenticated"; email?: string };
}

export type AuthEnv = { Variables: { caller: Caller } };

const ASYMMETRIC = ["ES256", "RS256", "EdDSA"];

type Keys = {
  secret: Uint8Array | null;
  jwks: ReturnType<typeof createLocalJWKSet> | null;
};

/**
 * The keys from the environment: SUPABASE_JWKS (a JWKS document) or, failing that, the project's
 * published set at $SUPABASE_URL/auth/v1/.well-known/jwks.json (fetched lazily, cached by jose);
 * and SUPABASE_JWT_SECRET for HS256 tokens.
 */
export function keysFromEnv(env: Readonly<Record<string, string | undefined>>): Keys {
  const secret = env.SUPABASE_JWT_SECRET ? new TextEncoder().encode(env.SUPABASE_JWT_SECRET) : null;
  let jwks: Keys["jwks"] = null;
  if (env.SUPABASE_JWKS) {
    jwks = createLocalJWKSet(JSON.parse(env.SUPABASE_JWKS) as JSONWebKeySet);
  } else if (env.SUPABASE_URL) {
    jwks = createRemoteJWKSet(new URL("/auth/v1/.well-known/jwks.json", env.SUPABASE_URL), {
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: 30_000,
    }) as unknown as Keys["jwks"];
  }
  return { secret, jwks };
}

const unauthorized = (code: string, message: string) => new ApiError(401, code, message);

/** The caller behind `token`, or an ApiError 401 saying what is wrong with it. */
export async function verifyAccessToken(token: string, keys: Keys): Promise<Caller> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw unauthorized("invalid_token", "The bearer token is not a JWT");
  }
  const options = { audience: "authenticated", clockTolerance: 5 };
  let payload: JWTPayload;
  try {
    if (alg === "HS256" && keys.secret) {
      ({ payload } = await jwtVerify(token, keys.secret, { ...options, algorithms: ["HS256"] }));
    } else if (alg && ASYMMETRIC.includes(alg) && keys.jwks) {
      ({ payload } = await jwtVerify(token, keys.jwks, { ...options, algorithms: ASYMMETRIC }));
    } else {
      // alg "none" and anything this project does not sign with end here.
      throw unauthorized("invalid_token", `Tokens signed with ${alg ?? "no algorithm"} are not accepted`);
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof errors.JWTExpired) throw unauthorized("token_expired", "The access token has expired");
    if (error instanceof errors.JWTClaimValidationFailed && error.claim === "aud") {
      throw unauthorized("invalid_token", "The token is not a user's access token (audience)");
    }
    throw unauthorized("invalid_token", "The access token is not valid");
  }
  if (payload.role !== "authenticated" || !isUuid(payload.sub)) {
    throw unauthorized("invalid_token", "Sign in first: this route needs a user's access token, not an API key");
  }
  return { id: payload.sub, claims: payload as Caller["claims"] };
}

/** Middleware for user routes: a valid user access token in `Authorization: Bearer …`, else 401. */
export function requireUser(keys: Keys): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match) {
      throw unauthorized("missing_token", "Send the user's access token as Authorization: Bearer <token>");
    }
    c.set("caller", await verifyAccessToken(match[1], keys));
    await next();
  };
}
