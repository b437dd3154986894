// The merchant cancels a plan's order over real HTTP: while the plan runs (POST
// /installments/:id/cancel: a full refund, no cancellation fee, the stock back, the order
// canceled; the order's own cancel refused with order_has_installment_plan), after it completed
// (POST /orders/:id/cancel of an escrowed order), and races: the merchant's cancel against the
// customer's payment and against the customer's own cancel, each ending in exactly one outcome
// whose money matches what the plan recorded. Balances to the cent; the books reconcile.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { allowInstallments, placePlanOrder, shopWithLamp } from "../helpers/commerce.ts";
import { admin } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { httpCaller, idempotencyKey as key, type Json, readResponse } from "../helpers/request.ts";

const plans = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1/installments`);
const orders = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1/orders`);

let duka: Party;
let amina: Party;
let other: Party;
let shopId: string;
let lampId: string;

const call = async (caller: typeof plans, token: string, path: string, body: Json = {}) =>
  await readResponse(await caller(token, "POST", path, body, { "idempotency-key": key() }));

/** A plan order (deposit 100 of 1000.01, 2 weekly payments), the deposit and `paid` more paid from the wallet. */
async function planOrder(escrow: boolean, paid: string | null): Promise<{ orderId: string; planId: string }> {
  const placed = await placePlanOrder(amina.userId, shopId, lampId, { escrow });
  for (const amount of ["100.00", ...(paid ? [paid] : [])]) {
    const res = await call(plans, amina.token, `/${placed.installment.id}/pay`, { amount, wallet_id: amina.walletId });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return { orderId: placed.id, planId: placed.installment.id };
}

async function stock(): Promise<number> {
  const [p] = await admin`select stock from public.products where id = ${lampId}`;
  return p.stock;
}

beforeAll(async () => {
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  other = await partyWithWallet("merchant");
  await fund(amina.walletId, "20000.00");
  ({ shopId, lampId } = await shopWithLamp(duka.userId, "Duka la Kufuta", "duka-kufuta"));
  await allowInstallments(duka.userId, shopId);
});

afterAll(async () => {
  await expectBooksBalanced();
});

describe("the merchant cancels a plan's order", () => {
  it("an active plan: through the plan, a full refund with no fee, the stock back, the order canceled", async () => {
    const { orderId, planId } = await planOrder(false, "200.00");
    const buyerBefore = await balanceOf(amina.walletId);
    const merchantBefore = await balanceOf(duka.walletId);
    const stockBefore = await stock();

    const direct = await call(orders, duka.token, `/${orderId}/cancel`);
    expect([direct.status, direct.body.error.code]).toEqual([409, "order_has_installment_plan"]);
    const stranger = await call(plans, other.token, `/${planId}/cancel`);
    expect([stranger.status, stranger.body.error.code]).toEqual([404, "installment_not_found"]);

    const canceled = await call(plans, duka.token, `/${planId}/cancel`, { reason: "out of stock" });
    expect(canceled.status, JSON.stringify(canceled.body)).toBe(200);
    expect(canceled.body).toMatchObject({ status: "canceled", cancellation_fee: "0.0000", amount_refunded: "300.0000",
      cancellation_reason: "out of stock" });
    expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "300.00"));
    expect(await balanceOf(duka.walletId)).toBe(merchantBefore);
    expect(await stock()).toBe(stockBefore + 1);
    const [o] = await admin`select status from public.orders where id = ${orderId}`;
    expect(o.status).toBe("canceled");
    const events = await admin`select type from public.events where object_id in (${orderId}, ${planId})
      and type in ('installment.canceled', 'order.canceled') order by type`;
    expect(events.map((e) => e.type)).toEqual(["installment.canceled", "order.canceled"]);

    const again = await call(plans, duka.token, `/${planId}/cancel`);
    expect([again.status, again.body.status, again.body.amount_refunded]).toEqual([200, "canceled", "300.0000"]);
    expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "300.00"));
    const late = await call(plans, amina.token, `/${planId}/pay`, { amount: "10.00", wallet_id: amina.walletId });
    expect([late.status, late.body.error.code]).toEqual([409, "installment_not_active"]);
    await expectBooksBalanced();
  });

  it("a completed, escrowed plan order: POST /orders/:id/cancel refunds everything out of escrow", async () => {
    const { orderId } = await planOrder(true, "900.01");
    const buyerBefore = await balanceOf(amina.walletId);
    const merchantBefore = await balanceOf(duka.walletId);
    const stockBefore = await stock();
    const refused = await call(orders, amina.token, `/${orderId}/cancel`);
    expect([refused.status, refused.body.error.code]).toEqual([409, "order_not_cancelable"]);
    const canceled = await call(orders, duka.token, `/${orderId}/cancel`, { reason: "cannot deliver" });
    expect([canceled.status, canceled.body.status, canceled.body.amount_refunded]).toEqual([200, "canceled", "1000.0100"]);
    expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "1000.01"));
    expect(await balanceOf(duka.walletId)).toBe(merchantBefore);
    expect(await stock()).toBe(stockBefore + 1);
    const [e] = await admin`select status from public.goods_escrows where order_id = ${orderId}`;
    expect(e.status).toBe("refunded");
    await expectBooksBalanced();
  });
});

describe("races on the merchant's cancel", () => {
  it("the merchant cancels while the customer pays: one outcome, everything paid comes back", async () => {
    for (let round = 0; round < 3; round++) {
      const { planId } = await planOrder(false, null);
      const buyerBefore = await balanceOf(amina.walletId);
      const merchantBefore = await balanceOf(duka.walletId);
      const [pay, cancel] = await Promise.all([
        call(plans, amina.token, `/${planId}/pay`, { amount: "300.00", wallet_id: amina.walletId }),
        call(plans, duka.token, `/${planId}/cancel`),
      ]);
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
      const [plan] = await admin`select status, amount_paid::text, amount_refunded::text, cancellation_fee::text
                                   from public.installments where id = ${planId}`;
      expect(plan.status).toBe("canceled");
      expect(plan.cancellation_fee).toBe("0.0000");
      if (pay.status === 200) {
        // Paid first (or refunded at once as racing money): the buyer is made whole either way.
        expect(["100.0000", "400.0000"]).toContain(plan.amount_paid);
      } else {
        expect([pay.status, pay.body.error.code]).toEqual([409, "installment_not_active"]);
        expect(plan.amount_paid).toBe("100.0000");
      }
      expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "100.00"));
      expect(await balanceOf(duka.walletId)).toBe(merchantBefore);
    }
    await expectBooksBalanced();
  });

  it("the merchant and the customer cancel at once: one cancel wins, its fee and refund agree with the money", async () => {
    for (let round = 0; round < 3; round++) {
      const { planId } = await planOrder(false, "200.00");
      const buyerBefore = await balanceOf(amina.walletId);
      const merchantBefore = await balanceOf(duka.walletId);
      const results = await Promise.all([
        call(plans, duka.token, `/${planId}/cancel`),
        call(plans, amina.token, `/${planId}/cancel`),
      ]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      const [plan] = await admin`select status, cancellation_fee::text as fee, amount_refunded::text as refunded
                                   from public.installments where id = ${planId}`;
      expect(plan.status).toBe("canceled");
      expect(["0.0000", "30.0000"]).toContain(plan.fee); // the merchant's (none) or the customer's 10% of 300
      expect(plan.refunded).toBe(difference("300.00", plan.fee));
      expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, plan.refunded));
      const [{ fee }] = await admin`select coalesce((select (hazina.fee_quote('installment_cancellation_fee', ${plan.fee}::numeric,
          'KES', ${duka.userId}::uuid)).fee where ${plan.fee}::numeric > 0), 0)::numeric(19, 4)::text as fee`;
      expect(await balanceOf(duka.walletId)).toBe(difference(sum(merchantBefore, plan.fee), fee));
      const [{ n }] = await admin`select count(*)::int as n from public.events where object_id = ${planId} and type = 'installment.canceled'`;
      expect(n).toBe(1);
    }
    await expectBooksBalanced();
  });
});
