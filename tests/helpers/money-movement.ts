// Fixtures for the money-movement suites: the provider sandbox and our functions served
// over real HTTP (the sandbox calls our webhooks back), wired together through env.
import process from "node:process";
import { app as funding } from "../../functions/funding/app.ts";
import { app as wallets } from "../../functions/wallets/app.ts";
import { app as webhooks } from "../../functions/webhooks/app.ts";
import { app as withdrawals } from "../../functions/withdrawals/app.ts";
import { resetConfigForTests } from "../../functions/_shared/config.ts";
import { type ProviderSandbox, serveFetch, startProviderSandbox } from "../../scripts/provider-sandbox.ts";
import { admin } from "./db.ts";

export const SWEEP_SECRET = "test-sweep-secret-0123456789abcdef";
export const CALLBACK_TOKEN = "test-callback-token-0123456789abcdef";
export const KCB_WEBHOOK_SECRET = "test-kcb-webhook-secret-0123456789";
export const DTB_WEBHOOK_SECRET = "test-dtb-webhook-secret-0123456789";

const apps: Record<string, { fetch: (req: Request, env?: unknown) => Response | Promise<Response> }> = { funding, wallets, webhooks, withdrawals };

export interface MoneyStack {
  sandbox: ProviderSandbox;
  functionsUrl: string;
  close(): Promise<void>;
}

/** Start the sandbox and our functions (over HTTP), and point the adapters at each other. */
export async function startMoneyStack(): Promise<MoneyStack> {
  const server = await serveFetch((req, info) => {
    const url = new URL(req.url);
    const prefix = "/functions/v1/";
    const name = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length).split("/")[0] : "";
    const target = apps[name];
    if (!target) return Response.json({ error: { code: "function_not_found" } }, { status: 404 });
    url.pathname = url.pathname.slice(prefix.length - 1);
    return target.fetch(new Request(url, req), info); // the client's address, as Deno.serve passes it
  });
  const functionsUrl = `${server.url}/functions/v1`;
  const credentials = {
    MPESA_CALLBACK_TOKEN: CALLBACK_TOKEN,
    KCB_WEBHOOK_SECRET,
    DTB_WEBHOOK_SECRET,
  };
  const sandbox = await startProviderSandbox({ callbackDelayMs: 5, functionsUrl, credentials });
  Object.assign(process.env, {
    PUBLIC_FUNCTIONS_URL: functionsUrl,
    MPESA_BASE_URL: `${sandbox.url}/mpesa`,
    KCB_BASE_URL: `${sandbox.url}/kcb`,
    DTB_BASE_URL: `${sandbox.url}/dtb`,
    SWEEP_SECRET,
    ...credentials,
  });
  resetConfigForTests();
  return {
    sandbox,
    functionsUrl,
    close: async () => {
      await sandbox.close();
      await server.close();
    },
  };
}

/** A random Kenyan mobile number (2547XXXXXXXX) that no magic suffix picks a scenario for. */
export function randomMsisdn(): string {
  for (;;) {
    const digits = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => String(b % 10)).join("");
    const msisdn = `2547${digits}`;
    if (!["1032", "4444", "0000", "2222", "5555", "6666", "7777", "9999", "8888"].includes(msisdn.slice(-4))) return msisdn;
  }
}

export function randomAccount(): string {
  return `11${Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => String(b % 10)).join("")}`;
}

/** Decimal arithmetic in PostgreSQL (money never becomes a JS number): e.g. sql("a - b - c", a, b, c). */
export async function decimal(expression: "sum" | "difference", ...values: string[]): Promise<string> {
  const [first, ...rest] = values;
  let result = first;
  for (const value of rest) {
    const [row] = expression === "sum"
      ? await admin`select (${result}::numeric + ${value}::numeric)::numeric(19, 4)::text as v`
      : await admin`select (${result}::numeric - ${value}::numeric)::numeric(19, 4)::text as v`;
    result = row.v;
  }
  const [row] = await admin`select ${result}::numeric(19, 4)::text as v`;
  return row.v;
}

export async function feeFor(type: "funding" | "withdrawal", amount: string, userId: string | null = null): Promise<string> {
  const [row] = await admin`select fee::numeric(19, 4)::text as fee from hazina.fee_quote(${type}, ${amount}::numeric, 'KES', ${userId})`;
  return row.fee;
}

/** Poll until `check` returns a value (providers answer asynchronously). */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// deno-lint-ignore no-explicit-any -- response bodies are asserted field by field
export type Json = any;

/** Call our functions over HTTP; the body is parsed JSON when it is JSON. */
export async function callFunction(
  functionsUrl: string, token: string | undefined, method: string, path: string, body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${functionsUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}
