// Shapes of the checkout function, for its OpenAPI document.
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";

/** A QR code's slug: 26 base32 characters. */
export const Slug = z.string().regex(
  /^[a-z2-7]{26}$/,
  "a QR code's slug (26 letters a-z and digits 2-7)",
);

export const CheckoutPayment = named(
  "CheckoutPayment",
  z.looseObject({
    id: z.guid(),
    object: z.literal("payment_intent"),
    status: z.string().describe("succeeded once paid."),
    amount: Money,
    currency: z.string(),
    subject_type: z.string().nullable().describe(
      "qr_code for a static or fixed code; invoice, order or null (an intent code) for a bound code.",
    ),
    subject_id: z.guid().nullable().describe("The QR code, or the bound object."),
  }).describe(
    "The payment intent as public.payment_intent_json builds it (every field of PaymentIntent).",
  ),
  "A payment through a QR code: the payment intent opened for it.",
);

export const CheckoutGuestIntent = named(
  "CheckoutGuestIntent",
  z.object({
    id: z.guid().describe("The payment intent."),
    object: z.literal("checkout_intent"),
    amount: Money,
    currency: z.string(),
    status: z.string(),
    expires_at: z.iso.datetime({ offset: true }),
    client_secret: z.string().nullable().describe(
      "Pay and read the intent with it (POST /payments/intents/{id}/confirm, GET /payments/intents/{id}).",
    ),
  }),
  "A guest's payment intent for a QR code: only what paying it needs.",
);

export const BoundCheckoutPayment = named(
  "BoundCheckoutPayment",
  z.object({
    id: z.guid().describe("The payment intent."),
    object: z.literal("checkout_payment"),
    kind: z.string().describe("The code's kind."),
    amount: Money,
    currency: z.string(),
    status: z.string().describe(
      "processing, then succeeded, or requires_confirmation after a failure.",
    ),
    last_payment_error: z.object({ code: z.string() }).nullable(),
    succeeded_at: z.iso.datetime({ offset: true }).nullable(),
  }),
  "A payment through a QR code as its payer follows it: the amount, the status, the provider's error.",
);
