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

export const IntentSource = named(
  "PaymentIntentSource",
  z.object({
    type: z.enum(["wallet"]),
    wallet_id: z.guid(),
    amount: Money,
    hold_id: z.guid().describe("The hold on the payer's wallet this part reserved."),
  }),
  "One part of the funding plan the payer confirmed.",
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
        "The last confirm whose money could not be held: `{code, details, occurred_at}`; null once paid.",
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

export const PaymentRefund = named(
  "PaymentRefund",
  z.object({
    id: z.guid(),
    object: z.literal("payment_refund"),
    payment_intent_id: z.guid(),
    amount: Money,
    currency: z.string(),
    reason: z.string().nullable(),
    status: z.enum(["succeeded"]),
    transaction_id: z.guid().describe("The reversal of the intent's capture."),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A refund of a succeeded payment intent: principal back to the payer; the merchant's fee is not returned.",
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
  "payment_intent.requires_capture",
  "payment_intent.succeeded",
  "payment_intent.canceled",
  "payment_intent.payment_failed",
  "payment_refund.created",
  // invoices (functions/invoices, docs/invoices.md)
  "invoice.created",
  "invoice.updated",
  "invoice.deleted",
  "invoice.finalized",
  "invoice.partially_paid",
  "invoice.paid",
  "invoice.payment_refunded",
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
