// Payment intents with an M-Pesa part, end to end over HTTP: our functions ⇄ the provider
// sandbox ⇄ our webhooks (callbacks confirmed with the provider before money moves). Each
// sandbox scenario (success, 1032 cancel, timeout, duplicate callback) runs for a signed-in
// customer paying half from the wallet and half by M-Pesa, and for a guest paying by M-Pesa
// with the client_secret. After each: balances to the cent, no hold left, books reconciled.
// Also a provider failure, a provider that is down and a synchronous refusal. Last, an STK
// callback racing the intent's expiry job (over HTTP, and on eight connections in SQL): exactly
// one outcome each, nothing lost.
import { beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import process from "node:process";
import { admin } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, heldOf as held, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { CALLBACK_TOKEN, randomMsisdn, SWEEP_SECRET, waitFor } from "../helpers/money-movement.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { idempotencyKey as key, type Json } from "../helpers/request.ts";

const { stack, api } = useMoneyStack();
let merchant: Party;

beforeAll(async () => {
  await paymentIntentFee(); // 1.5%, borne by the merchant
  merchant = await partyWithWallet("merchant");
});

/** 1.5% of an amount, rounded half away from zero to cents (the platform's rounding rule). */
async function feeOf(amount: string): Promise<string> {
  const [row] = await admin`select round(${amount}::numeric * 150 / 10000, 2)::numeric(19, 4)::text as fee`;
  return row.fee;
}

async function createIntent(body: Record<string, unknown>): Promise<Json> {
  const res = await api(merchant.token, "POST", "/payments/intents", body, { "idempotency-key": key() });
  expect(res.status).toBe(201);
  return res.body;
}

async function intentRow(id: string): Promise<Json> {
  const [row] = await admin`select status, amount_received::text, amount_capturable::text, last_payment_error,
                                   capture_transaction_id from public.payment_intents where id = ${id}`;
  return row;
}

async function pendingHolds(intentId: string): Promise<number> {
  const [row] = await admin`select count(*)::int as n from public.wallet_holds
                             where metadata ->> 'payment_intent_id' = ${intentId} and status = 'pending'`;
  return row.n;
}

/** What an intent's M-Pesa money credited to the suspense wallet (a guest's money nobody waited for). */
async function suspenseCredited(intentId: string): Promise<string> {
  const [row] = await admin`select coalesce(sum(e.amount), 0)::numeric(19, 4)::text as amount
                              from public.wallet_funding_sessions f, hazina.transaction_entries(f.transaction_id) e
                             where f.payment_intent_id = ${intentId} and e.direction = 'credit'
                               and e.wallet_id = hazina.system_wallet('suspense', 'KES')`;
  return row.amount;
}

async function runSweep(): Promise<Json> {
  const res = await api(undefined, "POST", "/webhooks/sweep", undefined, { "x-sweep-secret": SWEEP_SECRET });
  expect(res.status).toBe(200);
  await stack.sandbox.idle();
  return res.body;
}

/** Wait until the intent leaves `processing` (the callback, or the sweep, decided its part). */
async function settled(id: string): Promise<Json> {
  await stack.sandbox.idle();
  return await waitFor(async () => {
    const row = await intentRow(id);
    return row.status !== "processing" && row;
  }, `intent ${id} to leave processing`);
}

async function customerWith(balance: string): Promise<Party> {
  const customer = await partyWithWallet();
  await fund(customer.walletId, balance);
  return customer;
}

/** A signed-in customer confirms `amount` as half wallet, half M-Pesa from `phone`. */
async function confirmHalfAndHalf(customer: Party, intent: Json, phone: string, idempotencyKey = key()) {
  const half = (Number(intent.amount) / 2).toFixed(0);
  return await api(customer.token, "POST", `/payments/intents/${intent.id}/confirm`, {
    sources: [
      { type: "wallet", wallet_id: customer.walletId, amount: half },
      { type: "mpesa", phone, amount: half },
    ],
  }, { "idempotency-key": idempotencyKey });
}

/** A guest (no token) confirms by M-Pesa with the client_secret. */
async function confirmAsGuest(intent: Json, phone: string, idempotencyKey = key()) {
  return await api(undefined, "POST", `/payments/intents/${intent.id}/confirm`, {
    sources: [{ type: "mpesa", phone, amount: intent.amount.replace(/\.0+$/, "") }],
    client_secret: intent.client_secret,
  }, { "idempotency-key": idempotencyKey });
}

describe("a signed-in customer pays half from the wallet, half by M-Pesa", () => {
  it("success (automatic): processing, then succeeded; one capture; the wallet paid half, M-Pesa the rest", async () => {
    const customer = await customerWith("700.00");
    const phone = randomMsisdn();
    const merchantBefore = await balanceOf(merchant.walletId);
    const intent = await createIntent({ amount: "1000.00", customer_id: customer.userId, description: "Order 1" });
    const k = key();
    const res = await confirmHalfAndHalf(customer, intent, phone, k);
    expect(res.status).toBe(200);
    expect(["processing", "succeeded"]).toContain(res.body.status);
    expect(res.body.sources.map((s: Json) => s.type)).toEqual(["wallet", "mpesa"]);
    expect(res.body.sources[1]).toMatchObject({ amount: "500.0000", wallet_id: customer.walletId });
    expect(res.body.sources[1].phone).toBe(`${phone.slice(0, 4)}******${phone.slice(-2)}`);
    expect(res.body.mpesa).toBeUndefined();
    const done = await settled(intent.id);
    expect(done).toMatchObject({ status: "succeeded", amount_received: "1000.0000" });
    expect(await balanceOf(customer.walletId)).toBe("200.0000");
    expect(await held(customer.walletId)).toBe("0.0000");
    expect(await pendingHolds(intent.id)).toBe(0);
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("1000.00", await feeOf("1000.00"))));
    // The customer reads it through the API, the M-Pesa part completed.
    const read = await api(customer.token, "GET", `/payments/intents/${intent.id}`);
    expect(read.body.status).toBe("succeeded");
    expect(read.body.sources[1].funding_status).toBe("completed");
    // The same Idempotency-Key replays the reply: no second STK push, no second session.
    const replay = await confirmHalfAndHalf(customer, intent, phone, k);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const [{ n }] = await admin`select count(*)::int as n from public.wallet_funding_sessions where payment_intent_id = ${intent.id}`;
    expect(n).toBe(1);
  });

  it("success (manual): both parts held, the merchant captures part, refunds part with its fee share", async () => {
    const customer = await customerWith("500.00");
    const merchantBefore = await balanceOf(merchant.walletId);
    const intent = await createIntent({ amount: "800.00", customer_id: customer.userId, capture_method: "manual" });
    expect((await confirmHalfAndHalf(customer, intent, randomMsisdn())).status).toBe(200);
    expect(await settled(intent.id)).toMatchObject({ status: "requires_capture", amount_capturable: "800.0000" });
    expect(await held(customer.walletId)).toBe("800.0000");
    const capture = await api(merchant.token, "POST", `/payments/intents/${intent.id}/capture`, { amount: "600.00" }, {
      "idempotency-key": key(),
    });
    expect(capture.body).toMatchObject({ status: "succeeded", amount_received: "600.0000" });
    expect(await held(customer.walletId)).toBe("0.0000");
    expect(await balanceOf(customer.walletId)).toBe("300.0000"); // 500 + 400 by M-Pesa − 600
    const refund = await api(merchant.token, "POST", "/payments/refunds", { payment_intent_id: intent.id, amount: "200.00" }, {
      "idempotency-key": key(),
    });
    expect(refund.status).toBe(201);
    // 9.00 × 200 / 600 = 3.00
    expect(refund.body).toMatchObject({ amount: "200.0000", fee_refunded: "3.0000" });
    expect(await balanceOf(customer.walletId)).toBe("500.0000");
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, "600.00", "-9.00", "-200.00", "3.00"));
  });

  it("1032 (cancelled on the phone): the wallet hold is released, requires_confirmation with last_payment_error", async () => {
    const customer = await customerWith("500.00");
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "cancelled");
    const intent = await createIntent({ amount: "600.00", customer_id: customer.userId });
    expect((await confirmHalfAndHalf(customer, intent, phone)).status).toBe(200);
    const done = await settled(intent.id);
    expect(done.status).toBe("requires_confirmation");
    expect(done.last_payment_error).toMatchObject({ code: "mpesa_cancelled", details: { provider_code: "1032" } });
    expect(await balanceOf(customer.walletId)).toBe("500.0000");
    expect(await held(customer.walletId)).toBe("0.0000");
    // It can be paid again, from the wallet alone this time.
    const again = await api(customer.token, "POST", `/payments/intents/${intent.id}/confirm`, {
      sources: [{ type: "wallet", wallet_id: customer.walletId, amount: "500.00" }, {
        type: "mpesa",
        phone: randomMsisdn(),
        amount: "100",
      }],
    }, { "idempotency-key": key() });
    expect(again.status).toBe(200);
    expect((await settled(intent.id)).status).toBe("succeeded");
    expect(await balanceOf(customer.walletId)).toBe("0.0000");
  });

  it("timeout (no callback): the sweep asks M-Pesa, expires the part, the intent returns; nothing moved", async () => {
    const customer = await customerWith("300.00");
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "timeout");
    const intent = await createIntent({ amount: "400.00", customer_id: customer.userId });
    expect((await confirmHalfAndHalf(customer, intent, phone)).status).toBe(200);
    await stack.sandbox.idle();
    expect((await intentRow(intent.id)).status).toBe("processing");
    expect(await held(customer.walletId)).toBe("200.0000");
    await admin`update public.wallet_funding_sessions set expires_at = now() - interval '1 second'
                 where payment_intent_id = ${intent.id}`;
    await runSweep();
    const done = await settled(intent.id);
    expect(done).toMatchObject({ status: "requires_confirmation", last_payment_error: { code: "mpesa_timeout" } });
    expect(await balanceOf(customer.walletId)).toBe("300.0000");
    expect(await held(customer.walletId)).toBe("0.0000");
  });

  it("duplicate callback: stored twice, applied once; the intent paid once", async () => {
    const customer = await customerWith("300.00");
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "duplicate");
    const merchantBefore = await balanceOf(merchant.walletId);
    const intent = await createIntent({ amount: "500.00", customer_id: customer.userId });
    expect((await confirmHalfAndHalf(customer, intent, phone)).status).toBe(200);
    expect((await settled(intent.id)).status).toBe("succeeded");
    await stack.sandbox.idle();
    const [session] = await admin`select provider_checkout_id from public.wallet_funding_sessions where payment_intent_id = ${intent.id}`;
    const events = await admin`select status from public.wallet_webhook_events
                                where provider_event_key = ${`stk:${session.provider_checkout_id}:0`}`;
    expect(events.map((e) => e.status).sort()).toEqual(["duplicate", "processed"]);
    expect(await balanceOf(customer.walletId)).toBe("50.0000"); // 300 + 250 by M-Pesa − 500
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("500.00", await feeOf("500.00"))));
    expect(await held(customer.walletId)).toBe("0.0000");
  });

  it("provider failure (M-Pesa ResultCode 1): mpesa_failed, the wallet hold released", async () => {
    const customer = await customerWith("200.00");
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "fail");
    const intent = await createIntent({ amount: "400.00", customer_id: customer.userId });
    expect((await confirmHalfAndHalf(customer, intent, phone)).status).toBe(200);
    expect(await settled(intent.id)).toMatchObject({ status: "requires_confirmation", last_payment_error: { code: "mpesa_failed" } });
    expect(await balanceOf(customer.walletId)).toBe("200.0000");
    expect(await held(customer.walletId)).toBe("0.0000");
  });

  it("the provider is down (HTTP 503): 502 provider_unavailable, the part expired, the intent back; nothing held", async () => {
    const customer = await customerWith("200.00");
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "unavailable");
    const intent = await createIntent({ amount: "400.00", customer_id: customer.userId });
    const res = await confirmHalfAndHalf(customer, intent, phone);
    expect([res.status, res.body.error.code]).toEqual([502, "provider_unavailable"]);
    expect(await intentRow(intent.id)).toMatchObject({
      status: "requires_confirmation",
      last_payment_error: { code: "mpesa_timeout" },
    });
    expect(await held(customer.walletId)).toBe("0.0000");
    expect(await balanceOf(customer.walletId)).toBe("200.0000");
  });

  it("our STK request times out but the customer pays: the part failed, the money is matched and stays in the wallet", async () => {
    const customer = await customerWith("200.00");
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "lost_response");
    const intent = await createIntent({ amount: "400.00", customer_id: customer.userId });
    const res = await confirmHalfAndHalf(customer, intent, phone);
    expect([res.status, res.body.error.code]).toEqual([502, "provider_unavailable"]);
    await stack.sandbox.idle();
    await runSweep(); // re-applies the callback if it overtook our expiry of the session
    const [session] = await admin`select status from public.wallet_funding_sessions where payment_intent_id = ${intent.id}`;
    expect(session.status).toBe("completed");
    expect(await intentRow(intent.id)).toMatchObject({ status: "requires_confirmation", last_payment_error: { code: "mpesa_timeout" } });
    expect(await balanceOf(customer.walletId)).toBe("400.0000"); // 200 + the 200 that did arrive
    expect(await held(customer.walletId)).toBe("0.0000");
  });

  it("refuses bad plans with stable codes and starts no STK push", async () => {
    const customer = await customerWith("100.00");
    const intent = await createIntent({ amount: "100.00", customer_id: customer.userId });
    const confirm = (sources: unknown) =>
      api(customer.token, "POST", `/payments/intents/${intent.id}/confirm`, { sources }, { "idempotency-key": key() });
    const phone = randomMsisdn();
    expect((await confirm([{ type: "mpesa", phone, amount: "99.50" }, {
      type: "wallet",
      wallet_id: customer.walletId,
      amount: "0.50",
    }])).body.error.code).toBe("invalid_amount");
    expect((await confirm([{ type: "mpesa", phone, amount: "50" }, { type: "mpesa", phone, amount: "50" }])).body.error.code)
      .toBe("invalid_argument");
    expect((await confirm([{ type: "mpesa", phone: "0712345678", amount: "100" }])).body.error.code).toBe("validation_failed");
    expect((await confirm([{ type: "mpesa", phone, amount: "60" }])).body.error.code).toBe("sources_amount_mismatch");
    const [{ n }] = await admin`select count(*)::int as n from public.wallet_funding_sessions where payment_intent_id = ${intent.id}`;
    expect(n).toBe(0);
    expect((await intentRow(intent.id)).status).toBe("requires_confirmation");
  });
});

describe("a guest pays by M-Pesa with the client_secret (no account, no token)", () => {
  it("success: straight from mpesa_clearing to the merchant, less its fee; the checkout view follows it", async () => {
    const merchantBefore = await balanceOf(merchant.walletId);
    const intent = await createIntent({ amount: "750.00", description: "QR checkout" });
    const res = await confirmAsGuest(intent, randomMsisdn());
    expect(res.status).toBe(200);
    expect(res.body.object).toBe("payment_intent_checkout");
    expect(res.body.merchant_id).toBeUndefined();
    expect((await settled(intent.id)).status).toBe("succeeded");
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("750.00", await feeOf("750.00"))));
    const view = await api(undefined, "GET", `/payments/intents/${intent.id}?client_secret=${intent.client_secret}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ status: "succeeded", amount_received: "750.0000", sources: [{ type: "mpesa" }] });
    expect(Object.keys(view.body)).not.toContain("payee_wallet_id");
    // A wrong secret is a 404, as is no secret without a token.
    expect((await api(undefined, "GET", `/payments/intents/${intent.id}?client_secret=pi_wrong`)).status).toBe(404);
    expect((await api(undefined, "GET", `/payments/intents/${intent.id}`)).status).toBe(401);
    // A guest's payment is not refunded to mpesa_clearing: it goes back by B2C payout to the
    // phone (tests/functions/guest-refunds.test.ts).
    const refund = await api(merchant.token, "POST", "/payments/refunds", { payment_intent_id: intent.id, amount: "100" }, {
      "idempotency-key": key(),
    });
    expect([refund.status, refund.body.status]).toEqual([201, "pending"]);
    await stack.sandbox.idle();
    await waitFor(async () => {
      const [row] = await admin`select status from public.payment_refunds where id = ${refund.body.id}`;
      return row.status === "succeeded";
    }, "the guest refund's payout");
  });

  it("1032: back to requires_confirmation, nothing moved; it can be paid again", async () => {
    const merchantBefore = await balanceOf(merchant.walletId);
    const intent = await createIntent({ amount: "120.00" });
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "cancelled");
    expect((await confirmAsGuest(intent, phone)).status).toBe(200);
    expect(await settled(intent.id)).toMatchObject({ status: "requires_confirmation", last_payment_error: { code: "mpesa_cancelled" } });
    const view = await api(undefined, "GET", `/payments/intents/${intent.id}?client_secret=${intent.client_secret}`);
    expect(view.body.last_payment_error.code).toBe("mpesa_cancelled");
    expect(await balanceOf(merchant.walletId)).toBe(merchantBefore);
    expect((await confirmAsGuest(intent, randomMsisdn())).status).toBe(200);
    expect((await settled(intent.id)).status).toBe("succeeded");
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("120.00", await feeOf("120.00"))));
  });

  it("timeout: the sweep expires the part; nothing moved", async () => {
    const merchantBefore = await balanceOf(merchant.walletId);
    const intent = await createIntent({ amount: "90.00" });
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "timeout");
    expect((await confirmAsGuest(intent, phone)).status).toBe(200);
    await stack.sandbox.idle();
    await admin`update public.wallet_funding_sessions set expires_at = now() - interval '1 second'
                 where payment_intent_id = ${intent.id}`;
    await runSweep();
    expect(await settled(intent.id)).toMatchObject({ status: "requires_confirmation", last_payment_error: { code: "mpesa_timeout" } });
    expect(await balanceOf(merchant.walletId)).toBe(merchantBefore);
  });

  it("duplicate callback: the merchant is paid once", async () => {
    const merchantBefore = await balanceOf(merchant.walletId);
    const intent = await createIntent({ amount: "60.00" });
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "duplicate");
    expect((await confirmAsGuest(intent, phone)).status).toBe(200);
    expect((await settled(intent.id)).status).toBe("succeeded");
    await stack.sandbox.idle();
    const [session] = await admin`select provider_checkout_id from public.wallet_funding_sessions where payment_intent_id = ${intent.id}`;
    const events = await admin`select status from public.wallet_webhook_events
                                where provider_event_key = ${`stk:${session.provider_checkout_id}:0`}`;
    expect(events.map((e) => e.status).sort()).toEqual(["duplicate", "processed"]);
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("60.00", await feeOf("60.00"))));
  });

  it("the provider refuses the push (HTTP 400): mpesa_failed at once, nothing moved", async () => {
    const merchantBefore = await balanceOf(merchant.walletId);
    const intent = await createIntent({ amount: "80.00" });
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "reject");
    const res = await confirmAsGuest(intent, phone);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "requires_confirmation", last_payment_error: { code: "mpesa_failed" } });
    expect(await balanceOf(merchant.walletId)).toBe(merchantBefore);
  });

  it("our STK request times out but the guest pays: the money lands in suspense (to pay back), not lost", async () => {
    const merchantBefore = await balanceOf(merchant.walletId);
    const intent = await createIntent({ amount: "70.00" });
    const phone = randomMsisdn();
    stack.sandbox.setScenario(phone, "lost_response");
    const res = await confirmAsGuest(intent, phone);
    expect([res.status, res.body.error.code]).toEqual([502, "provider_unavailable"]);
    await stack.sandbox.idle();
    await runSweep();
    const [session] = await admin`select status from public.wallet_funding_sessions where payment_intent_id = ${intent.id}`;
    expect(session.status).toBe("completed");
    expect((await intentRow(intent.id)).status).toBe("requires_confirmation");
    expect(await balanceOf(merchant.walletId)).toBe(merchantBefore);
    expect(await suspenseCredited(intent.id)).toBe("70.0000");
  });

  it("refuses what a guest cannot do", async () => {
    const manual = await createIntent({ amount: "50.00", capture_method: "manual" });
    expect((await confirmAsGuest(manual, randomMsisdn())).body.error.code).toBe("invalid_argument");
    const intent = await createIntent({ amount: "50.00" });
    const noSecret = await api(undefined, "POST", `/payments/intents/${intent.id}/confirm`, {
      sources: [{ type: "mpesa", phone: randomMsisdn(), amount: "50" }],
    }, { "idempotency-key": key() });
    expect(noSecret.status).toBe(401);
    const wrong = await confirmAsGuest({ ...intent, client_secret: "pi_wrong" }, randomMsisdn());
    expect(wrong.status).toBe(404);
    const customer = await customerWith("10.00");
    const theirs = await createIntent({ amount: "50.00", customer_id: customer.userId });
    expect((await confirmAsGuest(theirs, randomMsisdn())).status).toBe(404);
  });
});

describe("an STK callback racing the intent's expiry job", () => {
  function stkCallback(checkoutId: string, amount: number) {
    return {
      Body: {
        stkCallback: {
          MerchantRequestID: "29115-34620561-1",
          CheckoutRequestID: checkoutId,
          ResultCode: 0,
          ResultDesc: "The service request is processed successfully.",
          CallbackMetadata: {
            Item: [
              { Name: "Amount", Value: amount },
              { Name: "MpesaReceiptNumber", Value: `R${crypto.randomUUID().slice(0, 9).toUpperCase()}` },
              { Name: "PhoneNumber", Value: 254700000000 },
            ],
          },
        },
      },
    };
  }

  it("exactly one outcome each: paid (succeeded), or canceled with the money in the wallet / in suspense", async () => {
    const ROUNDS = 8;
    const merchantBefore = await balanceOf(merchant.walletId);
    const cases: { intent: Json; customer?: Party; checkout: string }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const phone = randomMsisdn();
      stack.sandbox.setScenario(phone, "silent_success"); // paid; the callback is ours to send
      const guest = i % 2 === 1;
      const customer = guest ? undefined : await customerWith("100.00");
      const intent = await createIntent({ amount: "200.00", ...(customer ? { customer_id: customer.userId } : {}) });
      const res = guest
        ? await confirmAsGuest(intent, phone)
        : await confirmHalfAndHalf(customer!, intent, phone);
      expect(res.status).toBe(200);
      const [session] = await admin`select provider_checkout_id from public.wallet_funding_sessions
                                     where payment_intent_id = ${intent.id}`;
      cases.push({ intent, customer, checkout: session.provider_checkout_id });
    }
    await stack.sandbox.idle();
    // The intents expire one after another over the next 120 ms, while their callbacks
    // arrive (each is confirmed with the provider first) and the expiry job runs in a loop: some
    // callbacks win, some lose, and a few meet the job on the intent's row lock.
    await admin`update public.payment_intents p set expires_at = now() + make_interval(secs => 0.015 * x.n)
                  from unnest(${cases.map((c) => c.intent.id)}::uuid[]) with ordinality as x(id, n)
                 where p.id = x.id`;
    const stop = Date.now() + 700;
    await Promise.all([
      ...cases.map((c) =>
        api(undefined, "POST", `/webhooks/mpesa/stk/${CALLBACK_TOKEN}`, stkCallback(c.checkout, c.customer ? 100 : 200))
      ),
      ...Array.from({ length: 2 }, async () => {
        while (Date.now() < stop) {
          await admin`select hazina.expire_payment_intents(100)`;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }),
    ]);
    await stack.sandbox.idle();
    let paid = "0";
    for (const c of cases) {
      const row = await intentRow(c.intent.id);
      const [session] = await admin`select status from public.wallet_funding_sessions where payment_intent_id = ${c.intent.id}`;
      expect(session.status).toBe("completed"); // the money arrived, once
      expect(["succeeded", "canceled"]).toContain(row.status);
      if (c.customer) {
        // 100 in the wallet + 100 by M-Pesa: paid 200, or kept all 200.
        expect(await balanceOf(c.customer.walletId)).toBe(row.status === "succeeded" ? "0.0000" : "200.0000");
        expect(await held(c.customer.walletId)).toBe("0.0000");
      } else {
        // A guest's money: the payment, or (canceled first) the suspense wallet's.
        expect(await suspenseCredited(c.intent.id)).toBe(row.status === "canceled" ? "200.0000" : "0.0000");
      }
      if (row.status === "succeeded") paid = sum(paid, difference("200.00", await feeOf("200.00")));
      expect(await pendingHolds(c.intent.id)).toBe(0);
    }
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, paid));
  });

  it("on eight connections, the confirmed money (hazina.funding_complete) against the expiry job: one outcome each", async () => {
    const sql = postgres(process.env.DATABASE_URL!, { max: 8, onnotice: () => {} });
    try {
      const ROUNDS = 16;
      const merchantBefore = await balanceOf(merchant.walletId);
      const cases: { id: string; session: string; customer?: Party }[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const customer = i % 2 === 0 ? await customerWith("50.00") : undefined;
        const [created] = await sql`select hazina.payment_intent_create(${merchant.userId}, 100, 'KES', 'automatic',
          ${customer?.userId ?? null}::uuid, null, null, null, ${"mp-race-" + crypto.randomUUID()}) as intent`;
        const sources = customer
          ? [{ type: "wallet", wallet_id: customer.walletId, amount: "50" }, { type: "mpesa", phone: randomMsisdn(), amount: "50" }]
          : [{ type: "mpesa", phone: randomMsisdn(), amount: "100" }];
        const [confirmed] = await sql`select hazina.payment_intent_confirm(${created.intent.id}, ${customer?.userId ?? null}::uuid,
          ${sql.json(sources as never)}::jsonb, ${customer ? null : created.intent.client_secret}) as intent`;
        cases.push({ id: created.intent.id, session: confirmed.intent.mpesa.funding_session_id, customer });
      }
      await Promise.all(Array.from({ length: 8 }, () => sql`select pg_sleep(0.01)`)); // all eight connections open
      // They expire one after another, 5 ms apart, while all the money arrives at once.
      await sql`update public.payment_intents p set expires_at = now() + make_interval(secs => 0.005 * x.n)
                  from unnest(${cases.map((c) => c.id)}::uuid[]) with ordinality as x(id, n)
                 where p.id = x.id`;
      await Promise.all([
        ...cases.map((c) => sql`select hazina.funding_complete(${c.session}, null, ${"RACE" + crypto.randomUUID().slice(0, 8)})`),
        ...Array.from({ length: 3 }, () => sql`select hazina.expire_payment_intents(100)`),
      ]);
      await sql`select pg_sleep(0.05)`;
      await sql`select hazina.expire_payment_intents(100)`;
      let paid = "0";
        for (const c of cases) {
        const row = await intentRow(c.id);
        expect(["succeeded", "canceled"]).toContain(row.status);
        if (c.customer) {
          expect(await balanceOf(c.customer.walletId)).toBe(row.status === "succeeded" ? "0.0000" : "100.0000");
          expect(await held(c.customer.walletId)).toBe("0.0000");
        } else {
          expect(await suspenseCredited(c.id)).toBe(row.status === "canceled" ? "100.0000" : "0.0000");
        }
        if (row.status === "succeeded") paid = sum(paid, difference("100.00", await feeOf("100.00")));
      }
      expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, paid));
    } finally {
      await sql.end();
    }
  });
});
