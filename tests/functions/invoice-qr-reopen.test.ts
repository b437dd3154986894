// An invoice's QR code comes back when a refund reopens the invoice (20261124001950), over HTTP
// through the real edge server: a payer pays an invoice through its code from a wallet, the
// merchant refunds it in full (POST /payments/refunds), the same code's checkout page
// (GET /checkout/:slug) is payable again for the amount due, and paying it again works once.
// Balances to the cent (the fee pinned by the merchant's own profile) and reconciled books.
import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { difference, fromUnits, sum, toUnits } from "../helpers/decimal.ts";
import { balanceOf, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { idempotencyKey as key } from "../helpers/request.ts";

const { stack, api } = useMoneyStack();
let duka: Party;
let amina: Party;
let payer: Party;

beforeAll(async () => {
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  payer = await partyWithWallet();
  await admin`update public.auth_users set name = 'Duka la Reopen' where id = ${duka.userId}`;
  // The suite merchant's own profile (it beats the db-wide catalog other suites change): 150 bps.
  await admin`insert into public.merchant_fee_profiles (merchant_id, transaction_type, percentage_bps, note)
              values (${duka.userId}, 'payment_intent', 150, 'invoice-qr-reopen: 1.5%')`;
  await fund(payer.walletId, "2000.00");
}, 60_000);

/** 150 bps of the amount, rounded half away from zero to the cent (the billing rule). */
function fee(amount: string): string {
  return fromUnits(((toUnits(amount) * 150n + 500_000n) / 1_000_000n) * 100n);
}

async function code(invoiceId: string) {
  const [row] =
    await admin`select id, slug, use_count, status, disabled_reason from public.qr_codes where invoice_id = ${invoiceId}`;
  return row as {
    id: string;
    slug: string;
    use_count: number;
    status: string;
    disabled_reason: string | null;
  };
}

describe("an invoice's code after a full refund", () => {
  it("pays, refunds, shows payable again on the same code, and pays once more", async () => {
    const fields = {
      customer_id: amina.userId,
      items: [{ description: "Cement", quantity: "3", unit_amount: "100.005" }],
    };
    const [{ id }] = await admin`select (hazina.invoice_create(${duka.userId}, ${
      admin.json(fields)
    }, ${key()}) ->> 'id') as id`;
    await admin`select hazina.invoice_finalize(${id}::uuid, ${duka.userId}::uuid)`;
    const { slug } = await code(id);
    const due = "300.02"; // 3 × 100.005 = 300.015 → 300.02 (half away from zero)
    const [merchantBefore, payerBefore] = [
      await balanceOf(duka.walletId),
      await balanceOf(payer.walletId),
    ];

    const first = await api(payer.token, "POST", `/checkout/${slug}/pay/wallet`, {
      wallet_id: payer.walletId,
    }, { "idempotency-key": key() });
    expect([first.status, first.body.status, first.body.amount]).toEqual([
      200,
      "succeeded",
      "300.0200",
    ]);
    expect(await code(id)).toMatchObject({
      status: "disabled",
      disabled_reason: "subject_closed",
      use_count: 1,
    });
    expect(await (await fetch(`${stack.functionsUrl}/checkout/${slug}`)).text()).toContain(
      'data-code-status="paid"',
    );

    const refund = await api(duka.token, "POST", "/payments/refunds", {
      payment_intent_id: first.body.id,
      reason: "returned",
    }, { "idempotency-key": key() });
    expect(
      [refund.status, refund.body.status, refund.body.amount, refund.body.fee_refunded],
      JSON.stringify(refund.body),
    ).toEqual([201, "succeeded", "300.0200", fee(due)]);
    const [inv] =
      await admin`select status, amount_due::text from public.invoices where id = ${id}`;
    expect(inv).toEqual({ status: "open", amount_due: "300.0200" });
    expect(await code(id)).toMatchObject({ status: "active", disabled_reason: null, use_count: 1 });
    const [events] =
      await admin`select count(*)::int as n from public.events where type = 'qr_code.active'
                                  and object_id = ${(await code(id)).id}`;
    expect(events.n).toBe(1);
    expect(await balanceOf(payer.walletId)).toBe(payerBefore);
    expect(await balanceOf(duka.walletId)).toBe(merchantBefore);

    const page = await fetch(`${stack.functionsUrl}/checkout/${slug}`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('<p class="amount" id="amount-shown">KES 300.02</p>');
    expect(html).toContain("<form");
    expect(html).toContain('data-bound="1"');
    expect(html).not.toContain("data-code-status"); // the refusal page's marker (paid, disabled, ...)

    const k = key();
    const pay = () =>
      api(payer.token, "POST", `/checkout/${slug}/pay/wallet`, { wallet_id: payer.walletId }, {
        "idempotency-key": k,
      });
    const again = await pay();
    expect([again.status, again.body.status, again.body.subject_id, again.body.amount]).toEqual([
      200,
      "succeeded",
      id,
      "300.0200",
    ]);
    expect(again.body.id).not.toBe(first.body.id);
    const replay = await pay();
    expect([replay.status, replay.body.id, replay.headers.get("idempotent-replayed")]).toEqual([
      200,
      again.body.id,
      "true",
    ]);
    const third = await api(payer.token, "POST", `/checkout/${slug}/pay/wallet`, {
      wallet_id: payer.walletId,
    }, { "idempotency-key": key() });
    expect([third.status, third.body.error?.code]).toEqual([409, "qr_code_already_paid"]);

    expect(await code(id)).toMatchObject({
      status: "disabled",
      disabled_reason: "subject_closed",
      use_count: 2,
    });
    const [paid] =
      await admin`select status, amount_due::text, amount_paid::text from public.invoices where id = ${id}`;
    expect(paid).toEqual({ status: "paid", amount_due: "0.0000", amount_paid: "300.0200" });
    const [n] = await admin`select count(*)::int as n from public.payment_intents
                             where subject_type = 'invoice' and subject_id = ${id} and status = 'succeeded'`;
    expect(n.n).toBe(2);
    expect(await balanceOf(payer.walletId)).toBe(difference(payerBefore, due));
    expect(await balanceOf(duka.walletId)).toBe(sum(merchantBefore, difference(due, fee(due))));
  });

  it("two payers on the reopened code at once: exactly one pays", async () => {
    const other = await partyWithWallet();
    await fund(other.walletId, "500.00");
    const fields = {
      customer_id: amina.userId,
      items: [{ description: "Nails", quantity: "1", unit_amount: "120.50" }],
    };
    const [{ id }] = await admin`select (hazina.invoice_create(${duka.userId}, ${
      admin.json(fields)
    }, ${key()}) ->> 'id') as id`;
    await admin`select hazina.invoice_finalize(${id}::uuid, ${duka.userId}::uuid)`;
    const { slug } = await code(id);
    const first = await api(payer.token, "POST", `/checkout/${slug}/pay/wallet`, {
      wallet_id: payer.walletId,
    }, { "idempotency-key": key() });
    expect(first.status).toBe(200);
    const refund = await api(duka.token, "POST", "/payments/refunds", {
      payment_intent_id: first.body.id,
    }, { "idempotency-key": key() });
    expect(refund.status).toBe(201);
    const [merchantBefore, payerBefore, otherBefore] = [
      await balanceOf(duka.walletId),
      await balanceOf(payer.walletId),
      await balanceOf(other.walletId),
    ];

    const results = await Promise.all(
      [payer, other].map((p) =>
        api(p.token, "POST", `/checkout/${slug}/pay/wallet`, { wallet_id: p.walletId }, {
          "idempotency-key": key(),
        })
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok.length, JSON.stringify(results.map((r) => r.body))).toBe(1);
    const refused = results.find((r) => r.status !== 200)!;
    expect(refused.status).toBe(409);
    expect(["qr_code_already_paid", "qr_code_payment_in_progress"]).toContain(
      refused.body.error?.code,
    );
    expect(await code(id)).toMatchObject({ status: "disabled", use_count: 2 });
    const paidBy = results[0].status === 200 ? payer : other;
    const [payerAfter, otherAfter] = [
      await balanceOf(payer.walletId),
      await balanceOf(other.walletId),
    ];
    expect(paidBy === payer ? [payerAfter, otherAfter] : [otherAfter, payerAfter]).toEqual(
      paidBy === payer
        ? [difference(payerBefore, "120.50"), otherBefore]
        : [difference(otherBefore, "120.50"), payerBefore],
    );
    expect(await balanceOf(duka.walletId)).toBe(
      sum(merchantBefore, difference("120.50", fee("120.50"))),
    );
  });
});
