// Refunds of an order paid by an installment plan, over the edge (migration 20261124001620):
// a completed, escrowed plan order refunded in part then in full by the merchant, and a
// disputed one resolved by an admin as a refund and as a split, and two refunds racing. Balances to the cent, the
// plan's intents refunded newest first, books reconciled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app as installments } from "../../functions/installments/app.ts";
import { app as ops } from "../../functions/ops/app.ts";
import { app as orders } from "../../functions/orders/app.ts";
import { allowInstallments, placePlanOrder, shopWithLamp } from "../helpers/commerce.ts";
import { admin, createUser } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { appCaller, idempotencyKey as key, type Json, readResponse } from "../helpers/request.ts";
import { accessToken } from "../helpers/tokens.ts";

const plansCall = appCaller(installments, "/installments");
const ordersCall = appCaller(orders, "/orders");
const opsCall = appCaller(ops, "/ops");

let duka: Party;
let amina: Party;
let adminToken: string;
let shopId: string;
let lampId: string;

/** An escrowed order paid by a completed plan: deposit 100 and one payment of 900.01, from the wallet. */
async function planPaidOrder(): Promise<{ orderId: string; planId: string; escrowId: string }> {
  const placed = await placePlanOrder(amina.userId, shopId, lampId, { escrow: true });
  const planId = placed.installment.id;
  for (const amount of ["100.00", "900.01"]) {
    const res = await readResponse(
      await plansCall(amina.token, "POST", `/${planId}/pay`, { amount, wallet_id: amina.walletId }, {
        "idempotency-key": key(),
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  const [e] = await admin`select id, status, amount::text from public.goods_escrows where order_id = ${placed.id}`;
  expect([e.status, e.amount]).toEqual(["funded", "1000.0100"]);
  return { orderId: placed.id, planId, escrowId: e.id };
}

const post = async (call: typeof ordersCall, token: string, path: string, body: Json) =>
  await readResponse(await call(token, "POST", path, body, { "idempotency-key": key() }));

beforeAll(async () => {
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  adminToken = await accessToken(await createUser("admin"), { appRole: "admin" });
  await fund(amina.walletId, "4000.00");
  ({ shopId, lampId } = await shopWithLamp(duka.userId, "Duka la Rudisha", "duka-rudisha"));
  await allowInstallments(duka.userId, shopId);
});

afterAll(async () => {
  await expectBooksBalanced();
});

describe("refunding an order paid by an installment plan", () => {
  it("the merchant refunds part (newest intent first), then the rest", async () => {
    const { orderId, planId } = await planPaidOrder();
    const before = await balanceOf(amina.walletId);
    const part = await post(ordersCall, duka.token, `/${orderId}/refund`, { amount: "950.00" });
    expect(part.status, JSON.stringify(part.body)).toBe(200);
    expect([part.body.status, part.body.amount_refunded]).toEqual(["paid", "950.0000"]);
    expect(await balanceOf(amina.walletId)).toBe(sum(before, "950.00"));
    const refunded = await admin`select amount_refunded::text as r from public.payment_intents
                                  where subject_type = 'installment' and subject_id = ${planId} and status = 'succeeded'
                                  order by created_at, id`; // oldest (the 100.00) first
    expect(refunded.map((r) => r.r)).toEqual(["49.9900", "900.0100"]);
    const over = await post(ordersCall, duka.token, `/${orderId}/refund`, { amount: "50.02" });
    expect([over.status, over.body.error.code]).toEqual([409, "refund_exceeds_paid"]);
    const rest = await post(ordersCall, duka.token, `/${orderId}/refund`, {});
    expect([rest.status, rest.body.status]).toEqual([200, "refunded"]);
    expect(await balanceOf(amina.walletId)).toBe(sum(before, "1000.01"));
    await expectBooksBalanced();
  });

  it("a dispute resolved as a refund and one resolved as a split", async () => {
    for (const outcome of ["refund", "split"] as const) {
      const { orderId, escrowId } = await planPaidOrder();
      await post(ordersCall, duka.token, `/${orderId}/dispatch`, {});
      await post(ordersCall, duka.token, `/${orderId}/deliver`, {});
      const disputed = await post(ordersCall, amina.token, `/${orderId}/dispute`, { reason: "broken" });
      expect(disputed.status, JSON.stringify(disputed.body)).toBe(200);
      const buyerBefore = await balanceOf(amina.walletId);
      const merchantBefore = await balanceOf(duka.walletId);
      const res = await post(opsCall, adminToken, `/escrows/${escrowId}/resolve`, {
        outcome,
        ...(outcome === "split" ? { buyer_amount: "600.00" } : {}),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const buyerGets = outcome === "refund" ? "1000.01" : "600.00";
      expect(await balanceOf(amina.walletId)).toBe(sum(buyerBefore, buyerGets));
      const [{ fee }] = await admin`select (hazina.fee_quote('escrow_release', 400.01, 'KES', ${duka.userId}::uuid)).fee::text`;
      expect(await balanceOf(duka.walletId)).toBe(
        outcome === "refund" ? merchantBefore : sum(merchantBefore, difference("400.01", fee)),
      );
      await expectBooksBalanced();
    }
  });

  it("two refunds of 600 racing on one plan order (1000.01 paid): exactly one succeeds, the other refund_exceeds_paid", async () => {
    const { orderId } = await planPaidOrder();
    const before = await balanceOf(amina.walletId);
    const results = await Promise.all([0, 1].map(() => post(ordersCall, duka.token, `/${orderId}/refund`, { amount: "600.00" })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)!.body.error.code).toBe("refund_exceeds_paid");
    expect(await balanceOf(amina.walletId)).toBe(sum(before, "600.00"));
    const [o] = await admin`select amount_refunded::text from public.orders where id = ${orderId}`;
    expect(o.amount_refunded).toBe("600.0000");
    await expectBooksBalanced();
  });
});
