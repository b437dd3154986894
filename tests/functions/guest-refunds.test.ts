// Guest refunds by B2C payout to the paying phone, end to end over HTTP: a guest pays an
// intent by M-Pesa (client_secret), the merchant refunds it with POST /payments/refunds, our
// functions send the B2C request after the commit, the sandbox calls our webhooks back, and
// M-Pesa's Transaction Status answer (not the callback) settles the payout and so the refund.
// Scenarios: paid (a plain intent and a QR code's), B2C failure result, queue timeout, lost
// response (the sweep asks), the edge dying before the B2C request (the sweep sends it), a
// duplicate result; the merchant without the money; races (two refunds over the captured
// amount, one key twice, a refund against the sweep). After each: balances to the cent,
// nothing left held, books reconciled.
import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, heldOf as held, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { randomMsisdn, SWEEP_SECRET, waitFor } from "../helpers/money-movement.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { idempotencyKey as key, type Json } from "../helpers/request.ts";

const { stack, api } = useMoneyStack();

beforeAll(async () => {
  await paymentIntentFee(); // 1.5%, borne by the merchant
});

async function feeOf(amount: string): Promise<string> {
  const [row] = await admin`select round(${amount}::numeric * 150 / 10000, 2)::numeric(19, 4)::text as fee`;
  return row.fee;
}

async function runSweep(): Promise<Json> {
  const res = await api(undefined, "POST", "/webhooks/sweep", undefined, { "x-sweep-secret": SWEEP_SECRET });
  expect(res.status).toBe(200);
  await stack.sandbox.idle();
  return res.body;
}

/** A fresh merchant whose only money is what a guest paid by M-Pesa from `msisdn`. */
async function guestPaid(amount: string, msisdn: string): Promise<{ merchant: Party; intent: Json }> {
  const merchant = await partyWithWallet("merchant");
  const created = await api(merchant.token, "POST", "/payments/intents", { amount, description: "QR checkout" }, {
    "idempotency-key": key(),
  });
  expect(created.status).toBe(201);
  const intent = created.body;
  const res = await api(undefined, "POST", `/payments/intents/${intent.id}/confirm`, {
    sources: [{ type: "mpesa", phone: msisdn, amount }],
    client_secret: intent.client_secret,
  }, { "idempotency-key": key() });
  expect(res.status).toBe(200);
  await stack.sandbox.idle();
  await waitFor(async () => (await intentRow(intent.id)).status === "succeeded", "the guest's payment");
  expect(await balanceOf(merchant.walletId)).toBe(difference(amount, await feeOf(amount)));
  return { merchant, intent };
}

async function intentRow(id: string): Promise<Json> {
  const [row] = await admin`select status, amount_received::text, amount_refunded::text from public.payment_intents where id = ${id}`;
  return row;
}

async function refundRow(id: string): Promise<Json> {
  const [row] = await admin`select r.status, r.fee_refunded::text, r.failure_code, r.payout_id, w.status as payout_status,
                                   w.msisdn, w.amount::text as payout_amount, w.settlement_transaction_id
                              from public.payment_refunds r left join public.wallet_withdrawals w on w.id = r.payout_id
                             where r.id = ${id}`;
  return row;
}

async function refund(merchant: Party, body: Record<string, unknown>, idempotencyKey = key()) {
  return await api(merchant.token, "POST", "/payments/refunds", body, { "idempotency-key": idempotencyKey });
}

/** Wait until the refund leaves `pending` (M-Pesa's confirmed answer, or the sweep, decided its payout). */
async function settled(id: string): Promise<Json> {
  await stack.sandbox.idle();
  return await waitFor(async () => {
    const row = await refundRow(id);
    return row.status !== "pending" && row;
  }, `refund ${id} to leave pending`);
}

async function eventTypes(refundId: string): Promise<string[]> {
  const rows = await admin`select type from public.events where object_id = ${refundId} order by created_at, type`;
  return rows.map((r) => r.type);
}

/** Settlement postings of a payout (payouts_in_flight → mpesa_clearing): one when paid, none otherwise. */
async function settlements(payoutId: string): Promise<number> {
  const [row] = await admin`select count(*)::int as n from public.wallet_transactions
                             where kind = 'withdrawal_settlement' and metadata ->> 'withdrawal_id' = ${payoutId}`;
  return row.n;
}

describe("a guest's M-Pesa payment is refunded by B2C payout to the paying phone", () => {
  it("paid: pending, then succeeded; the phone gets the amount, the merchant its fee share back", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("1000", msisdn);
    const k = key();
    const res = await refund(merchant, { payment_intent_id: intent.id, amount: "400", reason: "damaged" }, k);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ object: "payment_refund", status: "pending", amount: "400.0000", fee_refunded: "6.0000" });
    expect(res.body.transaction_id).toBeNull();
    expect(res.body.payout_id).toEqual(expect.any(String));
    const done = await settled(res.body.id);
    expect(done).toMatchObject({
      status: "succeeded",
      payout_status: "completed",
      msisdn,
      payout_amount: "400.0000",
      fee_refunded: "6.0000",
    });
    // M-Pesa was asked to pay the phone that paid, our payout's id as the originator.
    const paid = stack.sandbox.deliveries.find((d) =>
      d.url.includes("/b2c/result") && (d.body as Json).Result.OriginatorConversationID === res.body.payout_id
    );
    expect(JSON.stringify((paid!.body as Json).Result.ResultParameters)).toContain(`${msisdn} - Sandbox Customer`);
    expect(await balanceOf(merchant.walletId)).toBe("591.0000"); // 985 − 400 + 6.00
    expect(await held(merchant.walletId)).toBe("0.0000");
    expect(await intentRow(intent.id)).toMatchObject({ amount_refunded: "400.0000" });
    expect(await settlements(res.body.payout_id)).toBe(1);
    expect(await eventTypes(res.body.id)).toEqual(["payment_refund.created", "payment_refund.succeeded"]);
    const events = await api(merchant.token, "GET", "/payments/events?type=payment_refund.succeeded");
    expect(events.body.data.map((e: Json) => e.object_id)).toEqual([res.body.id]);
    expect(events.body.data[0].data).toMatchObject({ status: "succeeded", payout_id: res.body.payout_id });

    // A retry with the same key is the same refund: one payout.
    const replay = await refund(merchant, { payment_intent_id: intent.id, amount: "400", reason: "damaged" }, k);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.id).toBe(res.body.id);
    const list = await api(merchant.token, "GET", `/payments/refunds?payment_intent_id=${intent.id}`);
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({ status: "succeeded", transaction_id: expect.any(String) });
    const [{ n }] = await admin`select count(*)::int as n from public.wallet_withdrawals where user_id = ${merchant.userId}`;
    expect(n).toBe(1);
    // The merchant sees the payout among its withdrawals (money left its wallet), but cannot cancel it.
    const payouts = await api(merchant.token, "GET", "/withdrawals");
    expect(payouts.body.data).toEqual([
      expect.objectContaining({ id: res.body.payout_id, source_id: null, amount: "400.0000", fee: "0.0000", status: "completed" }),
    ]);
    const cancel = await api(merchant.token, "POST", `/withdrawals/${res.body.payout_id}/cancel`);
    expect([cancel.status, cancel.body.error.code]).toEqual([409, "withdrawal_not_cancellable"]);
  });

  it("a guest who paid through a QR code: refunded by payout too", async () => {
    const msisdn = randomMsisdn();
    const merchant = await partyWithWallet("merchant");
    const code = await api(merchant.token, "POST", "/qr-codes", { kind: "fixed", label: "Chai", amount: "250.00" }, {
      "idempotency-key": key(),
    });
    expect(code.status).toBe(201);
    const opened = await api(undefined, "POST", `/checkout/${code.body.slug}/pay/mpesa`, {}, { "idempotency-key": key() });
    expect(opened.status).toBe(201);
    const paid = await api(undefined, "POST", `/payments/intents/${opened.body.id}/confirm`, {
      sources: [{ type: "mpesa", phone: msisdn, amount: "250" }],
      client_secret: opened.body.client_secret,
    }, { "idempotency-key": key() });
    expect(paid.status).toBe(200);
    await stack.sandbox.idle();
    await waitFor(async () => (await intentRow(opened.body.id)).status === "succeeded", "the guest's QR payment");
    expect(await balanceOf(merchant.walletId)).toBe("246.2500"); // 250 − 3.75
    const res = await refund(merchant, { payment_intent_id: opened.body.id, amount: "200" });
    expect([res.status, res.body.status]).toEqual([201, "pending"]);
    expect(await settled(res.body.id)).toMatchObject({ status: "succeeded", msisdn, fee_refunded: "3.0000" });
    expect(await balanceOf(merchant.walletId)).toBe("49.2500"); // 246.25 − 200 + 3.00
    expect(await intentRow(opened.body.id)).toMatchObject({ amount_refunded: "200.0000" });
  });

  it("B2C failure result: failed, the money never left, the amount is refundable again", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("500", msisdn); // 492.50
    stack.sandbox.setScenario(msisdn, "fail");
    const res = await refund(merchant, { payment_intent_id: intent.id, amount: "200" });
    expect(res.status).toBe(201);
    const done = await settled(res.body.id);
    expect(done).toMatchObject({ status: "failed", failure_code: "2001", fee_refunded: "0.0000", payout_status: "failed" });
    expect(await balanceOf(merchant.walletId)).toBe("492.5000");
    expect(await held(merchant.walletId)).toBe("0.0000");
    expect(await intentRow(intent.id)).toMatchObject({ amount_refunded: "0.0000" });
    expect(await settlements(done.payout_id)).toBe(0);
    expect(await eventTypes(res.body.id)).toEqual(["payment_refund.created", "payment_refund.failed"]);
    const view = await api(merchant.token, "GET", `/payments/refunds/${res.body.id}`);
    expect(view.body).toMatchObject({ status: "failed", failure_code: "2001", transaction_id: null });

    // The phone works again: the same amount is refunded.
    stack.sandbox.setScenario(msisdn, "success");
    const again = await refund(merchant, { payment_intent_id: intent.id, amount: "200" });
    expect(again.status).toBe(201);
    expect((await settled(again.body.id)).status).toBe("succeeded");
    expect(await balanceOf(merchant.walletId)).toBe("295.5000"); // 492.50 − 200 + 3.00
    expect(await intentRow(intent.id)).toMatchObject({ amount_refunded: "200.0000" });
  });

  it("queue timeout: nothing decided until Transaction Status says it never happened; then failed", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("300", msisdn); // 295.50
    stack.sandbox.setScenario(msisdn, "timeout");
    const res = await refund(merchant, { payment_intent_id: intent.id, amount: "200" });
    expect(res.status).toBe(201);
    await stack.sandbox.idle();
    expect((await refundRow(res.body.id)).status).toBe("pending"); // a timeout decides nothing
    expect(await held(merchant.walletId)).toBe("200.0000");
    const report = await runSweep(); // the timeout made it due at once
    expect(report.items).toContainEqual(expect.objectContaining({ id: res.body.payout_id, action: "status_requested" }));
    expect(await settled(res.body.id)).toMatchObject({ status: "failed", payout_status: "failed" });
    expect(await balanceOf(merchant.walletId)).toBe("295.5000");
    expect(await held(merchant.walletId)).toBe("0.0000");
    expect(await intentRow(intent.id)).toMatchObject({ amount_refunded: "0.0000" });
  });

  it("lost response (paid, no answer): the sweep asks M-Pesa and settles it once", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("800", msisdn); // 788.00
    stack.sandbox.setScenario(msisdn, "lost_response");
    const res = await refund(merchant, { payment_intent_id: intent.id, amount: "100" });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("pending");
    await stack.sandbox.idle();
    expect(await refundRow(res.body.id)).toMatchObject({ status: "pending", payout_status: "pending" });
    expect(await balanceOf(merchant.walletId)).toBe("788.0000");
    expect(await held(merchant.walletId)).toBe("100.0000");
    // Its deadline passes; two sweeps at once ask about it once and settle it once.
    await admin`update public.wallet_withdrawals set expires_at = now() - interval '1 second' where id = ${res.body.payout_id}`;
    await Promise.all([runSweep(), runSweep()]);
    expect(await settled(res.body.id)).toMatchObject({ status: "succeeded", payout_status: "completed" });
    await runSweep(); // nothing left to do
    expect(await settlements(res.body.payout_id)).toBe(1);
    expect(await balanceOf(merchant.walletId)).toBe("689.5000"); // 788 − 100 + 1.50
    expect(await held(merchant.walletId)).toBe("0.0000");
    expect(await eventTypes(res.body.id)).toEqual(["payment_refund.created", "payment_refund.succeeded"]);
  });

  it("the edge died between the commit and the B2C request: the sweep sends it, once", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("500", msisdn); // 492.50
    // The refund as the route's transaction commits it, with no B2C request after it.
    const [row] = await admin`select hazina.payment_refund_create(${merchant.userId}, ${intent.id}, 100, null, ${key()}) as r`;
    const created = row.r;
    expect(created).toMatchObject({ status: "pending", created: true });
    const [payout] = await admin`select submitted_at from public.wallet_withdrawals where id = ${created.payout_id}`;
    expect(payout.submitted_at).toBeNull();
    expect((await runSweep()).items.map((i: Json) => i.id)).not.toContain(created.payout_id); // not due yet
    await admin`update public.wallet_withdrawals set expires_at = now() - interval '1 second' where id = ${created.payout_id}`;
    const report = await runSweep();
    expect(report.items).toContainEqual(expect.objectContaining({ id: created.payout_id, action: "submitted" }));
    expect(await settled(created.id)).toMatchObject({ status: "succeeded", msisdn });
    expect(await settlements(created.payout_id)).toBe(1);
    expect(await balanceOf(merchant.walletId)).toBe("394.0000"); // 492.50 − 100 + 1.50
  });

  it("duplicate B2C result: one settlement", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("600", msisdn); // 591.00
    await fund(merchant.walletId, "20"); // the whole 600 must be available (the fee share comes back on success)
    stack.sandbox.setScenario(msisdn, "duplicate");
    const res = await refund(merchant, { payment_intent_id: intent.id, amount: "600" });
    expect(res.status).toBe(201);
    expect(res.body.fee_refunded).toBe("9.0000"); // the whole fee: this refund completes the intent
    expect((await settled(res.body.id)).status).toBe("succeeded");
    await stack.sandbox.idle();
    const results = await admin`select status from public.wallet_webhook_events
                                 where event_type = 'b2c_result' and payload ->> 'withdrawal_id' = ${res.body.payout_id}`;
    expect(results.map((e) => e.status).sort()).toEqual(["duplicate", "processed"]);
    expect(await settlements(res.body.payout_id)).toBe(1);
    expect(await balanceOf(merchant.walletId)).toBe("20.0000"); // 591 + 20 − 600 + 9
    expect(await intentRow(intent.id)).toMatchObject({ amount_refunded: "600.0000" });
    expect(await eventTypes(res.body.id)).toEqual(["payment_refund.created", "payment_refund.succeeded"]);
  });

  it("the merchant lacks the money: 409 refund_insufficient_funds, nothing moves", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("100", msisdn); // 98.50 < 100
    const res = await refund(merchant, { payment_intent_id: intent.id });
    expect([res.status, res.body.error.code]).toEqual([409, "refund_insufficient_funds"]);
    expect(await balanceOf(merchant.walletId)).toBe("98.5000");
    expect(await held(merchant.walletId)).toBe("0.0000");
    expect(await intentRow(intent.id)).toMatchObject({ amount_refunded: "0.0000" });
    const [{ n }] = await admin`select count(*)::int as n from public.payment_refunds where payment_intent_id = ${intent.id}`;
    expect(n).toBe(0);
    // What it can pay back, it can refund.
    const part = await refund(merchant, { payment_intent_id: intent.id, amount: "98" });
    expect(part.status).toBe(201);
    expect((await settled(part.body.id)).status).toBe("succeeded");
    expect(await balanceOf(merchant.walletId)).toBe(sum(difference("98.50", "98"), "1.47"));
    // Not a whole shilling: M-Pesa cannot pay it.
    const cents = await refund(merchant, { payment_intent_id: intent.id, amount: "1.50" });
    expect([cents.status, cents.body.error.code]).toEqual([400, "invalid_amount"]);
  });
});

describe("races", () => {
  it("two refunds over the captured amount at once: exactly one", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("1000", msisdn);
    const [a, b] = await Promise.all([
      refund(merchant, { payment_intent_id: intent.id, amount: "600" }),
      refund(merchant, { payment_intent_id: intent.id, amount: "600" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    const winner = a.status === 201 ? a : b;
    expect(loser.body.error.code).toBe("refund_exceeds_captured");
    expect((await settled(winner.body.id)).status).toBe("succeeded");
    expect(await balanceOf(merchant.walletId)).toBe("394.0000"); // 985 − 600 + 9.00
    expect(await intentRow(intent.id)).toMatchObject({ amount_refunded: "600.0000" });
    const [{ n }] = await admin`select count(*)::int as n from public.wallet_withdrawals where user_id = ${merchant.userId}`;
    expect(n).toBe(1);
  });

  it("one Idempotency-Key sent twice at once: one refund, one payout", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("400", msisdn);
    const k = key();
    const answers = await Promise.all([1, 2, 3].map(() => refund(merchant, { payment_intent_id: intent.id, amount: "100" }, k)));
    const ok = answers.filter((r) => r.status === 201 || r.status === 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
    for (const r of answers.filter((r) => r.status >= 400)) expect(r.status).toBe(409); // still in flight
    await settled(ok[0].body.id);
    const [{ n }] = await admin`select count(*)::int as n from public.wallet_withdrawals where user_id = ${merchant.userId}`;
    expect(n).toBe(1);
    expect(await balanceOf(merchant.walletId)).toBe("295.5000"); // 394 − 100 + 1.50
  });

  it("a refund against the sweep: the overdue payout settles once, the new refund stands alone", async () => {
    const msisdn = randomMsisdn();
    const { merchant, intent } = await guestPaid("1000", msisdn); // 985.00
    stack.sandbox.setScenario(msisdn, "lost_response");
    const first = await refund(merchant, { payment_intent_id: intent.id, amount: "300" });
    expect(first.status).toBe(201);
    await stack.sandbox.idle();
    await admin`update public.wallet_withdrawals set expires_at = now() - interval '1 second' where id = ${first.body.payout_id}`;
    stack.sandbox.setScenario(msisdn, "success");
    const [, , second] = await Promise.all([
      runSweep(),
      runSweep(),
      refund(merchant, { payment_intent_id: intent.id, amount: "500" }),
    ]);
    expect(second.status).toBe(201);
    expect((await settled(first.body.id)).status).toBe("succeeded");
    expect((await settled(second.body.id)).status).toBe("succeeded");
    expect(await settlements(first.body.payout_id)).toBe(1);
    expect(await settlements(second.body.payout_id)).toBe(1);
    expect(await balanceOf(merchant.walletId)).toBe("197.0000"); // 985 − 800 + 4.50 + 7.50
    expect(await held(merchant.walletId)).toBe("0.0000");
    expect(await intentRow(intent.id)).toMatchObject({ amount_refunded: "800.0000" });
  });
});
