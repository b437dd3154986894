// Fixtures for the money-movement suites: the provider sandbox and our functions served
// over real HTTP (the sandbox calls our webhooks back), wired together through env.
import process from "node:process";
import { dispatch } from "../../functions/registry.ts";
import { resetConfigForTests } from "../../functions/_shared/config.ts";
import { type ProviderSandbox, serveFetch, startProviderSandbox } from "../../scripts/provider-sandbox.ts";
import { SUFFIXES } from "../../scripts/provider-sandbox/scenarios.ts";
import { admin } from "./db.ts";

export const SWEEP_SECRET = "test-sweep-secret-0123456789abcdef";
export const CALLBACK_TOKEN = "test-callback-token-0123456789abcdef";
export const KCB_WEBHOOK_SECRET = "test-kcb-webhook-secret-0123456789";
export const DTB_WEBHOOK_SECRET = "test-dtb-webhook-secret-0123456789";

export interface MoneyStack {
  sandbox: ProviderSandbox;
  functionsUrl: string;
  close(): Promise<void>;
}

/** Start the sandbox and our functions (over HTTP), and point the adapters at each other. */
export async function startMoneyStack(): Promise<MoneyStack> {
  // The client's address goes on as Deno.serve passes it (functions/registry.ts).
  const server = await serveFetch((req, info) => dispatch(req, info as never));
  const functionsUrl = `${server.url}/functions/v1`;
  const credentials = {
    MPESA_CALLBACK_TOKEN: CALLBACK_TOKEN,
    KCB_WEBHOOK_SECRET,
    DTB_WEBHOOK_SECRET,
  };
  // Callbacks come 50 ms after the provider accepts: long enough that, even on a loaded
  // machine, our own reply to the client is built first (suites that race them say so).
  const sandbox = await startProviderSandbox({ callbackDelayMs: 50, functionsUrl, credentials });
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
    // Never a sandbox scenario's suffix (the sandbox's own list): a random phone pays normally.
    if (!(msisdn.slice(-4) in SUFFIXES)) return msisdn;
  }
}

export function randomAccount(): string {
  for (;;) {
    const account = `11${Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => String(b % 10)).join("")}`;
    if (!(account.slice(-4) in SUFFIXES)) return account;
  }
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

