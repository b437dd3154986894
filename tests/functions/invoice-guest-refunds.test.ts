// Guest refunds of invoice payments, end to end over HTTP (docs/invoices.md "A guest's
// refund"): a guest pays an invoice by M-Pesa (its pay link, or its QR code on the checkout
// page), the merchant refunds it with POST /payments/refunds, our functions send the B2C
// request after the commit and the M-Pesa sandbox answers. The invoice is owed the amount
// again at once; while the refund is pending it takes no payment and cannot be voided; a paid
// payout leaves it so; a failed one counts the money as paid again (closed again as paid when
// nothing is due). Races: two refunds of one payment at once (never above what was paid), a
// refund against a new payment of the invoice (one order, never over-paid). After each:
// balances to the cent, nothing left held, books reconciled.
import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, heldOf as held, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { randomMsisdn, SWEEP_SECRET, waitFor } from "../helpers/money-movement.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { idempotencyKey as key, type Json } from "../helpers/request.ts";

const { stack, http, api } = useMoneyStack();

beforeAll(async () => {
  await paymentIntentFee(); // 1.5%, borne by the merchant
});

interface GuestInvoice {
  merchant: Party;
  id: string;
  token: string;
  slug: string;
}

/** A fresh merchant's finalised invoice of `amount` to a guest (by email), over HTTP. */
async function guestInvoice(amount: string, allowPartial = false): Promise<GuestInvoice> {
  const merchant = await partyWithWallet("merchant");
  const created = await api(merchant.token, "POST", "/invoices", {
    customer_email: "guest@example.com",
    customer_name: "A Guest",
    allow_partial_payment: allowPartial,
    items: [{ description: "Catering", quantity: "1", unit_amount: amount }],
  }, { "idempotency-key": key() });
  expect(created.status).toBe(201);
  const open = await api(
    merchant.token,
    "POST",
    `/invoices/${created.body.id}/finalize`,
    undefined,
    { "idempotency-key": key() },
  );
  expect(open.status).toBe(200);
  const [code] =
    await admin`select slug from public.qr_codes where invoice_id = ${created.body.id}`;
  return { merchant, id: created.body.id, token: open.body.pay_token, slug: code.slug };
}

/** The guest pays `amount` by M-Pesa from `msisdn` through the pay link; waits for the payment. */
async function payByLink(inv: GuestInvoice, amount: string, msisdn: string): Promise<string> {
  const intent = await api(undefined, "POST", `/invoices/${inv.token}/pay-link`, { amount });
  expect(intent.status).toBe(201);
  expect(intent.body).toMatchObject({
    customer_id: null,
    subject_type: "invoice",
    subject_id: inv.id,
  });
  const res = await api(undefined, "POST", `/payments/intents/${intent.body.id}/confirm`, {
    sources: [{ type: "mpesa", phone: msisdn, amount }],
    client_secret: intent.body.client_secret,
  }, { "idempotency-key": key() });
  expect(res.status).toBe(200);
  await stack.sandbox.idle();
  await waitFor(
    async () => (await intentRow(intent.body.id)).status === "succeeded",
    "the guest's payment",
  );
  return intent.body.id;
}

/** The guest pays the invoice's QR code on the checkout page (M-Pesa push to `msisdn`). */
async function payByCode(inv: GuestInvoice, msisdn: string): Promise<string> {
  const started = await api(undefined, "POST", `/checkout/${inv.slug}/pay/stk`, { phone: msisdn }, {
    "idempotency-key": key(),
  });
  expect(started.status).toBe(200);
  expect(started.body).toMatchObject({ object: "checkout_payment", kind: "invoice" });
  await stack.sandbox.idle();
  await waitFor(
    async () => (await intentRow(started.body.id)).status === "succeeded",
    "the guest's QR payment",
  );
  return started.body.id;
}

async function intentRow(id: string): Promise<Json> {
  const [row] = await admin`select status, customer_id, amount_received::text, amount_refunded::text
                              from public.payment_intents where id = ${id}`;
  return row;
}

async function invoiceRow(id: string): Promise<Json> {
  const [row] =
    await admin`select status, amount_paid::text, amount_due::text, paid_at is not null as paid
                              from public.invoices where id = ${id}`;
  return row;
}

async function invoiceEvents(id: string): Promise<string[]> {
  const rows = await admin`select type from public.events where object_id = ${id} and type not in
                             ('invoice.created', 'invoice.updated', 'invoice.finalized') order by created_at, type`;
  return rows.map((r) => r.type);
}

async function refundRow(id: string): Promise<Json> {
  const [row] =
    await admin`select r.status, r.fee_refunded::text, r.failure_code, r.payout_id, w.status as payout_status,
                                   w.msisdn, w.amount::text as payout_amount
                              from public.payment_refunds r left join public.wallet_withdrawals w on w.id = r.payout_id
                             where r.id = ${id}`;
  return row;
}

async function refund(merchant: Party, body: Record<string, unknown>, idempotencyKey = key()) {
  return await api(merchant.token, "POST", "/payments/refunds", body, {
    "idempotency-key": idempotencyKey,
  });
}

async function settled(id: string): Promise<Json> {
  await stack.sandbox.idle();
  return await waitFor(async () => {
    const row = await refundRow(id);
    return row.status !== "pending" && row;
  }, `refund ${id} to leave pending`);
}

async function runSweep(): Promise<void> {
  const res = await api(undefined, "POST", "/webhooks/sweep", undefined, {
    "x-sweep-secret": SWEEP_SECRET,
  });
  expect(res.status).toBe(200);
  await stack.sandbox.idle();
}

describe("a guest's M-Pesa payment of an invoice is refunded by payout", () => {
  it("pay link, refund paid: owed again at once, no payment or void meanwhile, then payable again", async () => {
    const msisdn = randomMsisdn();
    const inv = await guestInvoice("1000.00");
    const pi = await payByLink(inv, "1000", msisdn);
    expect(await invoiceRow(inv.id)).toEqual({
      status: "paid",
      amount_paid: "1000.0000",
      amount_due: "0.0000",
      paid: true,
    });
    expect(await balanceOf(inv.merchant.walletId)).toBe("985.0000"); // 1000 − 15.00

    // A timeout decides nothing: the refund stays pending until the sweep asks M-Pesa.
    stack.sandbox.setScenario(msisdn, "timeout");
    const res = await refund(inv.merchant, {
      payment_intent_id: pi,
      amount: "400",
      reason: "cancelled",
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: "pending",
      amount: "400.0000",
      fee_refunded: "6.0000",
    });
    expect(await invoiceRow(inv.id)).toEqual({
      status: "open",
      amount_paid: "600.0000",
      amount_due: "400.0000",
      paid: false,
    });
    await stack.sandbox.idle();
    expect((await refundRow(res.body.id)).status).toBe("pending");
    expect(await held(inv.merchant.walletId)).toBe("400.0000");
    const link = await api(undefined, "GET", `/invoices/${inv.token}/pay-link`);
    expect(link.body).toMatchObject({ status: "open", amount_due: "400.0000" });
    // No payment meanwhile, from any door; no void.
    const byLink = await api(undefined, "POST", `/invoices/${inv.token}/pay-link`, {});
    expect([byLink.status, byLink.body.error?.code]).toEqual([409, "invoice_refund_pending"]);
    // (The invoice's QR code was used up when the invoice was paid, so the checkout refuses it anyway:
    // the refusal of the invoice's own rule is shown on a part-paid invoice's code below.)
    const voided = await api(inv.merchant.token, "POST", `/invoices/${inv.id}/void`, undefined, {
      "idempotency-key": key(),
    });
    expect([voided.status, voided.body.error?.code]).toEqual([409, "invoice_refund_pending"]);

    stack.sandbox.setScenario(msisdn, "success");
    await runSweep();
    // The sweep's Transaction Status says it never happened: failed. The phone works now: refund again, paid.
    expect(await settled(res.body.id)).toMatchObject({ status: "failed", payout_status: "failed" });
    expect(await invoiceRow(inv.id)).toEqual({
      status: "paid",
      amount_paid: "1000.0000",
      amount_due: "0.0000",
      paid: true,
    });
    const again = await refund(inv.merchant, { payment_intent_id: pi, amount: "400" });
    expect([again.status, again.body.status]).toEqual([201, "pending"]);
    expect(await settled(again.body.id)).toMatchObject({
      status: "succeeded",
      msisdn,
      payout_amount: "400.0000",
    });
    expect(await invoiceRow(inv.id)).toEqual({
      status: "open",
      amount_paid: "600.0000",
      amount_due: "400.0000",
      paid: false,
    });
    expect(await balanceOf(inv.merchant.walletId)).toBe("591.0000"); // 985 − 400 + 6.00
    expect(await held(inv.merchant.walletId)).toBe("0.0000");
    expect(await intentRow(pi)).toMatchObject({
      amount_received: "1000.0000",
      amount_refunded: "400.0000",
    });
    expect(await invoiceEvents(inv.id)).toEqual([
      "invoice.paid",
      "invoice.payment_refunded",
      "invoice.paid", // the failure's two events, one transaction: alphabetically
      "invoice.refund_failed",
      "invoice.payment_refunded",
    ]);

    // Settled: the invoice takes the 400 again (a new guest payment).
    await payByLink(inv, "400", randomMsisdn());
    expect(await invoiceRow(inv.id)).toEqual({
      status: "paid",
      amount_paid: "1000.0000",
      amount_due: "0.0000",
      paid: true,
    });
    expect(await balanceOf(inv.merchant.walletId)).toBe("985.0000"); // 591 + 400 − 6.00
    const view = await api(inv.merchant.token, "GET", `/invoices/${inv.id}`);
    expect(view.body).toMatchObject({
      status: "paid",
      amount_paid: "1000.0000",
      amount_due: "0.0000",
    });
  });

  it("QR code, B2C failure result: the invoice counts the money as paid again and closes as paid", async () => {
    const msisdn = randomMsisdn();
    const inv = await guestInvoice("500.00");
    const pi = await payByCode(inv, msisdn);
    expect(await intentRow(pi)).toMatchObject({ customer_id: null, amount_received: "500.0000" });
    expect(await invoiceRow(inv.id)).toMatchObject({ status: "paid", amount_due: "0.0000" });
    await fund(inv.merchant.walletId, "7.50"); // the whole 500 must be available: 492.50 + 7.50
    stack.sandbox.setScenario(msisdn, "fail");
    const res = await refund(inv.merchant, { payment_intent_id: pi });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: "pending",
      amount: "500.0000",
      fee_refunded: "7.5000",
    });
    const done = await settled(res.body.id);
    expect(done).toMatchObject({
      status: "failed",
      failure_code: "2001",
      fee_refunded: "0.0000",
      payout_status: "failed",
    });
    expect(await invoiceRow(inv.id)).toEqual({
      status: "paid",
      amount_paid: "500.0000",
      amount_due: "0.0000",
      paid: true,
    });
    expect(await invoiceEvents(inv.id)).toEqual([
      "invoice.paid",
      "invoice.payment_refunded",
      "invoice.paid", // the failure's two events, one transaction: alphabetically
      "invoice.refund_failed",
    ]);
    const failedEvents = await api(
      inv.merchant.token,
      "GET",
      "/payments/events?type=invoice.refund_failed",
    );
    expect(failedEvents.status).toBe(200);
    expect(failedEvents.body.data.map((e: Json) => [e.object_id, e.data.status, e.data.amount_due]))
      .toEqual([[inv.id, "paid", "0.0000"]]);
    expect(await balanceOf(inv.merchant.walletId)).toBe("500.0000");
    expect(await held(inv.merchant.walletId)).toBe("0.0000");
    expect(await intentRow(pi)).toMatchObject({ amount_refunded: "0.0000" });
    // The paid invoice's page says so again.
    const page = await http(undefined, "GET", `/checkout/${inv.slug}`);
    expect(await page.text()).toContain("This invoice has already been paid");
  });

  it("an order paid by M-Pesa through its QR code is its customer's: refunded to the customer's wallet, no payout", async () => {
    const merchant = await partyWithWallet("merchant");
    const customer = await partyWithWallet();
    // Orders post as order_payment; shop-orders puts a 1% catalog row for it db-wide during a
    // full run, so this merchant's own profile keeps the order unpriced whatever the catalog holds.
    await admin`insert into public.merchant_fee_profiles (merchant_id, transaction_type, waived, note)
                values (${merchant.userId}, 'order_payment', true, 'invoice-guest-refunds: order unpriced')`;
    const [{ id: shopId }] = await admin`select hazina.shop_create(${merchant.userId}, 'Duka',
      ${`duka-igr-${crypto.randomUUID().slice(0, 8)}`}, 'KES', 'optional', 5, null) ->> 'id' as id`;
    const [{ id: productId }] =
      await admin`select hazina.product_create(${merchant.userId}, ${shopId}::uuid, 'Sugar 1kg',
      'SUGAR', 150, null, true, null) ->> 'id' as id`;
    const [{ o }] = await admin`select hazina.order_create(${customer.userId}, ${shopId}::uuid,
      ${admin.json([{ product_id: productId, quantity: 1 }])}, false, '{}', ${key()}) as o`;
    const [code] = await admin`select slug from public.qr_codes where order_id = ${o.id}`;
    const started = await api(undefined, "POST", `/checkout/${code.slug}/pay/stk`, {
      phone: randomMsisdn(),
    }, {
      "idempotency-key": key(),
    });
    expect(started.status).toBe(200);
    await stack.sandbox.idle();
    await waitFor(
      async () => (await intentRow(o.payment_intent.id)).status === "succeeded",
      "the order's M-Pesa payment",
    );
    // Whoever's phone paid, the order's intent is its customer's: never a guest's.
    expect((await intentRow(o.payment_intent.id)).customer_id).toBe(customer.userId);
    const merchantBefore = await balanceOf(merchant.walletId);
    const customerBefore = await balanceOf(customer.walletId);
    const res = await refund(merchant, { payment_intent_id: o.payment_intent.id, amount: "50" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "succeeded", payout_id: null, amount: "50.0000" });
    expect(await balanceOf(customer.walletId)).toBe(sum(customerBefore, "50.00"));
    expect(await balanceOf(merchant.walletId)).toBe(difference(merchantBefore, "50.00"));
    const [{ n }] =
      await admin`select count(*)::int as n from public.wallet_withdrawals where user_id = ${merchant.userId}`;
    expect(n).toBe(0);
  });
});

describe("races", () => {
  it("two refunds of one guest invoice payment at once: never above what was paid", async () => {
    const inv = await guestInvoice("1000.00");
    const pi = await payByLink(inv, "1000", randomMsisdn());
    const [a, b] = await Promise.all([
      refund(inv.merchant, { payment_intent_id: pi, amount: "600" }),
      refund(inv.merchant, { payment_intent_id: pi, amount: "600" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    const winner = a.status === 201 ? a : b;
    expect(loser.body.error.code).toBe("refund_exceeds_captured");
    expect((await settled(winner.body.id)).status).toBe("succeeded");
    expect(await invoiceRow(inv.id)).toEqual({
      status: "open",
      amount_paid: "400.0000",
      amount_due: "600.0000",
      paid: false,
    });
    expect(await balanceOf(inv.merchant.walletId)).toBe("394.0000"); // 985 − 600 + 9.00
    expect(await held(inv.merchant.walletId)).toBe("0.0000");
    expect(await intentRow(pi)).toMatchObject({ amount_refunded: "600.0000" });
    const [{ n }] =
      await admin`select count(*)::int as n from public.wallet_withdrawals where user_id = ${inv.merchant.userId}`;
    expect(n).toBe(1);
    expect((await invoiceEvents(inv.id)).filter((t) => t === "invoice.payment_refunded"))
      .toHaveLength(1);
  });

  it("a refund against a new payment of the invoice: one order, and a failure never over-pays", async () => {
    const msisdn = randomMsisdn();
    const inv = await guestInvoice("300.00", true);
    const pi = await payByLink(inv, "100", msisdn); // 98.50
    await fund(inv.merchant.walletId, "1.50");
    stack.sandbox.setScenario(msisdn, "timeout"); // pending until the sweep asks, then failed
    // The rest opened by a second guest at the same moment as the refund of the first payment.
    const [r, opened] = await Promise.all([
      refund(inv.merchant, { payment_intent_id: pi, amount: "100" }),
      api(undefined, "POST", `/invoices/${inv.token}/pay-link`, { amount: "200" }),
    ]);
    expect(r.status).toBe(201);
    // Either the intent came first (the refund canceled it) or the refund did (the link refused).
    if (opened.status === 201) {
      expect((await intentRow(opened.body.id)).status).toBe("canceled");
    } else {
      expect([opened.status, opened.body.error?.code]).toEqual([409, "invoice_refund_pending"]);
    }
    await stack.sandbox.idle();
    expect((await refundRow(r.body.id)).status).toBe("pending");
    // The invoice's QR code (still active: part paid) is refused too while the refund is pending.
    const byCode = await api(
      undefined,
      "POST",
      `/checkout/${inv.slug}/pay/stk`,
      { phone: randomMsisdn() },
      {
        "idempotency-key": key(),
      },
    );
    expect([byCode.status, byCode.body.error?.code]).toEqual([409, "invoice_refund_pending"]);
    await runSweep();
    expect(await settled(r.body.id)).toMatchObject({ status: "failed" });
    expect(await invoiceRow(inv.id)).toEqual({
      status: "open",
      amount_paid: "100.0000",
      amount_due: "200.0000",
      paid: false,
    });
    const [paid] = await admin`select count(*)::int as n from public.payment_intents
                                where subject_type = 'invoice' and subject_id = ${inv.id} and status = 'succeeded'`;
    expect(paid.n).toBe(1);
    expect(await balanceOf(inv.merchant.walletId)).toBe("100.0000");
    expect(await held(inv.merchant.walletId)).toBe("0.0000");
    // The rest can be paid now, and no more.
    await payByLink(inv, "200", randomMsisdn());
    expect(await invoiceRow(inv.id)).toEqual({
      status: "paid",
      amount_paid: "300.0000",
      amount_due: "0.0000",
      paid: true,
    });
    expect(await balanceOf(inv.merchant.walletId)).toBe("297.0000"); // 100 + 200 − 3.00
  });
});
