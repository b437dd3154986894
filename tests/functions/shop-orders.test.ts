// Shops, products and orders through the shops, orders and ops functions over the real HTTP
// server: the walk-through of docs/commerce.md (open a shop, list products, the public
// storefront without a token, order with escrow, pay, dispatch, deliver, confirm → released),
// a direct order refunded in part, a dispute resolved by an admin (split), and the refusals.
// Every answer's money is checked against the wallets and the books reconcile.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createClient } from "@supabase/supabase-js";
import WebSocket from "ws";
import { app as ordersApp } from "../../functions/orders/app.ts";
import { app as shopsApp } from "../../functions/shops/app.ts";
import { admin, createUser } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { appCaller, type Caller, httpCaller, idempotencyKey as key, readResponse } from "../helpers/request.ts";
import { accessToken } from "../helpers/tokens.ts";

const base = () => `${inject("edgeBaseUrl")}/functions/v1`;
const shops = httpCaller(() => `${base()}/shops`);
const orders = httpCaller(() => `${base()}/orders`);
const payments = httpCaller(() => `${base()}/payments`);
const ops = httpCaller(() => `${base()}/ops`);
const shopsInProcess = appCaller(shopsApp, "/shops");
const ordersInProcess = appCaller(ordersApp, "/orders");

let duka: Party;
let amina: Party;
let other: Party;
let adminToken: string;
let escrowWallet: string;
const slug = `duka-${crypto.randomUUID().slice(0, 8)}`;
let shopId: string;
let radio: string;
let battery: string;

async function send(request: Caller, who: Party | string | undefined, method: string, path: string, body?: unknown) {
  const token = typeof who === "string" ? who : who?.token;
  return await readResponse(await request(token, method, path, body, method === "GET" ? {} : { "idempotency-key": key() }));
}

/** The fee the catalog (and the merchant's profile) charges on an amount. */
async function feeOf(type: string, amount: string, payer: string): Promise<string> {
  const [row] = await admin`select fee::numeric(19, 4)::text as fee from hazina.fee_quote(${type}, ${amount}::numeric, 'KES', ${payer}::uuid)`;
  return row.fee;
}

async function pay(order: { payment_intent: { id: string }; total: string }, who = amina) {
  const res = await send(payments, who, "POST", `/intents/${order.payment_intent.id}/confirm`,
    { sources: [{ type: "wallet", wallet_id: who.walletId, amount: order.total }] });
  expect([res.status, res.body.status]).toEqual([200, "succeeded"]);
}

beforeAll(async () => {
  await admin`insert into public.billing_fee_catalog (transaction_type, percentage_bps) values ('escrow_release', 200), ('order_payment', 100)
              on conflict do nothing`;
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  other = await partyWithWallet();
  await fund(amina.walletId, "20000.00");
  const adminId = await createUser("admin");
  adminToken = await accessToken(adminId, { appRole: "admin" });
  [{ id: escrowWallet }] = await admin`select hazina.system_wallet('escrow') as id`;
});

afterAll(async () => {
  await expectBooksBalanced();
});

describe("shops and products", () => {
  it("a merchant opens a shop and lists products; customers cannot; slugs are unique", async () => {
    const created = await send(shops, duka, "POST", "", { name: "Duka la Mama", slug, auto_release_days: 3 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: "shop", slug, status: "active", escrow_policy: "optional", auto_release_days: 3 });
    shopId = created.body.id;
    const taken = await send(shops, duka, "POST", "", { name: "Again", slug });
    expect([taken.status, taken.body.error.code]).toEqual([409, "shop_slug_taken"]);
    const customer = await send(shops, amina, "POST", "", { name: "Mine", slug: `x-${slug}` });
    expect([customer.status, customer.body.error.code]).toEqual([403, "shop_merchants_only"]);
    const badSlug = await send(shops, duka, "POST", "", { name: "Bad", slug: "Not OK" });
    expect([badSlug.status, badSlug.body.error.code]).toEqual([400, "validation_failed"]);
    const noToken = await send(shops, undefined, "POST", "", { name: "Anon", slug: `y-${slug}` });
    expect(noToken.status).toBe(401);

    const r = await send(shops, duka, "POST", `/${shopId}/products`, { name: "Radio", sku: "RADIO", price: "1000.00", stock: 20 });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ object: "product", price: "1000.0000", currency: "KES", stock: 20, unlimited: false, active: true });
    radio = r.body.id;
    battery = (await send(shops, duka, "POST", `/${shopId}/products`, { name: "Battery", sku: "BATT", price: "50.00" })).body.id;
    await send(shops, duka, "POST", `/${shopId}/products`, { name: "Old radio", sku: "OLD", price: "10.00", active: false });
    const price = await send(shops, duka, "POST", `/${shopId}/products`, { name: "Cheap", sku: "CHEAP", price: 10 });
    expect([price.status, price.body.error.code]).toEqual([400, "validation_failed"]);
    const sku = await send(shops, duka, "POST", `/${shopId}/products`, { name: "Radio 2", sku: "RADIO", price: "5.00" });
    expect([sku.status, sku.body.error.code]).toEqual([409, "product_sku_taken"]);
    const rival = await partyWithWallet("merchant");
    const foreign = await send(shops, rival, "PATCH", `/${shopId}/products/${radio}`, { price: "1.00" });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, "shop_not_found"]);
  });

  it("the storefront is public: no token reads the active shop and its active products, paged", async () => {
    const shop = await send(shops, undefined, "GET", `/${slug}`);
    expect([shop.status, shop.body.id]).toEqual([200, shopId]);
    const page1 = await send(shops, undefined, "GET", `/${slug}/products?limit=1`);
    expect(page1.status).toBe(200);
    expect(page1.body.data).toHaveLength(1);
    expect(page1.body.next_cursor).toBe(page1.body.data[0].id);
    const page2 = await send(shops, undefined, "GET", `/${slug}/products?limit=1&cursor=${page1.body.next_cursor}`);
    expect(page2.body.data).toHaveLength(1);
    expect(page2.body.next_cursor).toBeNull();
    expect([...page1.body.data, ...page2.body.data].map((p: { sku: string }) => p.sku).sort()).toEqual(["BATT", "RADIO"]);
    // The merchant, signed in, also sees its inactive product.
    const mine = await send(shops, duka, "GET", `/${slug}/products`);
    expect(mine.body.data.map((p: { sku: string }) => p.sku).sort()).toEqual(["BATT", "OLD", "RADIO"]);
    // A bad token is refused, not read as anon.
    const bad = await send(shops, "not-a-token", "GET", `/${slug}`);
    expect(bad.status).toBe(401);
    // Suspended: gone for everyone but its merchant.
    const hidden = `${slug}-closed`;
    const closed = (await send(shops, duka, "POST", "", { name: "Closed", slug: hidden })).body;
    await send(shops, duka, "PATCH", `/${closed.id}`, { status: "suspended" });
    expect((await send(shops, undefined, "GET", `/${hidden}`)).status).toBe(404);
    expect((await send(shops, undefined, "GET", `/${hidden}/products`)).body.error.code).toBe("shop_not_found");
    expect((await send(shops, other, "GET", `/${hidden}`)).status).toBe(404);
    expect((await send(shopsInProcess, duka, "GET", `/${hidden}`)).body.status).toBe("suspended");
    expect((await send(shops, undefined, "GET", "/no-such-shop")).body.error.code).toBe("shop_not_found");
  });

  it("a storefront on supabase-js with only the public anon key reads the shop and its products", async () => {
    const anon = createClient(inject("edgeBaseUrl"), "public-anon-key", {
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: WebSocket as never },
    });
    const shop = await anon.functions.invoke(`shops/${slug}`, { method: "GET" });
    expect(shop.error).toBeNull();
    expect(shop.data).toMatchObject({ id: shopId, slug });
    const products = await anon.functions.invoke(`shops/${slug}/products`, { method: "GET" });
    expect(products.data.data.map((p: { sku: string }) => p.sku).sort()).toEqual(["BATT", "RADIO"]);
    // The anon key opens nothing else: placing an order needs a signed-in user.
    const order = await anon.functions.invoke("orders", { method: "POST", body: { shop_id: shopId, items: [] } });
    expect(order.error).not.toBeNull();
  });
});

describe("orders", () => {
  it("the walk-through: an escrowed order paid, dispatched, delivered, confirmed, released", async () => {
    const k = key();
    const body = { shop_id: shopId, items: [{ product_id: radio, quantity: 2 }, { product_id: battery, quantity: 4 }], escrow: true,
      shipping: { city: "Nairobi" } };
    const placed = await readResponse(await orders(amina.token, "POST", "", body, { "idempotency-key": k }));
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ object: "order", status: "pending_payment", total: "2200.0000", escrow: true,
      goods_escrow: null, shipping: { city: "Nairobi" } });
    expect(placed.body.items.map((i: { line_total: string }) => i.line_total)).toEqual(["2000.0000", "200.0000"]);
    expect(placed.body.payment_intent).toMatchObject({ amount: "2200.0000", subject_type: "order", subject_id: placed.body.id,
      payee_wallet_id: escrowWallet, customer_id: amina.userId });
    const replay = await readResponse(await orders(amina.token, "POST", "", body, { "idempotency-key": k }));
    expect(replay.body.id).toBe(placed.body.id);
    const [{ stock }] = await admin`select stock from public.products where id = ${radio}`;
    expect(stock).toBe(18);

    const escrowBefore = await balanceOf(escrowWallet);
    const dukaBefore = await balanceOf(duka.walletId);
    await pay(placed.body);
    const paid = await send(orders, amina, "GET", `/${placed.body.id}`);
    expect(paid.body).toMatchObject({ status: "paid", amount_paid: "2200.0000", goods_escrow: { status: "funded", amount: "2200.0000",
      held_amount: "2200.0000" } });
    expect(await balanceOf(escrowWallet)).toBe(sum(escrowBefore, "2200.00"));
    expect(await balanceOf(duka.walletId)).toBe(dukaBefore);
    expect((await send(orders, other, "GET", `/${placed.body.id}`)).status).toBe(404);

    const id = placed.body.id;
    expect((await send(orders, amina, "POST", `/${id}/dispatch`)).body.error.code).toBe("order_not_found");
    expect((await send(orders, duka, "POST", `/${id}/dispatch`)).body.status).toBe("fulfilled");
    const delivered = await send(orders, duka, "POST", `/${id}/deliver`, {});
    expect(delivered.body.goods_escrow.status).toBe("delivered");
    expect(delivered.body.goods_escrow.auto_release_at).not.toBeNull();
    const confirmed = await send(orders, amina, "POST", `/${id}/confirm-receipt`);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: "completed", goods_escrow: { status: "released", released_amount: "2200.0000",
      held_amount: "0.0000" } });
    const fee = await feeOf("escrow_release", "2200.00", duka.userId);
    expect(await balanceOf(duka.walletId)).toBe(difference(sum(dukaBefore, "2200.00"), fee));
    expect(await balanceOf(escrowWallet)).toBe(escrowBefore);
    const again = await send(orders, amina, "POST", `/${id}/confirm-receipt`);
    expect([again.status, again.body.error.code]).toEqual([409, "order_not_confirmable"]);
    const refund = await send(orders, duka, "POST", `/${id}/refund`, { amount: "10.00" });
    expect([refund.status, refund.body.error.code]).toEqual([409, "order_not_refundable"]);
    const events = await admin`select type from public.events where object_id in (${id}, ${confirmed.body.goods_escrow.id})
                                order by created_at, type`;
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["order.created", "order.paid", "escrow.funded", "order.fulfilled",
      "escrow.dispatched", "order.delivered", "escrow.delivered", "escrow.released", "order.completed"]));
    const listed = await send(payments, duka, "GET", "/events?type=order.paid&limit=100");
    expect(listed.status).toBe(200);
    expect(listed.body.data.find((e: { object_id: string }) => e.object_id === id)).toMatchObject({ type: "order.paid", object_type: "order",
      data: { id, status: "paid" } });
    await expectBooksBalanced();
  });

  it("a direct order: the merchant is paid at once, refunds in part (by amount and by lines), never above paid", async () => {
    const dukaBefore = await balanceOf(duka.walletId);
    const placed = await send(orders, amina, "POST", "", { shop_id: shopId, items: [{ product_id: battery, quantity: 10 }] });
    expect(placed.body).toMatchObject({ escrow: false, total: "500.0000" });
    expect(placed.body.payment_intent.payee_wallet_id).toBe(duka.walletId);
    await pay(placed.body);
    const fee = await feeOf("order_payment", "500.00", duka.userId);
    expect(await balanceOf(duka.walletId)).toBe(difference(sum(dukaBefore, "500.00"), fee));
    const id = placed.body.id;
    const aminaBefore = await balanceOf(amina.walletId);
    const byLines = await send(orders, duka, "POST", `/${id}/refund`, { items: [{ product_id: battery, quantity: 2 }], reason: "torn" });
    expect(byLines.body).toMatchObject({ status: "paid", amount_refunded: "100.0000" });
    expect(byLines.body.items[0].refunded_quantity).toBe(2);
    const byAmount = await send(orders, duka, "POST", `/${id}/refund`, { amount: "150.50" });
    expect(byAmount.body.amount_refunded).toBe("250.5000");
    const tooMuch = await send(orders, duka, "POST", `/${id}/refund`, { amount: "249.51" });
    expect([tooMuch.status, tooMuch.body.error.code]).toEqual([409, "refund_exceeds_paid"]);
    const both = await send(orders, duka, "POST", `/${id}/refund`, { amount: "1.00", items: [{ product_id: battery, quantity: 1 }] });
    expect([both.status, both.body.error.code]).toEqual([400, "invalid_argument"]);
    const notYours = await send(orders, amina, "POST", `/${id}/refund`, {});
    expect(notYours.status).toBe(404);
    const rest = await send(orders, duka, "POST", `/${id}/refund`);
    expect(rest.body).toMatchObject({ status: "refunded", amount_refunded: "500.0000" });
    expect(await balanceOf(amina.walletId)).toBe(sum(aminaBefore, "500.00"));
    const [{ refunded }] = await admin`select amount_refunded::text as refunded from public.payment_intents where id = ${placed.body.payment_intent_id}`;
    expect(refunded).toBe("500.0000");

    const list = await send(orders, duka, "GET", "?role=merchant&status=refunded&limit=100");
    expect(list.body.data.map((o: { id: string }) => o.id)).toContain(id);
    const asCustomer = await send(orders, amina, "GET", "?role=merchant");
    expect(asCustomer.body.data).toEqual([]);
    const mine = await send(ordersInProcess, amina, "GET", "?role=customer&limit=1");
    expect(mine.body.data).toHaveLength(1);
    expect(mine.body.next_cursor).not.toBeNull();
    await expectBooksBalanced();
  });

  it("a dispute, resolved by an admin with a split; only admins resolve, once", async () => {
    const placed = await send(orders, amina, "POST", "", { shop_id: shopId, items: [{ product_id: radio, quantity: 1 }], escrow: true });
    await pay(placed.body);
    const id = placed.body.id;
    await send(orders, duka, "POST", `/${id}/dispatch`);
    const noReason = await send(orders, amina, "POST", `/${id}/dispute`, {});
    expect([noReason.status, noReason.body.error.code]).toEqual([400, "validation_failed"]);
    const disputed = await send(orders, amina, "POST", `/${id}/dispute`, { reason: "Arrived scratched" });
    expect(disputed.body.goods_escrow).toMatchObject({ status: "disputed", dispute_reason: "Arrived scratched" });
    const escrowId = disputed.body.goods_escrow.id;
    expect((await send(orders, duka, "POST", `/${id}/deliver`)).body.error.code).toBe("order_not_deliverable");
    const byMerchant = await send(ops, duka, "POST", `/escrows/${escrowId}/resolve`, { outcome: "release" });
    expect([byMerchant.status, byMerchant.body.error.code]).toEqual([403, "forbidden"]);
    const aminaBefore = await balanceOf(amina.walletId);
    const dukaBefore = await balanceOf(duka.walletId);
    const split = await send(ops, adminToken, "POST", `/escrows/${escrowId}/resolve`,
      { outcome: "split", buyer_amount: "300.00", note: "scratches" });
    expect(split.status).toBe(200);
    expect(split.body).toMatchObject({ status: "split", resolution: "split", refunded_amount: "300.0000", released_amount: "700.0000" });
    expect(await balanceOf(amina.walletId)).toBe(sum(aminaBefore, "300.00"));
    const fee = await feeOf("escrow_release", "700.00", duka.userId);
    expect(await balanceOf(duka.walletId)).toBe(difference(sum(dukaBefore, "700.00"), fee));
    const again = await send(ops, adminToken, "POST", `/escrows/${escrowId}/resolve`, { outcome: "refund" });
    expect([again.status, again.body.error.code]).toEqual([409, "escrow_not_disputed"]);
    const unknown = await send(ops, adminToken, "POST", `/escrows/${crypto.randomUUID()}/resolve`, { outcome: "refund" });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "escrow_not_found"]);
    const order = await send(orders, amina, "GET", `/${id}`);
    expect(order.body).toMatchObject({ status: "completed", amount_refunded: "300.0000" });
    await expectBooksBalanced();
  });

  it("refusals: out of stock, escrow policy, cancel rules; cancels put the stock back", async () => {
    const few = (await send(shops, duka, "POST", `/${shopId}/products`, { name: "Rare", sku: "RARE", price: "5.00", stock: 2 })).body.id;
    const tooMany = await send(orders, amina, "POST", "", { shop_id: shopId, items: [{ product_id: few, quantity: 3 }] });
    expect([tooMany.status, tooMany.body.error.code]).toEqual([409, "out_of_stock"]);
    const unknown = await send(orders, amina, "POST", "", { shop_id: shopId, items: [{ product_id: crypto.randomUUID(), quantity: 1 }] });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "product_not_found"]);
    const price = await send(orders, amina, "POST", "", { shop_id: shopId, items: [{ product_id: few, quantity: 1, price: "0.01" }] });
    expect([price.status, price.body.error.code]).toEqual([400, "validation_failed"]);
    const own = await send(orders, duka, "POST", "", { shop_id: shopId, items: [{ product_id: few, quantity: 1 }] });
    expect([own.status, own.body.error.code]).toEqual([400, "invalid_argument"]);

    const unpaid = await send(orders, amina, "POST", "", { shop_id: shopId, items: [{ product_id: few, quantity: 2 }] });
    expect(unpaid.status).toBe(201);
    const none = await send(orders, other, "POST", "", { shop_id: shopId, items: [{ product_id: few, quantity: 1 }] });
    expect(none.body.error.code).toBe("out_of_stock");
    const canceled = await send(orders, duka, "POST", `/${unpaid.body.id}/cancel`, { reason: "Customer called" });
    expect(canceled.body).toMatchObject({ status: "canceled", cancellation_reason: "Customer called" });
    const [intent] = await admin`select status from public.payment_intents where id = ${unpaid.body.payment_intent_id}`;
    expect(intent.status).toBe("canceled");
    const payLate = await send(payments, amina, "POST", `/intents/${unpaid.body.payment_intent.id}/confirm`,
      { sources: [{ type: "wallet", wallet_id: amina.walletId, amount: "10.00" }] });
    expect(payLate.body.error.code).toBe("intent_not_confirmable");

    const paid = await send(orders, amina, "POST", "", { shop_id: shopId, items: [{ product_id: few, quantity: 2 }], escrow: true });
    await pay(paid.body);
    const byCustomer = await send(orders, amina, "POST", `/${paid.body.id}/cancel`);
    expect([byCustomer.status, byCustomer.body.error.code]).toEqual([409, "order_not_cancelable"]);
    const aminaBefore = await balanceOf(amina.walletId);
    const byMerchant = await send(orders, duka, "POST", `/${paid.body.id}/cancel`);
    expect(byMerchant.body).toMatchObject({ status: "canceled", amount_refunded: "10.0000", goods_escrow: { status: "refunded" } });
    expect(await balanceOf(amina.walletId)).toBe(sum(aminaBefore, "10.00"));
    const [{ stock }] = await admin`select stock from public.products where id = ${few}`;
    expect(stock).toBe(2);

    const required = (await send(shops, duka, "POST", "", { name: "Escrow only", slug: `${slug}-esc`, escrow_policy: "required" })).body;
    const phone = (await send(shops, duka, "POST", `/${required.id}/products`, { name: "Phone", sku: "PHONE", price: "100.00" })).body.id;
    const direct = await send(orders, amina, "POST", "", { shop_id: required.id, items: [{ product_id: phone, quantity: 1 }], escrow: false });
    expect([direct.status, direct.body.error.code]).toEqual([409, "escrow_required"]);
    const byDefault = await send(orders, amina, "POST", "", { shop_id: required.id, items: [{ product_id: phone, quantity: 1 }] });
    expect(byDefault.body.escrow).toBe(true);
    await expectBooksBalanced();
  });
});
