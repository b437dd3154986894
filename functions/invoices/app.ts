// Invoices: a merchant drafts, edits, finalises (gapless numbers of its own), voids or marks
// uncollectible; the addressed customer (signed in) or anyone holding the pay link pays
// through a payment intent, confirmed with the payments API. Every rule is one SQL function
// (database/migrations/*_invoices.sql, *_invoice_payments.sql, *_invoice_overdue.sql); the
// edge checks syntax, returns the database's shapes, and draws the PDF. See docs/invoices.md.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { requireUser } from "../_shared/auth.ts";
import { config } from "../_shared/config.ts";
import { asService, type Tx } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { created, type MoneyObject, optionalBody, readObject } from "../_shared/money-object.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { apiDocs, listOf, serveOpenApi } from "../_shared/openapi.ts";
import { pageNewestFirst, PageParams } from "../_shared/pagination.ts";
import { type UserEnv, userTx, Uuid } from "../_shared/user.ts";
import { CreatedPaymentIntent } from "../payments/schemas.ts";
import { type InvoiceDocument, renderInvoicePdf } from "./pdf.ts";
import {
  DeletedInvoice,
  Invoice,
  INVOICE_STATUSES,
  InvoicePayLink,
  InvoiceSettings,
} from "./schemas.ts";

export const app = createFunctionApp<UserEnv>("invoices");
export const docs = apiDocs(
  "invoices",
  "Invoices",
  "Invoices with items (totals computed by the database), finalised with the merchant's own gapless numbers, " +
    "paid through payment intents by the addressed customer or by anyone holding the pay link; void, " +
    "uncollectible, overdue; a PDF. See docs/invoices.md.",
);
serveOpenApi(app, docs);

const INVOICE: MoneyObject = {
  table: "invoices",
  json: "invoice_json",
  schema: Invoice,
  noun: "invoice",
  notFound: { code: "invoice_not_found", message: "Invoice not found." },
};

// --- the pay link (no sign-in: the token is the permission) ------------------------------

const PAY_TOKEN = /^inv_[0-9a-f]{48}$/;
const PayLinkParams = z.object({ token: z.string().max(60) });

/** The token of a pay link, or 404 (a malformed token finds nothing, like an unknown one). */
function payToken(value: string | undefined): string {
  if (!value || !PAY_TOKEN.test(value)) {
    throw new ApiError(404, "invoice_not_found", "Invoice not found.");
  }
  return value;
}

docs.route({
  method: "get",
  path: "/:token/pay-link",
  summary: "What a pay link shows (no sign-in)",
  description:
    "The invoice as anyone holding its pay link sees it: who asks, for what, how much is due. No contact " +
    "details, no metadata.",
  auth: "none",
  params: PayLinkParams,
  responses: { 200: { description: "The invoice to pay.", schema: InvoicePayLink } },
  errors: ["invoice_not_found"],
});
app.get("/:token/pay-link", async (c) => {
  const token = payToken(c.req.param("token"));
  const [row] = await asService(
    c.get("requestId"),
    (tx) => tx`select hazina.invoice_pay_link_json(${token}) as invoice`,
  );
  return c.json(row.invoice);
});

const PayInvoice = z.object({ amount: Amount.optional() }).strict();

docs.route({
  method: "post",
  path: "/:token/pay-link",
  summary: "Start paying by the pay link (no sign-in)",
  description:
    "Opens a payment intent for the amount due (or `amount`, when the invoice allows partial payment), for " +
    "whoever holds its `client_secret`: a signed-in payer confirms it from their wallet with " +
    "`POST /payments/intents/:id/confirm` and the secret. Each call replaces the invoice's unconfirmed intent " +
    "(an invoice has one unpaid intent at a time), so it needs no Idempotency-Key: no money moves until the " +
    "confirm, which takes one.",
  auth: "none",
  params: PayLinkParams,
  body: PayInvoice,
  bodyOptional: true,
  bodyExample: { amount: "500.00" },
  responses: {
    201: { description: "The intent, with its client_secret.", schema: CreatedPaymentIntent },
  },
  errors: [
    "invoice_not_found",
    "invoice_not_payable",
    "invoice_payment_in_progress",
    "invoice_refund_pending",
    "amount_exceeds_due",
    "partial_payment_not_allowed",
    "invalid_amount",
    "merchant_wallet_required",
  ],
});
app.post("/:token/pay-link", async (c) => {
  const token = payToken(c.req.param("token"));
  const input = PayInvoice.parse(await optionalBody(c.req));
  const [row] = await asService(
    c.get("requestId"),
    (tx) =>
      tx`select hazina.invoice_pay(null, null, ${
        input.amount ?? null
      }::numeric, ${token}) as intent`,
  );
  const { body } = created(row.intent);
  return c.json(body, 201);
});

// --- signed in ---------------------------------------------------------------------------

app.use("*", requireUser);

const Metadata = z.record(z.string().min(1).max(40), z.string().max(500))
  .refine((m) => Object.keys(m).length <= 20, "at most 20 keys");

const Item = z.object({
  description: z.string().min(1).max(500),
  quantity: z.string().regex(
    /^[0-9]{1,9}(\.[0-9]{1,4})?$/,
    'quantity must be a positive decimal string with at most 4 decimals, e.g. "1" or "0.333"',
  ).refine((v) => /[1-9]/.test(v), "quantity must be greater than zero"),
  unit_amount: z.string().regex(
    /^[0-9]{1,12}(\.[0-9]{1,4})?$/,
    'unit_amount must be a decimal string with at most 4 decimals, e.g. "1250.00"',
  ),
  tax_rate: z.number().int().min(0).max(10000).optional()
    .describe("Basis points: 1600 = 16% VAT. Default 0."),
}).strict();

const InvoiceFields = {
  customer_id: Uuid.nullable().optional(),
  customer_email: z.string().email().max(254).nullable().optional(),
  customer_phone: z.string().regex(/^\+?[1-9][0-9]{6,14}$/, "a phone number such as +254712345678")
    .nullable().optional(),
  customer_name: z.string().min(1).max(200).nullable().optional(),
  currency: Currency.optional(),
  due_date: z.iso.date().nullable().optional(),
  memo: z.string().max(2000).nullable().optional(),
  allow_partial_payment: z.boolean().optional(),
  metadata: Metadata.optional(),
  items: z.array(Item).max(100).optional(),
};
const CreateInvoice = z.object(InvoiceFields).strict();
const UpdateInvoice = z.object(InvoiceFields).strict();

const CREATE_ERRORS = [
  "currency_not_supported",
  "customer_not_found",
  "invalid_amount",
  "invalid_argument",
  "invalid_ref",
  "merchant_wallet_required",
  "ref_conflict",
];

docs.route({
  method: "post",
  path: "/",
  summary: "Draft an invoice (merchant)",
  description:
    "Addressed to a Hazina user (`customer_id`: they read and pay it signed in) or to an email / phone (they pay " +
    "by the pay link). The database computes every line and total: per line, subtotal = quantity × unit_amount and " +
    "tax = subtotal × tax_rate / 10000, each rounded half away from zero to the currency's minor units; the " +
    "invoice's totals are their sums. The Idempotency-Key is the invoice's ref.",
  auth: "bearer",
  idempotencyKey: "required",
  body: CreateInvoice,
  bodyExample: {
    customer_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff",
    customer_name: "Wanjiku Kamau",
    due_date: "2026-12-31",
    items: [{
      description: "Maize flour 2kg",
      quantity: "3",
      unit_amount: "215.50",
      tax_rate: 1600,
    }],
  },
  responses: {
    200: {
      description: "Replayed: the invoice this Idempotency-Key created before.",
      schema: Invoice,
    },
    201: { description: "The draft.", schema: Invoice },
  },
  errors: CREATE_ERRORS,
});
app.post("/", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const input = CreateInvoice.parse(await c.req.json());
  const row = await userTx(c, async (tx) => {
    const [r] = await tx`select public.invoice_create(${tx.json(input as never)}::jsonb, ${c.get(
      "idempotencyKey",
    )!}) as invoice`;
    return r.invoice as Record<string, unknown>;
  });
  const { body, status } = created(row);
  return c.json(body, status);
});

const InvoiceList = PageParams.extend({
  status: z.enum(INVOICE_STATUSES).optional(),
  customer: z.union([Uuid, z.string().email()]).optional()
    .describe("A customer's user id or email address."),
}).strict();

docs.route({
  method: "get",
  path: "/",
  summary: "List invoices, newest first",
  description:
    "A merchant sees the invoices it issued (drafts included), a customer those addressed to it (never drafts).",
  auth: "bearer",
  query: InvoiceList,
  responses: { 200: { description: "A page of invoices.", schema: listOf(Invoice) } },
  errors: [],
});
app.get("/", async (c) => {
  const params = InvoiceList.parse(c.req.query());
  return c.json(
    await userTx(c, (tx) => {
      const status = params.status ? tx`o.status = ${params.status}` : tx`true`;
      const customer = !params.customer
        ? tx`true`
        : Uuid.safeParse(params.customer).success
        ? tx`o.customer_id = ${params.customer}`
        : tx`o.customer_email = ${params.customer.toLowerCase()}`;
      return pageNewestFirst(tx, INVOICE, params, tx`${status} and ${customer}`);
    }),
  );
});

docs.route({
  method: "get",
  path: "/settings",
  summary: "My invoice numbering (merchant)",
  auth: "bearer",
  responses: { 200: { description: "The prefix and the next number.", schema: InvoiceSettings } },
  errors: [],
});
app.get("/settings", async (c) => {
  return c.json(
    await userTx(c, async (tx) => (await tx`select public.invoice_settings() as s`)[0].s),
  );
});

const UpdateSettings = z.object({
  number_prefix: z.string().regex(
    /^[A-Za-z0-9][A-Za-z0-9/_.-]{0,19}$/,
    "1 to 20 letters, digits or / _ . -, starting with a letter or digit",
  ),
}).strict();

docs.route({
  method: "patch",
  path: "/settings",
  summary: "Change my invoice number prefix (merchant)",
  description:
    "Applies to invoices finalised from now on; issued numbers keep theirs and the count goes on (a new prefix " +
    "never restarts at 1).",
  auth: "bearer",
  idempotencyKey: "optional",
  body: UpdateSettings,
  bodyExample: { number_prefix: "DUKA-" },
  responses: { 200: { description: "The numbering.", schema: InvoiceSettings } },
  errors: ["invalid_argument", "merchant_wallet_required"],
});
app.patch("/settings", idempotent({ required: false, oneTransaction: true }), async (c) => {
  const input = UpdateSettings.parse(await c.req.json());
  return c.json(
    await userTx(
      c,
      async (tx) =>
        (await tx`select public.invoice_settings_update(${input.number_prefix}) as s`)[0].s,
    ),
  );
});

docs.route({
  method: "get",
  path: "/:id",
  summary: "One invoice (its merchant, or its customer once finalised)",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The invoice.", schema: Invoice } },
  errors: ["invoice_not_found"],
});
app.get("/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(await userTx(c, (tx) => readObject(tx, INVOICE, id)));
});

docs.route({
  method: "patch",
  path: "/:id",
  summary: "Edit a draft (merchant)",
  description:
    "Fields named are set; `items`, when named, replace all items. Only a draft can be edited.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: Uuid }),
  body: UpdateInvoice,
  bodyExample: { memo: "Thank you for your business", allow_partial_payment: true },
  responses: { 200: { description: "The draft.", schema: Invoice } },
  errors: ["invoice_not_found", "invoice_not_draft", ...CREATE_ERRORS],
});
app.patch("/:id", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const input = UpdateInvoice.parse(await c.req.json());
  return c.json(
    await userTx(
      c,
      async (tx) =>
        (await tx`select public.invoice_update(${id}, ${tx.json(input as never)}::jsonb) as i`)[0]
          .i,
    ),
  );
});

docs.route({
  method: "delete",
  path: "/:id",
  summary: "Delete a draft (merchant)",
  description:
    "A draft has no number yet, so deleting it leaves no gap. Finalised invoices are voided instead.",
  auth: "bearer",
  idempotencyKey: "optional",
  params: z.object({ id: Uuid }),
  responses: {
    200: { description: "The draft as it was, `deleted: true`.", schema: DeletedInvoice },
  },
  errors: ["invoice_not_found", "invoice_not_draft"],
});
app.delete("/:id", idempotent({ required: false, oneTransaction: true }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(
    await userTx(c, async (tx) => (await tx`select public.invoice_delete(${id}) as i`)[0].i),
  );
});

/** A merchant's transition: one SQL function, its answer returned as it is. */
function transitionRoute(
  path: string,
  fn: string,
  summary: string,
  description: string,
  errors: string[],
) {
  docs.route({
    method: "post",
    path,
    summary,
    description,
    auth: "bearer",
    idempotencyKey: "required",
    params: z.object({ id: Uuid }),
    responses: { 200: { description: "The invoice.", schema: Invoice } },
    errors: ["invoice_not_found", ...errors],
  });
  app.post(path, idempotent({ required: true, oneTransaction: true }), async (c) => {
    const id = Uuid.parse(c.req.param("id"));
    return c.json(
      await userTx(
        c,
        async (tx: Tx) => (await tx`select ${tx.unsafe(`public.${fn}`)}(${id}) as i`)[0].i,
      ),
    );
  });
}

transitionRoute(
  "/:id/finalize",
  "invoice_finalize",
  "Finalise a draft (merchant)",
  "Freezes the items, gives the invoice the next number of the merchant's sequence (gapless, unique: " +
    "concurrent finalisations take consecutive numbers), its pay link (`pay_token`) and, without a due date, " +
    "a due date 30 days on. The invoice is `open`: payable.",
  ["invoice_not_draft", "invoice_empty", "merchant_wallet_required"],
);
transitionRoute(
  "/:id/void",
  "invoice_void",
  "Void an invoice on which nothing is paid (merchant)",
  "Open or uncollectible invoices only, and only while nothing is paid (refund first): its unpaid intent is " +
    "canceled. Its number stays used. Voiding a void invoice returns it unchanged. Refused while a guest's " +
    "refund of one of its payments waits for its payout (`invoice_refund_pending`).",
  [
    "invoice_not_voidable",
    "invoice_has_payments",
    "invoice_payment_in_progress",
    "invoice_refund_pending",
  ],
);
transitionRoute(
  "/:id/mark-uncollectible",
  "invoice_mark_uncollectible",
  "Mark an open invoice uncollectible (merchant)",
  "It can still be paid, or voided while nothing is paid. Marking it again returns it unchanged.",
  ["invoice_not_open"],
);

docs.route({
  method: "post",
  path: "/:id/pay",
  summary: "Pay an invoice addressed to me (customer)",
  description:
    "Opens (or, asked again for the same amount, returns) the invoice's payment intent for the amount due, or " +
    "`amount` when the invoice allows partial payment. Confirm it with `POST /payments/intents/:id/confirm` " +
    "(wallet). The invoice is paid when its intents cover the total; it is never overpaid. `client_secret` is " +
    "in the reply that created the intent.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: Uuid }),
  body: PayInvoice,
  bodyOptional: true,
  bodyExample: { amount: "500.00" },
  responses: {
    200: {
      description: "The invoice's open intent, asked for again.",
      schema: CreatedPaymentIntent,
    },
    201: { description: "A new intent, with its client_secret.", schema: CreatedPaymentIntent },
  },
  errors: [
    "invoice_not_found",
    "invoice_not_payable",
    "invoice_payment_in_progress",
    "invoice_refund_pending",
    "amount_exceeds_due",
    "partial_payment_not_allowed",
    "invalid_amount",
    "merchant_wallet_required",
  ],
});
app.post("/:id/pay", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const input = PayInvoice.parse(await optionalBody(c.req));
  const row = await userTx(c, async (tx) => {
    const [r] = await tx`select public.invoice_pay(${id}, ${
      input.amount ?? null
    }::numeric) as intent`;
    return r.intent as Record<string, unknown>;
  });
  const { body, status } = created(row);
  return c.json(body, status);
});

docs.route({
  method: "get",
  path: "/:id/pdf",
  summary: "The invoice as a PDF (its merchant, or its customer once finalised)",
  description:
    "Merchant, number, dates, lines with VAT, totals, amount paid and due, and the pay link of an open invoice.",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  responses: {
    200: {
      description: "application/pdf",
      schema: { type: "string", format: "binary" },
      contentType: "application/pdf",
    },
  },
  errors: ["invoice_not_found"],
});
app.get("/:id/pdf", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const document = await userTx(
    c,
    async (tx) => (await tx`select public.invoice_document(${id}) as d`)[0].d as InvoiceDocument,
  );
  const bytes = await renderInvoicePdf(document, config().PUBLIC_FUNCTIONS_URL);
  const name = document.invoice.number ?? `draft-${document.invoice.id}`;
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
    "Content-Type": "application/pdf",
    "Content-Disposition": `inline; filename="${name.replace(/[^A-Za-z0-9._-]/g, "_")}.pdf"`,
  });
});
