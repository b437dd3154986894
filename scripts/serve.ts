// Local edge runtime: serves every function under /functions/v1/<name>/*, as Supabase does.
// Run by `npm start` (Deno). Each function's app has base path /<name>, so the prefix is
// stripped before dispatch exactly like the Supabase gateway does.
import process from "node:process";
import { app as auth } from "../functions/auth/app.ts";
import { app as funding } from "../functions/funding/app.ts";
import { app as health } from "../functions/health/app.ts";
import { app as ops } from "../functions/ops/app.ts";
import { app as wallets } from "../functions/wallets/app.ts";
import { app as webhooks } from "../functions/webhooks/app.ts";
import { app as withdrawals } from "../functions/withdrawals/app.ts";
import { config } from "../functions/_shared/config.ts";
import { log } from "../functions/_shared/log.ts";

type FetchApp = { fetch: (req: Request, env?: unknown) => Response | Promise<Response> };
export const functionApps: Record<string, FetchApp> = { auth, health, ops, wallets, funding, withdrawals, webhooks };

config(); // fail fast with a readable message when the environment is wrong
const port = Number(process.env.PORT ?? 8000);
const PREFIX = "/functions/v1/";

// `info` (the client's address) is passed on as the app's env, as Deno.serve(app.fetch)
// does on Supabase: functions/_shared/client-ip.ts reads it.
function handle(req: Request, info: Deno.ServeHandlerInfo): Response | Promise<Response> {
  const url = new URL(req.url);
  if (!url.pathname.startsWith(PREFIX)) {
    return Response.json({ error: { code: "route_not_found", message: "Functions live under /functions/v1/<name>." } }, { status: 404 });
  }
  const name = url.pathname.slice(PREFIX.length).split("/")[0];
  const target = functionApps[name];
  if (!target) {
    return Response.json({ error: { code: "function_not_found", message: `No function named '${name}'.` } }, { status: 404 });
  }
  url.pathname = url.pathname.slice(PREFIX.length - 1);
  return target.fetch(new Request(url, req), info);
}

const server = Deno.serve({ port, hostname: process.env.HOST ?? "0.0.0.0", onListen: ({ port }) => {
  log("info", "edge functions listening", { url: `http://localhost:${port}/functions/v1/`, functions: Object.keys(functionApps) });
} }, handle);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    server.shutdown().finally(() => Deno.exit(0));
  });
}
