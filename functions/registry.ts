// Every edge function this repository deploys, by name: the one list scripts/serve.ts
// serves, scripts/openapi.ts documents and the tests walk. A new function is added here,
// in supabase/config.toml and as functions/<name>/ (tests/functions/layout.test.ts checks
// that the three agree). Deployed functions never import this file; each is its own bundle.
import * as auth from "./auth/app.ts";
import * as checkout from "./checkout/app.ts";
import * as funding from "./funding/app.ts";
import * as health from "./health/app.ts";
import * as installments from "./installments/app.ts";
import * as invoices from "./invoices/app.ts";
import * as ops from "./ops/app.ts";
import * as orders from "./orders/app.ts";
import * as payments from "./payments/app.ts";
import * as qrCodes from "./qr-codes/app.ts";
import * as shops from "./shops/app.ts";
import * as wallets from "./wallets/app.ts";
import * as webhooks from "./webhooks/app.ts";
import * as withdrawals from "./withdrawals/app.ts";
import type { FunctionDocs } from "./_shared/openapi.ts";

/**
 * What the gateway needs of a function: a fetch handler. Its second argument is Deno's
 * handler info (the socket peer, for clientIp), passed on as Hono's env exactly as
 * `Deno.serve(app.fetch)` does on Supabase: never as a header, so no client can forge it.
 */
export type FetchApp = {
  fetch: (req: Request, env?: Deno.ServeHandlerInfo) => Response | Promise<Response>;
};

/** A function's app (base path /<name>) and the OpenAPI docs its routes declare. */
export interface FunctionModule {
  app: FetchApp;
  docs: FunctionDocs;
}

export const functionModules = {
  auth,
  checkout,
  funding,
  health,
  installments,
  invoices,
  ops,
  orders,
  payments,
  "qr-codes": qrCodes,
  shops,
  wallets,
  webhooks,
  withdrawals,
} satisfies Record<
  string,
  FunctionModule
>;

export type FunctionName = keyof typeof functionModules;

/** Every function's name, in name order. */
export const functionNames = (Object.keys(functionModules) as FunctionName[]).sort();

export const functionApps: Record<string, FetchApp> = Object.fromEntries(
  functionNames.map((name) => [name, functionModules[name].app]),
);

const PREFIX = "/functions/v1/";

/** The gateway's own answers carry the headers every function's responses do (app.ts). */
function notFound(code: string, message: string): Response {
  return Response.json({ error: { code, message } }, {
    status: 404,
    headers: { "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store" },
  });
}

/**
 * Route a request for /functions/v1/<name>/... to that function's app, stripping the prefix
 * exactly as the Supabase gateway does (each app has base path /<name>).
 */
export function dispatch(
  req: Request,
  info?: Deno.ServeHandlerInfo,
  apps: Record<string, FetchApp> = functionApps,
): Response | Promise<Response> {
  const url = new URL(req.url);
  if (!url.pathname.startsWith(PREFIX)) {
    return notFound("route_not_found", "Functions live under /functions/v1/<name>.");
  }
  const name = url.pathname.slice(PREFIX.length).split("/")[0];
  const target = apps[name];
  if (!target) return notFound("function_not_found", `No function named '${name}'.`);
  url.pathname = url.pathname.slice(PREFIX.length - 1);
  return target.fetch(new Request(url, req), info);
}
