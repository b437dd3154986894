// The shared vocabularies of the edge, each the TypeScript copy of one database list, so
// every schema, adapter and handler names them from here. A test
// (tests/functions/vocabulary.test.ts) fails when a list drifts from its database source.
import { z } from "zod";

/** The payment providers: the values of the `public.payment_provider` domain. */
export const PROVIDERS = ["mpesa", "kcb", "dtb"] as const;
export type Provider = (typeof PROVIDERS)[number];
export const ProviderSchema = z.enum(PROVIDERS);

/** The providers that are banks (sources are account numbers, not M-Pesa numbers). */
export const BANK_PROVIDERS = ["kcb", "dtb"] as const satisfies readonly Provider[];
export type BankProvider = (typeof BANK_PROVIDERS)[number];

/** The transaction types: the rows of `public.transaction_types`. */
export const TRANSACTION_TYPES = [
  "escrow_funding",
  "escrow_release",
  "funding",
  "installment_cancellation_fee",
  "installment_late_fee",
  "merchant_payment",
  "order_payment",
  "p2p_transfer",
  "payment_intent",
  "refund_payout",
  "reversal",
  "withdrawal",
  "withdrawal_settlement",
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

/** The types a client's transfer posts (public.transfer, public.transfer_batch). */
export const TRANSFER_TYPES = [
  "p2p_transfer",
  "merchant_payment",
] as const satisfies readonly TransactionType[];
