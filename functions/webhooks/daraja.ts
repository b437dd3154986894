// M-Pesa Daraja callbacks: STK results, B2C results and timeouts, Transaction Status
// answers, C2B (paybill) validation and confirmation.
//
// Daraja signs nothing, so every callback is a claim (docs/money-movement.md, "Trust
// model"): it must come from MPESA_CALLBACK_ALLOWED_IPS (when set) to a URL ending in
// MPESA_CALLBACK_TOKEN (compared in constant time), and then M-Pesa itself must agree:
// an STK result is checked with an STK query before it is applied (MPESA_CONFIRM_CALLBACKS);
// a paybill confirmation or a B2C result is only stored ('unconfirmed') until the answer
// to our own Transaction Status query settles it in the database.
import type { Context, Hono } from "hono";
import { z } from "zod";
import { config } from "../_shared/config.ts";
import { inRanges } from "../_shared/cidr.ts";
import { clientIp } from "../_shared/clientip.ts";
import { asService } from "../_shared/db.ts";
import { confirmPaybillPayment } from "../_shared/money-movement/paybill.ts";
import { checkWithdrawal } from "../_shared/money-movement/withdrawals.ts";
import { log } from "../_shared/log.ts";
import type { AppEnv } from "../_shared/app.ts";
import { type FunctionDocs, named, type RouteDoc } from "../_shared/openapi.ts";
import { timingSafeEqual } from "../_shared/providers/hmac.ts";
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
import type { NormalisedEvent } from "../_shared/providers/types.ts";
import { describe, EventStatus, ingest, parseJson, refuse } from "./ingest.ts";

const DARAJA_ACCEPTED = { ResultCode: 0, ResultDesc: "Accepted" };

type DarajaKind =
  | "stk"
  | "b2c_result"
  | "b2c_timeout"
  | "status_result"
  | "status_timeout"
  | "c2b_validation"
  | "c2b_confirmation";

async function darajaEvent(kind: DarajaKind, body: unknown): Promise<NormalisedEvent | null> {
  switch (kind) {
    case "stk": {
      const event = parseStkCallback(body);
      // Confirm the result with M-Pesa before it is applied: a leaked token alone then
      // cannot mint money (a forged success) or void a payment (a forged failure). An
      // unconfirmed result is stored and refused by the database; the sweep settles it.
      if (config().MPESA_CONFIRM_CALLBACKS) {
        const claimed = event.payload.action === "funding.succeeded" ? "succeeded" : "failed";
        let confirmed = false;
        try {
          const status = await provider("mpesa").queryCollection({
            sessionId: "",
            reference: String(event.payload.checkout_id),
          });
          confirmed = status.state === claimed;
        } catch (err) {
          log("warn", "webhook: STK confirmation query failed; the sweep will settle the session", {
            error: (err as Error).message,
          });
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

/** After storing: ask M-Pesa about a claim that waits for its word (never fails the callback). */
async function askProvider(c: Context, event: NormalisedEvent, status: string): Promise<void> {
  if (status !== "unconfirmed") return;
  const requestId = c.get("requestId");
  if (event.payload.action === "paybill.credit") {
    await confirmPaybillPayment(String(event.payload.trans_id), requestId);
    return;
  }
  try {
    await checkWithdrawal(String(event.payload.withdrawal_id), "mpesa", requestId);
  } catch (err) {
    // The withdrawal was made due: the sweep asks again.
    log("warn", "webhook: Transaction Status query failed; the sweep will ask", {
      error: (err as Error).message,
    });
  }
}

function sourceAllowed(c: Context): boolean {
  const allowed = config().MPESA_CALLBACK_ALLOWED_IPS.ranges;
  if (allowed === null) return true;
  const ip = clientIp(c);
  return ip !== null && inRanges(ip, allowed);
}

function daraja(kind: DarajaKind) {
  return async (c: Context) => {
    const rawBody = await c.req.text();
    if (!sourceAllowed(c)) {
      return await refuse(
        c,
        "mpesa",
        `${kind}_refused`,
        rawBody,
        `source address ${clientIp(c) ?? "unknown"} not allowed`,
        403,
      );
    }
    const token = c.req.param("token") ?? "";
    if (!(await timingSafeEqual(token, config().MPESA_CALLBACK_TOKEN))) {
      return await refuse(
        c,
        "mpesa",
        `${kind}_refused`.replace(/[^a-z0-9_.]/g, "_"),
        rawBody,
        token ? "wrong path token" : "missing path token",
        401,
      );
    }
    let event: NormalisedEvent | null;
    try {
      event = await darajaEvent(kind, parseJson(rawBody));
    } catch (err) {
      return await refuse(c, "mpesa", kind, rawBody, describe(err), 400);
    }
    if (!event) {
      // A status query that timed out in M-Pesa's queue: the sweep asks again later.
      await ingest(
        c,
        "mpesa",
        {
          eventType: kind,
          eventKey: `${kind}:${crypto.randomUUID()}`,
          payload: { action: "provider.notice" },
        },
        rawBody,
        null,
      );
      return c.json(DARAJA_ACCEPTED);
    }
    const result = await ingest(c, "mpesa", event, rawBody, null);
    if (kind === "c2b_validation") {
      // Validation answers whether the account reference may receive money (on our paybill).
      const [row] = await asService(
        c.get("requestId"),
        (tx) =>
          tx`select hazina.paybill_validate(${String(event.payload.account_reference)}, ${
            String(event.payload.amount)
          }::numeric) as verdict`,
      );
      const verdict = row.verdict as { accept: boolean; reason?: string };
      return c.json(
        verdict.accept && event.payload.short_code === event.payload.paybill
          ? { ResultCode: "0", ResultDesc: "Accepted" }
          : { ResultCode: "C2B00012", ResultDesc: "Rejected: invalid account number" },
      );
    }
    await askProvider(c, event, result.status);
    return c.json({ ...DARAJA_ACCEPTED, event_id: result.event_id, status: result.status });
  };
}

const DarajaAck = named(
  "DarajaAck",
  z.looseObject({
    ResultCode: z.literal(0),
    ResultDesc: z.literal("Accepted"),
    event_id: z.guid().optional(),
    status: EventStatus.optional()
      .describe(
        "What storing and applying the message concluded (`unconfirmed`: waiting for M-Pesa's own answer).",
      ),
  }),
  "Daraja's expected acknowledgement.",
);
const C2bVerdict = z.object({ ResultCode: z.enum(["0", "C2B00012"]), ResultDesc: z.string() });
const CallbackToken = z.object({
  token: z.string().describe(
    "MPESA_CALLBACK_TOKEN: Daraja signs nothing, so its callback URLs end in this secret. " +
      "A URL without it is refused (401) and recorded.",
  ),
});

const DARAJA_DOCS: Record<DarajaKind, { summary: string; body: z.ZodType }> = {
  stk: { summary: "M-Pesa STK push result (top-ups)", body: StkCallback },
  b2c_result: { summary: "M-Pesa B2C result (withdrawals)", body: ResultEnvelope },
  b2c_timeout: { summary: "M-Pesa B2C queue timeout", body: ResultEnvelope },
  status_result: { summary: "M-Pesa transaction status result", body: ResultEnvelope },
  status_timeout: {
    summary: "M-Pesa transaction status queue timeout (recorded; the sweep asks again)",
    body: z.unknown(),
  },
  c2b_validation: {
    summary: "M-Pesa paybill validation: may this account reference receive money?",
    body: C2bPayment,
  },
  c2b_confirmation: {
    summary: "M-Pesa paybill confirmation (credits the wallet)",
    body: C2bPayment,
  },
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
    errors: ["webhook_unauthenticated", "invalid_webhook_payload", "forbidden", "rate_limited"],
  };
}

export function darajaRoutes(app: Hono<AppEnv>, docs: FunctionDocs): void {
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
}
