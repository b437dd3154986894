// Fixtures for payment-intent tests: the merchant fee they assume, and an intent created
// and paid through the payments app.
import { admin } from "./db.ts";

/** The payment_intent fee these tests assume: 1.5%, borne by the merchant (once per database). */
export async function paymentIntentFee(): Promise<void> {
  await admin`insert into public.billing_fee_catalog (transaction_type, percentage_bps)
              values ('payment_intent', 150) on conflict do nothing`;
}
