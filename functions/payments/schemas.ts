// Response shapes of the payments function, for its OpenAPI document. They are the shapes
// public.payment_intent_json and public.payment_refund_json build
// (tests/functions/money-objects.test.ts keeps them equal).
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";

const Timestamp = z.iso.datetime({ offset: true });

export const INTENT_STATUSES = [
  "requires_confirmation",
  "processing",
  "requires_capture",
  "succeeded",
  "canceled",
] as const;

const WalletIntentSource = z.object({
  type: z.literal("wallet"),
  wallet_id: z.guid(),
  amount: Money,
  hold_id: z.guid().describe("The hold on the payer's wallet this part reserved."),
});

const MpesaIntentSource = z.object({
  type: z.literal("mpesa"),
  wallet_id: z.guid().nullable().describe(
    "The customer's wallet the M-Pesa money tops up (null for a guest: it goes to the payee).",
  ),
  amount: Money,
  hold_id: z.guid().nullable().describe(
    "The hold on the customer's wallet once the money arrived (a guest's part never has one).",
  ),
  phone: z.string().describe("The paying phone, masked (`2547******78`)."),
  funding_session_id: z.guid().describe("The STK push (a funding session linked to the intent)."),
  funding_status: z.enum(["pending", "completed", "failed", "cancelled", "expired"]),
});

export const IntentSource = named(
  "PaymentIntentSource",
  z.discriminatedUnion("type", [WalletIntentSource, MpesaIntentSource]),
  "One part of the funding plan the payer confirmed (its latest attempt).",
);

export const PaymentIntent = named(
  "PaymentIntent",
  z.object({
    id: z.guid(),
    object: z.literal("payment_intent"),
    merchant_id: z.guid(),
    payee_wallet_id: z.guid(),
    customer_id: z.guid().nullable().describe(
      "Null until paid when the intent is for anyone holding its client_secret.",
    ),
    amount: Money,
    currency: z.string(),
    status: z.enum(INTENT_STATUSES),
    capture_method: z.enum(["automatic", "manual"]),
    amount_capturable: Money,
    amount_received: Money,
    amount_refunded: Money,
    description: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    subject_type: z.enum(["invoice", "order", "installment", "qr_code"]).nullable(),
    subject_id: z.guid().nullable(),
    sources: z.array(IntentSource),
    last_payment_error: z.record(z.string(), z.unknown()).nullable()
      .describe(
        "The last attempt that failed: `{code, details, occurred_at}` (e.g. `insufficient_funds`, or for an " +
          "M-Pesa part `mpesa_cancelled` (1032), `mpesa_timeout`, `mpesa_failed`); null once paid.",
      ),
    capture_transaction_id: z.guid().nullable(),
    expires_at: Timestamp,
    confirmed_at: Timestamp.nullable(),
    succeeded_at: Timestamp.nullable(),
    canceled_at: Timestamp.nullable(),
    cancellation_reason: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A payment intent: requires_confirmation → (processing) → requires_capture → succeeded | canceled.",
);

export const CreatedPaymentIntent = named(
  "CreatedPaymentIntent",
  PaymentIntent.extend({
    client_secret: z.string().optional().describe(
      "Only in the reply that created the intent (the database keeps its hash): give it to the payer.",
    ),
  }),
  "A payment intent as its create answers it.",
);

export const CheckoutIntent = named(
  "PaymentIntentCheckout",
  z.object({
    id: z.guid(),
    object: z.literal("payment_intent_checkout"),
    amount: Money,
    currency: z.string(),
    status: z.enum(INTENT_STATUSES),
    capture_method: z.enum(["automatic", "manual"]),
    amount_received: Money,
    description: z.string().nullable(),
    for_customer: z.boolean().describe(
      "The intent is for one signed-in customer (a guest cannot pay it).",
    ),
    sources: z.array(z.object({
      type: z.enum(["wallet", "mpesa"]),
      amount: Money,
      funding_status: z.string().nullable(),
    })),
    last_payment_error: z.object({ code: z.string(), occurred_at: z.string() }).nullable(),
    expires_at: Timestamp,
    succeeded_at: Timestamp.nullable(),
    canceled_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "What a payer holding only the client_secret sees of an intent (the hosted checkout page): no merchant, " +
    "wallet, customer, phone or metadata.",
);

export const PaymentRefund = named(
  "PaymentRefund",
  z.object({
    id: z.guid(),
    object: z.literal("payment_refund"),
    payment_intent_id: z.guid(),
    amount: Money,
    fee_refunded: Money.describe(
      "The merchant's fee given back with this refund: round(fee × amount / amount_received), half away " +
        "from zero to the currency's minor units; the refund that completes the intent takes the rest of the fee.",
    ),
    currency: z.string(),
    reason: z.string().nullable(),
    status: z.enum(["pending", "succeeded", "failed"]).describe(
      "A refund to a wallet is `succeeded` at once. A guest's refund (B2C payout to the phone that paid) is " +
        "`pending` until M-Pesa pays it (`succeeded`) or does not (`failed`: nothing moved, fee_refunded 0).",
    ),
    transaction_id: z.guid().nullable().describe(
      "The reversal of the intent's capture; for a guest's refund, its posted payout (null until it succeeds).",
    ),
    payout_id: z.guid().nullable().describe(
      "A guest's refund: its payout (a withdrawal from the merchant's wallet to the paying phone).",
    ),
    failure_code: z.string().nullable().describe("Why the payout failed (M-Pesa's result code)."),
    failure_reason: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A refund of a succeeded payment intent: principal back to the payer (a guest's by B2C payout to the phone that " +
    "paid), and the merchant's fee in proportion.",
);

export const ApiKey = named(
  "ApiKey",
  z.object({
    id: z.guid(),
    object: z.literal("api_key"),
    name: z.string(),
    mode: z.enum(["test", "live"]),
    prefix: z.string().describe(
      "The first characters of the key, to tell keys apart; the key itself is shown once.",
    ),
    status: z.enum(["active", "revoked"]),
    last_used_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A merchant API key, by its prefix.",
);

export const CreatedApiKey = named(
  "CreatedApiKey",
  ApiKey.extend({
    secret: z.string().optional().describe(
      "The key (`hz_test_…` / `hz_live_…`), only in the reply that created it.",
    ),
  }),
  "A merchant API key as its create answers it.",
);

export const EVENT_TYPES = [
  "payment_intent.created",
  "payment_intent.processing",
  "payment_intent.requires_confirmation",
  "payment_intent.requires_capture",
  "payment_intent.succeeded",
  "payment_intent.canceled",
  "payment_intent.payment_failed",
  "payment_refund.created",
  "payment_refund.succeeded", // a guest's refund: its payout was paid
  "payment_refund.failed", // a guest's refund: its payout failed, nothing moved
  // orders and goods escrow (docs/commerce.md)
  "order.created",
  "order.paid",
  "order.fulfilled",
  "order.delivered",
  "order.completed",
  "order.canceled",
  "order.partially_refunded",
  "order.refunded",
  "escrow.funded",
  "escrow.dispatched",
  "escrow.delivered",
  "escrow.disputed",
  "escrow.released",
  "escrow.refunded",
  "escrow.split",
  "escrow.resolved",
  // QR codes (database/migrations/*_qr_codes.sql, docs/checkout.md)
  "qr_code.created",
  "qr_code.updated",
  "qr_code.active",
  "qr_code.disabled",
  "qr_code.expired",
  "qr_code.exhausted",
  "qr_code.used",
  // invoices (functions/invoices, docs/invoices.md)
  "invoice.created",
  "invoice.updated",
  "invoice.deleted",
  "invoice.finalized",
  "invoice.partially_paid",
  "invoice.paid",
  "invoice.payment_refunded",
  "invoice.refund_failed",
  "invoice.marked_uncollectible",
  "invoice.voided",
  "invoice.overdue",
] as const;

export const Event = named(
  "Event",
  z.object({
    id: z.guid(),
    object: z.literal("event"),
    type: z.string().describe(`One of ${EVENT_TYPES.join(", ")}.`),
    // The object types public.events allows (commerce foundation migration).
    object_type: z.enum([
      "payment_intent",
      "payment_refund",
      "invoice",
      "order",
      "goods_escrow",
      "installment",
      "qr_code",
    ]),
    object_id: z.guid(),
    data: z.record(z.string(), z.unknown()).describe("The object's shape when it happened."),
    created_at: Timestamp,
  }),
  "Something that happened to one of the merchant's objects, written in the same transaction as the change.",
);
