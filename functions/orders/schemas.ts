// Response shapes of the orders function, for its OpenAPI document. They are the shapes
// public.order_json and public.goods_escrow_json build (tests/functions/money-objects.test.ts
// keeps them equal).
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";
import { Installment } from "../installments/schemas.ts";
import { CreatedPaymentIntent } from "../payments/schemas.ts";

const Timestamp = z.iso.datetime({ offset: true });

export const ORDER_STATUSES = [
  "pending_payment",
  "paid",
  "fulfilled",
  "completed",
  "canceled",
  "refunded",
] as const;

export const ESCROW_STATUSES = [
  "funded",
  "dispatched",
  "delivered",
  "disputed",
  "released",
  "refunded",
  "split",
] as const;

export const GoodsEscrow = named(
  "GoodsEscrow",
  z.object({
    id: z.guid(),
    object: z.literal("goods_escrow"),
    order_id: z.guid(),
    merchant_id: z.guid(),
    customer_id: z.guid(),
    amount: Money.describe("What the buyer paid into escrow."),
    currency: z.string(),
    status: z.enum(ESCROW_STATUSES),
    released_amount: Money.describe("Paid to the merchant (before its escrow_release fee)."),
    refunded_amount: Money.describe("Returned to the buyer."),
    held_amount: Money.describe("Still in escrow: amount - released - refunded."),
    auto_release_at: Timestamp.nullable().describe(
      "When the money goes to the merchant unless the buyer confirms or disputes first (set on delivery).",
    ),
    dispatched_at: Timestamp.nullable(),
    delivered_at: Timestamp.nullable(),
    disputed_at: Timestamp.nullable(),
    dispute_reason: z.string().nullable(),
    resolution: z.enum(["release", "refund", "split"]).nullable(),
    resolution_note: z.string().nullable(),
    resolved_by: z.guid().nullable(),
    resolved_at: Timestamp.nullable(),
    released_at: Timestamp.nullable(),
    refunded_at: Timestamp.nullable(),
    release_transaction_id: z.guid().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "Goods escrow: funded → dispatched → delivered → released; disputed → released | refunded | split (an admin).",
);

export const OrderItem = named(
  "OrderItem",
  z.object({
    id: z.guid(),
    product_id: z.guid(),
    name: z.string(),
    sku: z.string(),
    unit_price: Money,
    quantity: z.number().int(),
    line_total: Money,
    refunded_quantity: z.number().int(),
  }),
  "One line of an order: a snapshot of the product when the order was placed.",
);

export const Order = named(
  "Order",
  z.object({
    id: z.guid(),
    object: z.literal("order"),
    shop_id: z.guid(),
    merchant_id: z.guid(),
    customer_id: z.guid(),
    status: z.enum(ORDER_STATUSES),
    currency: z.string(),
    total: Money,
    amount_paid: Money,
    amount_refunded: Money,
    escrow: z.boolean(),
    payment_intent_id: z.guid().nullable(),
    shipping: z.record(z.string(), z.unknown()),
    items: z.array(OrderItem),
    goods_escrow: GoodsEscrow.nullable(),
    paid_at: Timestamp.nullable(),
    fulfilled_at: Timestamp.nullable(),
    delivered_at: Timestamp.nullable(),
    completed_at: Timestamp.nullable(),
    canceled_at: Timestamp.nullable(),
    cancellation_reason: z.string().nullable(),
    refunded_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "An order: pending_payment → paid → fulfilled → completed; canceled; refunded.",
);

export const CreatedOrder = named(
  "CreatedOrder",
  Order.extend({
    payment_intent: CreatedPaymentIntent.describe(
      "The order's payment intent: the customer pays it with POST /payments/intents/{id}/confirm.",
    ),
    // (additive: an order placed with `installments`; the intent above is then the deposit's)
    installment: Installment.optional().describe(
      "The installment plan, when the order was placed with `installments` (payment_intent is its deposit).",
    ),
  }),
  "An order as POST /orders answers it, with its payment intent.",
);
