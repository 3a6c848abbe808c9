// Local stand-in for Supabase's API gateway and edge runtime, on Deno (no Docker).
//
// Serves every supabase/functions/<name>/index.ts at /functions/v1/<name>/… and hands the
// function the path Supabase hands it (/<name>/…). Like Supabase local's gateway it answers
// CORS preflight, adds x-forwarded-for, and checks the JWT of functions whose config.toml
// entry keeps `verify_jwt = true` (the default). Functions stay unchanged and deployable:
// each calls Deno.serve(handler) as on Supabase, and this file captures that handler.
import { parseArgs } from "node:util";
import { jwtVerify } from "jose";
import { parse as parseToml } from "smol-toml";
import { createLogger } from "../packages/nodes/src/log.ts";

type Handler = (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

interface FunctionEntry {
  handler: Handler;
  verifyJwt: boolean;
}

const { values: args } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string", default: "54321" }, "supabase-dir": { type: "string", default: "supabase" } },
});

const log = createLogger({ component: "gateway" });

/** Imports a function module with Deno.serve swapped for a recorder, and returns the handler it registered. */
async function captureHandler(entrypoint: string): Promise<Handler> {
  const realServe = Deno.serve;
  let captured: Handler | undefined;
  // deno-lint-ignore no-explicit-any
  (Deno as any).serve = (...serveArgs: any[]) => {
    const [first, second] = serveArgs;
    captured = typeof first === "function" ? first : typeof second === "function" ? second : first.handler;
    return { finished: Promise.resolve(), shutdown: () => Promise.resolve(), ref() {}, unref() {}, addr: {} };
  };
  try {
    await import(new URL(`file://${entrypoint}`).href);
  } finally {
    // deno-lint-ignore no-explicit-any
    (Deno as any).serve = realServe;
  }
  if (!captured) throw new Error(`${entrypoint} did not call Deno.serve()`);
  return captured;
}

async function loadFunctions(supabaseDir: string): Promise<Map<string, FunctionEntry>> {
  const config = parseToml(await Deno.readTextFile(`${supabaseDir}/config.toml`)) as {
    functions?: Record<string, { verify_jwt?: boolean; enabled?: boolean }>;
  };
  const functions = new Map<string, FunctionEntry>();
  for await (const entry of Deno.readDir(`${supabaseDir}/functions`)) {
    if (!entry.isDirectory || entry.name.startsWith("_") || entry.name === "tests") continue;
    const entrypoint = `${supabaseDir}/functions/${entry.name}/index.ts`;
    try {
      await Deno.stat(entrypoint);
    } catch {
      continue;
    }
    const settings = config.functions?.[entry.name] ?? {};
    if (settings.enabled === false) continue;
    functions.set(entry.name, { handler: await captureHandler(entrypoint), verifyJwt: settings.verify_jwt ?? true });
  }
  return functions;
}

const corsHeaders = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
  "access-control-max-age": "3600",
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...corsHeaders, ...headers },
  });
}

const jwtSecret = new TextEncoder().encode(Deno.env.get("SUPABASE_JWT_SECRET") ?? "");

/** Supabase's verify_jwt: any valid project JWT (anon key included), else 401 with its message. */
async function jwtProblem(request: Request): Promise<string | undefined> {
  const match = /^Bearer (.+)$/i.exec(request.headers.get("authorization") ?? "");
  if (!match) return "Missing authorization header";
  try {
    await jwtVerify(match[1], jwtSecret, { algorithms: ["HS256"] });
    return undefined;
  } catch {
    return "Invalid JWT";
  }
}

const functions = await loadFunctions(args["supabase-dir"]!);
const prefix = "/functions/v1/";

/** A function's answer, with the CORS header Supabase's gateway adds when the function did not. */
function withCors(answer: Response): Response {
  if (answer.headers.has("access-control-allow-origin")) return answer;
  const response = new Response(answer.body, answer);
  response.headers.set("access-control-allow-origin", "*");
  return response;
}

/** Hands the request to the function, under the path Supabase gives it and with x-forwarded-for added. */
async function forward(fn: FunctionEntry, name: string, url: URL, request: Request, info: Deno.ServeHandlerInfo) {
  url.pathname = url.pathname.slice(prefix.length - 1);
  // The Request constructor copies the headers once; the copy is then amended in place (a copy
  // made first and handed to the constructor would be copied twice on every request).
  const forwarded = new Request(url, { method: request.method, headers: request.headers, body: request.body });
  const remote = (info.remoteAddr as Deno.NetAddr).hostname;
  const hops = forwarded.headers.get("x-forwarded-for");
  forwarded.headers.set("x-forwarded-for", hops ? `${hops}, ${remote}` : remote);
  try {
    return withCors(await fn.handler(forwarded, info));
  } catch (error) {
    log.error("function threw", { function: name, error: String((error as Error).stack ?? error) });
    return json(500, { code: "BOOT_ERROR", message: "Function failed to handle the request" });
  }
}

/** What the gateway answers itself (no such function, preflight, verify_jwt), or undefined to forward. */
async function gatewayAnswer(fn: FunctionEntry | undefined, request: Request): Promise<Response | undefined> {
  if (!fn) return json(404, { code: "NOT_FOUND", message: "Requested function was not found" });
  if (request.method === "OPTIONS") {
    const requested = request.headers.get("access-control-request-headers");
    return new Response(null, {
      status: 204,
      headers: { ...corsHeaders, "access-control-allow-headers": requested ?? "authorization, apikey, content-type" },
    });
  }
  if (fn.verifyJwt) {
    const problem = await jwtProblem(request);
    if (problem) return json(401, { code: 401, message: problem });
  }
  return undefined;
}

Deno.serve({
  port: Number(args.port),
  hostname: "127.0.0.1",
  onListen: ({ port }) => log.info("listening", { port, functions: [...functions.keys()] }),
}, async (request, info) => {
  const started = performance.now();
  const url = new URL(request.url);
  const name = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length).split("/")[0] : "";
  const fn = functions.get(name);
  const answer = await gatewayAnswer(fn, request);
  if (!answer) return await forward(fn!, name, url, request, info);
  // Only what the gateway answers itself is logged here: the functions log each request they
  // handle, and a second line for each is a measurable share of a busy endpoint's CPU.
  log.info("request", {
    function: name || null,
    method: request.method,
    path: url.pathname,
    status: answer.status,
    ms: Math.round(performance.now() - started),
  });
  return answer;
});
