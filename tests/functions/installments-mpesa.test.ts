// Installments paid by M-Pesa, end to end over HTTP: POST /installments/:id/pay without a
// wallet_id opens the payment's intent; the customer confirms it with an M-Pesa part through
// POST /payments/intents/:id/confirm; the provider sandbox drives the STK push (success, and
// 1032 cancelled on the phone). After each: the plan and its schedule, balances to the cent,
// no hold left, books reconciled.
import { beforeAll, describe, expect, it } from "vitest";
import { allowInstallments, placePlanOrder, shopWithLamp } from "../helpers/commerce.ts";
import { admin } from "../helpers/db.ts";
import { balanceOf, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { randomMsisdn, waitFor } from "../helpers/money-movement.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { idempotencyKey as key, type Json } from "../helpers/request.ts";

let duka: Party;
let shopId: string;
let lampId: string;

const { stack, api } = useMoneyStack();

async function placePlan(customer: Party): Promise<Json> {
  return await placePlanOrder(customer.userId, shopId, lampId, { terms: { deposit: "100.00", count: 3, interval: "week" } });
}

async function settled(id: string): Promise<Json> {
  await stack.sandbox.idle();
  return await waitFor(async () => {
    const [row] = await admin`select status, amount_received::text, last_payment_error from public.payment_intents
                               where id = ${id}`;
    return row.status !== "processing" && row;
  }, `intent ${id} to leave processing`);
}

async function planRow(id: string): Promise<Json> {
  const [row] = await admin`select amount_paid::text, hazina.installment_escrow_held(id)::text as held,
                                   (select jsonb_agg(jsonb_build_array(seq, status, amount_paid::text) order by seq)
                                      from public.installment_schedule where installment_id = i.id) as schedule
                              from public.installments i where id = ${id}`;
  return row;
}

/** A customer with a plan whose deposit (100) was paid from the wallet. */
async function planWithDeposit(): Promise<{ customer: Party; planId: string }> {
  const customer = await partyWithWallet();
  await fund(customer.walletId, "100.00");
  const placed = await placePlan(customer);
  const res = await api(customer.token, "POST", `/payments/intents/${placed.payment_intent.id}/confirm`, {
    sources: [{ type: "wallet", wallet_id: customer.walletId, amount: "100" }],
  }, { "idempotency-key": key() });
  expect(res.body.status, JSON.stringify(res.body)).toBe("succeeded");
  return { customer, planId: placed.installment.id };
}

beforeAll(async () => {
  await admin`select hazina.clock_travel(null, true)`;
  duka = await partyWithWallet("merchant");
  ({ shopId, lampId } = await shopWithLamp(duka.userId, "Duka la M-Pesa", "duka-mpesa"));
  await allowInstallments(duka.userId, shopId);
});

describe("an installment paid by M-Pesa", () => {
  it("success: the pay opens an intent, M-Pesa confirms it, the oldest row is paid, the money waits in escrow", async () => {
    const { customer, planId } = await planWithDeposit();
    const phone = randomMsisdn();
    const paid = await api(customer.token, "POST", `/installments/${planId}/pay`, {}, { "idempotency-key": key() });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    const intent = paid.body.payment_intent;
    expect([intent.status, intent.amount]).toEqual(["requires_confirmation", "300.0000"]);
    const walletBefore = await balanceOf(customer.walletId);
    const merchantBefore = await balanceOf(duka.walletId);
    const res = await api(customer.token, "POST", `/payments/intents/${intent.id}/confirm`, {
      sources: [{ type: "mpesa", phone, amount: "300" }],
    }, { "idempotency-key": key() });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const done = await settled(intent.id);
    expect([done.status, done.amount_received]).toEqual(["succeeded", "300.0000"]);
    expect(await planRow(planId)).toEqual({
      amount_paid: "400.0000",
      held: "400.0000",
      schedule: [[0, "paid", "100.0000"], [1, "paid", "300.0000"], [2, "pending", "0.0000"], [3, "pending", "0.0000"]],
    });
    // M-Pesa topped up the wallet and the hold took it: the wallet ends where it began.
    expect(await balanceOf(customer.walletId)).toBe(walletBefore);
    expect(await balanceOf(duka.walletId)).toBe(merchantBefore);
    const [h] = await admin`select held::text from public.wallets where id = ${customer.walletId}`;
    expect(h.held).toBe("0.0000");
  });

  it("1032 (cancelled on the phone): nothing is paid, the row stays pending, the intent can be paid again", async () => {
    const { customer, planId } = await planWithDeposit();
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "cancelled");
    const paid = await api(customer.token, "POST", `/installments/${planId}/pay`, {}, { "idempotency-key": key() });
    const intent = paid.body.payment_intent;
    const walletBefore = await balanceOf(customer.walletId);
    const res = await api(customer.token, "POST", `/payments/intents/${intent.id}/confirm`, {
      sources: [{ type: "mpesa", phone, amount: "300" }],
    }, { "idempotency-key": key() });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const done = await settled(intent.id);
    expect(done.status).not.toBe("succeeded");
    expect(done.last_payment_error).toMatchObject({ code: "mpesa_cancelled" });
    expect(await planRow(planId)).toEqual({
      amount_paid: "100.0000",
      held: "100.0000",
      schedule: [[0, "paid", "100.0000"], [1, "pending", "0.0000"], [2, "pending", "0.0000"], [3, "pending", "0.0000"]],
    });
    expect(await balanceOf(customer.walletId)).toBe(walletBefore);
    const [h] = await admin`select held::text from public.wallets where id = ${customer.walletId}`;
    expect(h.held).toBe("0.0000");
  });
});
