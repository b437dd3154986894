// Response shapes of the funding function, for its OpenAPI document (GET /funding/openapi.json).
// They are the shapes public.funding_session_json and public.wallet_source_json build
// (tests/functions/money-objects.test.ts keeps them equal).
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";
import { ProviderSchema as Provider } from "../_shared/vocabulary.ts";

const Timestamp = z.iso.datetime({ offset: true });

export const FundingSession = named(
  "FundingSession",
  z.object({
    id: z.guid(),
    wallet_id: z.guid(),
    source_id: z.guid().nullable(),
    provider: Provider,
    channel: z.enum(["stk_push", "bank_collection", "paybill"]),
    amount: Money,
    fee: Money,
    currency: z.string(),
    status: z.enum(["pending", "completed", "failed", "expired", "cancelled"]),
    provider_request_id: z.string().nullable(),
    provider_checkout_id: z.string().nullable(),
    provider_receipt: z.string().nullable(),
    account_reference: z.string().nullable(),
    transaction_id: z.guid().nullable().describe("The ledger transaction once completed."),
    failure_code: z.string().nullable(),
    failure_reason: z.string().nullable(),
    expires_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    completed_at: Timestamp.nullable(),
  }),
  "A top-up: pending until the provider confirms it.",
);

export const Source = named(
  "Source",
  z.object({
    id: z.guid(),
    provider: Provider,
    kind: z.enum(["mobile_money", "bank_account"]),
    msisdn: z.string().nullable().describe("M-Pesa number as 2547XXXXXXXX / 2541XXXXXXXX."),
    account_number: z.string().nullable(),
    account_name: z.string().nullable(),
    label: z.string().nullable(),
    is_default: z.boolean(),
    verification_status: z.enum(["unverified", "verified", "failed"])
      .describe("Verified once money came in from it; withdrawals go only to verified sources."),
    status: z.enum(["active", "removed"]),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A payment source of mine: an M-Pesa number or a bank account.",
);

export const Paybill = named(
  "Paybill",
  z.object({
    business_short_code: z.string(),
    wallet_id: z.guid(),
    account_reference: z.string(),
    currency: z.string(),
  }),
  "How to top up my KES wallet through the M-Pesa paybill.",
);
