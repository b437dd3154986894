// Payment intents and refunds through the payments function: in-process for the rules, and
// the walk-through of docs/payments.md (create, pay from the wallet, capture, partial
// refund) over the real HTTP server. Every answer's money is checked against the wallets.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { app } from "../../functions/payments/app.ts";
import { admin } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { appCaller, type Caller, httpCaller, idempotencyKey as key, readResponse } from "../helpers/request.ts";

const inProcess = appCaller(app, "/payments");
const overHttp = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1/payments`);

let duka: Party;
let amina: Party;
let other: Party;

beforeAll(async () => {
  await paymentIntentFee();
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  other = await partyWithWallet();
  await fund(amina.walletId, "1000.00");
  await fund(other.walletId, "100.00");
});

afterAll(async () => {
  await expectBooksBalanced();
});

async function createIntent(request: Caller, body: Record<string, unknown>, merchant = duka) {
  return await readResponse(await request(merchant.token, "POST", "/intents", body, { "idempotency-key": key() }));
}

describe("payment intents", () => {
  it("create: 201 with the client_secret once; the same key replays; amounts are strings", async () => {
    const k = key();
    const first = await readResponse(await inProcess(duka.token, "POST", "/intents",
      { amount: "120.50", customer_id: amina.userId, metadata: { order: "17" } }, { "idempotency-key": k }));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ amount: "120.5000", currency: "KES", status: "requires_confirmation",
      capture_method: "automatic", amount_received: "0.0000", customer_id: amina.userId, metadata: { order: "17" } });
    expect(first.body.client_secret).toMatch(/^pi_[0-9a-f]{32}_secret_[0-9a-f]{48}$/);
    const again = await inProcess(duka.token, "POST", "/intents",
      { amount: "120.50", customer_id: amina.userId, metadata: { order: "17" } }, { "idempotency-key": k });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await again.json()).id).toBe(first.body.id);
    const [stored] = await admin`select client_secret_hash from public.payment_intents where id = ${first.body.id}`;
    expect(stored.client_secret_hash).not.toContain(first.body.client_secret);
  });

  it("refuses bad input with 4xx and stable codes", async () => {
    const cases: [Party, Record<string, unknown>, number, string][] = [
      [duka, { amount: 100 }, 400, "validation_failed"],
      [duka, { amount: "10.001" }, 400, "invalid_amount"],
      [duka, { amount: "10", capture_method: "later" }, 400, "validation_failed"],
      [duka, { amount: "10", expires_in_seconds: 5 }, 400, "validation_failed"],
      [duka, { amount: "10", customer_id: crypto.randomUUID() }, 404, "customer_not_found"],
      [amina, { amount: "10" }, 409, "merchant_wallet_required"],
    ];
    for (const [who, body, status, code] of cases) {
      const res = await createIntent(inProcess, body, who);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    const noKey = await inProcess(duka.token, "POST", "/intents", { amount: "10" });
    expect((await noKey.json()).error.code).toBe("idempotency_key_required");
    expect((await inProcess(undefined, "GET", "/intents")).status).toBe(401);
  });

  it("confirm: parts must sum to the amount, come from the payer's wallet; M-Pesa in whole shillings", async () => {
    const intent = (await createIntent(inProcess, { amount: "50.00", customer_id: amina.userId })).body;
    const confirm = (who: Party, body: unknown) =>
      inProcess(who.token, "POST", `/intents/${intent.id}/confirm`, body, { "idempotency-key": key() }).then(readResponse);
    const wallet = (walletId: string, amount: string) => ({ sources: [{ type: "wallet", wallet_id: walletId, amount }] });
    expect((await confirm(amina, wallet(amina.walletId, "40.00"))).body.error.code).toBe("sources_amount_mismatch");
    expect((await confirm(amina, wallet(other.walletId, "50.00"))).body.error.code).toBe("wallet_not_found");
    expect((await confirm(other, wallet(other.walletId, "50.00"))).status).toBe(404);
    // M-Pesa parts move whole shillings (the STK flows: payment-intents-mpesa.test.ts).
    const mpesa = await confirm(amina, { sources: [{ type: "mpesa", phone: "254712345678", amount: "50.50" }] });
    expect(mpesa.body.error.code).toBe("invalid_amount");
    expect((await confirm(amina, { sources: [] })).body.error.code).toBe("validation_failed");
    expect((await readResponse(await inProcess(other.token, "GET", `/intents/${intent.id}`))).status).toBe(404);
    // More than the wallet holds: 409 insufficient_funds, recorded on the intent, which can still be paid.
    const big = (await createIntent(inProcess, { amount: "5000.00", customer_id: amina.userId })).body;
    const failed = await readResponse(await inProcess(amina.token, "POST", `/intents/${big.id}/confirm`,
      wallet(amina.walletId, "5000.00"), { "idempotency-key": key() }));
    expect([failed.status, failed.body.error.code, failed.body.error.details.payment_intent_id])
      .toEqual([409, "insufficient_funds", big.id]);
    const recorded = await readResponse(await inProcess(duka.token, "GET", `/intents/${big.id}`));
    expect(recorded.body).toMatchObject({ status: "requires_confirmation", last_payment_error: { code: "insufficient_funds" } });
    // Nothing was held by any refused confirm.
    const [w] = await admin`select held::text from public.wallets where id = ${amina.walletId}`;
    expect(w.held).toBe("0.0000");
  });

  it("the walk-through over HTTP: create, pay from the wallet, capture part, refund part", async () => {
    const aminaBefore = await balanceOf(amina.walletId);
    const dukaBefore = await balanceOf(duka.walletId);
    const created = await createIntent(overHttp, { amount: "400.00", capture_method: "manual", description: "Order 18" });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // A payer who is not named presents the client_secret.
    const paid = await readResponse(await overHttp(amina.token, "POST", `/intents/${id}/confirm`,
      { sources: [{ type: "wallet", wallet_id: amina.walletId, amount: "400.00" }], client_secret: created.body.client_secret },
      { "idempotency-key": key() }));
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: "requires_capture", amount_capturable: "400.0000", customer_id: amina.userId,
      sources: [{ type: "wallet", wallet_id: amina.walletId, amount: "400.0000" }] });
    // Now the customer sees it too, and the merchant lists it among those to capture.
    expect((await readResponse(await overHttp(amina.token, "GET", `/intents/${id}`))).body.status).toBe("requires_capture");
    const toCapture = await readResponse(await overHttp(duka.token, "GET", "/intents?status=requires_capture&limit=100"));
    expect(toCapture.body.data.map((i: { id: string }) => i.id)).toContain(id);

    // Only the merchant captures.
    const byCustomer = await readResponse(await overHttp(amina.token, "POST", `/intents/${id}/capture`, {}, { "idempotency-key": key() }));
    expect(byCustomer.status).toBe(404);
    const captureKey = key();
    const captured = await readResponse(await overHttp(duka.token, "POST", `/intents/${id}/capture`, { amount: "300.00" },
      { "idempotency-key": captureKey }));
    expect(captured.body).toMatchObject({ status: "succeeded", amount_received: "300.0000", amount_capturable: "0.0000" });
    const replay = await overHttp(duka.token, "POST", `/intents/${id}/capture`, { amount: "300.00" }, { "idempotency-key": captureKey });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await balanceOf(amina.walletId)).toBe(difference(aminaBefore, "300")); // 300 paid, 100 released
    expect(await balanceOf(duka.walletId)).toBe(difference(sum(dukaBefore, "300"), "4.50")); // 1.5% fee = 4.50

    const refund = await readResponse(await overHttp(duka.token, "POST", "/refunds",
      { payment_intent_id: id, amount: "100.00", reason: "one item returned" }, { "idempotency-key": key() }));
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({
      object: "payment_refund",
      payment_intent_id: id,
      amount: "100.0000",
      fee_refunded: "1.5000",
      status: "succeeded",
    });
    const tooMuch = await readResponse(await overHttp(duka.token, "POST", "/refunds",
      { payment_intent_id: id, amount: "200.01" }, { "idempotency-key": key() }));
    expect([tooMuch.status, tooMuch.body.error.code]).toEqual([409, "refund_exceeds_captured"]);
    const listed = await readResponse(await overHttp(amina.token, "GET", `/refunds?payment_intent_id=${id}`));
    expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual([refund.body.id]);
    expect((await readResponse(await overHttp(other.token, "GET", `/refunds?payment_intent_id=${id}`))).body.data).toEqual([]);
    const after = await readResponse(await overHttp(duka.token, "GET", `/intents/${id}`));
    expect(after.body.amount_refunded).toBe("100.0000");
    expect(await balanceOf(amina.walletId)).toBe(difference(aminaBefore, "200"));
    // Each step wrote its event, which the merchant (only) lists.
    const events = await readResponse(await overHttp(duka.token, "GET", "/events?limit=100"));
    const mine = events.body.data.filter((e: { object_id: string }) => e.object_id === id || e.object_id === refund.body.id);
    expect(mine.map((e: { type: string }) => e.type).reverse()).toEqual(
      ["payment_intent.created", "payment_intent.requires_capture", "payment_intent.succeeded", "payment_refund.created"]);
    const succeeded = await readResponse(await overHttp(duka.token, "GET", "/events?type=payment_intent.succeeded&limit=100"));
    expect(succeeded.body.data.every((e: { type: string }) => e.type === "payment_intent.succeeded")).toBe(true);
    expect((await readResponse(await overHttp(amina.token, "GET", "/events"))).body.data).toEqual([]);
    // The fee comes back in proportion: 4.50 × 100 / 300 = 1.50.
    expect(await balanceOf(duka.walletId)).toBe(sum(difference(sum(dukaBefore, "300"), "4.50", "100"), "1.50"));
    await expectBooksBalanced();
  });

  it("automatic capture succeeds at confirm; a succeeded intent cannot be canceled; cancel releases a hold", async () => {
    const auto = (await createIntent(inProcess, { amount: "10.00", customer_id: amina.userId })).body;
    const paid = await readResponse(await inProcess(amina.token, "POST", `/intents/${auto.id}/confirm`,
      { sources: [{ type: "wallet", wallet_id: amina.walletId, amount: "10.00" }] }, { "idempotency-key": key() }));
    expect(paid.body).toMatchObject({ status: "succeeded", amount_received: "10.0000" });
    const again = await readResponse(await inProcess(amina.token, "POST", `/intents/${auto.id}/confirm`,
      { sources: [{ type: "wallet", wallet_id: amina.walletId, amount: "10.00" }] }, { "idempotency-key": key() }));
    expect([again.status, again.body.error.code]).toEqual([409, "intent_not_confirmable"]);
    const cancel = await readResponse(await inProcess(duka.token, "POST", `/intents/${auto.id}/cancel`, undefined,
      { "idempotency-key": key() }));
    expect([cancel.status, cancel.body.error.code]).toEqual([409, "intent_not_cancelable"]);

    const held = (await createIntent(inProcess, { amount: "20.00", customer_id: amina.userId, capture_method: "manual" })).body;
    await inProcess(amina.token, "POST", `/intents/${held.id}/confirm`,
      { sources: [{ type: "wallet", wallet_id: amina.walletId, amount: "20.00" }] }, { "idempotency-key": key() });
    const canceled = await readResponse(await inProcess(duka.token, "POST", `/intents/${held.id}/cancel`,
      { reason: "out of stock" }, { "idempotency-key": key() }));
    expect(canceled.body).toMatchObject({ status: "canceled", cancellation_reason: "out of stock", amount_capturable: "0.0000" });
    const capture = await readResponse(await inProcess(duka.token, "POST", `/intents/${held.id}/capture`, undefined,
      { "idempotency-key": key() }));
    expect([capture.status, capture.body.error.code]).toEqual([409, "intent_not_capturable"]);
    const [w] = await admin`select held::text from public.wallets where id = ${amina.walletId}`;
    expect(w.held).toBe("0.0000");
  });
});
