// What every sandbox provider shares: the credentials it accepts, the scenarios, and the
// delivery of callbacks to our webhooks (tracked, so tests can wait until all arrived).
import process from "node:process";
import type { Context } from "hono";
import { signWebhook } from "../../functions/_shared/providers/hmac.ts";
import { SANDBOX_DEFAULTS } from "../../functions/_shared/sandbox-defaults.ts";
import { createScenarios } from "./scenarios.ts";

export type Credentials = { -readonly [K in keyof typeof SANDBOX_DEFAULTS]: string };

export interface SandboxOptions {
  port?: number;
  hostname?: string;
  /** Delay before a callback is delivered (real providers take seconds). */
  callbackDelayMs?: number;
  /** Where our functions live, for C2B simulations without registered URLs. */
  functionsUrl?: string;
  credentials?: Partial<Credentials>;
  log?: (line: string) => void;
}

export interface Delivery {
  url: string;
  body: unknown;
  status: number | null;
  error?: string;
}

export type SandboxContext = ReturnType<typeof createContext>;

export const randomId = (prefix: string, length = 10) =>
  prefix + crypto.randomUUID().replace(/-/g, "").slice(0, length).toUpperCase();

export function receiptNumber(): string {
  // M-Pesa receipts look like "SKL7RT61SV": 10 upper-case alphanumerics.
  return crypto.randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase();
}

export function darajaNow(): string {
  return new Date(Date.now() + 3 * 3600 * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

export function darajaError(
  c: Context,
  status: 400 | 401 | 404 | 500 | 503,
  errorCode: string,
  errorMessage: string,
) {
  return c.json({ requestId: randomId("sandbox-", 8), errorCode, errorMessage }, status);
}

function envCredentials(): Partial<Credentials> {
  const picked: Partial<Credentials> = {};
  for (const key of Object.keys(SANDBOX_DEFAULTS) as (keyof Credentials)[]) {
    const value = process.env[key];
    if (value) picked[key] = value;
  }
  return picked;
}

export function createContext(options: SandboxOptions) {
  const creds: Credentials = { ...SANDBOX_DEFAULTS, ...envCredentials(), ...options.credentials };
  const delayMs = options.callbackDelayMs ?? 25;
  const log = options.log ?? (() => {});
  const inFlight = new Set<Promise<void>>();
  const deliveries: Delivery[] = [];

  async function deliver(
    url: string,
    body: unknown,
    headers: Record<string, string> = {},
    raw?: string,
  ): Promise<void> {
    const delivery: Delivery = { url, body, status: null };
    deliveries.push(delivery);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "hazina-provider-sandbox",
          ...headers,
        },
        body: raw ?? JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      delivery.status = res.status;
      await res.body?.cancel();
    } catch (err) {
      delivery.error = (err as Error).message;
    }
    log(
      `callback ${url.replace(/\/[A-Za-z0-9_-]{24,}$/, "/***")} → ${
        delivery.status ?? delivery.error
      }`,
    );
  }

  /** Deliver later (or now, awaited, for early callbacks); tracked so idle() can wait. */
  function schedule(send: () => Promise<void>, early = false): Promise<void> {
    const task = (async () => {
      if (!early) await new Promise((resolve) => setTimeout(resolve, delayMs));
      await send();
    })();
    inFlight.add(task);
    task.finally(() => inFlight.delete(task));
    return task;
  }

  async function signedDeliver(bank: "kcb" | "dtb", url: string, event: Record<string, unknown>) {
    const raw = JSON.stringify(event);
    const secret = bank === "kcb" ? creds.KCB_WEBHOOK_SECRET : creds.DTB_WEBHOOK_SECRET;
    await deliver(url, event, await signWebhook(secret, raw), raw);
  }

  return {
    creds,
    delayMs,
    log,
    functionsUrl: options.functionsUrl,
    scenarios: createScenarios(),
    /** API access tokens the sandbox issued (M-Pesa OAuth, KCB OAuth). */
    tokens: new Set<string>(),
    deliveries,
    deliver,
    schedule,
    signedDeliver,
    idle: async () => {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}
