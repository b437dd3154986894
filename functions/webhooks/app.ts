// Provider webhooks (verify_jwt = false: providers carry no user token) and the sweep.
//
// Every inbound message is stored first (wallet_webhook_events) and applied exactly once in
// the same transaction (hazina.webhook_ingest): duplicates are stored as duplicates, bad
// signatures as rejected, messages for a session we cannot match yet as unmatched (applied
// when the session learns its provider reference). We answer 2xx as soon as the message is
// stored, whatever applying it concluded, so providers do not retry what we already have.
//
// Daraja signs nothing: its URLs end in MPESA_CALLBACK_TOKEN (compared in constant time),
// payloads are validated, amounts and references must match the session (in SQL), and an
// STK success is confirmed by an STK status query before it is credited
// (MPESA_CONFIRM_CALLBACKS). KCB and DTB sign with HMAC-SHA256 over timestamp + body.
import type { Context } from "hono";
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { verifyAccessToken } from "../_shared/auth.ts";
import { config } from "../_shared/config.ts";
import { asService } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { log } from "../_shared/log.ts";
import { apiDocs, named, type RouteDoc, serveOpenApi } from "../_shared/openapi.ts";
import { BankEvent, parseBankEvent } from "../_shared/providers/bank.ts";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, timingSafeEqual, verifyWebhookSignature } from "../_shared/providers/hmac.ts";
import { provider } from "../_shared/providers/index.ts";
import {
  C2bPayment,
  parseB2cResult,
  parseB2cTimeout,
  parseC2b,
  parseStatusResult,
  parseStkCallback,
  ResultEnvelope,
  StkCallback,
} from "../_shared/providers/mpesa.ts";
import { sweep } from "../_shared/providers/movement.ts";
import type { NormalisedEvent, ProviderName } from "../_shared/providers/types.ts";

export const app = createFunctionApp("webhooks");
export const docs = apiDocs("webhooks", "Provider callbacks and the money sweep",
  "Where M-Pesa (Daraja), KCB and DTB report payments. Every message is stored, verified and applied once; " +
    "a stored message is acknowledged with 2xx whatever applying it concluded. See docs/money-movement.md.");
serveOpenApi(app, docs);

const KEPT_HEADERS = ["content-type", "user-agent", "x-forwarded-for", "x-real-ip", "x-request-id", SIGNATURE_HEADER, TIMESTAMP_HEADER];

function storedHeaders(c: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) headers[name] = value.slice(0, 500);
  }
  return headers;
}

interface IngestResult {
  event_id: string;
  status: string;
  duplicate: boolean;
  applied: boolean;
  error?: string;
}

async function ingest(
  c: Context,
  providerName: ProviderName,
  event: NormalisedEvent,
  rawBody: string,
  signatureValid: boolean | null,
): Promise<IngestResult> {
  const [row] = await asService(c.get("requestId"), (tx) => tx`
    select hazina.webhook_ingest(${providerName}, ${event.eventType}, ${event.eventKey}, ${rawBody},
                                 ${tx.json(storedHeaders(c))}, ${signatureValid}, ${tx.json(event.payload as never)}) as result`);
  const result = row.result as IngestResult;
  log(result.status === "failed" ? "warn" : "info", "webhook", {
    provider: providerName,
    event_type: event.eventType,
    event_key: event.eventKey,
    event_id: result.event_id,
    status: result.status,
    error: result.error,
  });
  return result;
}

/** Store a message we refuse (bad token/signature or unreadable): kept for forensics, never applied. */
async function refuse(c: Context, providerName: ProviderName, eventType: string, rawBody: string, reason: string, status: 400 | 401) {
  const signatureFailure = status === 401;
  await ingest(c, providerName, {
    eventType,
    eventKey: `${signatureFailure ? "rejected" : "invalid"}:${crypto.randomUUID()}`,
    payload: { action: signatureFailure ? "rejected" : "invalid", reason },
  }, rawBody, signatureFailure ? false : null);
  if (signatureFailure) throw new ApiError(401, "webhook_unauthenticated", "The webhook could not be authenticated.");
  throw new ApiError(400, "invalid_webhook_payload", "The provider message is invalid.", { reason: reason.slice(0, 300) });
}

function parseJson(rawBody: string): unknown {
  return JSON.parse(rawBody);
}

function describe(err: unknown): string {
  if (err && typeof err === "object" && "issues" in err) {
    const issues = (err as { issues: { path: PropertyKey[]; message: string }[] }).issues;
    return issues.slice(0, 3).map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ");
  }
  return (err as Error)?.message ?? String(err);
}

const DARAJA_ACCEPTED = { ResultCode: 0, ResultDesc: "Accepted" };

type DarajaKind = "stk" | "b2c_result" | "b2c_timeout" | "status_result" | "status_timeout" | "c2b_validation" | "c2b_confirmation";

async function darajaEvent(kind: DarajaKind, body: unknown): Promise<NormalisedEvent | null> {
  switch (kind) {
    case "stk": {
      const event = parseStkCallback(body);
      // Confirm a success with M-Pesa before it is credited: a leaked token alone then
      // cannot mint money. A failed confirmation is stored and refused by the database.
      if (event.payload.action === "funding.succeeded" && config().MPESA_CONFIRM_CALLBACKS) {
        let confirmed = false;
        try {
          const status = await provider("mpesa").queryCollection({ sessionId: "", reference: String(event.payload.checkout_id) });
          confirmed = status.state === "succeeded";
        } catch (err) {
          log("warn", "webhook: STK confirmation query failed; the sweep will settle the session", { error: (err as Error).message });
        }
        event.payload.confirmed = confirmed;
      }
      return event;
    }
    case "b2c_result":
      return parseB2cResult(body);
    case "b2c_timeout":
      return parseB2cTimeout(body);
    case "status_result":
      return parseStatusResult(body);
    case "status_timeout":
      return null;
    case "c2b_validation":
      return parseC2b(body, "validation");
    case "c2b_confirmation":
      return parseC2b(body, "confirmation");
  }
}

function daraja(kind: DarajaKind) {
  return async (c: Context) => {
    const rawBody = await c.req.text();
    const token = c.req.param("token") ?? "";
    if (!(await timingSafeEqual(token, config().MPESA_CALLBACK_TOKEN))) {
      return await refuse(c, "mpesa", `${kind}_refused`.replace(/[^a-z0-9_.]/g, "_"), rawBody, token ? "wrong path token" : "missing path token", 401);
    }
    let event: NormalisedEvent | null;
    try {
      event = await darajaEvent(kind, parseJson(rawBody));
    } catch (err) {
      return await refuse(c, "mpesa", kind, rawBody, describe(err), 400);
    }
    if (!event) {
      // A status query that timed out in M-Pesa's queue: the sweep asks again later.
      await ingest(c, "mpesa", { eventType: kind, eventKey: `${kind}:${crypto.randomUUID()}`, payload: { action: "provider.notice" } }, rawBody, null);
      return c.json(DARAJA_ACCEPTED);
    }
    const result = await ingest(c, "mpesa", event, rawBody, null);
    if (kind === "c2b_validation") {
      // Validation answers whether the account reference may receive money.
      const [row] = await asService(c.get("requestId"), (tx) =>
        tx`select hazina.paybill_validate(${String(event.payload.account_reference)}, ${String(event.payload.amount)}::numeric) as verdict`);
      const verdict = row.verdict as { accept: boolean; reason?: string };
      return c.json(verdict.accept
        ? { ResultCode: "0", ResultDesc: "Accepted" }
        : { ResultCode: "C2B00012", ResultDesc: "Rejected: invalid account number" });
    }
    return c.json({ ...DARAJA_ACCEPTED, event_id: result.event_id, status: result.status });
  };
}

const DarajaAck = named("DarajaAck", z.looseObject({
  ResultCode: z.literal(0),
  ResultDesc: z.literal("Accepted"),
  event_id: z.guid().optional(),
  status: z.enum(["received", "processed", "unmatched", "failed", "duplicate", "rejected"]).optional()
    .describe("What storing and applying the message concluded."),
}), "Daraja's expected acknowledgement.");
const C2bVerdict = z.object({ ResultCode: z.enum(["0", "C2B00012"]), ResultDesc: z.string() });
const CallbackToken = z.object({
  token: z.string().describe("MPESA_CALLBACK_TOKEN: Daraja signs nothing, so its callback URLs end in this secret. " +
    "A URL without it is refused (401) and recorded."),
});

const DARAJA_DOCS: Record<DarajaKind, { summary: string; body: z.ZodType }> = {
  stk: { summary: "M-Pesa STK push result (top-ups)", body: StkCallback },
  b2c_result: { summary: "M-Pesa B2C result (withdrawals)", body: ResultEnvelope },
  b2c_timeout: { summary: "M-Pesa B2C queue timeout", body: ResultEnvelope },
  status_result: { summary: "M-Pesa transaction status result", body: ResultEnvelope },
  status_timeout: { summary: "M-Pesa transaction status queue timeout (recorded; the sweep asks again)", body: z.unknown() },
  c2b_validation: { summary: "M-Pesa paybill validation: may this account reference receive money?", body: C2bPayment },
  c2b_confirmation: { summary: "M-Pesa paybill confirmation (credits the wallet)", body: C2bPayment },
};

function darajaDoc(path: string, kind: DarajaKind): RouteDoc {
  return {
    method: "post",
    path,
    summary: DARAJA_DOCS[kind].summary,
    auth: "none",
    params: CallbackToken,
    body: DARAJA_DOCS[kind].body,
    validates: false,
    responses: {
      200: kind === "c2b_validation"
        ? { description: "Accept or reject the payment.", schema: C2bVerdict }
        : { description: "Stored (and applied when it could be).", schema: DarajaAck },
    },
    errors: ["webhook_unauthenticated", "invalid_webhook_payload"],
  };
}

// Daraja posts to the URL we gave it; the trailing segment is the secret token. A URL
// without it still lands here (and is refused and recorded).
docs.route(darajaDoc("/mpesa/stk/:token?", "stk"));
app.post("/mpesa/stk/:token?", daraja("stk"));
docs.route(darajaDoc("/mpesa/b2c/result/:token?", "b2c_result"));
app.post("/mpesa/b2c/result/:token?", daraja("b2c_result"));
docs.route(darajaDoc("/mpesa/b2c/timeout/:token?", "b2c_timeout"));
app.post("/mpesa/b2c/timeout/:token?", daraja("b2c_timeout"));
docs.route(darajaDoc("/mpesa/status/result/:token?", "status_result"));
app.post("/mpesa/status/result/:token?", daraja("status_result"));
docs.route(darajaDoc("/mpesa/status/timeout/:token?", "status_timeout"));
app.post("/mpesa/status/timeout/:token?", daraja("status_timeout"));
docs.route(darajaDoc("/mpesa/c2b/validation/:token?", "c2b_validation"));
app.post("/mpesa/c2b/validation/:token?", daraja("c2b_validation"));
docs.route(darajaDoc("/mpesa/c2b/confirmation/:token?", "c2b_confirmation"));
app.post("/mpesa/c2b/confirmation/:token?", daraja("c2b_confirmation"));

function bank(name: "kcb" | "dtb") {
  return async (c: Context) => {
    const rawBody = await c.req.text();
    const cfg = config();
    const check = await verifyWebhookSignature({
      secret: name === "kcb" ? cfg.KCB_WEBHOOK_SECRET : cfg.DTB_WEBHOOK_SECRET,
      rawBody,
      timestamp: c.req.header(TIMESTAMP_HEADER),
      signature: c.req.header(SIGNATURE_HEADER),
      toleranceSeconds: cfg.WEBHOOK_TOLERANCE_SECONDS,
    });
    if (!check.ok) return await refuse(c, name, "signature_refused", rawBody, `signature ${check.reason}`, 401);
    let event: NormalisedEvent;
    try {
      event = parseBankEvent(parseJson(rawBody));
    } catch (err) {
      return await refuse(c, name, "invalid", rawBody, describe(err), 400);
    }
    const result = await ingest(c, name, event, rawBody, true);
    return c.json({ received: true, event_id: result.event_id, status: result.status });
  };
}

const BankAck = named("BankAck", z.object({
  received: z.literal(true),
  event_id: z.guid(),
  status: z.enum(["received", "processed", "unmatched", "failed", "duplicate", "rejected"]),
}), "A bank webhook was stored (and applied when it could be).");

function bankDoc(name: "kcb" | "dtb"): RouteDoc {
  return {
    method: "post",
    path: `/${name}`,
    summary: `${name.toUpperCase()} collection / payout event`,
    description: `Signed with HMAC-SHA256 over \`<timestamp>.<raw body>\` using ${name.toUpperCase()}_WEBHOOK_SECRET; ` +
      "messages outside WEBHOOK_TOLERANCE_SECONDS are refused.",
    auth: "none",
    headers: [
      { name: SIGNATURE_HEADER, required: true, description: "`sha256=<hex HMAC>`", schema: { type: "string", pattern: "^sha256=[0-9a-f]{64}$" } },
      { name: TIMESTAMP_HEADER, required: true, description: "Unix seconds", schema: { type: "string", pattern: "^[0-9]{1,12}$" } },
    ],
    body: BankEvent,
    validates: false,
    responses: { 200: { description: "Stored.", schema: BankAck } },
    errors: ["webhook_unauthenticated", "invalid_webhook_payload"],
  };
}

docs.route(bankDoc("kcb"));
app.post("/kcb", bank("kcb"));
docs.route(bankDoc("dtb"));
app.post("/dtb", bank("dtb"));

docs.route({
  method: "post",
  path: "/sweep",
  summary: "Re-query overdue top-ups and withdrawals and settle them",
  description: "For schedulers (X-Sweep-Secret) and admins (bearer token).",
  auth: "bearer",
  alternativeSecurity: ["sweepSecret"],
  query: z.object({ limit: z.number().int().min(1).max(1000).default(100).describe("Items to claim; clamped to 1-1000.") }),
  validates: false,
  responses: {
    200: {
      description: "What the SQL sweep and each claimed item did.",
      schema: z.object({
        sql: z.record(z.string(), z.unknown()),
        items: z.array(z.object({
          kind: z.enum(["funding", "withdrawal"]),
          id: z.guid(),
          provider: z.string(),
          action: z.string(),
          error: z.string().optional(),
        })),
      }),
    },
  },
  errors: ["forbidden"],
});
// Operator / scheduler: re-query overdue sessions and withdrawals and settle them.
// Authorised by X-Sweep-Secret (SWEEP_SECRET, for pg_cron + pg_net or any scheduler) or an
// admin's access token.
app.post("/sweep", async (c) => {
  const secret = config().SWEEP_SECRET;
  const presented = c.req.header("x-sweep-secret");
  let allowed = false;
  if (presented !== undefined) {
    allowed = secret !== undefined && (await timingSafeEqual(presented, secret));
  } else {
    const match = /^Bearer\s+([A-Za-z0-9_\-.]+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match) throw new ApiError(401, "unauthenticated", "Send X-Sweep-Secret or an admin's bearer token.");
    const claims = await verifyAccessToken(match[1]);
    allowed = (claims.app_metadata as { role?: string } | undefined)?.role === "admin";
  }
  if (!allowed) throw new ApiError(403, "forbidden", "You are not allowed to run the sweep.");
  // Clamped, as documented: any value gives a whole number of items from 1 to 1000.
  const limit = Math.min(Math.max(Math.trunc(Number(c.req.query("limit") ?? 100)) || 100, 1), 1000);
  return c.json(await sweep(c.get("requestId"), limit));
});
