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
    subject_type: z.literal("qr_code"),
    subject_id: z.guid().describe("The QR code."),
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
