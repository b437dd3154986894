// Response shapes of the wallets function, for its OpenAPI document (GET /wallets/openapi.json).
// The handlers return what the SQL functions and queries build; these describe it.
import { z } from "zod";
import { Money, named } from "../_shared/openapi.ts";
import { TRANSFER_TYPES } from "../_shared/vocabulary.ts";

const Timestamp = z.iso.datetime({ offset: true });

export const WalletBalance = named(
  "WalletBalance",
  z.object({
    id: z.guid(),
    kind: z.enum(["user", "merchant"]),
    currency: z.string().describe("ISO 4217"),
    status: z.enum(["active", "frozen", "closed"]),
    balance: Money,
    held: Money.describe("Reserved by pending holds."),
    available: Money.describe("balance - held: what can be spent now."),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "A wallet of the caller with its balances.",
);

export const StatementEntry = named(
  "StatementEntry",
  z.object({
    id: z.string().regex(/^[0-9]+$/).describe("Entry number (an integer as a string); the cursor."),
    transaction_id: z.guid(),
    created_at: Timestamp,
    kind: z.string(),
    leg: z.string(),
    direction: z.enum(["debit", "credit"]),
    amount: Money,
    currency: z.string(),
    balance_after: Money.nullable().describe("Null for a pooled credit to a hot wallet."),
    description: z.string().nullable(),
  }),
  "One ledger line of a wallet statement.",
);

export const TransferResult = named(
  "TransferResult",
  z.looseObject({
    transaction_id: z.guid(),
    ref: z.string(),
    amount: Money,
    fee: Money,
    fee_payer: z.enum(["sender", "receiver"]),
    currency: z.string(),
    transaction_type: z.enum(TRANSFER_TYPES),
    from_wallet_id: z.guid(),
    to_wallet_id: z.guid(),
    replayed: z.boolean().describe(
      "True when this ref was already posted with the same request, and on every Idempotency-Key replay.",
    ),
  }),
  "A posted transfer.",
);

export const BatchItemResult = named(
  "BatchItemResult",
  z.looseObject({
    index: z.number().int().describe("Position of the item in the request."),
    ref: z.string(),
    status: z.enum(["posted", "replayed", "failed"]),
    error: z.string().optional().describe("Stable error code when status is failed."),
  }),
  "The outcome of one batch item; posted and replayed items also carry the TransferResult fields.",
);
