// Response shapes of the withdrawals function, for its OpenAPI document. They are the
// shapes public.withdrawal_json builds (tests/functions/money-objects.test.ts keeps them equal).
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";
import { ProviderSchema } from "../_shared/vocabulary.ts";

const Timestamp = z.iso.datetime({ offset: true });
export const Withdrawal = named(
  "Withdrawal",
  z.object({
    id: z.guid(),
    wallet_id: z.guid(),
    source_id: z.guid().nullable().describe(
      "The source paid out to; null for a guest refund's payout (to the phone that paid; docs/payments.md).",
    ),
    provider: ProviderSchema,
    amount: Money,
    fee: Money,
    currency: z.string(),
    status: z.enum(["pending", "processing", "completed", "failed", "reversed", "cancelled"]),
    hold_id: z.guid().nullable(),
    transaction_id: z.guid().nullable(),
    provider_request_id: z.string().nullable(),
    provider_conversation_id: z.string().nullable(),
    provider_receipt: z.string().nullable(),
    failure_code: z.string().nullable(),
    failure_reason: z.string().nullable(),
    submitted: z.boolean().describe("Sent to the provider: from then on it cannot be cancelled."),
    created_at: Timestamp,
    updated_at: Timestamp,
    completed_at: Timestamp.nullable(),
  }),
  "A withdrawal: the amount + fee stay held until the provider answers.",
);
