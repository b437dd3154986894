// Response shapes of the installments function, for its OpenAPI document. They are the
// shapes public.installment_json (with public.installment_schedule_json) and
// public.shop_installment_settings_json build (tests/functions/installments.test.ts holds
// the two equal).
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";
import { PaymentIntent } from "../payments/schemas.ts";

const Timestamp = z.iso.datetime({ offset: true });

export const INSTALLMENT_STATUSES = ["active", "completed", "defaulted", "canceled"] as const;
export const INTERVALS = ["day", "week", "month"] as const;

export const InstallmentScheduleRow = named(
  "InstallmentScheduleRow",
  z.object({
    seq: z.number().int().describe("0 is the deposit; 1..count the payments."),
    kind: z.enum(["deposit", "installment"]),
    due_at: Timestamp,
    amount: Money,
    late_fee: Money.describe(
      "Charged once, when the row is still unpaid `grace_days` after it fell due.",
    ),
    amount_paid: Money,
    amount_waived: Money,
    amount_due: Money.describe("amount + late_fee - amount_paid - amount_waived."),
    status: z.enum(["pending", "paid", "late", "waived"]),
    paid_intent_id: z.guid().nullable().describe("The payment intent that settled the row."),
    paid_at: Timestamp.nullable(),
    late_at: Timestamp.nullable(),
    late_fee_charged_at: Timestamp.nullable(),
    missed_at: Timestamp.nullable().describe(
      "When its grace period ended unpaid (a missed payment).",
    ),
    waived_at: Timestamp.nullable(),
  }),
  "One due payment of an installment plan.",
);

export const Installment = named(
  "Installment",
  z.object({
    id: z.guid(),
    object: z.literal("installment"),
    order_id: z.guid(),
    shop_id: z.guid(),
    merchant_id: z.guid(),
    customer_id: z.guid(),
    currency: z.string(),
    total_amount: Money,
    deposit_amount: Money,
    count: z.number().int(),
    interval: z.enum(INTERVALS),
    installment_amount: Money.describe(
      "Each payment; the last carries the rounding remainder (see the schedule).",
    ),
    status: z.enum(INSTALLMENT_STATUSES),
    auto_collect: z.boolean(),
    grace_days: z.number().int(),
    late_fee_rule: z.object({ enabled: z.boolean(), transaction_type: z.string() }),
    missed_payments_to_default: z.number().int(),
    cancellation_fee_rule: z.object({
      bps: z.number().int(),
      fixed: Money,
      max_bps: z.number().int(),
    }),
    amount_paid: Money,
    late_fees: Money,
    amount_waived: Money,
    amount_outstanding: Money,
    amount_refunded: Money,
    amount_released: Money,
    cancellation_fee: Money.nullable(),
    missed_count: z.number().int(),
    deposit_intent_id: z.guid().nullable(),
    next_due_at: Timestamp.nullable(),
    starts_at: Timestamp,
    completed_at: Timestamp.nullable(),
    defaulted_at: Timestamp.nullable(),
    canceled_at: Timestamp.nullable(),
    cancellation_reason: z.string().nullable(),
    schedule: z.array(InstallmentScheduleRow),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A lay-by plan: a deposit and equal payments into escrow; the merchant is paid when it completes.",
);

export const InstallmentPayment = named(
  "InstallmentPayment",
  z.object({
    installment: Installment,
    payment_intent: PaymentIntent.extend({ client_secret: z.string().optional() }),
  }),
  "A payment toward a plan: the plan as it is now and the payment intent that carries the money.",
);

export const ShopInstallmentSettings = named(
  "ShopInstallmentSettings",
  z.object({
    object: z.literal("shop_installment_settings"),
    shop_id: z.guid(),
    allowed: z.boolean(),
    max_count: z.number().int(),
    intervals: z.array(z.enum(INTERVALS)),
    min_deposit_bps: z.number().int(),
    grace_days: z.number().int(),
    late_fee_enabled: z.boolean(),
    late_fee_transaction_type: z.string(),
    cancellation_fee_bps: z.number().int(),
    cancellation_fee_fixed: Money,
    max_cancellation_fee_bps: z.number().int(),
    missed_payments_to_default: z.number().int(),
    updated_at: Timestamp,
  }),
  "A shop's installment policy; plans keep the policy they were made under.",
);
