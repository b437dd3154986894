// Refunds of a completed installment plan's order WITHOUT escrow, over real HTTP (migration
// 20261124001800): the plan paid the merchant at completion, so the refund takes the money
// back from the merchant's wallet (a partial reversal of the release, the release fee's share
// returned) and refunds the buyer through the plan's intents, newest first. Part then the rest
// (the merchant ends where it started, to the cent), a refusal when the merchant's wallet lacks
// the money (nothing moves), and races: two full refunds, a refund against the merchant's
// cancel, twelve refunds of 100 on 1000.01 paid: exactly what fits succeeds.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { app as installments } from "../../functions/installments/app.ts";
import { allowInstallments, placePlanOrder, shopWithLamp } from "../helpers/commerce.ts";
import { admin } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { appCaller, httpCaller, idempotencyKey as key, type Json, readResponse } from "../helpers/request.ts";

const plansCall = appCaller(installments, "/installments");
const ordersHttp = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1/orders`);

let duka: Party;
let amina: Party;
let shopId: string;
let lampId: string;

/** A direct (no escrow) order paid by a completed plan: deposit 100 and one payment of 900.01. */
async function paidOutPlanOrder(): Promise<{ orderId: string; planId: string; releaseFee: string }> {
  const placed = await placePlanOrder(amina.userId, shopId, lampId, { escrow: false });
  const planId = placed.installment.id;
  const merchantBefore = await balanceOf(duka.walletId);
  for (const amount of ["100.00", "900.01"]) {
    const res = await readResponse(
      await plansCall(amina.token, "POST", `/${planId}/pay`, { amount, wallet_id: amina.walletId }, { "idempotency-key": key() }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  const [o] = await admin`select o.status, i.status as plan, (select count(*)::int from public.goods_escrows e where e.order_id = o.id) as escrows
                            from public.orders o join public.installments i on i.order_id = o.id where o.id = ${placed.id}`;
  expect(o).toEqual({ status: "paid", plan: "completed", escrows: 0 });
  const [{ fee }] = await admin`select coalesce((select b.amount::numeric from public.billing_ledger b join public.wallet_transactions t
      on t.id = b.transaction_id where t.ref = ${`installment:${planId}:release`} and b.direction = 'charge'), 0)::numeric(19, 4)::text as fee`;
  expect(await balanceOf(duka.walletId)).toBe(difference(sum(merchantBefore, "1000.01"), fee));
  return { orderId: placed.id, planId, releaseFee: fee };
}

const post = async (token: string, path: string, body: Json) =>
  await readResponse(await ordersHttp(token, "POST", path, body, { "idempotency-key": key() }));

async function clawbacks(planId: string): Promise<{ n: number; total: string }> {
  const [row] = await admin`select count(*)::int as n, coalesce(sum(r.principal_amount), 0)::numeric(19, 4)::text as total
    from public.wallet_transactions t join public.wallet_transactions r on r.reverses_id = t.id
   where t.ref = ${`installment:${planId}:release`}`;
  return row as { n: number; total: string };
}

beforeAll(async () => {
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  await fund(amina.walletId, "20000.00");
  ({ shopId, lampId } = await shopWithLamp(duka.userId, "Duka la Malipo", "duka-malipo"));
  // The "lacks the money" test makes the merchant short with a hold (type p2p_transfer, sender
  // paid): hold_create reserves the amount AND its fee, and other suites (wallets, concurrency,
  // batch-concurrency) put a p2p_transfer row in the db-wide fee catalog (0.5%, min 1, max 100)
  // at any moment of a full run. This merchant's own profile (it wins over the catalog) waives
  // that fee, so the hold reserves exactly its amount whatever the catalog holds.
  await admin`insert into public.merchant_fee_profiles (merchant_id, transaction_type, waived, note)
              values (${duka.userId}, 'p2p_transfer', true, 'order-plan-released-refunds: holds reserve no fee')`;
  await allowInstallments(duka.userId, shopId);
});

afterAll(async () => {
  await expectBooksBalanced();
});

describe("refunding a paid-out plan order from the merchant's wallet", () => {
  it("part, then the rest: the buyer gets all back, the merchant ends where it started", async () => {
    const merchantStart = await balanceOf(duka.walletId);
    const { orderId, planId, releaseFee } = await paidOutPlanOrder();
    const buyerBefore = await balanceOf(amina.walletId);
    const merchantBefore = await balanceOf(duka.walletId);
    const part = await post(duka.token, `/${orderId}/refund`, { amount: "400.00" });
    expect(part.status, JSON.stringify(part.body)).toBe(200);
    expect([part.body.status, part.body.amount_refunded]).toEqual(["paid", "400.0000"]);
    const [{ share }] = await admin`select hazina.refund_fee_share(${releaseFee}::numeric, 0, 400, 1000.01, false, 2::smallint)::numeric(19, 4)::text as share`;
    expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "400.00"));
    expect(await balanceOf(duka.walletId)).toBe(sum(difference(merchantBefore, "400.00"), share));
    expect(await clawbacks(planId)).toEqual({ n: 1, total: "400.0000" });
    const refunded = await admin`select amount_refunded::text as r from public.payment_intents
      where subject_type = 'installment' and subject_id = ${planId} and status = 'succeeded' order by created_at, client_ref`;
    expect(refunded.map((r) => r.r).sort()).toEqual(["0.0000", "400.0000"]);

    const rest = await post(duka.token, `/${orderId}/refund`, {});
    expect([rest.status, rest.body.status, rest.body.amount_refunded]).toEqual([200, "refunded", "1000.0100"]);
    expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "1000.01"));
    expect(await balanceOf(duka.walletId)).toBe(merchantStart);
    const [plan] = await admin`select amount_refunded::text, amount_released::text from public.installments where id = ${planId}`;
    expect(plan).toEqual({ amount_refunded: "1000.0100", amount_released: "0.0000" });
    const events = await admin`select type from public.events where object_id = ${orderId} and type like 'order.%refunded' order by type`;
    expect(events.map((e) => e.type)).toEqual(["order.partially_refunded", "order.refunded"]);
    const again = await post(duka.token, `/${orderId}/refund`, { amount: "1.00" });
    expect([again.status, again.body.error.code]).toEqual([409, "order_not_refundable"]);
    await expectBooksBalanced();
  });

  it("the merchant's wallet lacks the money: 409 order_refund_merchant_funds, nothing moves", async () => {
    const { orderId, planId, releaseFee } = await paidOutPlanOrder();
    const [{ hold }] = await admin`select hazina.hold_create(${`test-hold-${crypto.randomUUID()}`}, ${duka.walletId}::uuid,
      ${amina.walletId}::uuid, (select available - 50 from public.wallet_balances where wallet_id = ${duka.walletId}),
      now() + interval '1 hour') as hold`;
    const buyerBefore = await balanceOf(amina.walletId);
    const merchantBefore = await balanceOf(duka.walletId);
    try {
      // The premise: exactly 50 is left (the hold reserved no fee: see beforeAll).
      const [short] = await admin`select h.fee_amount::text as fee, b.available::text as available
        from public.wallet_holds h join public.wallet_balances b on b.wallet_id = h.wallet_id where h.id = ${hold}`;
      expect(short).toEqual({ fee: "0.0000", available: "50.0000" });
      const refused = await post(duka.token, `/${orderId}/refund`, {});
      expect([refused.status, refused.body.error.code]).toEqual([409, "order_refund_merchant_funds"]);
      // The whole rest is refunded, so the whole release fee comes back: needed = 1000.01 - fee.
      expect(refused.body.error.details).toMatchObject({ needed: difference("1000.01", releaseFee), available: "50.0000" });
      const cancel = await post(duka.token, `/${orderId}/cancel`, {});
      expect([cancel.status, cancel.body.error.code]).toEqual([409, "order_refund_merchant_funds"]);
      expect(await balanceOf(amina.walletId)).toBe(buyerBefore);
      expect(await balanceOf(duka.walletId)).toBe(merchantBefore);
      expect(await clawbacks(planId)).toEqual({ n: 0, total: "0.0000" });
      const [o] = await admin`select status, amount_refunded::text from public.orders where id = ${orderId}`;
      expect(o).toEqual({ status: "paid", amount_refunded: "0.0000" });
      // A small refund still fits.
      const small = await post(duka.token, `/${orderId}/refund`, { amount: "40.00" });
      expect([small.status, small.body.amount_refunded]).toEqual([200, "40.0000"]);
    } finally {
      await admin`select hazina.hold_void(${hold}::uuid)`;
    }
    const rest = await post(duka.token, `/${orderId}/refund`, {});
    expect([rest.status, rest.body.status]).toEqual([200, "refunded"]);
    expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "1000.01"));
    await expectBooksBalanced();
  });
});

describe("races on one paid-out plan order", () => {
  it("two full refunds at once: exactly one refunds, once", async () => {
    const { orderId, planId } = await paidOutPlanOrder();
    const buyerBefore = await balanceOf(amina.walletId);
    const results = await Promise.all([0, 1].map(() => post(duka.token, `/${orderId}/refund`, {})));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(["order_not_refundable", "refund_exceeds_paid"]).toContain(results.find((r) => r.status === 409)!.body.error.code);
    expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "1000.01"));
    expect(await clawbacks(planId)).toEqual({ n: 1, total: "1000.0100" });
    await expectBooksBalanced();
  });

  it("a refund against the merchant's cancel: exactly one outcome, the buyer paid back once", async () => {
    const { orderId, planId } = await paidOutPlanOrder();
    const buyerBefore = await balanceOf(amina.walletId);
    const [refund, cancel] = await Promise.all([
      post(duka.token, `/${orderId}/refund`, {}),
      post(duka.token, `/${orderId}/cancel`, {}),
    ]);
    expect([refund.status, cancel.status].sort()).toEqual([200, 409]);
    const [o] = await admin`select status, amount_refunded::text from public.orders where id = ${orderId}`;
    expect(o.amount_refunded).toBe("1000.0100");
    expect(o.status).toBe(refund.status === 200 ? "refunded" : "canceled");
    expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "1000.01"));
    expect(await clawbacks(planId)).toEqual({ n: 1, total: "1000.0100" });
    await expectBooksBalanced();
  });

  it("twelve refunds of 100 at once on 1000.01 paid: exactly ten succeed", async () => {
    const { orderId, planId } = await paidOutPlanOrder();
    const buyerBefore = await balanceOf(amina.walletId);
    const results = await Promise.all(Array.from({ length: 12 }, () => post(duka.token, `/${orderId}/refund`, { amount: "100.00" })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    expect(results.filter((r) => r.status === 409).map((r) => r.body.error.code)).toEqual(["refund_exceeds_paid", "refund_exceeds_paid"]);
    expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, "1000.00"));
    expect(await clawbacks(planId)).toEqual({ n: 10, total: "1000.0000" });
    const [o] = await admin`select status, amount_refunded::text from public.orders where id = ${orderId}`;
    expect(o).toEqual({ status: "paid", amount_refunded: "1000.0000" });
    await expectBooksBalanced();
  });
});
