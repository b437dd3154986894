// QR bindings over HTTP: a finalised invoice's code is found with GET /qr-codes?subject_id=
// (the merchant's, with its links from GET /qr-codes/:id), its checkout page pays the invoice's
// own intent (never one of the code), and the paid invoice's code is disabled.
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
  it("an invoice's code: made at finalisation, looked up by subject, paid on the page through its own intent, then disabled", async () => {
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

    // The page pays the invoice's own intent (never an intent of the code), then the code is disabled.
    const paid = await checkoutHttp(amina.token, "POST", `/${code.body.slug}/pay/wallet`,
      { wallet_id: amina.walletId }, { "idempotency-key": key() }).then(readResponse);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: "succeeded", subject_type: "invoice", subject_id: id, amount: "120.5000" });
    const [{ n }] = await admin`select count(*)::int as n from public.payment_intents where subject_id = ${code.body.id}`;
    expect(n).toBe(0);
    const [row] = await admin`select i.status as invoice, q.status as code, q.use_count from public.invoices i
      join public.qr_codes q on q.subject_id = i.id where i.id = ${id}`;
    expect(row).toEqual({ invoice: "paid", code: "disabled", use_count: 1 });
  });
});
