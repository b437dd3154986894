// Response shapes of the invoices function, for its OpenAPI document. They are the shapes
// public.invoice_json, public.invoice_sequence_json and hazina.invoice_pay_link_json build
// (tests/functions/invoices.test.ts keeps them equal).
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";

const Timestamp = z.iso.datetime({ offset: true });
const Day = z.iso.date();

export const INVOICE_STATUSES = ["draft", "open", "paid", "void", "uncollectible"] as const;

/** A decimal string that may be zero or have up to 4 decimals (quantities, unit prices). */
const Decimal = z.string().regex(/^[0-9]+(\.[0-9]{1,4})?$/);

export const InvoiceItem = named(
  "InvoiceItem",
  z.object({
    position: z.number().int().min(1).max(100),
    description: z.string(),
    quantity: Decimal,
    unit_amount: Decimal,
    tax_rate: z.number().int().min(0).max(10000).describe("Basis points: 1600 = 16% VAT."),
    subtotal: Money.describe("round(quantity × unit_amount) to the currency's minor units."),
    tax: Money.describe("round(subtotal × tax_rate / 10000) to the currency's minor units."),
    total: Money,
  }),
  "One line of an invoice; its amounts are computed by the database (half away from zero).",
);

export const InvoiceCustomer = named(
  "InvoiceCustomer",
  z.object({
    id: z.guid().nullable().describe("A Hazina user: they read and pay the invoice signed in."),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    name: z.string().nullable(),
  }),
  "Whom an invoice is addressed to: a Hazina user, or an email / phone (they pay by the pay link).",
);

export const Invoice = named(
  "Invoice",
  z.object({
    id: z.guid(),
    object: z.literal("invoice"),
    merchant_id: z.guid(),
    number: z.string().nullable().describe(
      "Null while a draft; e.g. INV-000042 from finalisation on.",
    ),
    status: z.enum(INVOICE_STATUSES),
    customer: InvoiceCustomer,
    currency: z.string(),
    due_date: Day.nullable(),
    memo: z.string().nullable(),
    subtotal: Money,
    tax: Money,
    total: Money,
    amount_paid: Money,
    amount_due: Money,
    allow_partial_payment: z.boolean(),
    pay_token: z.string().nullable().describe(
      "The pay link's secret, from finalisation on: <functions>/invoices/<pay_token>/pay-link.",
    ),
    overdue: z.boolean(),
    items: z.array(InvoiceItem),
    metadata: z.record(z.string(), z.unknown()),
    finalized_at: Timestamp.nullable(),
    paid_at: Timestamp.nullable(),
    voided_at: Timestamp.nullable(),
    marked_uncollectible_at: Timestamp.nullable(),
    overdue_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "An invoice: draft → open → paid | void | uncollectible, paid through payment intents.",
);

export const DeletedInvoice = named(
  "DeletedInvoice",
  Invoice.extend({ deleted: z.literal(true) }),
  "A draft as it was when it was deleted.",
);

export const InvoiceSettings = named(
  "InvoiceSettings",
  z.object({
    object: z.literal("invoice_settings"),
    merchant_id: z.guid(),
    number_prefix: z.string().describe("Put before the number: INV- gives INV-000042."),
    next_number: z.number().int().min(1),
    updated_at: Timestamp,
  }),
  "The merchant's invoice numbering: one gapless sequence, whatever the prefix.",
);

export const InvoicePayLink = named(
  "InvoicePayLink",
  z.object({
    object: z.literal("invoice_pay_link"),
    id: z.guid(),
    number: z.string(),
    status: z.enum(INVOICE_STATUSES),
    merchant: z.object({ id: z.guid(), name: z.string() }),
    customer_name: z.string().nullable(),
    currency: z.string(),
    due_date: Day.nullable(),
    memo: z.string().nullable(),
    subtotal: Money,
    tax: Money,
    total: Money,
    amount_paid: Money,
    amount_due: Money,
    allow_partial_payment: z.boolean(),
    items: z.array(InvoiceItem),
  }),
  "What the pay link shows anyone holding it (no contact details, no metadata).",
);
