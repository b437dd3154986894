// Invoices through the invoices function: in-process for the rules (refused transitions,
// who sees what, the pay link), and the walk-through of docs/invoices.md over the real HTTP
// server (draft, finalise, pay from the wallet through the payments API, partial payment,
// refund, PDF). Every answer's money is checked against the wallets; the books reconcile.
import { spawnSync } from "node:child_process";
import process from "node:process";
import { PDFDocument } from "pdf-lib";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { z } from "zod";
import { app } from "../../functions/invoices/app.ts";
import { app as payments } from "../../functions/payments/app.ts";
import { Invoice, InvoicePayLink, InvoiceSettings } from "../../functions/invoices/schemas.ts";
import { admin } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { appCaller, type Caller, httpCaller, idempotencyKey as key, readResponse } from "../helpers/request.ts";

const inProcess = appCaller(app, "/invoices");
const paymentsInProcess = appCaller(payments, "/payments");
const overHttp = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1/invoices`);
const paymentsOverHttp = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1/payments`);

let duka: Party;
let amina: Party;
let other: Party;

beforeAll(async () => {
  await paymentIntentFee();
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  other = await partyWithWallet();
  await fund(amina.walletId, "5000.00");
  await fund(other.walletId, "500.00");
});

afterAll(async () => {
  await expectBooksBalanced();
});

const AWKWARD = [
  { description: "Flour", quantity: "0.333", unit_amount: "33.3333", tax_rate: 1600 },
  { description: "Sugar", quantity: "3", unit_amount: "100.005", tax_rate: 1600 },
];

async function draft(request: Caller, body: Record<string, unknown>, merchant = duka) {
  return await readResponse(await request(merchant.token, "POST", "", body, { "idempotency-key": key() }));
}
const post = (request: Caller, who: Party | undefined, path: string, body?: unknown) =>
  request(who?.token, "POST", path, body, { "idempotency-key": key() }).then(readResponse);

function expectSameShape(schema: z.ZodObject, json: Record<string, unknown>) {
  expect(Object.keys(json).sort()).toEqual(Object.keys(schema.shape).sort());
  expect(schema.strict().safeParse(json).error?.issues ?? []).toEqual([]);
}

/** The text of a PDF, as poppler's pdftotext reads it (a real, independent parser). */
function pdfText(bytes: Uint8Array): string | undefined {
  const run = spawnSync("pdftotext", ["-layout", "-", "-"], { input: bytes, encoding: "utf8" });
  if (run.error) {
    // CI installs poppler-utils (.ci/run); only a local machine without it may skip this part.
    if (process.env.CI) throw run.error;
    return undefined;
  }
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

describe("invoices", () => {
  it("drafts: totals from the database, by the rounding rule; the shapes are the documented ones", async () => {
    const created = await draft(inProcess, { customer_id: amina.userId, items: AWKWARD });
    expect(created.status).toBe(201);
    expect(created.body.items.map((i: { subtotal: string; tax: string }) => [i.subtotal, i.tax]))
      .toEqual([["11.1000", "1.7800"], ["300.0200", "48.0000"]]);
    expect([created.body.subtotal, created.body.tax, created.body.total]).toEqual(["311.1200", "49.7800", "360.9000"]);
    expectSameShape(Invoice as unknown as z.ZodObject, created.body);
    const settings = await readResponse(await inProcess(duka.token, "GET", "/settings"));
    expectSameShape(InvoiceSettings as unknown as z.ZodObject, settings.body);
  });

  it("refuses bad input and every refused transition with its stable code", async () => {
    const cases: [Party, Record<string, unknown>, number, string][] = [
      [duka, { customer_id: amina.userId, items: [{ description: "x", quantity: 1, unit_amount: "1" }] }, 400, "validation_failed"],
      [duka, { customer_id: amina.userId, items: [{ description: "x", quantity: "0", unit_amount: "1" }] }, 400, "validation_failed"],
      [duka, { customer_id: amina.userId, total: "1.00" }, 400, "validation_failed"],
      [duka, { memo: "to nobody" }, 400, "invalid_argument"],
      [duka, { customer_id: crypto.randomUUID() }, 404, "customer_not_found"],
      [duka, { customer_id: amina.userId, currency: "EUR" }, 400, "currency_not_supported"],
      [amina, { customer_id: other.userId }, 409, "merchant_wallet_required"],
    ];
    for (const [who, body, status, code] of cases) {
      const res = await draft(inProcess, body, who);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect((await readResponse(await inProcess(duka.token, "POST", "", { customer_id: amina.userId }))).body.error.code)
      .toBe("idempotency_key_required");
    expect((await inProcess(undefined, "GET", "")).status).toBe(401);

    const empty = (await draft(inProcess, { customer_id: amina.userId })).body;
    expect((await post(inProcess, duka, `/${empty.id}/finalize`)).body.error.code).toBe("invoice_empty");
    expect((await post(inProcess, duka, `/${empty.id}/void`)).body.error.code).toBe("invoice_not_voidable");
    expect((await post(inProcess, duka, `/${empty.id}/mark-uncollectible`)).body.error.code).toBe("invoice_not_open");
    // The customer does not see a draft; another merchant does not see it at all.
    expect((await post(inProcess, amina, `/${empty.id}/pay`)).status).toBe(404);
    expect((await readResponse(await inProcess(amina.token, "GET", `/${empty.id}`))).status).toBe(404);
    const deleted = await readResponse(await inProcess(duka.token, "DELETE", `/${empty.id}`));
    expect([deleted.status, deleted.body.deleted]).toEqual([200, true]);
    expect((await readResponse(await inProcess(duka.token, "GET", `/${empty.id}`))).status).toBe(404);

    const inv = (await draft(inProcess, { customer_id: amina.userId, items: AWKWARD })).body;
    const open = await post(inProcess, duka, `/${inv.id}/finalize`);
    expect(open.body.status).toBe("open");
    for (
      const [method, path, code] of [
        ["PATCH", `/${inv.id}`, "invoice_not_draft"],
        ["DELETE", `/${inv.id}`, "invoice_not_draft"],
        ["POST", `/${inv.id}/finalize`, "invoice_not_draft"],
      ]
    ) {
      const res = await readResponse(await inProcess(duka.token, method, path, method === "PATCH" ? { memo: "x" } : undefined,
        { "idempotency-key": key() }));
      expect([res.status, res.body.error.code], path).toEqual([409, code]);
    }
    expect((await post(inProcess, amina, `/${inv.id}/pay`, { amount: "1000.00" })).body.error.code).toBe("amount_exceeds_due");
    expect((await post(inProcess, amina, `/${inv.id}/pay`, { amount: "10.00" })).body.error.code)
      .toBe("partial_payment_not_allowed");
    expect((await post(inProcess, other, `/${inv.id}/pay`)).status).toBe(404);
    expect((await post(inProcess, amina, `/${inv.id}/void`)).status).toBe(404);
    // Void: canceled, no longer payable.
    expect((await post(inProcess, duka, `/${inv.id}/void`)).body.status).toBe("void");
    expect((await post(inProcess, amina, `/${inv.id}/pay`)).body.error.code).toBe("invoice_not_payable");
  });

  it("lists: the merchant its issued invoices, the customer those addressed to it, filtered and paged", async () => {
    const merchant = await partyWithWallet("merchant");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const inv = (await draft(inProcess, { customer_id: amina.userId, items: AWKWARD }, merchant)).body;
      ids.push(inv.id);
    }
    await post(inProcess, merchant, `/${ids[0]}/finalize`);
    const mine = await readResponse(await inProcess(merchant.token, "GET", "?limit=2"));
    expect(mine.body.data.map((i: { id: string }) => i.id)).toEqual([ids[2], ids[1]]);
    const next = await readResponse(await inProcess(merchant.token, "GET", `?limit=2&cursor=${mine.body.next_cursor}`));
    expect([next.body.data.map((i: { id: string }) => i.id), next.body.next_cursor]).toEqual([[ids[0]], null]);
    const drafts = await readResponse(await inProcess(merchant.token, "GET", `?status=draft&customer=${amina.userId}`));
    expect(drafts.body.data).toHaveLength(2);
    const addressed = await readResponse(await inProcess(amina.token, "GET", "?limit=100"));
    const seen = addressed.body.data.map((i: { id: string }) => i.id);
    expect(seen).toContain(ids[0]);
    expect(seen).not.toContain(ids[1]); // a draft
    expect((await readResponse(await inProcess(other.token, "GET", ""))).body.data).toEqual([]);
  });

  it("the pay link: anyone holding it sees what is due and opens an intent; a signed-in payer pays it with the secret", async () => {
    const inv = (await draft(inProcess, {
      customer_email: "guest@example.com",
      customer_name: "A Guest",
      allow_partial_payment: true,
      items: [{ description: "Catering", quantity: "1", unit_amount: "300.00" }],
    })).body;
    const token = (await post(inProcess, duka, `/${inv.id}/finalize`)).body.pay_token;
    const link = await readResponse(await inProcess(undefined, "GET", `/${token}/pay-link`));
    expect(link.body).toMatchObject({ number: expect.stringMatching(/^INV-\d{6}$/), amount_due: "300.0000" });
    expectSameShape(InvoicePayLink as unknown as z.ZodObject, link.body);
    expect(JSON.stringify(link.body)).not.toContain("guest@example.com");
    expect((await readResponse(await inProcess(undefined, "GET", `/inv_${"0".repeat(48)}/pay-link`))).status).toBe(404);
    expect((await readResponse(await inProcess(undefined, "GET", "/nonsense/pay-link"))).status).toBe(404);

    const intent = await post(inProcess, undefined, `/${token}/pay-link`, { amount: "120.00" });
    expect(intent.status).toBe(201);
    expect(intent.body).toMatchObject({ amount: "120.0000", customer_id: null, subject_type: "invoice", subject_id: inv.id });
    const before = await balanceOf(other.walletId);
    const paid = await post(paymentsInProcess, other, `/intents/${intent.body.id}/confirm`,
      { sources: [{ type: "wallet", wallet_id: other.walletId, amount: "120.00" }], client_secret: intent.body.client_secret });
    expect(paid.body.status).toBe("succeeded");
    expect(await balanceOf(other.walletId)).toBe(difference(before, "120.00"));
    const after = await readResponse(await inProcess(duka.token, "GET", `/${inv.id}`));
    expect(after.body).toMatchObject({ status: "open", amount_paid: "120.0000", amount_due: "180.0000" });
    expect((await post(inProcess, undefined, `/${token}/pay-link`, { amount: "200.00" })).body.error.code).toBe("amount_exceeds_due");
  });

  it("PDFs: a draft's for its merchant only; a hundred lines run onto more pages and still parse", async () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ description: `Line ${i + 1} – Café crème`, quantity: "1.5",
      unit_amount: "10.01", tax_rate: 1600 }));
    const inv = (await draft(inProcess, { customer_id: amina.userId, customer_name: "Zoë 🙂", items })).body;
    expect((await inProcess(amina.token, "GET", `/${inv.id}/pdf`)).status).toBe(404);
    const res = await inProcess(duka.token, "GET", `/${inv.id}/pdf`);
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const parsed = await PDFDocument.load(bytes);
    expect(parsed.getPageCount()).toBeGreaterThan(1);
    expect(parsed.getTitle()).toBe("Draft invoice");
    const text = pdfText(bytes);
    if (text !== undefined) {
      // 1.5 × 10.01 = 15.015 → 15.02; 16% = 2.4032 → 2.40; a hundred lines: 1,742.00.
      for (const expected of ["DRAFT", "Line 1 ", "Line 100 ", "Café", "Zoë ?", "KES 1,502.00", "KES 240.00", "KES 1,742.00"]) {
        expect(text, expected).toContain(expected);
      }
    }
  });

  it("the walk-through over HTTP: draft, finalise, pay part, pay the rest, refund, PDF", async () => {
    const aminaBefore = await balanceOf(amina.walletId);
    const dukaBefore = await balanceOf(duka.walletId);
    const created = await draft(overHttp, {
      customer_id: amina.userId,
      customer_name: "Amina Wanjiru",
      memo: "October supplies",
      allow_partial_payment: true,
      items: [...AWKWARD, { description: "Salt", quantity: "1", unit_amount: "0.05", tax_rate: 1000 }],
    });
    expect(created.body.total).toBe("360.9600");
    const id = created.body.id;
    const edited = await readResponse(await overHttp(duka.token, "PATCH", `/${id}`, { due_date: "2030-12-31" },
      { "idempotency-key": key() }));
    expect(edited.body.due_date).toBe("2030-12-31");
    const finalized = await post(overHttp, duka, `/${id}/finalize`);
    expect(finalized.body).toMatchObject({ status: "open", number: expect.stringMatching(/^INV-\d{6}$/), amount_due: "360.9600" });

    // The customer pays part, then the rest, each through an intent confirmed from the wallet.
    const part = await post(overHttp, amina, `/${id}/pay`, { amount: "160.96" });
    expect(part.status).toBe(201);
    const again = await post(overHttp, amina, `/${id}/pay`, { amount: "160.96" });
    expect([again.status, again.body.id]).toEqual([200, part.body.id]);
    const confirm = (intentId: string, amount: string) =>
      post(paymentsOverHttp, amina, `/intents/${intentId}/confirm`, { sources: [{ type: "wallet", wallet_id: amina.walletId, amount }] });
    expect((await confirm(part.body.id, "160.96")).body.status).toBe("succeeded");
    let invoice = (await readResponse(await overHttp(amina.token, "GET", `/${id}`))).body;
    expect(invoice).toMatchObject({ status: "open", amount_paid: "160.9600", amount_due: "200.0000" });
    const rest = await post(overHttp, amina, `/${id}/pay`);
    expect(rest.body.amount).toBe("200.0000");
    expect((await confirm(rest.body.id, "200.00")).body.status).toBe("succeeded");
    invoice = (await readResponse(await overHttp(duka.token, "GET", `/${id}`))).body;
    expect(invoice).toMatchObject({ status: "paid", amount_paid: "360.9600", amount_due: "0.0000" });
    expect(await balanceOf(amina.walletId)).toBe(difference(aminaBefore, "360.96"));
    // The merchant bears 1.5% of each payment: 2.41 (of 160.96: 2.4144) + 3.00.
    expect(await balanceOf(duka.walletId)).toBe(sum(dukaBefore, "355.55"));
    const events = await admin`select type from public.events where object_id = ${id} order by created_at, type`;
    expect(events.map((e) => e.type)).toEqual(["invoice.created", "invoice.updated", "invoice.finalized",
      "invoice.partially_paid", "invoice.paid"]);
    // The merchant lists them with its other events (GET /payments/events), signed webhooks read the same rows.
    const listed = await readResponse(await paymentsOverHttp(duka.token, "GET", "/events?type=invoice.paid&limit=100"));
    expect(listed.body.data.find((e: { object_id: string }) => e.object_id === id))
      .toMatchObject({ type: "invoice.paid", object_type: "invoice", data: { id, status: "paid" } });

    // A refund reopens it with the refund due.
    const refund = await post(paymentsOverHttp, duka, "/refunds", { payment_intent_id: rest.body.id, amount: "50.00" });
    expect(refund.status).toBe(201);
    invoice = (await readResponse(await overHttp(duka.token, "GET", `/${id}`))).body;
    expect(invoice).toMatchObject({ status: "open", amount_paid: "310.9600", amount_due: "50.0000", paid_at: null });
    expect((await post(overHttp, duka, `/${id}/void`)).body.error.code).toBe("invoice_has_payments");

    // The PDF: a real PDF carrying the number, the totals and what is due.
    const res = await overHttp(amina.token, "GET", `/${id}/pdf`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe("%PDF-");
    const parsed = await PDFDocument.load(bytes);
    expect(parsed.getPageCount()).toBe(1);
    expect(parsed.getTitle()).toBe(`Invoice ${invoice.number}`);
    const text = pdfText(bytes);
    if (text !== undefined) {
      for (const expected of [invoice.number, "Amina Wanjiru", "Flour", "0.333", "16%", "311.17", "49.79", "360.96",
        "310.96", "Amount due", "KES 50.00", `/invoices/${invoice.pay_token}/pay-link`]) {
        expect(text, expected).toContain(expected);
      }
    }
    expect((await overHttp(other.token, "GET", `/${id}/pdf`)).status).toBe(404);
    await expectBooksBalanced();
  });
});
