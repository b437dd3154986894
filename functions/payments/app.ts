// Payments: payment intents (a merchant asks, a customer pays from their wallet, the merchant
// captures, cancels or refunds) and their refunds. Every transition is one SQL function
// (database/migrations/*_payment_intents.sql); the edge checks syntax and returns the
// object's one shape. See docs/payments.md.
import type { Context } from "hono";
import { z } from "zod";
import { config } from "../_shared/config.ts";
import { asService, type Tx } from "../_shared/db.ts";
import { ApiError, DATABASE_CODES } from "../_shared/errors.ts";
import { idempotent, requiredIdempotencyKey } from "../_shared/idempotency.ts";
import {
  created,
  createThenSend,
  type MoneyObject,
  optionalBody,
  readObject,
} from "../_shared/money-object.ts";
import { type FundingRow, submitFunding } from "../_shared/money-movement/funding.ts";
import { submitWithdrawal } from "../_shared/money-movement/withdrawals.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { listOf } from "../_shared/openapi.ts";
import { pageNewestFirst, PageParams } from "../_shared/pagination.ts";
import { createSignedInFunction, userTx, Uuid } from "../_shared/user.ts";
import {
  ApiKey,
  CheckoutIntent,
  CreatedApiKey,
  CreatedPaymentIntent,
  Event,
  EVENT_TYPES,
  INTENT_STATUSES,
  PaymentIntent,
  PaymentRefund,
} from "./schemas.ts";
import { webhookEndpointRoutes } from "./webhook-endpoints.ts";

// A guest (no Hazina account) pays an intent with its client_secret and no token: the confirm
// (client_secret in the body) and the checkout read (`?client_secret=`) of one intent. Its
// Idempotency-Keys belong to `guest:<intent id>`; the database checks the secret.
const GUEST_ROUTE = /\/intents\/([0-9a-fA-F-]{36})(\/confirm)?$/;
function guestOwner(c: Context): string | undefined {
  const match = GUEST_ROUTE.exec(c.req.path);
  if (!match) return undefined;
  if (match[2] && c.req.method === "POST") return `guest:${match[1].toLowerCase()}`;
  if (!match[2] && c.req.method === "GET" && c.req.query("client_secret")) {
    return `guest:${match[1].toLowerCase()}`;
  }
  return undefined;
}

export const { app, docs } = createSignedInFunction(
  "payments",
  "Payments",
  "Payment intents paid from the customer's wallet and/or by M-Pesa STK push (automatic or manual capture), " +
    "guests paying by M-Pesa with the client_secret, cancels and refunds (the fee back in proportion); their " +
    "events; merchant API keys. See docs/payments.md.",
  { guest: guestOwner },
);

// The objects' one shapes are built in the database (public.*_json take the row); reads see
// only the rows RLS gives the caller: the merchant its own, the customer those it pays.
const INTENT: MoneyObject = {
  table: "payment_intents",
  json: "payment_intent_json",
  schema: PaymentIntent,
  noun: "payment intent",
  notFound: { code: "payment_intent_not_found", message: "Payment intent not found." },
};
const REFUND: MoneyObject = {
  table: "payment_refunds",
  json: "payment_refund_json",
  schema: PaymentRefund,
  noun: "refund",
  notFound: { code: "payment_refund_not_found", message: "Refund not found." },
};

// --- intents -----------------------------------------------------------------------------

const Metadata = z.record(z.string().min(1).max(40), z.string().max(500))
  .refine((m) => Object.keys(m).length <= 20, "at most 20 keys");

const CreateIntent = z.object({
  amount: Amount,
  currency: Currency.default("KES"),
  capture_method: z.enum(["automatic", "manual"]).default("automatic"),
  customer_id: Uuid.nullable().optional(),
  description: z.string().max(500).nullable().optional(),
  metadata: Metadata.optional(),
  expires_in_seconds: z.number().int().min(60).max(7 * 86400).optional(),
}).strict();

docs.route({
  method: "post",
  path: "/intents",
  summary: "Create a payment intent (merchant)",
  description:
    "Asks for `amount` into the merchant's wallet. The Idempotency-Key is the intent's ref. The reply that " +
    "creates it carries the `client_secret` (only its hash is kept): give it to a payer who is not `customer_id`. " +
    "Unpaid intents expire after `expires_in_seconds` (default 24 h).",
  auth: "bearer",
  idempotencyKey: "required",
  body: CreateIntent,
  bodyExample: {
    amount: "1000.00",
    currency: "KES",
    capture_method: "manual",
    description: "Order 17",
  },
  responses: {
    200: {
      description: "Replayed: the intent this Idempotency-Key created before (no client_secret).",
      schema: CreatedPaymentIntent,
    },
    201: { description: "Created, with its client_secret.", schema: CreatedPaymentIntent },
  },
  errors: [
    "currency_not_supported",
    "customer_not_found",
    "invalid_amount",
    "invalid_argument",
    "invalid_ref",
    "merchant_wallet_required",
    "ref_conflict",
  ],
});
app.post("/intents", idempotent(), async (c) => {
  const input = CreateIntent.parse(await c.req.json());
  const row = await userTx(c, async (tx) => {
    const [r] =
      await tx`select public.payment_intent_create(${input.amount}::numeric, ${input.currency},
      ${input.capture_method}, ${input.customer_id ?? null}::uuid, ${input.description ?? null},
      ${input.metadata ? tx.json(input.metadata as never) : null}::jsonb, ${
        input.expires_in_seconds ?? null
      }::integer,
      ${c.get("idempotencyKey")!}) as intent`;
    return r.intent as Record<string, unknown>;
  });
  const { body, status } = created(row);
  return c.json(body, status);
});

const IntentList = PageParams.extend({ status: z.enum(INTENT_STATUSES).optional() }).strict();

docs.route({
  method: "get",
  path: "/intents",
  summary: "List payment intents, newest first",
  description: "A merchant sees the intents it created, a customer those it pays.",
  auth: "bearer",
  query: IntentList,
  responses: { 200: { description: "A page of payment intents.", schema: listOf(PaymentIntent) } },
  errors: [],
});
app.get("/intents", async (c) => {
  const params = IntentList.parse(c.req.query());
  return c.json(
    await userTx(c, (tx) =>
      pageNewestFirst(
        tx,
        INTENT,
        params,
        params.status ? tx`o.status = ${params.status}` : undefined,
      )),
  );
});

const IntentRead = z.object({ client_secret: z.string().min(1).max(200).optional() }).strict();

docs.route({
  method: "get",
  path: "/intents/:id",
  summary:
    "One payment intent (its merchant or its customer), or its checkout view (?client_secret=)",
  description:
    "With a bearer token: the intent, as its merchant or customer sees it. With `?client_secret=` (no token " +
    "needed: a guest, the hosted checkout page): the restricted checkout view (`payment_intent_checkout`: " +
    "amount, status, the parts' progress, the last error's code; no merchant, wallet, customer, phone or " +
    "metadata), for polling while an M-Pesa part is `processing`.",
  auth: "optional",
  params: z.object({ id: Uuid }),
  query: IntentRead,
  responses: {
    200: {
      description: "The payment intent (or, with client_secret, its checkout view).",
      schema: z.union([PaymentIntent, CheckoutIntent]),
    },
  },
  errors: ["payment_intent_not_found"],
});
app.get("/intents/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const { client_secret } = IntentRead.parse(c.req.query());
  if (client_secret) return c.json(await checkoutView(c.var.requestId, id, client_secret));
  return c.json(await userTx(c, (tx) => readObject(tx, INTENT, id)));
});

/** The checkout view of an intent for whoever holds its client_secret (the database checks it). */
async function checkoutView(
  requestId: string,
  id: string,
  clientSecret: string,
): Promise<Record<string, unknown>> {
  const [row] = await asService(
    requestId,
    (tx) => tx`select hazina.payment_intent_checkout_json(${id}, ${clientSecret}) as intent`,
  );
  return row.intent as Record<string, unknown>;
}

const WalletSource = z.object({ type: z.literal("wallet"), wallet_id: Uuid, amount: Amount })
  .strict();
const MpesaSource = z.object({
  type: z.literal("mpesa"),
  phone: z.string().regex(
    /^254[17][0-9]{8}$/,
    "phone must be an M-Pesa number such as 254712345678",
  ),
  amount: Amount,
}).strict();
const ConfirmIntent = z.object({
  sources: z.array(z.discriminatedUnion("type", [WalletSource, MpesaSource])).min(1).max(10),
  client_secret: z.string().min(1).max(200).optional(),
}).strict();

/** Run a transition as the caller, then read the intent as they see it. */
function transition(
  c: Parameters<typeof userTx>[0],
  id: string,
  step: (tx: Tx) => Promise<unknown>,
) {
  return userTx(c, async (tx) => {
    await step(tx);
    return await readObject(tx, INTENT, id);
  });
}

docs.route({
  method: "post",
  path: "/intents/:id/confirm",
  summary:
    "Pay a payment intent (its customer, a signed-in payer or a guest with the client_secret)",
  description:
    "`sources` must add up to the amount. A wallet part holds the money on the payer's wallet: automatic " +
    "capture posts it to the merchant at once (`succeeded`); manual capture leaves it held (`requires_capture`, " +
    "for 7 days). An M-Pesa part (at most one; whole shillings; with at most one wallet part) sends an STK push " +
    "to `phone` after the database has committed: the intent is `processing` until M-Pesa confirms (callback " +
    "confirmed by a status query, or the sweep). For a signed-in payer the M-Pesa money tops up the wallet " +
    "(the wallet part's, or their wallet of the currency; no top-up fee) and is held like the wallet part, then " +
    "captured (automatic) or authorised (manual). A guest (no token, `client_secret` in the body) pays one " +
    "M-Pesa part of an automatic-capture intent, straight to the merchant. When a part fails (the prompt " +
    "cancelled: 1032, timeout, provider failure) every hold is released and the intent is back at " +
    "`requires_confirmation` with `last_payment_error` (`mpesa_cancelled`, `mpesa_timeout`, `mpesa_failed`); " +
    "money that did arrive stays in the customer's wallet. When the money cannot be held (`insufficient_funds`, " +
    "`wallet_not_active`) the attempt is recorded likewise and answered as that error. A guest's reply is the " +
    "checkout view (see GET /intents/:id).",
  auth: "optional",
  idempotencyKey: "required",
  params: z.object({ id: Uuid }),
  body: ConfirmIntent,
  bodyExample: {
    sources: [
      { type: "wallet", wallet_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff", amount: "500.00" },
      { type: "mpesa", phone: "254712345678", amount: "500" },
    ],
  },
  responses: {
    200: {
      description:
        "The intent: `succeeded` or `requires_capture` (wallet only), `processing` (an M-Pesa part on its way).",
      schema: z.union([PaymentIntent, CheckoutIntent]),
    },
  },
  errors: [
    "payment_intent_not_found",
    "intent_not_confirmable",
    "intent_expired",
    "sources_amount_mismatch",
    "wallet_not_found",
    "wallet_not_active",
    "insufficient_funds",
    "invalid_amount",
    "invalid_argument",
    "amount_outside_provider_limits",
    "currency_not_supported",
    "currency_mismatch",
    "fee_exceeds_amount",
    "provider_unavailable",
  ],
});
app.post("/intents/:id/confirm", idempotent(), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const input = ConfirmIntent.parse(await c.req.json());
  const guest = !c.var.claims;
  if (guest && !input.client_secret) {
    throw new ApiError(
      401,
      "unauthenticated",
      "Send a bearer access token, or the intent's client_secret.",
    );
  }
  // One transaction, committed before any provider call (a callback must never wait on our
  // locks): holds, the M-Pesa part's funding session, the intent `processing`.
  const confirm = async (tx: Tx) => {
    const [r] = guest
      ? await tx`select hazina.payment_intent_confirm(${id}, null, ${
        tx.json(input.sources as never)
      }::jsonb, ${input.client_secret!}) as intent`
      : await tx`select public.payment_intent_confirm(${id}, ${
        tx.json(input.sources as never)
      }::jsonb, ${input.client_secret ?? null}) as intent`;
    return r.intent as {
      payment_error?: { code: string; details?: Record<string, unknown> };
      mpesa?: { funding_session_id: string; amount: string; currency: string; msisdn: string };
    };
  };
  const row = guest ? await asService(c.var.requestId, confirm) : await userTx(c, confirm);
  // A failed attempt was recorded (last_payment_error, committed above); answer it as its error.
  if (row.payment_error) {
    const failure = row.payment_error;
    const [status, message] = DATABASE_CODES[failure.code] ?? [409, "The payment failed."];
    throw new ApiError(status, failure.code, message, {
      ...failure.details,
      payment_intent_id: id,
    });
  }
  if (row.mpesa) {
    // The STK push, after the commit; its answer is committed on its own (accepted → the
    // checkout id; refused → failed; unreachable → expired), which settles the intent's part.
    const session: FundingRow & { msisdn: string; description: string } = {
      id: row.mpesa.funding_session_id,
      provider: "mpesa",
      source_id: "",
      amount: row.mpesa.amount,
      currency: row.mpesa.currency,
      msisdn: row.mpesa.msisdn,
      description: "Payment",
    };
    await submitFunding(session, c.var.requestId);
  }
  if (guest) return c.json(await checkoutView(c.var.requestId, id, input.client_secret!));
  return c.json(await userTx(c, (tx) => readObject(tx, INTENT, id)));
});

const CaptureIntent = z.object({ amount: Amount.optional() }).strict();

docs.route({
  method: "post",
  path: "/intents/:id/capture",
  summary: "Capture a manual-capture intent (merchant)",
  description:
    "Posts `amount` (default: all that is capturable) to the merchant, less its fee, and releases the rest. " +
    "Capturing a succeeded intent again with the same amount returns it unchanged.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: Uuid }),
  body: CaptureIntent,
  bodyOptional: true,
  bodyExample: { amount: "800.00" },
  responses: { 200: { description: "The intent, now `succeeded`.", schema: PaymentIntent } },
  errors: [
    "payment_intent_not_found",
    "intent_not_capturable",
    "intent_expired",
    "capture_exceeds_authorized",
    "invalid_amount",
    "fee_exceeds_amount",
  ],
});
app.post("/intents/:id/capture", idempotent(), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const input = CaptureIntent.parse(await optionalBody(c.req));
  return c.json(
    await transition(
      c,
      id,
      (tx) => tx`select public.payment_intent_capture(${id}, ${input.amount ?? null}::numeric)`,
    ),
  );
});

const CancelIntent = z.object({ reason: z.string().min(1).max(500).optional() }).strict();

docs.route({
  method: "post",
  path: "/intents/:id/cancel",
  summary: "Cancel an unpaid or uncaptured intent (merchant)",
  description: "Releases every hold. Canceling a canceled intent returns it unchanged.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: Uuid }),
  body: CancelIntent,
  bodyOptional: true,
  bodyExample: { reason: "out of stock" },
  responses: { 200: { description: "The intent, now `canceled`.", schema: PaymentIntent } },
  errors: ["payment_intent_not_found", "intent_not_cancelable"],
});
app.post("/intents/:id/cancel", idempotent(), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const input = CancelIntent.parse(await optionalBody(c.req));
  return c.json(
    await transition(
      c,
      id,
      (tx) => tx`select public.payment_intent_cancel(${id}, ${input.reason ?? null})`,
    ),
  );
});

// --- refunds -----------------------------------------------------------------------------

const CreateRefund = z.object({
  payment_intent_id: Uuid,
  amount: Amount.optional(),
  reason: z.string().min(1).max(500).optional(),
}).strict();

docs.route({
  method: "post",
  path: "/refunds",
  summary: "Refund a succeeded intent, fully or partly (merchant)",
  description:
    "Moves `amount` (default: all not yet refunded) back from the merchant's wallet to the payer's, as one " +
    "reversal of the capture, with the merchant's fee in proportion (`fee_refunded` = round(fee × amount / " +
    "amount_received), half away from zero to the currency's minor units, never above what is left of the fee; " +
    "the refund that completes the intent gets the rest of it). Refunds never exceed what was captured " +
    "(pending refunds count). A guest's M-Pesa payment goes back by B2C payout to the phone that paid: the refund " +
    "is `pending` (the whole amount held on the merchant's wallet, sent to M-Pesa after this commits), then " +
    "`succeeded` (paid out; the fee share comes back) or `failed` (nothing moved; the amount may be refunded " +
    "again), with the events payment_refund.succeeded / payment_refund.failed. Not enough available money for " +
    "the whole amount: `refund_insufficient_funds`, nothing moves. A guest's payment of an invoice is refunded " +
    "the same way: the invoice is owed the amount again at once (open again); if the payout fails the invoice " +
    "counts it as paid again (`invoice.refund_failed`; paid again when nothing is due). Until the refund settles " +
    "the invoice takes no payment (`invoice_refund_pending`); a refund while one of its payments is on its way " +
    "is refused (`invoice_payment_in_progress`). Orders and installment plans are paid by signed-in customers " +
    "only (`refund_not_supported` otherwise). " +
    "The Idempotency-Key is the refund's ref.",
  auth: "bearer",
  idempotencyKey: "required",
  body: CreateRefund,
  bodyExample: {
    payment_intent_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff",
    amount: "200.00",
    reason: "damaged",
  },
  responses: {
    200: {
      description: "Replayed: the refund this Idempotency-Key created before.",
      schema: PaymentRefund,
    },
    201: {
      description: "Refunded (a guest's refund: `pending` until its payout settles).",
      schema: PaymentRefund,
    },
  },
  errors: [
    "payment_intent_not_found",
    "intent_not_refundable",
    "refund_exceeds_captured",
    "refund_not_supported",
    "refund_insufficient_funds",
    "invoice_payment_in_progress",
    "amount_outside_provider_limits",
    "insufficient_funds",
    "invalid_amount",
    "invalid_ref",
    "ref_conflict",
    "wallet_not_active",
  ],
});
app.post("/refunds", idempotent(), async (c) => {
  const input = CreateRefund.parse(await c.req.json());
  // A guest's refund is a payout: its B2C request goes after this commits (never inside a
  // transaction); an unknown outcome is left to the callback and the sweep.
  const { body, status } = await createThenSend<
    {
      id: string;
      created: boolean;
      status: string;
      payout_id: string | null;
      amount: string;
      currency: string;
    }
  >(
    c,
    REFUND,
    async (tx) => {
      const [r] = await tx`select public.payment_refund_create(${input.payment_intent_id}, ${
        input.amount ?? null
      }::numeric,
      ${input.reason ?? null}, ${c.get("idempotencyKey")!}) as refund`;
      return r.refund;
    },
    async (refund, requestId) => {
      if (refund.status !== "pending" || !refund.payout_id) return;
      await submitWithdrawal({
        id: refund.payout_id,
        provider: "mpesa",
        source_id: null,
        amount: refund.amount,
        currency: refund.currency,
      }, requestId);
    },
  );
  return c.json(body, status);
});

const RefundList = PageParams.extend({ payment_intent_id: Uuid.optional() }).strict();

docs.route({
  method: "get",
  path: "/refunds",
  summary: "List refunds, newest first (of one intent with payment_intent_id)",
  description: "A merchant sees the refunds it made, a customer those paid back to it.",
  auth: "bearer",
  query: RefundList,
  responses: { 200: { description: "A page of refunds.", schema: listOf(PaymentRefund) } },
  errors: [],
});
app.get("/refunds", async (c) => {
  const params = RefundList.parse(c.req.query());
  return c.json(
    await userTx(c, (tx) =>
      pageNewestFirst(
        tx,
        REFUND,
        params,
        params.payment_intent_id
          ? tx`o.payment_intent_id = ${params.payment_intent_id}`
          : undefined,
      )),
  );
});

docs.route({
  method: "get",
  path: "/refunds/:id",
  summary: "One refund (its merchant or its customer)",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The refund.", schema: PaymentRefund } },
  errors: ["payment_refund_not_found"],
});
app.get("/refunds/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(await userTx(c, (tx) => readObject(tx, REFUND, id)));
});

// --- merchant API keys -------------------------------------------------------------------

const API_KEY: MoneyObject = {
  table: "api_keys",
  json: "api_key_json",
  schema: ApiKey,
  noun: "API key",
  notFound: { code: "api_key_not_found", message: "API key not found." },
};

const CreateApiKey = z.object({ name: z.string().min(1).max(100) }).strict();

docs.route({
  method: "post",
  path: "/api-keys",
  summary: "Create a merchant API key (merchant)",
  description:
    "`Authorization: Bearer <key>` then works on every merchant endpoint of every function, as the merchant " +
    "(never with admin powers). The reply that creates it carries the `secret`, once: only its hash is kept. The " +
    "Idempotency-Key is the key's ref: repeating it returns the key without its secret (200), so the secret is never " +
    "stored for replay. `hz_live_` keys in production, `hz_test_` elsewhere.",
  auth: "bearer",
  idempotencyKey: "required",
  body: CreateApiKey,
  bodyExample: { name: "shop backend" },
  responses: {
    200: {
      description: "The key this Idempotency-Key created before (no secret).",
      schema: CreatedApiKey,
    },
    201: { description: "Created, with its secret.", schema: CreatedApiKey },
  },
  errors: [
    "api_keys_merchants_only",
    "idempotency_key_required",
    "invalid_idempotency_key",
    "invalid_argument",
    "ref_conflict",
  ],
});
app.post("/api-keys", async (c) => {
  // Not idempotent(): its replay record would keep the secret for 24 h. The key's own
  // (user, client_ref) makes the create idempotent instead.
  const ref = requiredIdempotencyKey(c);
  const input = CreateApiKey.parse(await c.req.json());
  const mode = config().HAZINA_ENV === "production" ? "live" : "test";
  const row = await userTx(c, async (tx) => {
    const [r] = await tx`select public.api_key_create(${input.name}, ${mode}, ${ref}) as key`;
    return r.key as Record<string, unknown>;
  });
  const { body, status } = created(row);
  return c.json(body, status);
});

docs.route({
  method: "get",
  path: "/api-keys",
  summary: "List my API keys (by prefix), newest first",
  auth: "bearer",
  query: PageParams,
  responses: { 200: { description: "A page of API keys.", schema: listOf(ApiKey) } },
  errors: [],
});
app.get("/api-keys", async (c) => {
  const params = PageParams.parse(c.req.query());
  return c.json(await userTx(c, (tx) => pageNewestFirst(tx, API_KEY, params)));
});

docs.route({
  method: "delete",
  path: "/api-keys/:id",
  summary: "Revoke one of my API keys, at once",
  auth: "bearer",
  idempotencyKey: "optional",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The key, now `revoked`.", schema: ApiKey } },
  errors: ["api_key_not_found"],
});
app.delete("/api-keys/:id", idempotent({ required: false }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(
    await userTx(c, async (tx) => {
      await tx`select public.api_key_revoke(${id})`;
      return await readObject(tx, API_KEY, id);
    }),
  );
});

// --- events ------------------------------------------------------------------------------

const EVENT: MoneyObject = {
  table: "events",
  json: "event_json",
  schema: Event,
  noun: "event",
  notFound: { code: "event_not_found", message: "Event not found." },
};

const EventList = PageParams.extend({ type: z.enum(EVENT_TYPES).optional() }).strict();

docs.route({
  method: "get",
  path: "/events",
  summary: "List my events (merchant), newest first",
  auth: "bearer",
  query: EventList,
  responses: { 200: { description: "A page of events.", schema: listOf(Event) } },
  errors: [],
});
app.get("/events", async (c) => {
  const params = EventList.parse(c.req.query());
  return c.json(
    await userTx(
      c,
      (tx) =>
        pageNewestFirst(tx, EVENT, params, params.type ? tx`o.type = ${params.type}` : undefined),
    ),
  );
});

docs.route({
  method: "get",
  path: "/events/:id",
  summary: "One of my events",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The event.", schema: Event } },
  errors: ["event_not_found"],
});
app.get("/events/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(await userTx(c, (tx) => readObject(tx, EVENT, id)));
});

// --- merchant webhook endpoints (webhook-endpoints.ts) ---------------------------------
webhookEndpointRoutes(app, docs);
