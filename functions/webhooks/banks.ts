// KCB and DTB webhooks: HMAC-SHA256 over `<timestamp>.<raw body>` with each bank's secret,
// within WEBHOOK_TOLERANCE_SECONDS.
import type { Context, Hono } from "hono";
import { z } from "zod";
import { config } from "../_shared/config.ts";
import type { AppEnv } from "../_shared/app.ts";
import { type FunctionDocs, named, type RouteDoc } from "../_shared/openapi.ts";
import { BankEvent, parseBankEvent } from "../_shared/providers/bank.ts";
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
} from "../_shared/providers/hmac.ts";
import type { NormalisedEvent } from "../_shared/providers/types.ts";
import { describe, EventStatus, ingest, parseJson, refuse } from "./ingest.ts";

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
    if (!check.ok) {
      return await refuse(c, name, "signature_refused", rawBody, `signature ${check.reason}`, 401);
    }
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

const BankAck = named(
  "BankAck",
  z.object({
    received: z.literal(true),
    event_id: z.guid(),
    status: EventStatus,
  }),
  "A bank webhook was stored (and applied when it could be).",
);

function bankDoc(name: "kcb" | "dtb"): RouteDoc {
  return {
    method: "post",
    path: `/${name}`,
    summary: `${name.toUpperCase()} collection / payout event`,
    description:
      `Signed with HMAC-SHA256 over \`<timestamp>.<raw body>\` using ${name.toUpperCase()}_WEBHOOK_SECRET; ` +
      "messages outside WEBHOOK_TOLERANCE_SECONDS are refused.",
    auth: "none",
    headers: [
      {
        name: SIGNATURE_HEADER,
        required: true,
        description: "`sha256=<hex HMAC>`",
        schema: { type: "string", pattern: "^sha256=[0-9a-f]{64}$" },
      },
      {
        name: TIMESTAMP_HEADER,
        required: true,
        description: "Unix seconds",
        schema: { type: "string", pattern: "^[0-9]{1,12}$" },
      },
    ],
    body: BankEvent,
    validates: false,
    responses: { 200: { description: "Stored.", schema: BankAck } },
    errors: ["webhook_unauthenticated", "invalid_webhook_payload", "rate_limited"],
  };
}

export function bankRoutes(app: Hono<AppEnv>, docs: FunctionDocs): void {
  docs.route(bankDoc("kcb"));
  app.post("/kcb", bank("kcb"));
  docs.route(bankDoc("dtb"));
  app.post("/dtb", bank("dtb"));
}
