// QR bindings over HTTP: a finalised invoice's code is found with GET /qr-codes?subject_id=
// (the merchant's, with its links from GET /qr-codes/:id), its checkout page refuses to pay it
// (the invoice is paid through its own pay path), and paying the invoice disables the code.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { app as qrApp } from "../../functions/qr-codes/app.ts";
import { admin } from "../helpers/db.ts";
import { expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { appCaller, httpCaller, idempotencyKey as key, readResponse } from "../helpers/request.ts";

const qr = appCaller(qrApp, "/qr-codes");
const base = () => `${inject("edgeBaseUrl")}/functions/v1`;
const checkoutHttp = httpCaller(() => `${base()}/checkout`);

let duka: Party;
let amina: Party;

beforeAll(async () => {
  await paymentIntentFee();
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  await fund(amina.walletId, "1000.00");
});

afterAll(async () => {
  await expectBooksBalanced();
});

describe("qr bindings", () => {
  it("an invoice's code: made at finalisation, looked up by subject, not payable on the page, disabled when paid", async () => {
    const fields = { customer_id: amina.userId, items: [{ description: "Flour", quantity: "1", unit_amount: "120.50" }] };
    const [{ id }] = await admin`select (hazina.invoice_create(${duka.userId}, ${admin.json(fields)}, ${key()}) ->> 'id') as id`;
    const none = await readResponse(await qr(duka.token, "GET", `?subject_id=${id}`));
    expect([none.status, none.body.data]).toEqual([200, []]);
    await admin`select hazina.invoice_finalize(${id}::uuid, ${duka.userId}::uuid)`;

    const found = await readResponse(await qr(duka.token, "GET", `?subject_id=${id}`));
    expect(found.status).toBe(200);
    expect(found.body.data).toHaveLength(1);
    expect(found.body.data[0]).toMatchObject({ kind: "invoice", subject_id: id, amount: "120.5000", status: "active" });
    const code = await readResponse(await qr(duka.token, "GET", `/${found.body.data[0].id}`));
    expect(code.body.url).toMatch(new RegExp(`/functions/v1/checkout/${code.body.slug}$`));
    expect(code.body.png_url).toMatch(new RegExp(`/functions/v1/qr-codes/${code.body.slug}\\.png$`));
    expect((await readResponse(await qr(amina.token, "GET", `?subject_id=${id}`))).body.data).toEqual([]);

    const refused = await checkoutHttp(amina.token, "POST", `/${code.body.slug}/pay/wallet`,
      { wallet_id: amina.walletId }, { "idempotency-key": key() }).then(readResponse);
    expect([refused.status, refused.body.error.code]).toEqual([409, "qr_code_kind_not_payable"]);
    const [{ n }] = await admin`select count(*)::int as n from public.payment_intents where subject_id = ${code.body.id}`;
    expect(n).toBe(0);

    const [{ pi }] = await admin`select hazina.invoice_pay(${id}::uuid, ${amina.userId}::uuid, null) ->> 'id' as pi`;
    await admin`select hazina.payment_intent_confirm(${pi}::uuid, ${amina.userId}::uuid,
      ${admin.json([{ type: "wallet", wallet_id: amina.walletId, amount: "120.50" }])})`;
    const [row] = await admin`select i.status as invoice, q.status as code from public.invoices i
      join public.qr_codes q on q.subject_id = i.id where i.id = ${id}`;
    expect(row).toEqual({ invoice: "paid", code: "disabled" });
  });
});
