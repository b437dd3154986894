// Money in and out, end to end over HTTP: our functions ⇄ the provider sandbox (M-Pesa,
// KCB, DTB) ⇄ our webhooks. After every test the books reconcile and the trial balance is
// zero; balances are checked to the cent with exact decimal arithmetic (tests/helpers/decimal.ts).
import { beforeAll, describe, expect, it } from "vitest";
import { signWebhook } from "../../functions/_shared/providers/hmac.ts";
import { admin, createUser } from "../helpers/db.ts";
import { difference, sum, toUnits } from "../helpers/decimal.ts";
import { balanceOf, type Party, partyWithWallet } from "../helpers/money.ts";
import { CALLBACK_TOKEN, DTB_WEBHOOK_SECRET, feeFor, KCB_WEBHOOK_SECRET, randomAccount, randomMsisdn, SWEEP_SECRET, waitFor } from "../helpers/money-movement.ts";
import { accessToken } from "../helpers/tokens.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { idempotencyKey as key, type Json } from "../helpers/request.ts";

const { stack, api } = useMoneyStack();

beforeAll(async () => {
  // A withdrawal fee so fees show in the billing ledger (kept if another suite set one).
  await admin`insert into public.billing_fee_catalog (transaction_type, fixed_amount)
              select 'withdrawal', 15 where not exists (
                select 1 from public.billing_fee_catalog where transaction_type = 'withdrawal' and currency = 'KES'
                   and active_from <= now() and (active_to is null or active_to > now()))`;
});

async function addSource(party: Party, source: Record<string, unknown>): Promise<Json> {
  const res = await api(party.token, "POST", "/funding/sources", source);
  expect(res.status).toBe(201);
  return res.body;
}

async function topUp(party: Party, sourceId: string, amount: string, idempotencyKey = key()) {
  return await api(party.token, "POST", "/funding", { source_id: sourceId, amount }, { "idempotency-key": idempotencyKey });
}

async function session(party: Party, id: string): Promise<Json> {
  return (await api(party.token, "GET", `/funding/${id}`)).body;
}

async function withdrawal(party: Party, id: string): Promise<Json> {
  return (await api(party.token, "GET", `/withdrawals/${id}`)).body;
}

async function runSweep(): Promise<Json> {
  const res = await api(undefined, "POST", "/webhooks/sweep", undefined, { "x-sweep-secret": SWEEP_SECRET });
  expect(res.status).toBe(200);
  await stack.sandbox.idle();
  return res.body;
}

async function makeDue(table: "wallet_funding_sessions" | "wallet_withdrawals", id: string) {
  await admin.unsafe(`update public.${table} set expires_at = now() - interval '1 second' where id = $1`, [id]);
}

async function eventsFor(subjectId: string) {
  return await admin`select status, event_type, error from public.wallet_webhook_events where subject_id = ${subjectId} order by received_at`;
}

/** A party whose M-Pesa number is verified by a completed top-up of `amount`. */
async function fundedMpesaParty(amount = "2000"): Promise<{ party: Party; source: Json; msisdn: string }> {
  const party = await partyWithWallet();
  const msisdn = randomMsisdn();
  const source = await addSource(party, { provider: "mpesa", msisdn });
  const res = await topUp(party, source.id, amount);
  expect(res.status).toBe(201);
  await stack.sandbox.idle();
  expect((await session(party, res.body.id)).status).toBe("completed");
  return { party, source, msisdn };
}

function stkCallback(checkoutId: string, resultCode: number, amount?: number | string) {
  return {
    Body: {
      stkCallback: {
        MerchantRequestID: "29115-34620561-1",
        CheckoutRequestID: checkoutId,
        ResultCode: resultCode,
        ResultDesc: resultCode === 0 ? "The service request is processed successfully." : "Request cancelled by user",
        ...(resultCode === 0
          ? {
            CallbackMetadata: {
              Item: [
                { Name: "Amount", Value: amount },
                { Name: "MpesaReceiptNumber", Value: `F${crypto.randomUUID().slice(0, 9).toUpperCase()}` },
                { Name: "PhoneNumber", Value: 254700000000 },
              ],
            },
          }
          : {}),
      },
    },
  };
}

describe("payment sources", () => {
  it("adds, lists and removes my sources; others never see them", async () => {
    const amina = await partyWithWallet();
    const baraka = await partyWithWallet();
    const phone = await addSource(amina, { provider: "mpesa", msisdn: "0712 000 111", label: "Safaricom line" });
    expect(phone).toMatchObject({ provider: "mpesa", kind: "mobile_money", msisdn: "254712000111", is_default: true, verification_status: "unverified" });
    const again = await api(amina.token, "POST", "/funding/sources", { provider: "mpesa", msisdn: "+254712000111" });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(phone.id);
    const bank = await addSource(amina, { provider: "kcb", account_number: "1100223344", account_name: "Amina W" });
    expect(bank.kind).toBe("bank_account");
    expect((await api(amina.token, "GET", "/funding/sources")).body.data).toHaveLength(2);
    expect((await api(baraka.token, "GET", "/funding/sources")).body.data).toHaveLength(0);
    expect((await api(baraka.token, "DELETE", `/funding/sources/${bank.id}`)).status).toBe(404);
    expect((await api(amina.token, "DELETE", `/funding/sources/${bank.id}`)).body.status).toBe("removed");
    expect((await api(amina.token, "GET", "/funding/sources")).body.data).toHaveLength(1);
  });

  it("refuses bad sources with 4xx and a stable code", async () => {
    const party = await partyWithWallet();
    const cases: [unknown, string][] = [
      [{ provider: "mpesa", msisdn: "12345678901" }, "invalid_source"],
      [{ provider: "mpesa" }, "validation_failed"],
      [{ provider: "equity", account_number: "1234567" }, "validation_failed"],
      [{ provider: "kcb", account_number: "12ab" }, "validation_failed"],
      ["{not json", "invalid_json"],
    ];
    for (const [body, code] of cases) {
      const res = await api(party.token, "POST", "/funding/sources", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe(code);
    }
    expect((await api(undefined, "GET", "/funding/sources")).status).toBe(401);
  });
});

describe("top-up via M-Pesa STK push", () => {
  it("credits the wallet once the callback arrives (confirmed by a status query)", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    const source = await addSource(party, { provider: "mpesa", msisdn });
    const k = key();
    const res = await topUp(party, source.id, "1500", k);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "pending", amount: "1500.0000", currency: "KES", channel: "stk_push" });
    expect(res.body.provider_checkout_id).toMatch(/^ws_CO_/);
    await stack.sandbox.idle();
    const done = await session(party, res.body.id);
    expect(done.status).toBe("completed");
    expect(done.provider_receipt).toMatch(/^[A-Z0-9]{10}$/);
    const fee = await feeFor("funding", "1500", party.userId);
    expect(await balanceOf(party.walletId)).toBe(difference("1500", fee));
    expect((await eventsFor(res.body.id)).map((e) => e.status)).toEqual(["processed"]);
    const sourceNow = (await api(party.token, "GET", "/funding/sources")).body.data[0];
    expect(sourceNow.verification_status).toBe("verified");

    // The same Idempotency-Key replays the response; no second prompt, no second session.
    const replay = await topUp(party, source.id, "1500", k);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.id).toBe(res.body.id);
    const [{ count }] = await admin`select count(*)::int from public.wallet_funding_sessions where user_id = ${party.userId}`;
    expect(count).toBe(1);
    const list = await api(party.token, "GET", "/funding");
    expect(list.body.data.map((s: Json) => s.id)).toEqual([res.body.id]);
  });

  it("cancelled by the user (ResultCode 1032): cancelled, nothing credited", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "cancelled");
    const source = await addSource(party, { provider: "mpesa", msisdn });
    const res = await topUp(party, source.id, "300");
    expect(res.status).toBe(201);
    await stack.sandbox.idle();
    expect(await session(party, res.body.id)).toMatchObject({ status: "cancelled", failure_code: "1032" });
    expect(await balanceOf(party.walletId)).toBe("0.0000");
  });

  it("timeout (no callback): the sweep asks M-Pesa, then expires the session", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "timeout");
    const source = await addSource(party, { provider: "mpesa", msisdn });
    const res = await topUp(party, source.id, "250");
    await stack.sandbox.idle();
    expect((await session(party, res.body.id)).status).toBe("pending");
    await makeDue("wallet_funding_sessions", res.body.id);
    const report = await runSweep();
    expect(report.items).toContainEqual(expect.objectContaining({ id: res.body.id, action: "expired" }));
    expect(await session(party, res.body.id)).toMatchObject({ status: "expired" });
    expect(await balanceOf(party.walletId)).toBe("0.0000");
  });

  it("our STK request times out but the customer pays: the callback is matched and credited", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "lost_response");
    const source = await addSource(party, { provider: "mpesa", msisdn });
    const res = await topUp(party, source.id, "300");
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe("provider_unavailable");
    const id = res.body.error.details.funding_session_id;
    // The outcome was unknown, so the session expired rather than failed (the callback may
    // already have completed it).
    expect(["expired", "completed"]).toContain((await session(party, id)).status);
    await stack.sandbox.idle();
    // The callback names a checkout id we never learned. If it overtook our expiry it waits
    // as unmatched, and the sweep re-applies it; either way it ends credited, once.
    await runSweep();
    expect(await session(party, id)).toMatchObject({ status: "completed" });
    expect(await balanceOf(party.walletId)).toBe(difference("300", await feeFor("funding", "300", party.userId)));
    await runSweep();
    expect(await balanceOf(party.walletId)).toBe(difference("300", await feeFor("funding", "300", party.userId)));
  });

  it("duplicate callbacks: stored twice, credited once", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "duplicate");
    const source = await addSource(party, { provider: "mpesa", msisdn });
    const res = await topUp(party, source.id, "700");
    await stack.sandbox.idle();
    expect((await session(party, res.body.id)).status).toBe("completed");
    const events = await admin`select status from public.wallet_webhook_events
                                where provider_event_key = ${`stk:${res.body.provider_checkout_id}:0`} order by received_at`;
    expect(events.map((e) => e.status).sort()).toEqual(["duplicate", "processed"]);
    expect(await balanceOf(party.walletId)).toBe(difference("700", await feeFor("funding", "700", party.userId)));
  });

  it("concurrent copies of one callback: one applies, the rest are duplicates", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "silent_success");
    const source = await addSource(party, { provider: "mpesa", msisdn });
    const res = await topUp(party, source.id, "800");
    await stack.sandbox.idle();
    const body = stkCallback(res.body.provider_checkout_id, 0, 800);
    const answers = await Promise.all(Array.from({ length: 8 }, () =>
      api(undefined, "POST", `/webhooks/mpesa/stk/${CALLBACK_TOKEN}`, body)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(answers.map((a) => a.body.status).sort()).toEqual([...Array(7).fill("duplicate"), "processed"]);
    expect((await session(party, res.body.id)).status).toBe("completed");
    expect(await balanceOf(party.walletId)).toBe(difference("800", await feeFor("funding", "800", party.userId)));
  });

  it("callbacks for an unknown or an already completed session change nothing", async () => {
    const { party, source } = await fundedMpesaParty("400");
    const before = await balanceOf(party.walletId);
    const unknown = await api(undefined, "POST", `/webhooks/mpesa/stk/${CALLBACK_TOKEN}`,
      stkCallback(`ws_CO_unknown_${crypto.randomUUID()}`, 0, 400));
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ ResultCode: 0, status: "unmatched" });

    const [completed] = await admin`select provider_checkout_id from public.wallet_funding_sessions where source_id = ${source.id}`;
    const contradicting = await api(undefined, "POST", `/webhooks/mpesa/stk/${CALLBACK_TOKEN}`,
      stkCallback(completed.provider_checkout_id, 1032));
    expect(contradicting.status).toBe(200);
    // M-Pesa's STK query says paid, so the "cancelled" claim is refused.
    expect(contradicting.body.status).toBe("refused");
    const [event] = await admin`select error from public.wallet_webhook_events where id = ${contradicting.body.event_id}`;
    expect(event.error).toMatch(/^funding_not_confirmed/);
    expect(await balanceOf(party.walletId)).toBe(before);
  });

  it("amount mismatch is refused; the sweep later credits what M-Pesa confirms", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "silent_success"); // paid, callback lost
    const source = await addSource(party, { provider: "mpesa", msisdn });
    const res = await topUp(party, source.id, "1000");
    await stack.sandbox.idle();
    const forged = await api(undefined, "POST", `/webhooks/mpesa/stk/${CALLBACK_TOKEN}`,
      stkCallback(res.body.provider_checkout_id, 0, 100000));
    expect(forged.status).toBe(200);
    expect(forged.body.status).toBe("refused"); // final: it never holds the event key
    const [event] = await admin`select error from public.wallet_webhook_events where id = ${forged.body.event_id}`;
    expect(event.error).toMatch(/^funding_amount_mismatch/);
    expect((await session(party, res.body.id)).status).toBe("pending");
    expect(await balanceOf(party.walletId)).toBe("0.0000");

    await makeDue("wallet_funding_sessions", res.body.id);
    await runSweep();
    expect((await session(party, res.body.id)).status).toBe("completed");
    expect(await balanceOf(party.walletId)).toBe(difference("1000", await feeFor("funding", "1000", party.userId)));
  });

  it("forged or missing secrets are refused and recorded; a success M-Pesa does not confirm is not credited", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "timeout"); // M-Pesa will say: not paid (1037)
    const source = await addSource(party, { provider: "mpesa", msisdn });
    const res = await topUp(party, source.id, "900");
    await stack.sandbox.idle();
    const body = stkCallback(res.body.provider_checkout_id, 0, 900);

    const missing = await api(undefined, "POST", "/webhooks/mpesa/stk", body);
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe("webhook_unauthenticated");
    const wrong = await api(undefined, "POST", `/webhooks/mpesa/stk/${CALLBACK_TOKEN.slice(0, -1)}x`, body);
    expect(wrong.status).toBe(401);
    const [{ rejected }] = await admin`select count(*)::int as rejected from public.wallet_webhook_events
                                        where status = 'rejected' and raw_body = ${JSON.stringify(body)}`;
    expect(rejected).toBe(2);

    // Right token, but M-Pesa's status query does not confirm the payment.
    const unconfirmed = await api(undefined, "POST", `/webhooks/mpesa/stk/${CALLBACK_TOKEN}`, body);
    expect(unconfirmed.status).toBe(200);
    expect(unconfirmed.body.status).toBe("refused");
    const [event] = await admin`select error from public.wallet_webhook_events where id = ${unconfirmed.body.event_id}`;
    expect(event.error).toMatch(/^funding_not_confirmed/);
    expect(await balanceOf(party.walletId)).toBe("0.0000");

    const garbage = await api(undefined, "POST", `/webhooks/mpesa/stk/${CALLBACK_TOKEN}`, "{\"Body\": 42}");
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe("invalid_webhook_payload");
  });

  it("out of order: a callback that overtakes the STK acknowledgement still credits once", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "early_callback");
    const source = await addSource(party, { provider: "mpesa", msisdn });
    const res = await topUp(party, source.id, "640");
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("completed");
    expect((await eventsFor(res.body.id)).map((e) => e.status)).toEqual(["processed"]);
    expect(await balanceOf(party.walletId)).toBe(difference("640", await feeFor("funding", "640", party.userId)));
  });

  it("refuses bad top-ups with stable codes and writes nothing", async () => {
    const party = await partyWithWallet();
    const other = await partyWithWallet();
    const source = await addSource(party, { provider: "mpesa", msisdn: randomMsisdn() });
    const [{ count: before }] = await admin`select count(*)::int from public.wallet_funding_sessions`;
    const cases: [unknown, number, string][] = [
      [{ source_id: source.id, amount: "10.50" }, 400, "invalid_amount"],
      [{ source_id: source.id, amount: "250001" }, 400, "amount_outside_provider_limits"],
      [{ source_id: source.id, amount: 100 }, 400, "validation_failed"],
      [{ source_id: source.id, amount: "-5" }, 400, "validation_failed"],
      [{ source_id: "not-a-uuid", amount: "5" }, 400, "validation_failed"],
      [{ source_id: source.id, amount: "5", currency: "USD" }, 404, "wallet_not_found"],
    ];
    for (const [body, status, code] of cases) {
      const res = await api(party.token, "POST", "/funding", body, { "idempotency-key": key() });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    const foreign = await api(other.token, "POST", "/funding", { source_id: source.id, amount: "5" }, { "idempotency-key": key() });
    expect(foreign.body.error.code).toBe("source_not_found");
    expect((await api(party.token, "POST", "/funding", { source_id: source.id, amount: "5" })).body.error.code)
      .toBe("idempotency_key_required");
    const [{ count: after }] = await admin`select count(*)::int from public.wallet_funding_sessions`;
    expect(after).toBe(before);
    expect((await api(other.token, "GET", `/funding/${crypto.randomUUID()}`)).status).toBe(404);
  });
});

describe("paybill (C2B)", () => {
  it("credits the wallet named by the account reference, once; unknown references are rejected", async () => {
    const party = await partyWithWallet();
    const paybill = await api(party.token, "GET", "/funding/paybill");
    expect(paybill.status).toBe(200);
    expect(paybill.body.account_reference).toMatch(/^[0-9]{8}$/);
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "duplicate"); // M-Pesa confirms twice
    const simulate = await fetch(`${stack.sandbox.url}/mpesa/mpesa/c2b/v1/simulate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ShortCode: "600000", Amount: 450, Msisdn: msisdn, BillRefNumber: paybill.body.account_reference }),
    });
    expect(simulate.status).toBe(200);
    await stack.sandbox.idle();
    expect(await balanceOf(party.walletId)).toBe(difference("450", await feeFor("funding", "450", party.userId)));
    const sessions = (await api(party.token, "GET", "/funding")).body.data;
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ channel: "paybill", status: "completed", amount: "450.0000" });

    const suspenseBefore = await balanceOf((await admin`select hazina.system_wallet('suspense') as id`)[0].id);
    const rejected = await api(undefined, "POST", `/webhooks/mpesa/c2b/validation/${CALLBACK_TOKEN}`,
      { TransID: "QWE1234567", TransAmount: "100.00", BillRefNumber: "00000000", MSISDN: msisdn });
    expect(rejected.body).toEqual({ ResultCode: "C2B00012", ResultDesc: "Rejected: invalid account number" });
    // Validation can be switched off at Safaricom: an unknown reference still lands in
    // suspense (once M-Pesa confirms the payment).
    await fetch(`${stack.sandbox.url}/mpesa/mpesa/c2b/v1/simulate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ Amount: 100, Msisdn: randomMsisdn(), BillRefNumber: "nobody", SkipValidation: true }),
    });
    await stack.sandbox.idle();
    const suspenseAfter = await balanceOf((await admin`select hazina.system_wallet('suspense') as id`)[0].id);
    expect(suspenseAfter).toBe(sum(suspenseBefore, "100"));
  });
});

describe("withdrawals to M-Pesa (B2C)", () => {
  it("pays out: hold, then posted with its fee in the billing ledger", async () => {
    const { party, source } = await fundedMpesaParty("2000");
    const start = await balanceOf(party.walletId);
    const fee = await feeFor("withdrawal", "500", party.userId);
    const k = key();
    const res = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "500" }, { "idempotency-key": k });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "processing", amount: "500.0000", fee, submitted: true });
    await stack.sandbox.idle();
    const done = await withdrawal(party, res.body.id);
    expect(done.status).toBe("completed");
    expect(done.provider_receipt).toMatch(/^[A-Z0-9]{10}$/);
    expect(await balanceOf(party.walletId)).toBe(difference(start, "500", fee));
    const [{ held }] = await admin`select held::text from public.wallets where id = ${party.walletId}`;
    expect(held).toBe("0.0000");
    const charges = await admin`select amount::text, transaction_type from public.billing_ledger
                                 where payer_user_id = ${party.userId} and transaction_type = 'withdrawal'`;
    expect(charges).toEqual(toUnits(fee) > 0n ? [{ amount: fee, transaction_type: "withdrawal" }] : []);
    const [{ in_flight }] = await admin`select coalesce(sum(case direction when 'credit' then amount else -amount end), 0)::text as in_flight
                                         from public.wallet_ledger l join public.wallet_transactions t on t.id = l.transaction_id
                                        where l.wallet_id = hazina.system_wallet('payouts_in_flight')
                                          and t.metadata ->> 'withdrawal_id' = ${res.body.id}`;
    expect(in_flight).toBe("0.0000");

    const replay = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "500" }, { "idempotency-key": k });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await api(party.token, "GET", "/withdrawals")).body.data).toHaveLength(1);
  });

  it("a failed payout releases the whole hold", async () => {
    const { party, source, msisdn } = await fundedMpesaParty("1000");
    const start = await balanceOf(party.walletId);
    stack.sandbox.setScenario(msisdn, "fail");
    const res = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "300" }, { "idempotency-key": key() });
    expect(res.status).toBe(201);
    await stack.sandbox.idle();
    expect(await withdrawal(party, res.body.id)).toMatchObject({ status: "failed", failure_code: "2001" });
    expect(await balanceOf(party.walletId)).toBe(start);
    const [wallet] = await admin`select held::text, (balance - held)::text as available from public.wallets where id = ${party.walletId}`;
    expect(wallet).toEqual({ held: "0.0000", available: start });
  });

  it("a queue timeout: the sweep asks Transaction Status, learns it never happened, releases the hold", async () => {
    const { party, source, msisdn } = await fundedMpesaParty("1000");
    const start = await balanceOf(party.walletId);
    stack.sandbox.setScenario(msisdn, "timeout");
    const res = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "200" }, { "idempotency-key": key() });
    await stack.sandbox.idle();
    expect((await withdrawal(party, res.body.id)).status).toBe("processing"); // a timeout decides nothing
    const [{ held }] = await admin`select held::text from public.wallets where id = ${party.walletId}`;
    expect(held).toBe(sum("200", await feeFor("withdrawal", "200", party.userId)));
    const report = await runSweep(); // the timeout made it due at once
    expect(report.items).toContainEqual(expect.objectContaining({ id: res.body.id, action: "status_requested" }));
    await waitFor(async () => (await withdrawal(party, res.body.id)).status === "failed", "the status result");
    expect(await balanceOf(party.walletId)).toBe(start);
    const [after] = await admin`select held::text from public.wallets where id = ${party.walletId}`;
    expect(after.held).toBe("0.0000");
  });

  it("a result that overtakes the acknowledgement completes it once; duplicates change nothing", async () => {
    const { party, source, msisdn } = await fundedMpesaParty("1000");
    const start = await balanceOf(party.walletId);
    stack.sandbox.setScenario(msisdn, "early_callback");
    const early = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "100" }, { "idempotency-key": key() });
    // The result overtook the acknowledgement; it completes once M-Pesa's Transaction Status
    // answer (asynchronous, like Daraja's) confirms it.
    await stack.sandbox.idle();
    expect((await withdrawal(party, early.body.id)).status).toBe("completed");
    stack.sandbox.setScenario(msisdn, "duplicate");
    const dup = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "100" }, { "idempotency-key": key() });
    await stack.sandbox.idle();
    expect((await withdrawal(party, dup.body.id)).status).toBe("completed");
    // The B2C result (confirmed by M-Pesa's Transaction Status answer) and that answer; the
    // duplicate copy of the result is stored as a duplicate and linked to neither.
    expect((await eventsFor(dup.body.id)).map((e) => `${e.event_type}:${e.status}`))
      .toEqual(["b2c_result:processed", "transaction_status:processed"]);
    const fee = await feeFor("withdrawal", "100", party.userId);
    expect(await balanceOf(party.walletId)).toBe(difference(start, "100", fee, "100", fee));
  });

  it("provider refused it before accepting (HTTP 503): failed at once, hold released, not cancellable", async () => {
    const { party, source, msisdn } = await fundedMpesaParty("1000");
    const start = await balanceOf(party.walletId);
    stack.sandbox.setScenario(msisdn, "unavailable");
    const res = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "150" }, { "idempotency-key": key() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "failed", submitted: true, failure_code: "provider_refused" });
    const cancel = await api(party.token, "POST", `/withdrawals/${res.body.id}/cancel`);
    expect(cancel.status).toBe(409);
    expect(cancel.body.error.code).toBe("withdrawal_not_cancellable");
    expect(await balanceOf(party.walletId)).toBe(start);
  });

  it("cancel while pending; refusals with stable codes", async () => {
    const { party, source } = await fundedMpesaParty("1000");
    const other = await partyWithWallet();
    const start = await balanceOf(party.walletId);
    // A withdrawal not yet sent to the provider (e.g. queued), as the database creates it.
    const [row] = await admin`select hazina.withdrawal_request(${party.userId}, ${source.id}, 100, 'KES', ${key()}) ->> 'id' as id`;
    expect((await api(other.token, "POST", `/withdrawals/${row.id}/cancel`)).status).toBe(404);
    const cancelled = await api(party.token, "POST", `/withdrawals/${row.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    expect(await balanceOf(party.walletId)).toBe(start);
    const [{ held }] = await admin`select held::text from public.wallets where id = ${party.walletId}`;
    expect(held).toBe("0.0000");

    const unverified = await addSource(party, { provider: "mpesa", msisdn: randomMsisdn() });
    const cases: [unknown, number, string][] = [
      [{ source_id: unverified.id, amount: "100" }, 409, "source_not_verified"],
      [{ source_id: source.id, amount: "5" }, 400, "amount_outside_provider_limits"],
      [{ source_id: source.id, amount: "100.50" }, 400, "invalid_amount"],
      [{ source_id: source.id, amount: "5000" }, 409, "insufficient_funds"],
      [{ source_id: source.id }, 400, "validation_failed"],
    ];
    for (const [body, status, code] of cases) {
      const res = await api(party.token, "POST", "/withdrawals", body, { "idempotency-key": key() });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    const foreign = await api(other.token, "POST", "/withdrawals", { source_id: source.id, amount: "100" }, { "idempotency-key": key() });
    expect(foreign.body.error.code).toBe("source_not_found");
    expect(await balanceOf(party.walletId)).toBe(start);
  });
});

describe("KCB and DTB (HMAC-signed webhooks)", () => {
  it("KCB: collection then payout, end to end", async () => {
    const party = await partyWithWallet();
    const source = await addSource(party, { provider: "kcb", account_number: randomAccount(), account_name: "Test Account" });
    const res = await topUp(party, source.id, "1234.50");
    expect(res.status).toBe(201);
    expect(res.body.channel).toBe("bank_collection");
    await stack.sandbox.idle();
    expect((await session(party, res.body.id)).status).toBe("completed");
    const funded = difference("1234.50", await feeFor("funding", "1234.50", party.userId));
    expect(await balanceOf(party.walletId)).toBe(funded);
    const out = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "200.25" }, { "idempotency-key": key() });
    expect(out.status).toBe(201);
    await stack.sandbox.idle();
    expect((await withdrawal(party, out.body.id)).status).toBe("completed");
    expect(await balanceOf(party.walletId)).toBe(difference(funded, "200.25", await feeFor("withdrawal", "200.25", party.userId)));
    const [{ signed }] = await admin`select bool_and(signature_valid)::text as signed from public.wallet_webhook_events
                                      where subject_id in (${res.body.id}, ${out.body.id})`;
    expect(signed).toBe("true");
  });

  it("DTB: a reversed payout gives amount and fee back", async () => {
    const party = await partyWithWallet();
    const account = randomAccount();
    const source = await addSource(party, { provider: "dtb", account_number: account });
    await topUp(party, source.id, "800");
    await stack.sandbox.idle();
    const funded = await balanceOf(party.walletId);
    stack.sandbox.setScenario(account, "reversed");
    const out = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "300" }, { "idempotency-key": key() });
    await stack.sandbox.idle();
    await waitFor(async () => (await withdrawal(party, out.body.id)).status === "reversed", "the reversal");
    expect(await balanceOf(party.walletId)).toBe(funded);
  });

  it("refuses forged, stale and unsigned bank webhooks, and records them", async () => {
    const party = await partyWithWallet();
    const source = await addSource(party, { provider: "kcb", account_number: randomAccount() });
    const account = source.account_number as string;
    stack.sandbox.setScenario(account, "timeout");
    const res = await topUp(party, source.id, "500");
    const event = JSON.stringify({
      event_id: crypto.randomUUID(), event_type: "collection.succeeded", reference: res.body.id, amount: "500.00", currency: "KES",
      receipt: "FORGED1", result_code: "0",
    });
    const post = (headers: Record<string, string>) =>
      api(undefined, "POST", "/webhooks/kcb", event, { "content-type": "application/json", ...headers });
    expect((await post({})).status).toBe(401);
    expect((await post(await signWebhook("not-the-kcb-secret-0123456789", event))).status).toBe(401);
    expect((await post(await signWebhook(KCB_WEBHOOK_SECRET, event, Math.floor(Date.now() / 1000) - 3600))).status).toBe(401);
    expect((await post(await signWebhook(DTB_WEBHOOK_SECRET, event))).status).toBe(401); // DTB's key is not KCB's
    const [{ rejected }] = await admin`select count(*)::int as rejected from public.wallet_webhook_events
                                        where provider = 'kcb' and status = 'rejected' and raw_body = ${event}`;
    expect(rejected).toBe(4);
    expect((await session(party, res.body.id)).status).toBe("pending");
    expect(await balanceOf(party.walletId)).toBe("0.0000");

    // The genuine, signed message is applied (the forged copies never took its key).
    const genuine = await post(await signWebhook(KCB_WEBHOOK_SECRET, event));
    expect(genuine.status).toBe(200);
    expect(genuine.body.status).toBe("processed");
    expect((await session(party, res.body.id)).status).toBe("completed");
  });
});

describe("the sweep endpoint", () => {
  it("is for the scheduler's secret or an admin only", async () => {
    const user = await partyWithWallet();
    expect((await api(undefined, "POST", "/webhooks/sweep")).status).toBe(401);
    expect((await api(undefined, "POST", "/webhooks/sweep", undefined, { "x-sweep-secret": "wrong-secret-0123456789abcdef" })).status).toBe(403);
    expect((await api(user.token, "POST", "/webhooks/sweep")).status).toBe(403);
    // Admin is decided by the database (auth_users.role), not by the token's claims.
    expect((await api(await accessToken(user.userId, { appRole: "admin" }), "POST", "/webhooks/sweep")).status).toBe(403);
    const adminToken = await accessToken(await createUser("admin"));
    expect((await api(adminToken, "POST", "/webhooks/sweep")).status).toBe(200);
  });

  it("clamps any limit to a whole number of items from 1 to 1000 (found by the endpoint fuzz)", async () => {
    for (const limit of ["1.5", "-3", "abc", "1e309", "0"]) {
      const res = await api(undefined, "POST", `/webhooks/sweep?limit=${limit}`, undefined, { "x-sweep-secret": SWEEP_SECRET });
      expect(res.status, limit).toBe(200);
    }
  });
});

describe("amount errors (issue 10, item 14)", () => {
  it("name the provider's and the currency's real rule, not the ledger's 4 decimals", async () => {
    const party = await partyWithWallet();
    const phone = await addSource(party, { provider: "mpesa", msisdn: randomMsisdn() });
    const bank = await addSource(party, { provider: "kcb", account_number: randomAccount(), account_name: "Rule Reader" });
    const cases: [string, string, string, RegExp][] = [
      [phone.id, "10.50", "invalid_amount", /^M-Pesa moves whole shillings\.$/],
      [phone.id, "250001", "amount_outside_provider_limits", /^M-Pesa moves KES 1–250,000 at a time\.$/],
      [bank.id, "10.005", "invalid_amount", /^KES amounts must be greater than zero with at most 2 decimal places/],
    ];
    for (const [sourceId, amount, code, message] of cases) {
      const res = await topUp(party, sourceId, amount);
      expect(res.status, amount).toBe(400);
      expect(res.body.error.code, amount).toBe(code);
      expect(res.body.error.message, amount).toMatch(message);
    }
    const { party: payee, source } = await fundedMpesaParty("100");
    const tooSmall = await api(payee.token, "POST", "/withdrawals", { source_id: source.id, amount: "5" }, { "idempotency-key": key() });
    expect(tooSmall.body.error).toMatchObject({ code: "amount_outside_provider_limits", message: "M-Pesa moves KES 10–250,000 at a time." });
  });
});
