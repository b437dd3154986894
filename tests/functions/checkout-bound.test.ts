// The checkout pays codes bound to an invoice, an order or an intent, over HTTP against the
// provider sandbox: intent codes created through POST /qr-codes (token and API key) and their
// refusals; an invoice code's page (merchant, number, amount due) paid from a wallet once (a
// replayed key, then already paid); a paid invoice's page; an order code paid by a guest's
// M-Pesa (the STK push through the sandbox, polled on the checkout's own status route); an
// escrowed order into escrow; an intent code by M-Pesa; and the races: payers on one order
// code at once (one pays, the others are told in progress / already paid), a double submit.
// Each ends with the balances to the cent, one use per payment and reconciled books.
import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { difference, fromUnits, sum, toUnits } from "../helpers/decimal.ts";
import { balanceOf, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { randomMsisdn, waitFor } from "../helpers/money-movement.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { idempotencyKey as key } from "../helpers/request.ts";

const { stack, api } = useMoneyStack();
let duka: Party;
let amina: Party;
let other: Party;

beforeAll(async () => {
  await paymentIntentFee();
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  other = await partyWithWallet();
  await admin`update public.auth_users set name = 'Duka la Mama' where id = ${duka.userId}`;
  // Orders post as order_payment (receiver paid). shop-orders puts an order_payment row (1%) in
  // the db-wide fee catalog at any moment of a full run, so this merchant's own profile (it
  // beats the catalog) keeps its orders unpriced whatever the catalog holds.
  await admin`insert into public.merchant_fee_profiles (merchant_id, transaction_type, waived, note)
              values (${duka.userId}, 'order_payment', true, 'checkout-bound: orders unpriced')`;
  await fund(amina.walletId, "5000.00");
  await fund(other.walletId, "1000.00");
}, 60_000);

/** The payment_intent fee at 150 bps, rounded half away from zero to the cent (the billing rule).
 *  Orders post as order_payment, waived for this suite's merchant (beforeAll). */
function fee(amount: string): string {
  return fromUnits(((toUnits(amount) * 150n + 500_000n) / 1_000_000n) * 100n);
}

async function codeOf(column: "invoice_id" | "order_id" | "payment_intent_id", id: string) {
  const [row] = await admin`select id, slug, use_count, status from public.qr_codes where ${admin(column)} = ${id}`;
  return row as { id: string; slug: string; use_count: number; status: string };
}

async function invoice(amount: string, allowPartial = false) {
  const fields = { customer_id: amina.userId, allow_partial_payment: allowPartial,
    items: [{ description: "Maize flour", quantity: "1", unit_amount: amount }] };
  const [{ id }] = await admin`select (hazina.invoice_create(${duka.userId}, ${admin.json(fields)}, ${key()}) ->> 'id') as id`;
  const [{ number }] = await admin`select hazina.invoice_finalize(${id}::uuid, ${duka.userId}::uuid) ->> 'number' as number`;
  return { id: id as string, number: number as string, code: await codeOf("invoice_id", id) };
}

let shopId: string;
let productId: string;
async function order(quantity: number, escrow: boolean | null = null, customer = amina) {
  if (!shopId) {
    [{ id: shopId }] = await admin`select hazina.shop_create(${duka.userId}, 'Duka', ${`duka-cb-${crypto.randomUUID().slice(0, 8)}`},
      'KES', 'optional', 5, null) ->> 'id' as id`;
    [{ id: productId }] = await admin`select hazina.product_create(${duka.userId}, ${shopId}::uuid, 'Sugar 1kg', 'SUGAR',
      150, null, true, null) ->> 'id' as id`;
  }
  const [{ o }] = await admin`select hazina.order_create(${customer.userId}, ${shopId}::uuid,
    ${admin.json([{ product_id: productId, quantity }])}, ${escrow}, '{}', ${key()}) as o`;
  return { id: o.id as string, intentId: o.payment_intent.id as string, total: o.total as string, code: await codeOf("order_id", o.id) };
}

async function pollPaid(slug: string, id: string) {
  return await waitFor(async () => {
    const res = await api(undefined, "GET", `/checkout/${slug}/payments/${id}`);
    return res.body.status === "succeeded" || res.body.last_payment_error ? res.body : null;
  }, "the M-Pesa payment to finish", 15_000);
}

describe("intent codes through POST /qr-codes", () => {
  it("bind one of the merchant's payable intents (token or API key); refuse others with stable codes", async () => {
    const [{ pi }] = await admin`select hazina.payment_intent_create(${duka.userId}, 250, 'KES', 'automatic', null, 'Deposit',
      null, null, ${key()}) as pi`;
    const created = await api(duka.token, "POST", "/qr-codes", { kind: "intent", payment_intent_id: pi.id, label: "Deposit" },
      { "idempotency-key": key() });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: "intent", subject_id: pi.id, amount: "250.0000", currency: "KES", status: "active" });
    const apiKey = await api(duka.token, "POST", "/payments/api-keys", { name: "till" }, { "idempotency-key": key() });
    const byKey = await api(apiKey.body.secret, "POST", "/qr-codes", { kind: "intent", payment_intent_id: pi.id },
      { "idempotency-key": key() });
    expect([byKey.status, byKey.body.merchant_id, byKey.body.subject_id]).toEqual([201, duka.userId, pi.id]);

    const rival = await partyWithWallet("merchant");
    const [{ paidPi }] = await admin`select hazina.payment_intent_create(${duka.userId}, 10, 'KES', 'automatic', ${amina.userId},
      null, null, null, ${key()}) ->> 'id' as "paidPi"`;
    await admin`select hazina.payment_intent_confirm(${paidPi}::uuid, ${amina.userId}::uuid,
      ${admin.json([{ type: "wallet", wallet_id: amina.walletId, amount: "10" }])})`;
    const o = await order(1);
    const cases: [Party, Record<string, unknown>, number, string][] = [
      [rival, { kind: "intent", payment_intent_id: pi.id }, 404, "payment_intent_not_found"],
      [duka, { kind: "intent", payment_intent_id: paidPi }, 409, "intent_not_confirmable"],
      [duka, { kind: "intent", payment_intent_id: o.intentId }, 409, "qr_code_intent_has_subject"],
      [duka, { kind: "intent", payment_intent_id: pi.id, amount: "1.00" }, 400, "invalid_argument"],
      [duka, { kind: "intent" }, 400, "invalid_argument"],
      [amina, { kind: "intent", payment_intent_id: pi.id }, 403, "qr_codes_merchants_only"],
    ];
    for (const [who, body, status, code] of cases) {
      const res = await api(who.token, "POST", "/qr-codes", body, { "idempotency-key": key() });
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    await admin`select hazina.payment_intent_cancel(${o.intentId}::uuid, null, 'test')`;
  });
});

describe("invoice codes", () => {
  it("the page: merchant, number, amount due; wallet pays the invoice's own intent once; then 'already paid'", async () => {
    const inv = await invoice("850.50");
    const page = await fetch(`${stack.functionsUrl}/checkout/${inv.code.slug}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain("Duka la Mama");
    expect(html).toContain(`Invoice number <strong>${inv.number}</strong>`);
    expect(html).toContain('<p class="amount" id="amount-shown">KES 850.50</p>');
    expect(html).toContain('data-bound="1"');

    const [merchantBefore, payerBefore] = [await balanceOf(duka.walletId), await balanceOf(other.walletId)];
    const k = key();
    const pay = () => api(other.token, "POST", `/checkout/${inv.code.slug}/pay/wallet`, { wallet_id: other.walletId }, { "idempotency-key": k });
    const [a, b] = await Promise.all([pay(), pay()]); // a double submit: one key
    const ok = [a, b].filter((r) => r.status === 200);
    expect(ok.length, JSON.stringify([a.body, b.body])).toBeGreaterThanOrEqual(1);
    for (const r of [a, b]) expect([200, 409]).toContain(r.status);
    expect(ok[0].body).toMatchObject({ status: "succeeded", subject_type: "invoice", subject_id: inv.id, amount: "850.5000" });
    const replay = await pay();
    expect([replay.status, replay.body.id, replay.headers.get("idempotent-replayed")]).toEqual([200, ok[0].body.id, "true"]);
    const again = await api(other.token, "POST", `/checkout/${inv.code.slug}/pay/wallet`, { wallet_id: other.walletId },
      { "idempotency-key": key() });
    expect([again.status, again.body.error?.code]).toEqual([409, "qr_code_already_paid"]);

    expect(await balanceOf(other.walletId)).toBe(difference(payerBefore, "850.50"));
    expect(await balanceOf(duka.walletId)).toBe(sum(merchantBefore, difference("850.50", fee("850.50"))));
    const [intents] = await admin`select count(*)::int as n from public.payment_intents where subject_type = 'invoice' and subject_id = ${inv.id}`;
    expect(intents.n).toBe(1);
    expect(await codeOf("invoice_id", inv.id)).toMatchObject({ use_count: 1, status: "disabled" });
    const [row] = await admin`select status, amount_due::text from public.invoices where id = ${inv.id}`;
    expect(row).toEqual({ status: "paid", amount_due: "0.0000" });

    const paidPage = await (await fetch(`${stack.functionsUrl}/checkout/${inv.code.slug}`)).text();
    expect(paidPage).toContain('data-code-status="paid"');
    expect(paidPage).toContain("This invoice has already been paid");
    expect(paidPage).not.toContain("<form");
  });

  it("partial payments only where the invoice allows them; the page asks for the rest; a void invoice's page is closed", async () => {
    const full = await invoice("300.00");
    const part = await api(amina.token, "POST", `/checkout/${full.code.slug}/pay/wallet`,
      { wallet_id: amina.walletId, amount: "100.00" }, { "idempotency-key": key() });
    expect([part.status, part.body.error?.code]).toEqual([409, "partial_payment_not_allowed"]);

    const inv = await invoice("600.00", true);
    const html = await (await fetch(`${stack.functionsUrl}/checkout/${inv.code.slug}`)).text();
    expect(html).toContain('value="600.00"');
    const paid = await api(amina.token, "POST", `/checkout/${inv.code.slug}/pay/wallet`,
      { wallet_id: amina.walletId, amount: "250.00" }, { "idempotency-key": key() });
    expect([paid.status, paid.body.amount]).toEqual([200, "250.0000"]);
    const rest = await (await fetch(`${stack.functionsUrl}/checkout/${inv.code.slug}`)).text();
    expect(rest).toContain('<p class="amount" id="amount-shown">KES 350.00</p>');
    const tooMuch = await api(amina.token, "POST", `/checkout/${inv.code.slug}/pay/wallet`,
      { wallet_id: amina.walletId, amount: "350.01" }, { "idempotency-key": key() });
    expect([tooMuch.status, tooMuch.body.error?.code]).toEqual([409, "amount_exceeds_due"]);
    expect(await codeOf("invoice_id", inv.id)).toMatchObject({ use_count: 1, status: "active" });

    await admin`select hazina.invoice_void(${full.id}::uuid, ${duka.userId}::uuid)`;
    const voided = await (await fetch(`${stack.functionsUrl}/checkout/${full.code.slug}`)).text();
    expect(voided).toContain('data-code-status="closed"');
    const refused = await api(undefined, "POST", `/checkout/${full.code.slug}/pay/stk`, { phone: randomMsisdn() },
      { "idempotency-key": key() });
    expect([refused.status, refused.body.error?.code]).toEqual([409, "qr_code_subject_closed"]);
  });
});

describe("order codes", () => {
  it("a guest pays by M-Pesa through the sandbox: the order's own intent, polled on the checkout; one use", async () => {
    const o = await order(2);
    const merchantBefore = await balanceOf(duka.walletId);
    const customerBefore = await balanceOf(amina.walletId);
    const noAmount = await api(undefined, "POST", `/checkout/${o.code.slug}/pay/stk`, { phone: randomMsisdn(), amount: "1" },
      { "idempotency-key": key() });
    expect([noAmount.status, noAmount.body.error?.code]).toEqual([400, "invalid_argument"]);
    const k = key();
    const phone = randomMsisdn();
    const started = await api(undefined, "POST", `/checkout/${o.code.slug}/pay/stk`, { phone }, { "idempotency-key": k });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ id: o.intentId, object: "checkout_payment", kind: "order", amount: "300.0000" });
    expect(started.body.mpesa).toBeUndefined();
    const done = await pollPaid(o.code.slug, o.intentId);
    expect(done.status).toBe("succeeded");
    // The same attempt again: the same answer, no second push.
    const replay = await api(undefined, "POST", `/checkout/${o.code.slug}/pay/stk`, { phone }, { "idempotency-key": k });
    expect([replay.status, replay.body.id]).toEqual([200, o.intentId]);
    const [pushes] = await admin`select count(*)::int as n from public.wallet_funding_sessions where payment_intent_id = ${o.intentId}`;
    expect(pushes.n).toBe(1);

    const [row] = await admin`select status from public.orders where id = ${o.id}`;
    expect(row.status).toBe("paid");
    expect(await codeOf("order_id", o.id)).toMatchObject({ use_count: 1, status: "disabled" });
    // The M-Pesa money topped up the customer's wallet and paid the order from it.
    expect(await balanceOf(amina.walletId)).toBe(customerBefore);
    expect(await balanceOf(duka.walletId)).toBe(sum(merchantBefore, "300.00"));
    expect(await api(undefined, "GET", `/checkout/${o.code.slug}/payments/${crypto.randomUUID()}`)).toMatchObject({ status: 404 });
  });

  it("an escrowed order's code pays into escrow (its intent), from the customer's wallet; another user's wallet is refused", async () => {
    const o = await order(1, true);
    const refused = await api(other.token, "POST", `/checkout/${o.code.slug}/pay/wallet`, { wallet_id: other.walletId },
      { "idempotency-key": key() });
    expect([refused.status, refused.body.error?.code]).toEqual([403, "qr_code_payer_not_customer"]);
    const [escrowWallet] = await admin`select hazina.system_wallet('escrow', 'KES') as id`;
    const escrowBefore = await balanceOf(escrowWallet.id);
    const paid = await api(amina.token, "POST", `/checkout/${o.code.slug}/pay/wallet`, { wallet_id: amina.walletId },
      { "idempotency-key": key() });
    expect([paid.status, paid.body.id, paid.body.status]).toEqual([200, o.intentId, "succeeded"]);
    expect(await balanceOf(escrowWallet.id)).toBe(sum(escrowBefore, "150.00"));
    const [e] = await admin`select status, amount::text from public.goods_escrows where order_id = ${o.id}`;
    expect(e).toEqual({ status: "funded", amount: "150.0000" });
  });

  it("race: 12 payers at once on one order code (guests by M-Pesa, the customer by wallet): exactly one pays", async () => {
    const o = await order(3);
    const merchantBefore = await balanceOf(duka.walletId);
    const customerBefore = await balanceOf(amina.walletId);
    const attempts = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0
        ? api(amina.token, "POST", `/checkout/${o.code.slug}/pay/wallet`, { wallet_id: amina.walletId }, { "idempotency-key": key() })
        : api(undefined, "POST", `/checkout/${o.code.slug}/pay/stk`, { phone: randomMsisdn() }, { "idempotency-key": key() }));
    const results = await Promise.all(attempts);
    const started = results.filter((r) => r.status === 200);
    expect(started.length, JSON.stringify(results.map((r) => [r.status, r.body.error?.code]))).toBe(1);
    for (const r of results.filter((r) => r.status !== 200)) {
      expect(["qr_code_payment_in_progress", "qr_code_already_paid", "qr_code_disabled"]).toContain(r.body.error?.code);
    }
    await waitFor(async () => (await codeOf("order_id", o.id)).use_count === 1, "the one payment");
    await stack.sandbox.idle();
    const [pushes] = await admin`select count(*)::int as n from public.wallet_funding_sessions where payment_intent_id = ${o.intentId}`;
    expect(pushes.n).toBeLessThanOrEqual(1);
    expect(await balanceOf(duka.walletId)).toBe(sum(merchantBefore, "450.00"));
    // Paid from the wallet (then no push) or by M-Pesa through it (then it ends where it began).
    expect(await balanceOf(amina.walletId)).toBe(pushes.n === 1 ? customerBefore : difference(customerBefore, "450.00"));
    expect(await codeOf("order_id", o.id)).toMatchObject({ use_count: 1, status: "disabled" });
  });
});

describe("intent codes on the checkout", () => {
  it("a guest pays the bound intent by M-Pesa; the merchant's own client_secret still works; one use", async () => {
    const [{ pi }] = await admin`select hazina.payment_intent_create(${duka.userId}, 420, 'KES', 'automatic', null, 'Deposit',
      null, null, ${key()}) as pi`;
    const created = await api(duka.token, "POST", "/qr-codes", { kind: "intent", payment_intent_id: pi.id },
      { "idempotency-key": key() });
    const page = await (await fetch(created.body.url)).text();
    expect(page).toContain('<p class="amount" id="amount-shown">KES 420.00</p>');
    const merchantBefore = await balanceOf(duka.walletId);
    const started = await api(undefined, "POST", `/checkout/${created.body.slug}/pay/stk`, { phone: randomMsisdn() },
      { "idempotency-key": key() });
    expect([started.status, started.body.id]).toEqual([200, pi.id]);
    expect((await pollPaid(created.body.slug, pi.id)).status).toBe("succeeded");
    expect(await balanceOf(duka.walletId)).toBe(sum(merchantBefore, difference("420.00", fee("420.00"))));
    const view = await api(undefined, "GET", `/payments/intents/${pi.id}?client_secret=${pi.client_secret}`);
    expect([view.status, view.body.status]).toEqual([200, "succeeded"]);
    const [code] = await admin`select use_count, status from public.qr_codes where id = ${created.body.id}`;
    expect(code).toEqual({ use_count: 1, status: "disabled" });
    const paidPage = await (await fetch(created.body.url)).text();
    expect(paidPage).toContain('data-code-status="paid"');
  });
});
