// Provider sandbox: a local stand-in for M-Pesa Daraja, KCB and DTB, on the same endpoints
// and payload shapes our adapters use (functions/_shared/providers), calling our webhooks
// back the way the real providers do. `npm start` runs it (Deno); tests start it in-process
// (Node) with startProviderSandbox(). Nothing here ever talks to a real provider.
//
// Mounted at /mpesa, /kcb and /dtb. What happens to a request depends on its scenario,
// chosen per phone number / account number: set with POST /__sandbox/scenarios
// {"match": "254712345678", "scenario": "cancelled"} (or setScenario() in-process), else by
// the identifier's last four digits (handy by hand), else "success":
//   …1032 cancelled        STK ResultCode 1032 "Request cancelled by user" / bank CANCELLED
//   …4444 fail             STK ResultCode 1 (insufficient balance) / B2C 2001 / bank failure
//   …0000 timeout          no callback at all (STK query then answers 1037; B2C calls the
//                          QueueTimeOutURL and Transaction Status says it never happened)
//   …2222 duplicate        the success callback is delivered twice
//   …5555 silent_success   paid, but the callback is lost (only a status query tells)
//   …3333 lost_response    (STK) paid and called back, but our request sees a gateway
//                          error (HTTP 504), so we never learn the checkout id
//   …6666 early_callback   the callback is delivered before the request is answered
//   …7777 reversed         (payouts) paid, then reversed by the provider
//   …9999 reject           the request is refused synchronously (HTTP 400)
//   …8888 unavailable      the provider answers HTTP 503
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import process from "node:process";
import { Hono } from "hono";
import type { Context } from "hono";
import { SANDBOX_DEFAULTS, SANDBOX_PORT } from "../functions/_shared/providers/defaults.ts";
import { signWebhook } from "../functions/_shared/providers/hmac.ts";

export type Scenario =
  | "success"
  | "cancelled"
  | "fail"
  | "timeout"
  | "duplicate"
  | "silent_success"
  | "lost_response"
  | "early_callback"
  | "reversed"
  | "reject"
  | "unavailable";

const SUFFIXES: Record<string, Scenario> = {
  "1032": "cancelled",
  "4444": "fail",
  "0000": "timeout",
  "2222": "duplicate",
  "5555": "silent_success",
  "3333": "lost_response",
  "6666": "early_callback",
  "7777": "reversed",
  "9999": "reject",
  "8888": "unavailable",
};

type Credentials = { -readonly [K in keyof typeof SANDBOX_DEFAULTS]: string };

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

export interface ProviderSandbox {
  url: string;
  setScenario(match: string, scenario: Scenario): void;
  clearScenarios(): void;
  /** Resolves once every callback sent so far has been delivered (or has failed). */
  idle(): Promise<void>;
  deliveries: Delivery[];
  close(): Promise<void>;
}

interface StkRecord {
  merchantRequestId: string;
  checkoutRequestId: string;
  amount: number;
  msisdn: string;
  callbackUrl: string;
  resultCode: string | null;
  resultDesc: string;
  receipt: string;
}

interface PayoutRecord {
  originatorId: string;
  conversationId: string;
  amount: number;
  msisdn: string;
  state: "completed" | "failed" | "none";
  receipt: string;
}

interface BankRecord {
  reference: string;
  requestId: string;
  amount: string;
  currency: string;
  callbackUrl: string;
  status: "pending" | "succeeded" | "failed" | "reversed" | "expired";
  resultCode: string | null;
  resultDesc: string;
  receipt: string;
}

const randomId = (prefix: string, length = 10) =>
  prefix + crypto.randomUUID().replace(/-/g, "").slice(0, length).toUpperCase();

function receiptNumber(): string {
  // M-Pesa receipts look like "SKL7RT61SV": 10 upper-case alphanumerics.
  return crypto.randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase();
}

function darajaError(c: Context, status: 400 | 401 | 404 | 500 | 503, errorCode: string, errorMessage: string) {
  return c.json({ requestId: randomId("sandbox-", 8), errorCode, errorMessage }, status);
}

export function createSandboxApp(options: SandboxOptions = {}) {
  const creds: Credentials = { ...SANDBOX_DEFAULTS, ...envCredentials(), ...options.credentials };
  const delayMs = options.callbackDelayMs ?? 25;
  const log = options.log ?? (() => {});
  const scenarios = new Map<string, Scenario>();
  const inFlight = new Set<Promise<void>>();
  const deliveries: Delivery[] = [];
  const tokens = new Set<string>();
  const stk = new Map<string, StkRecord>();
  const payouts = new Map<string, PayoutRecord>();
  const banks = { kcb: { collections: new Map<string, BankRecord>(), payouts: new Map<string, BankRecord>() },
                  dtb: { collections: new Map<string, BankRecord>(), payouts: new Map<string, BankRecord>() } };
  let c2bUrls: { validation: string; confirmation: string } | undefined;

  const scenarioFor = (identifier: string): Scenario =>
    scenarios.get(identifier) ?? SUFFIXES[identifier.slice(-4)] ?? "success";

  async function deliver(url: string, body: unknown, headers: Record<string, string> = {}, raw?: string): Promise<void> {
    const delivery: Delivery = { url, body, status: null };
    deliveries.push(delivery);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "hazina-provider-sandbox", ...headers },
        body: raw ?? JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      delivery.status = res.status;
      await res.body?.cancel();
    } catch (err) {
      delivery.error = (err as Error).message;
    }
    log(`callback ${url.replace(/\/[A-Za-z0-9_-]{24,}$/, "/***")} → ${delivery.status ?? delivery.error}`);
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

  const app = new Hono();

  app.get("/", (c) => c.json({ sandbox: "hazina provider sandbox", providers: ["mpesa", "kcb", "dtb"], scenarios: SUFFIXES }));
  app.post("/__sandbox/scenarios", async (c) => {
    const { match, scenario } = await c.req.json() as { match: string; scenario: Scenario };
    scenarios.set(String(match), scenario);
    return c.json({ match, scenario });
  });
  app.delete("/__sandbox/scenarios", (c) => {
    scenarios.clear();
    return c.json({ cleared: true });
  });
  app.get("/__sandbox/deliveries", (c) => c.json({ data: deliveries.slice(-100) }));

  // ---------------------------------------------------------------- M-Pesa Daraja

  const mpesa = new Hono();
  mpesa.get("/oauth/v1/generate", (c) => {
    const expected = `Basic ${btoa(`${creds.MPESA_CONSUMER_KEY}:${creds.MPESA_CONSUMER_SECRET}`)}`;
    if (c.req.query("grant_type") !== "client_credentials" || c.req.header("authorization") !== expected) {
      return darajaError(c, 400, "400.008.01", "Invalid Authentication passed");
    }
    const token = crypto.randomUUID().replace(/-/g, "");
    tokens.add(token);
    return c.json({ access_token: token, expires_in: "3599" });
  });
  mpesa.use("/mpesa/*", async (c, next) => {
    // The C2B simulation is what a customer's phone does: it needs no API token here.
    if (c.req.path.endsWith("/mpesa/c2b/v1/simulate")) return await next();
    const token = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    if (!token || !tokens.has(token)) return darajaError(c, 401, "404.001.04", "Invalid Access Token");
    await next();
  });

  const passwordOk = (body: Record<string, unknown>) =>
    body.BusinessShortCode === creds.MPESA_SHORTCODE && typeof body.Timestamp === "string" && /^[0-9]{14}$/.test(body.Timestamp) &&
    body.Password === btoa(`${creds.MPESA_SHORTCODE}${creds.MPESA_PASSKEY}${body.Timestamp}`);

  mpesa.post("/mpesa/stkpush/v1/processrequest", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    if (!passwordOk(body)) return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Password");
    if (typeof body.Amount !== "number" || !Number.isInteger(body.Amount) || body.Amount < 1 || body.Amount > 250000) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Amount");
    }
    const msisdn = String(body.PhoneNumber ?? "");
    if (!/^254[0-9]{9}$/.test(msisdn) || body.PartyA !== msisdn) return darajaError(c, 400, "400.002.02", "Bad Request - Invalid PhoneNumber");
    if (typeof body.CallBackURL !== "string" || !/^https?:\/\//.test(body.CallBackURL)) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid CallBackURL");
    }
    const scenario = scenarioFor(msisdn);
    if (scenario === "reject") return darajaError(c, 400, "400.002.02", "Bad Request - Invalid PhoneNumber");
    if (scenario === "unavailable") return c.json({ errorMessage: "Service Unavailable" }, 503);
    const record: StkRecord = {
      merchantRequestId: `${Math.floor(Math.random() * 90000) + 10000}-${Date.now()}-1`,
      checkoutRequestId: `ws_CO_${body.Timestamp}${randomId("", 12)}`,
      amount: body.Amount,
      msisdn,
      callbackUrl: body.CallBackURL,
      resultCode: null,
      resultDesc: "",
      receipt: receiptNumber(),
    };
    stk.set(record.checkoutRequestId, record);
    const outcome: Record<Scenario, [string, string] | null> = {
      success: ["0", "The service request is processed successfully."],
      duplicate: ["0", "The service request is processed successfully."],
      early_callback: ["0", "The service request is processed successfully."],
      silent_success: ["0", "The service request is processed successfully."],
      lost_response: ["0", "The service request is processed successfully."],
      reversed: ["0", "The service request is processed successfully."],
      cancelled: ["1032", "Request cancelled by user"],
      fail: ["1", "The balance is insufficient for the transaction"],
      timeout: ["1037", "DS timeout user cannot be reached"],
      reject: null,
      unavailable: null,
    };
    const [code, desc] = outcome[scenario]!;
    record.resultCode = code;
    record.resultDesc = desc;
    const callback = {
      Body: {
        stkCallback: {
          MerchantRequestID: record.merchantRequestId,
          CheckoutRequestID: record.checkoutRequestId,
          ResultCode: Number(code),
          ResultDesc: desc,
          ...(code === "0"
            ? {
              CallbackMetadata: {
                Item: [
                  { Name: "Amount", Value: record.amount },
                  { Name: "MpesaReceiptNumber", Value: record.receipt },
                  { Name: "Balance" },
                  { Name: "TransactionDate", Value: Number(darajaNow()) },
                  { Name: "PhoneNumber", Value: Number(msisdn) },
                ],
              },
            }
            : {}),
        },
      },
    };
    if (scenario === "early_callback") {
      await schedule(() => deliver(record.callbackUrl, callback), true);
    } else if (scenario !== "timeout" && scenario !== "silent_success") {
      schedule(() => deliver(record.callbackUrl, callback));
      if (scenario === "duplicate") schedule(() => deliver(record.callbackUrl, callback));
    }
    if (scenario === "lost_response") return c.json({ errorMessage: "Gateway Timeout" }, 504);
    return c.json({
      MerchantRequestID: record.merchantRequestId,
      CheckoutRequestID: record.checkoutRequestId,
      ResponseCode: "0",
      ResponseDescription: "Success. Request accepted for processing",
      CustomerMessage: "Success. Request accepted for processing",
    });
  });

  mpesa.post("/mpesa/stkpushquery/v1/query", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    if (!passwordOk(body)) return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Password");
    const record = stk.get(String(body.CheckoutRequestID));
    if (!record) return darajaError(c, 400, "400.002.02", "Bad Request - Invalid CheckoutRequestID");
    if (record.resultCode === null) return darajaError(c, 500, "500.001.1001", "The transaction is being processed");
    return c.json({
      ResponseCode: "0",
      ResponseDescription: "The service request has been accepted successsfully",
      MerchantRequestID: record.merchantRequestId,
      CheckoutRequestID: record.checkoutRequestId,
      ResultCode: record.resultCode,
      ResultDesc: record.resultDesc,
    });
  });

  mpesa.post("/mpesa/b2c/v3/paymentrequest", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    const originatorId = String(body.OriginatorConversationID ?? "");
    if (!originatorId || body.InitiatorName !== creds.MPESA_INITIATOR_NAME || body.SecurityCredential !== creds.MPESA_SECURITY_CREDENTIAL) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Initiator");
    }
    if (typeof body.Amount !== "number" || !Number.isInteger(body.Amount) || body.Amount < 10 || body.Amount > 250000) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Amount");
    }
    const msisdn = String(body.PartyB ?? "");
    if (!/^254[0-9]{9}$/.test(msisdn)) return darajaError(c, 400, "400.002.02", "Bad Request - Invalid PartyB");
    const resultUrl = String(body.ResultURL ?? "");
    const timeoutUrl = String(body.QueueTimeOutURL ?? "");
    const scenario = scenarioFor(msisdn);
    if (scenario === "reject") return darajaError(c, 400, "400.002.02", "Bad Request - Invalid PartyB");
    if (scenario === "unavailable") return c.json({ errorMessage: "Service Unavailable" }, 503);
    const existing = payouts.get(originatorId);
    if (existing) {
      // The same OriginatorConversationID again: Daraja refuses duplicates.
      return darajaError(c, 400, "400.002.05", "Duplicate OriginatorConversationID");
    }
    const record: PayoutRecord = {
      originatorId,
      conversationId: randomId("AG_20261124_", 16),
      amount: body.Amount,
      msisdn,
      state: scenario === "fail" ? "failed" : scenario === "timeout" ? "none" : "completed",
      receipt: receiptNumber(),
    };
    payouts.set(originatorId, record);
    const result = (code: number, desc: string, parameters: { Key: string; Value: unknown }[] = []) => ({
      Result: {
        ResultType: 0,
        ResultCode: code,
        ResultDesc: desc,
        OriginatorConversationID: originatorId,
        ConversationID: record.conversationId,
        TransactionID: code === 0 ? record.receipt : "",
        ...(parameters.length ? { ResultParameters: { ResultParameter: parameters } } : {}),
        ReferenceData: { ReferenceItem: { Key: "QueueTimeoutURL", Value: timeoutUrl } },
      },
    });
    const paid = result(0, "The service request is processed successfully.", [
      { Key: "TransactionAmount", Value: record.amount },
      { Key: "TransactionReceipt", Value: record.receipt },
      { Key: "ReceiverPartyPublicName", Value: `${msisdn} - Sandbox Customer` },
      { Key: "TransactionCompletedDateTime", Value: new Date().toISOString() },
      { Key: "B2CUtilityAccountAvailableFunds", Value: 100000 },
    ]);
    if (scenario === "early_callback") {
      await schedule(() => deliver(resultUrl, paid), true);
    } else if (scenario === "fail") {
      schedule(() => deliver(resultUrl, result(2001, "The initiator information is invalid.")));
    } else if (scenario === "timeout") {
      schedule(() => deliver(timeoutUrl, result(1, "The service request timed out in the queue.")));
    } else if (scenario !== "silent_success") {
      schedule(() => deliver(resultUrl, paid));
      if (scenario === "duplicate") schedule(() => deliver(resultUrl, paid));
    }
    return c.json({
      ConversationID: record.conversationId,
      OriginatorConversationID: originatorId,
      ResponseCode: "0",
      ResponseDescription: "Accept the service request successfully.",
    });
  });

  mpesa.post("/mpesa/transactionstatus/v1/query", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    if (body.Initiator !== creds.MPESA_INITIATOR_NAME || body.SecurityCredential !== creds.MPESA_SECURITY_CREDENTIAL) {
      return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Initiator");
    }
    const originatorId = randomId("status-", 12);
    const record = payouts.get(String(body.OriginalConversationID ?? ""));
    const reference = { ReferenceItem: [{ Key: "Occasion", Value: String(body.Occasion ?? "") }] };
    const answer = record?.state === "completed"
      ? {
        Result: {
          ResultType: 0, ResultCode: 0, ResultDesc: "The service request is processed successfully.",
          OriginatorConversationID: originatorId, ConversationID: randomId("AG_", 16), TransactionID: record.receipt,
          ResultParameters: {
            ResultParameter: [
              { Key: "ReceiptNo", Value: record.receipt },
              { Key: "TransactionStatus", Value: "Completed" },
              { Key: "Amount", Value: record.amount },
              { Key: "ReasonType", Value: "Salary Payment via API" },
            ],
          },
          ReferenceData: reference,
        },
      }
      : {
        Result: {
          ResultType: 0, ResultCode: record?.state === "failed" ? 2001 : "R000002",
          ResultDesc: record?.state === "failed" ? "The initiator information is invalid." : "The OriginatorConversationID is invalid.",
          OriginatorConversationID: originatorId, ConversationID: randomId("AG_", 16), TransactionID: "",
          ReferenceData: reference,
        },
      };
    schedule(() => deliver(String(body.ResultURL ?? ""), answer));
    return c.json({
      OriginatorConversationID: originatorId,
      ConversationID: randomId("AG_", 16),
      ResponseCode: "0",
      ResponseDescription: "Accept the service request successfully.",
    });
  });

  mpesa.post("/mpesa/c2b/v1/registerurl", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    c2bUrls = { validation: String(body.ValidationURL), confirmation: String(body.ConfirmationURL) };
    return c.json({ OriginatorCoversationID: randomId("c2b-", 8), ResponseCode: "0", ResponseDescription: "Success" });
  });

  // Daraja's sandbox-only C2B simulation: a customer pays our paybill from their phone.
  mpesa.post("/mpesa/c2b/v1/simulate", async (c) => {
    const body = await c.req.json() as Record<string, unknown>;
    const msisdn = String(body.Msisdn ?? "254708374149");
    const amount = Number(body.Amount);
    if (!Number.isInteger(amount) || amount < 1) return darajaError(c, 400, "400.002.02", "Bad Request - Invalid Amount");
    const base = options.functionsUrl ?? process.env.PUBLIC_FUNCTIONS_URL ?? "http://127.0.0.1:8000/functions/v1";
    const urls = c2bUrls ?? {
      validation: `${base}/webhooks/mpesa/c2b/validation/${creds.MPESA_CALLBACK_TOKEN}`,
      confirmation: `${base}/webhooks/mpesa/c2b/confirmation/${creds.MPESA_CALLBACK_TOKEN}`,
    };
    const payment = {
      TransactionType: "Pay Bill",
      TransID: receiptNumber(),
      TransTime: darajaNow(),
      TransAmount: `${amount}.00`,
      BusinessShortCode: String(body.ShortCode ?? creds.MPESA_PAYBILL),
      BillRefNumber: String(body.BillRefNumber ?? ""),
      InvoiceNumber: "",
      OrgAccountBalance: "100000.00",
      ThirdPartyTransID: "",
      MSISDN: msisdn,
      FirstName: "Sandbox",
      MiddleName: "",
      LastName: "Customer",
    };
    const scenario = scenarioFor(msisdn);
    const task = schedule(async () => {
      const validation = await fetch(urls.validation, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payment),
      }).then((r) => r.json()).catch(() => ({ ResultCode: "0" }));
      deliveries.push({ url: urls.validation, body: payment, status: 200 });
      if (String((validation as { ResultCode?: unknown }).ResultCode) !== "0") return;
      await deliver(urls.confirmation, payment);
      if (scenario === "duplicate") await deliver(urls.confirmation, payment);
    });
    if (scenario === "early_callback") await task;
    return c.json({
      ConversationID: randomId("AG_", 16),
      OriginatorCoversationID: randomId("c2b-", 8),
      ResponseDescription: "Accept the service request successfully.",
      TransID: payment.TransID,
    });
  });

  // ---------------------------------------------------------------- KCB and DTB

  function bankApp(name: "kcb" | "dtb") {
    const bank = new Hono();
    const store = banks[name];
    if (name === "kcb") {
      bank.post("/oauth/token", (c) => {
        const expected = `Basic ${btoa(`${creds.KCB_CLIENT_ID}:${creds.KCB_CLIENT_SECRET}`)}`;
        if (c.req.header("authorization") !== expected) return c.json({ error: "invalid_client" }, 401);
        const token = crypto.randomUUID().replace(/-/g, "");
        tokens.add(token);
        return c.json({ access_token: token, token_type: "Bearer", expires_in: 3600 });
      });
    }
    bank.use("/v1/*", async (c, next) => {
      const ok = name === "kcb"
        ? tokens.has(/^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? "")
        : c.req.header("x-api-key") === creds.DTB_API_KEY;
      if (!ok) return c.json({ error: { code: "unauthorized", message: "invalid credentials" } }, 401);
      await next();
    });

    const create = (kind: "collections" | "payouts") => async (c: Context) => {
      const body = await c.req.json() as Record<string, unknown>;
      const reference = String(body.reference ?? "");
      const account = String(body.account_number ?? "");
      const amount = String(body.amount ?? "");
      if (!/^[0-9a-f-]{36}$/.test(reference) || !/^[0-9]{6,20}$/.test(account) || !/^[0-9]+\.[0-9]{2}$/.test(amount) ||
          typeof body.callback_url !== "string") {
        return c.json({ error: { code: "invalid_request", message: "reference, account_number, amount (0.00) and callback_url are required" } }, 400);
      }
      const records = kind === "collections" ? store.collections : store.payouts;
      const existing = records.get(reference);
      if (existing) return c.json({ request_id: existing.requestId, status: "accepted" }, 200);
      const scenario = scenarioFor(account);
      if (scenario === "reject") return c.json({ error: { code: "invalid_account", message: "the account cannot be used" } }, 400);
      if (scenario === "unavailable") return c.json({ error: { code: "unavailable", message: "try later" } }, 503);
      const record: BankRecord = {
        reference, requestId: randomId(`${name.toUpperCase()}-`, 12), amount, currency: String(body.currency ?? "KES"),
        callbackUrl: body.callback_url, status: "pending", resultCode: null, resultDesc: "", receipt: randomId(`${name.toUpperCase()}R`, 10),
      };
      records.set(reference, record);
      const prefix = kind === "collections" ? "collection" : "payout";
      const event = (type: string) => ({
        event_id: crypto.randomUUID(), event_type: type, reference, request_id: record.requestId, amount, currency: record.currency,
        receipt: type.endsWith("succeeded") ? record.receipt : null, result_code: record.resultCode, result_desc: record.resultDesc,
        occurred_at: new Date().toISOString(),
      });
      if (scenario === "cancelled" || scenario === "fail") {
        record.status = "failed";
        record.resultCode = scenario === "cancelled" ? "CANCELLED" : "INSUFFICIENT_FUNDS";
        record.resultDesc = scenario === "cancelled" ? "Declined by the account holder" : "Insufficient funds";
        const e = event(`${prefix}.failed`);
        schedule(() => signedDeliver(name, record.callbackUrl, e));
      } else if (scenario === "timeout") {
        record.status = kind === "collections" ? "expired" : "pending";
        if (kind === "payouts") records.delete(reference); // the bank never got it: a status query finds nothing
      } else {
        record.status = "succeeded";
        record.resultCode = "0";
        record.resultDesc = "Success";
        const e = event(`${prefix}.succeeded`);
        if (scenario === "early_callback") await schedule(() => signedDeliver(name, record.callbackUrl, e), true);
        else if (scenario !== "silent_success") {
          const succeeded = schedule(() => signedDeliver(name, record.callbackUrl, e));
          if (scenario === "duplicate") schedule(() => signedDeliver(name, record.callbackUrl, e));
          if (scenario === "reversed" && kind === "payouts") {
            schedule(async () => {
              // A bank reverses a credit it has already reported, never one still on its way.
              await succeeded;
              await new Promise((resolve) => setTimeout(resolve, delayMs));
              record.status = "reversed";
              record.resultDesc = "Credit reversed by the beneficiary bank";
              await signedDeliver(name, record.callbackUrl, event("payout.reversed"));
            });
          }
        }
      }
      return c.json({ request_id: record.requestId, status: "accepted" }, 202);
    };
    const read = (kind: "collections" | "payouts") => (c: Context) => {
      const record = (kind === "collections" ? store.collections : store.payouts).get(c.req.param("reference") ?? "");
      if (!record) return c.json({ error: { code: "not_found", message: "no such request" } }, 404);
      return c.json({
        reference: record.reference, request_id: record.requestId,
        status: record.status === "expired" ? "failed" : record.status,
        amount: record.amount, currency: record.currency, receipt: record.status === "succeeded" ? record.receipt : null,
        result_code: record.status === "expired" ? "EXPIRED" : record.resultCode,
        result_desc: record.status === "expired" ? "The request expired unanswered" : record.resultDesc,
      });
    };
    bank.post("/v1/collections", create("collections"));
    bank.get("/v1/collections/:reference", read("collections"));
    bank.post("/v1/payouts", create("payouts"));
    bank.get("/v1/payouts/:reference", read("payouts"));
    return bank;
  }

  app.route("/mpesa", mpesa);
  app.route("/kcb", bankApp("kcb"));
  app.route("/dtb", bankApp("dtb"));

  return {
    app,
    deliveries,
    setScenario: (match: string, scenario: Scenario) => void scenarios.set(match, scenario),
    clearScenarios: () => scenarios.clear(),
    idle: async () => {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}

function darajaNow(): string {
  return new Date(Date.now() + 3 * 3600 * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function envCredentials(): Partial<Credentials> {
  const picked: Partial<Credentials> = {};
  for (const key of Object.keys(SANDBOX_DEFAULTS) as (keyof Credentials)[]) {
    const value = process.env[key];
    if (value) picked[key] = value;
  }
  return picked;
}

/** Serve a fetch handler over node:http (works under Node and Deno). */
export async function serveFetch(
  handler: (req: Request) => Response | Promise<Response>,
  { port = 0, hostname = "127.0.0.1" }: { port?: number; hostname?: string } = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers.set(name, value);
        else if (Array.isArray(value)) headers.set(name, value.join(", "));
      }
      const body = chunks.length && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
      const response = await handler(new Request(`http://${req.headers.host ?? `${hostname}:${port}`}${req.url}`, {
        method: req.method, headers, body,
      }));
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((value, name) => (responseHeaders[name] = value));
      res.writeHead(response.status, responseHeaders);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (err) {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "sandbox_error", message: (err as Error).message } }));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve());
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${hostname}:${address.port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

export async function startProviderSandbox(options: SandboxOptions = {}): Promise<ProviderSandbox> {
  const sandbox = createSandboxApp(options);
  const server = await serveFetch(sandbox.app.fetch, { port: options.port ?? 0, hostname: options.hostname ?? "127.0.0.1" });
  return {
    url: server.url,
    setScenario: sandbox.setScenario,
    clearScenarios: sandbox.clearScenarios,
    idle: sandbox.idle,
    deliveries: sandbox.deliveries,
    close: async () => {
      await sandbox.idle();
      await server.close();
    },
  };
}

// `deno run --allow-net --allow-env --allow-read scripts/provider-sandbox.ts` (npm start does this).
if ((import.meta as { main?: boolean }).main) {
  const port = Number(process.env.PROVIDER_SANDBOX_PORT ?? SANDBOX_PORT);
  const sandbox = await startProviderSandbox({
    port,
    hostname: process.env.PROVIDER_SANDBOX_HOST ?? "127.0.0.1",
    callbackDelayMs: Number(process.env.PROVIDER_SANDBOX_DELAY_MS ?? 1500),
    log: (line) => console.log(JSON.stringify({ time: new Date().toISOString(), level: "info", msg: "provider sandbox", line })),
  });
  console.log(`provider sandbox (M-Pesa, KCB, DTB): ${sandbox.url} — scenarios by the last 4 digits, see scripts/provider-sandbox.ts`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      sandbox.close().finally(() => process.exit(0));
    });
  }
}
