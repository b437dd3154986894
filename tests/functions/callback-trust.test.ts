// Callbacks are claims until the provider confirms them (docs/money-movement.md, "Trust
// model"): forged paybill confirmations, forged B2C results and unsolicited Transaction
// Status answers move nothing; a refused callback never blocks the genuine one; refused
// calls are stored bounded and rate-limited; a definite provider refusal releases a
// withdrawal's hold at once; the sweep's admin is decided by the database. Every test
// ends with the books reconciled.
import process from "node:process";
import { describe, expect, it } from "vitest";
import { resetConfigForTests } from "../../functions/_shared/config.ts";
import { admin, createUser } from "../helpers/db.ts";
import { balanceOf, type Party, partyWithWallet } from "../helpers/money.ts";
import { difference } from "../helpers/decimal.ts";
import { CALLBACK_TOKEN, feeFor, randomMsisdn, SWEEP_SECRET, waitFor } from "../helpers/money-movement.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { type Json } from "../helpers/request.ts";
import { accessToken } from "../helpers/tokens.ts";

const { stack, api } = useMoneyStack();

const key = () => `trust-${crypto.randomUUID()}`;
const daraja = (path: string, body: unknown, headers?: Record<string, string>) =>
  api(undefined, "POST", `/webhooks/mpesa/${path}/${CALLBACK_TOKEN}`, body, headers);

async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetConfigForTests();
  };
  apply(env);
  try {
    return await fn();
  } finally {
    apply(before);
  }
}

async function event(id: string): Promise<Json> {
  const [row] = await admin`select status, error, length(raw_body) as stored, body_bytes, body_sha256
                              from public.wallet_webhook_events where id = ${id}`;
  return row;
}

async function paybillReference(party: Party): Promise<string> {
  return (await api(party.token, "GET", "/funding/paybill")).body.account_reference;
}

function confirmation(transId: string, amount: string, account: string, shortCode = "600000") {
  return { TransactionType: "Pay Bill", TransID: transId, TransTime: "20261124120000", TransAmount: amount,
           BusinessShortCode: shortCode, BillRefNumber: account, MSISDN: "254708374149", FirstName: "Forger" };
}

/** A party with a verified M-Pesa source and `amount` credited through it. */
async function fundedMpesaParty(amount = "2000"): Promise<{ party: Party; source: Json; msisdn: string }> {
  const party = await partyWithWallet();
  const msisdn = randomMsisdn();
  const source = (await api(party.token, "POST", "/funding/sources", { provider: "mpesa", msisdn })).body;
  const res = await api(party.token, "POST", "/funding", { source_id: source.id, amount }, { "idempotency-key": key() });
  expect(res.status).toBe(201);
  await stack.sandbox.idle();
  expect((await api(party.token, "GET", `/funding/${res.body.id}`)).body.status).toBe("completed");
  return { party, source, msisdn };
}

function b2cResult(withdrawalId: string, code: number) {
  return {
    Result: {
      ResultType: 0, ResultCode: code, ResultDesc: code === 0 ? "ok" : "The initiator information is invalid.",
      OriginatorConversationID: withdrawalId, ConversationID: `AG_FORGED_${crypto.randomUUID().slice(0, 8)}`, TransactionID: "",
    },
  };
}

describe("paybill confirmations are confirmed with M-Pesa first", () => {
  it("a forged confirmation with a TransID M-Pesa does not know credits nothing and is recorded", async () => {
    const party = await partyWithWallet();
    const account = await paybillReference(party);
    const forged = await daraja("c2b/confirmation", confirmation(`FORGED${Date.now()}`, "50000.00", account));
    expect(forged.status).toBe(200);
    await stack.sandbox.idle();
    const stored = await waitFor(async () => {
      const e = await event(forged.body.event_id);
      return e.status === "refused" && e;
    }, "the refusal");
    expect(stored.error).toMatch(/^not_confirmed_by_provider/);
    expect(await balanceOf(party.walletId)).toBe("0.0000");
  });

  it("a genuine payment is credited only after Transaction Status agrees", async () => {
    const party = await partyWithWallet();
    const account = await paybillReference(party);
    const simulate = await fetch(`${stack.sandbox.url}/mpesa/mpesa/c2b/v1/simulate`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ Amount: 450, Msisdn: randomMsisdn(), BillRefNumber: account }),
    });
    const { TransID } = await simulate.json();
    await stack.sandbox.idle();
    expect(await balanceOf(party.walletId)).toBe(difference("450", await feeFor("funding", "450", party.userId)));
    const [query] = await admin`select answered_at is not null as answered from public.wallet_provider_queries
                                 where subject_type = 'paybill' and subject_key = ${TransID}`;
    expect(query).toEqual({ answered: true });
    // A copy of the real TransID with another amount is refused by what M-Pesa says.
    const inflated = await daraja("c2b/confirmation", confirmation(TransID, "4500.00", account));
    await stack.sandbox.idle();
    await waitFor(async () => (await event(inflated.body.event_id)).status === "refused", "the refusal");
    expect((await event(inflated.body.event_id)).error).toMatch(/amount/);
    expect(await balanceOf(party.walletId)).toBe(difference("450", await feeFor("funding", "450", party.userId)));
  });

  it("a payment to another short code is refused, never credited (and recorded)", async () => {
    const party = await partyWithWallet();
    const account = await paybillReference(party);
    const other = await daraja("c2b/confirmation", confirmation(`OTHER${Date.now()}`, "300.00", account, "600638"));
    expect(other.status).toBe(200);
    await stack.sandbox.idle();
    const stored = await event(other.body.event_id);
    expect(stored.status).toBe("refused");
    expect(stored.error).toMatch(/^paybill_short_code_mismatch/);
    expect(await balanceOf(party.walletId)).toBe("0.0000");
  });
});

describe("B2C results and Transaction Status answers are confirmed", () => {
  it("a forged B2C failure for a paid withdrawal releases nothing; M-Pesa's word completes it", async () => {
    const { party, source, msisdn } = await fundedMpesaParty("1000");
    const start = await balanceOf(party.walletId);
    stack.sandbox.setScenario(msisdn, "silent_success"); // paid, the genuine result is lost
    const res = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "300" }, { "idempotency-key": key() });
    expect(res.body.status).toBe("processing");
    const fee = await feeFor("withdrawal", "300", party.userId);
    const forged = await daraja("b2c/result", b2cResult(res.body.id, 2001));
    expect(forged.status).toBe(200);
    await stack.sandbox.idle();
    const final = await waitFor(async () => {
      const w = (await api(party.token, "GET", `/withdrawals/${res.body.id}`)).body;
      return w.status !== "processing" && w;
    }, "the status answer");
    expect(final.status).toBe("completed");
    expect(await balanceOf(party.walletId)).toBe(difference(start, "300", fee));
    const stored = await event(forged.body.event_id);
    expect(stored.status).toBe("refused");
    expect(stored.error).toMatch(/^not_confirmed_by_provider/);
  });

  it("an unsolicited Transaction Status answer (not one of our queries) decides nothing", async () => {
    const { party, source, msisdn } = await fundedMpesaParty("1000");
    stack.sandbox.setScenario(msisdn, "silent_success");
    const res = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "200" }, { "idempotency-key": key() });
    const heldBefore = (await admin`select held::text from public.wallets where id = ${party.walletId}`)[0].held;
    const forged = await daraja("status/result", {
      Result: {
        ResultType: 0, ResultCode: "R000002", ResultDesc: "The OriginatorConversationID is invalid.",
        OriginatorConversationID: `forged-${crypto.randomUUID()}`, ConversationID: "AG_X", TransactionID: "",
        ReferenceData: { ReferenceItem: [{ Key: "Occasion", Value: res.body.id }] },
      },
    });
    expect(forged.status).toBe(200);
    expect((await api(party.token, "GET", `/withdrawals/${res.body.id}`)).body.status).toBe("processing");
    expect((await admin`select held::text from public.wallets where id = ${party.walletId}`)[0].held).toBe(heldBefore);
    expect((await event(forged.body.event_id)).status).toBe("unmatched");
    // Settle it truthfully so the books stay clean: the sweep asks, M-Pesa says paid.
    await admin`update public.wallet_withdrawals set expires_at = now() - interval '1 second' where id = ${res.body.id}`;
    await api(undefined, "POST", "/webhooks/sweep", undefined, { "x-sweep-secret": SWEEP_SECRET });
    await stack.sandbox.idle();
    await waitFor(async () => (await api(party.token, "GET", `/withdrawals/${res.body.id}`)).body.status === "completed", "completion");
  });
});

describe("a refused callback never blocks the genuine one", () => {
  it("wrong amount first, genuine second: credited at once, the bad one recorded with its reason", async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    stack.sandbox.setScenario(msisdn, "silent_success");
    const source = (await api(party.token, "POST", "/funding/sources", { provider: "mpesa", msisdn })).body;
    const res = await api(party.token, "POST", "/funding", { source_id: source.id, amount: "1000" }, { "idempotency-key": key() });
    await stack.sandbox.idle();
    const callback = (amount: number) => ({
      Body: { stkCallback: {
        MerchantRequestID: "1-2-3", CheckoutRequestID: res.body.provider_checkout_id, ResultCode: 0, ResultDesc: "ok",
        CallbackMetadata: { Item: [{ Name: "Amount", Value: amount }, { Name: "MpesaReceiptNumber", Value: "SGENUINE01" },
                                   { Name: "PhoneNumber", Value: Number(msisdn) }] },
      } },
    });
    const bad = await daraja("stk", callback(100000));
    expect(bad.body.status).toBe("refused");
    const genuine = await daraja("stk", callback(1000));
    expect(genuine.body.status).toBe("processed");
    expect((await api(party.token, "GET", `/funding/${res.body.id}`)).body.status).toBe("completed");
    const stored = await event(bad.body.event_id);
    expect(stored.status).toBe("refused");
    expect(stored.error).toMatch(/^funding_amount_mismatch.*"received": "100000"/);
    expect(await balanceOf(party.walletId)).toBe(difference("1000", await feeFor("funding", "1000", party.userId)));
  });
});

describe("refused calls are stored bounded and rate-limited", () => {
  it("a large unauthenticated body is stored as a 2 KB prefix with its SHA-256", async () => {
    const body = JSON.stringify({ filler: "x".repeat(600_000) });
    const res = await api(undefined, "POST", "/webhooks/mpesa/stk/not-the-token-0123456789abcdef", body, {
      "content-type": "application/json", "x-request-id": `big-${crypto.randomUUID()}`,
    });
    expect(res.status).toBe(401);
    const [row] = await admin`select length(raw_body) as stored, body_bytes, body_sha256 from public.wallet_webhook_events
                               where status = 'rejected' order by received_at desc limit 1`;
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body))),
      (b) => b.toString(16).padStart(2, "0")).join("");
    expect(row).toEqual({ stored: 2048, body_bytes: body.length, body_sha256: digest });
  });

  it("after WEBHOOK_REFUSALS_PER_MINUTE refusals from one address the rest get 429 and are not stored", async () => {
    await withEnv({ WEBHOOK_REFUSALS_PER_MINUTE: "3" }, async () => {
      const marker = `flood-${crypto.randomUUID()}`;
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        statuses.push((await api(undefined, "POST", "/webhooks/kcb", JSON.stringify({ marker }), { "content-type": "application/json" })).status);
      }
      expect(statuses.slice(-2)).toEqual([429, 429]);
      const [{ stored }] = await admin`select count(*)::int as stored from public.wallet_webhook_events where raw_body like ${`%${marker}%`}`;
      expect(stored).toBeLessThanOrEqual(3);
    });
  });
});

describe("Daraja callbacks from configured networks only", () => {
  it("MPESA_CALLBACK_ALLOWED_IPS refuses other sources; X-Forwarded-For counts only behind TRUSTED_PROXIES", async () => {
    const party = await partyWithWallet();
    const account = await paybillReference(party);
    const body = () => confirmation(`IPTEST${crypto.randomUUID().slice(0, 8)}`.replace(/-/g, ""), "10.00", account);
    await withEnv({ MPESA_CALLBACK_ALLOWED_IPS: "196.201.214.200/32, 196.201.212.0/24" }, async () => {
      const direct = await daraja("c2b/confirmation", body());
      expect(direct.status).toBe(403);
      const spoofed = await daraja("c2b/confirmation", body(), { "x-forwarded-for": "196.201.214.200" });
      expect(spoofed.status).toBe(403); // our peer (127.0.0.1) is no trusted proxy: the header is ignored
      await withEnv({ TRUSTED_PROXIES: "127.0.0.1/32" }, async () => {
        const proxied = await daraja("c2b/confirmation", body(), { "x-forwarded-for": "10.9.9.9, 196.201.214.200" });
        expect(proxied.status).toBe(200);
      });
    });
    await stack.sandbox.idle();
    expect(await balanceOf(party.walletId)).toBe("0.0000");
  });
});

describe("a definite provider refusal fails a withdrawal at once", () => {
  it("M-Pesa answers 503 before accepting: failed, hold released, no sweep needed", async () => {
    const { party, source, msisdn } = await fundedMpesaParty("1000");
    const start = await balanceOf(party.walletId);
    stack.sandbox.setScenario(msisdn, "unavailable");
    const res = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "150" }, { "idempotency-key": key() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "failed", failure_code: "provider_refused" });
    expect(await balanceOf(party.walletId)).toBe(start);
    expect((await admin`select held::text from public.wallets where id = ${party.walletId}`)[0].held).toBe("0.0000");
  });

  it("an unknown outcome (the answer was lost after sending) keeps the hold until M-Pesa's word", async () => {
    const { party, source, msisdn } = await fundedMpesaParty("1000");
    const start = await balanceOf(party.walletId);
    stack.sandbox.setScenario(msisdn, "lost_response"); // paid, but we see HTTP 504
    const res = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "150" }, { "idempotency-key": key() });
    expect(res.body).toMatchObject({ status: "pending", submitted: true });
    await admin`update public.wallet_withdrawals set expires_at = now() - interval '1 second' where id = ${res.body.id}`;
    await api(undefined, "POST", "/webhooks/sweep", undefined, { "x-sweep-secret": SWEEP_SECRET });
    await stack.sandbox.idle();
    await waitFor(async () => (await api(party.token, "GET", `/withdrawals/${res.body.id}`)).body.status === "completed", "completion");
    expect(await balanceOf(party.walletId)).toBe(difference(start, "150", await feeFor("withdrawal", "150", party.userId)));
  });

  it("with WITHDRAWAL_SUBMIT_DELAY_SECONDS a withdrawal waits, can be cancelled, and the sweep sends the rest", async () => {
    const { party, source } = await fundedMpesaParty("1000");
    const start = await balanceOf(party.walletId);
    await withEnv({ WITHDRAWAL_SUBMIT_DELAY_SECONDS: "30" }, async () => {
      const first = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "100" }, { "idempotency-key": key() });
      expect(first.body).toMatchObject({ status: "pending", submitted: false });
      const cancelled = await api(party.token, "POST", `/withdrawals/${first.body.id}/cancel`);
      expect(cancelled.body.status).toBe("cancelled");
      const second = await api(party.token, "POST", "/withdrawals", { source_id: source.id, amount: "100" }, { "idempotency-key": key() });
      expect(second.body.submitted).toBe(false);
      await admin`update public.wallet_withdrawals set expires_at = now() - interval '1 second' where id = ${second.body.id}`;
      await api(undefined, "POST", "/webhooks/sweep", undefined, { "x-sweep-secret": SWEEP_SECRET });
      await stack.sandbox.idle();
      await waitFor(async () => (await api(party.token, "GET", `/withdrawals/${second.body.id}`)).body.status === "completed", "completion");
      const cancelAfter = await api(party.token, "POST", `/withdrawals/${second.body.id}/cancel`);
      expect(cancelAfter.body.error.code).toBe("withdrawal_not_cancellable");
    });
    expect(await balanceOf(party.walletId)).toBe(difference(start, "100", await feeFor("withdrawal", "100", party.userId)));
  });
});

describe("the sweep's admin is decided by the database", () => {
  it("a customer token claiming app_metadata.role = admin gets 403; a real admin may run it", async () => {
    const customer = await partyWithWallet();
    const forged = await accessToken(customer.userId, { appRole: "admin" });
    const res = await api(forged, "POST", "/webhooks/sweep");
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    const adminToken = await accessToken(await createUser("admin"), { appRole: "customer" });
    expect((await api(adminToken, "POST", "/webhooks/sweep")).status).toBe(200);
    await stack.sandbox.idle();
  });
});
