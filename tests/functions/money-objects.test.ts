// The money-object pattern: an object's API shape is built by one SQL function that takes
// its row (public.*_json), used by SQL replies and by the edge alike. Here each shape is held
// to the zod schema the OpenAPI document publishes: the same keys, and every value parses,
// so neither side can drift from the other.
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { FundingSession, Source } from "../../functions/funding/schemas.ts";
import { ApiKey, Event, PaymentIntent, PaymentRefund } from "../../functions/payments/schemas.ts";
import { Withdrawal } from "../../functions/withdrawals/schemas.ts";
import { GoodsEscrow, Order } from "../../functions/orders/schemas.ts";
import { Product, Shop } from "../../functions/shops/schemas.ts";
import { admin } from "../helpers/db.ts";

const now = "2026-12-01T09:15:30.123456+00:00";
const ids = {
  id: "11111111-1111-4111-8111-111111111111",
  user_id: "22222222-2222-4222-8222-222222222222",
  wallet_id: "33333333-3333-4333-8333-333333333333",
  source_id: "44444444-4444-4444-8444-444444444444",
  hold_id: "55555555-5555-4555-8555-555555555555",
};

/** The shape `fn` builds for a row made from `fields` (no table is read or written). */
async function shape(fn: string, table: string, fields: Record<string, unknown>) {
  const [row] = await admin.unsafe(
    `select public.${fn}(jsonb_populate_record(null::public.${table}, $1::jsonb)) as json`,
    [fields as never],
  );
  return row.json as Record<string, unknown>;
}

function expectSameShape(schema: z.ZodObject, json: Record<string, unknown>) {
  expect(Object.keys(json).sort()).toEqual(Object.keys(schema.shape).sort());
  expect(schema.strict().safeParse(json).error?.issues ?? []).toEqual([]);
}

describe("money objects: one shape, from the database", () => {
  it("a payment source", async () => {
    const json = await shape("wallet_source_json", "wallet_sources", {
      ...ids, provider: "mpesa", kind: "mobile_money", msisdn: "254712345678", is_default: true, verification_status: "verified",
      status: "active", created_at: now, updated_at: now,
    });
    expectSameShape(Source as unknown as z.ZodObject, json);
    // Times come out exactly as the edge's JavaScript would write them.
    expect(json.created_at).toBe("2026-12-01T09:15:30.123Z");
  });

  it("a funding session", async () => {
    const json = await shape("funding_session_json", "wallet_funding_sessions", {
      ...ids, provider: "mpesa", channel: "stk_push", amount: "1000.5000", fee: "10.0100", currency: "KES",
      status: "pending", expires_at: now, created_at: now, updated_at: now,
    });
    expectSameShape(FundingSession as unknown as z.ZodObject, json);
    expect(json.amount).toBe("1000.5000");
  });

  it("a withdrawal", async () => {
    const json = await shape("withdrawal_json", "wallet_withdrawals", {
      ...ids, provider: "kcb", amount: "250.0000", fee: "15.0000", currency: "KES", status: "processing",
      provider_request_id: ids.id, submitted_at: now, expires_at: now, created_at: now, updated_at: now,
    });
    expectSameShape(Withdrawal as unknown as z.ZodObject, json);
    expect(json.submitted).toBe(true);
  });

  it("a payment intent", async () => {
    const json = await shape("payment_intent_json", "payment_intents", {
      ...ids, merchant_id: ids.user_id, payee_wallet_id: ids.wallet_id, amount: "400.0000", currency: "KES",
      status: "requires_capture", capture_method: "manual", amount_capturable: "400.0000", amount_received: "0.0000",
      amount_refunded: "0.0000", metadata: {}, client_secret_hash: "x", client_ref: "k", expires_at: now, confirmed_at: now,
      created_at: now, updated_at: now,
    });
    expectSameShape(PaymentIntent as unknown as z.ZodObject, json);
    expect(json).not.toHaveProperty("client_secret_hash");
  });

  it("a payment refund", async () => {
    const json = await shape("payment_refund_json", "payment_refunds", {
      ...ids, payment_intent_id: ids.id, merchant_id: ids.user_id, amount: "100.0000", currency: "KES", status: "succeeded",
      transaction_id: ids.hold_id, client_ref: "k", created_at: now, updated_at: now,
    });
    expectSameShape(PaymentRefund as unknown as z.ZodObject, json);
  });

  it("an API key (never its hash)", async () => {
    const json = await shape("api_key_json", "api_keys", {
      ...ids, name: "shop backend", mode: "test", prefix: "hz_test_0123abcd", key_hash: "0".repeat(64), client_ref: "k",
      created_at: now, updated_at: now,
    });
    expectSameShape(ApiKey as unknown as z.ZodObject, json);
    expect(JSON.stringify(json)).not.toContain("0".repeat(64));
  });

  it("an event", async () => {
    const json = await shape("event_json", "events", {
      ...ids, merchant_id: ids.user_id, type: "payment_intent.succeeded", object_type: "payment_intent", object_id: ids.id,
      data: { status: "succeeded" }, created_at: now,
    });
    expectSameShape(Event as unknown as z.ZodObject, json);
  });

  it("a shop, a product, an order and its goods escrow", async () => {
    const shop = await shape("shop_json", "shops", {
      ...ids, merchant_id: ids.user_id, name: "Duka", slug: "duka", currency: "KES", status: "active", escrow_policy: "optional",
      auto_release_days: 7, created_at: now, updated_at: now,
    });
    expectSameShape(Shop as unknown as z.ZodObject, shop);
    const product = await shape("product_json", "products", {
      ...ids, shop_id: ids.id, name: "Radio", sku: "RADIO", price: "1000.0000", stock: null, active: true, created_at: now,
      updated_at: now,
    });
    expectSameShape(Product as unknown as z.ZodObject, { ...product, currency: "KES" });
    expect(product.unlimited).toBe(true);
    const order = await shape("order_json", "orders", {
      ...ids, shop_id: ids.id, merchant_id: ids.user_id, customer_id: ids.user_id, status: "paid", currency: "KES", total: "10.0000",
      amount_paid: "10.0000", amount_refunded: "0.0000", escrow: true, shipping: {}, client_ref: "k", paid_at: now, created_at: now,
      updated_at: now,
    });
    expectSameShape(Order as unknown as z.ZodObject, order);
    const escrow = await shape("goods_escrow_json", "goods_escrows", {
      ...ids, order_id: ids.id, merchant_id: ids.user_id, customer_id: ids.user_id, currency: "KES", amount: "10.0000",
      status: "funded", released_amount: "0.0000", refunded_amount: "0.0000", created_at: now, updated_at: now,
    });
    expectSameShape(GoodsEscrow as unknown as z.ZodObject, escrow);
    expect(escrow.held_amount).toBe("10.0000");
  });
});
