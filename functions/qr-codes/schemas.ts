// Response shapes of the qr-codes function, for its OpenAPI document: the shape
// public.qr_code_json builds, and the create answer with the code's links.
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";

const Timestamp = z.iso.datetime({ offset: true });

export const QR_KINDS = ["static", "fixed", "invoice", "order", "intent"] as const;
export const QR_STATUSES = ["active", "disabled", "expired", "exhausted"] as const;

export const QrCode = named(
  "QrCode",
  z.object({
    id: z.guid(),
    object: z.literal("qr_code"),
    merchant_id: z.guid(),
    kind: z.enum(QR_KINDS).describe(
      "static: the payer types the amount; fixed: a set amount; invoice, order, intent: bound to that object.",
    ),
    slug: z.string().regex(/^[a-z2-7]{26}$/).describe(
      "The code's unguessable public name (130 random bits, base32): its checkout page is /checkout/<slug>.",
    ),
    label: z.string().nullable(),
    amount: Money.nullable().describe("Null for a static code: the payer types it."),
    currency: z.string(),
    subject_id: z.guid().nullable().describe("The bound invoice, order or intent."),
    expires_at: Timestamp.nullable(),
    max_uses: z.number().int().nullable(),
    use_count: z.number().int().describe("Successful payments through the code."),
    status: z.enum(QR_STATUSES),
    disabled_reason: z.enum(["merchant", "subject_closed"]).nullable().describe(
      "Why a disabled code is off: merchant (DELETE or PATCH; stays off until the merchant turns it on) or " +
        "subject_closed (its invoice or order closed; an invoice's code comes back when a refund reopens it). " +
        "Null unless disabled.",
    ),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A QR payment link: active → disabled (and back) | expired | exhausted.",
);

export const QrCodeWithLinks = named(
  "QrCodeWithLinks",
  QrCode.extend({
    url: z.string().url().describe("The hosted checkout page the code encodes."),
    png_url: z.string().url().describe("The code as a PNG (public)."),
    svg_url: z.string().url().describe("The code as an SVG, with its label under it (public)."),
  }),
  "A QR code with its checkout URL and images.",
);
