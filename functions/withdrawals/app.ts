// Withdrawals (payouts): request one to a verified source (amount + catalog fee held until
// the provider answers), read its status, list mine, cancel while not yet sent.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { type AuthVariables, requireUser } from "../_shared/auth.ts";
import { newestFirst, PageParams } from "../_shared/pagination.ts";
import { asUser, type Tx } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { apiDocs, listOf, Money, named, serveOpenApi } from "../_shared/openapi.ts";
import { startWithdrawal, type WithdrawalRow } from "../_shared/money-movement/withdrawals.ts";

type Env = { Variables: AuthVariables & { requestId: string; idempotencyKey: string | undefined } };

export const app = createFunctionApp<Env>("withdrawals");
export const docs = apiDocs("withdrawals", "Withdrawals (payouts)",
  "Payouts to a verified source: amount + fee are held until the provider answers. See docs/money-movement.md.");
serveOpenApi(app, docs); // before requireUser (and before GET /:id): the document is public
app.use("*", requireUser);

const Timestamp = z.iso.datetime({ offset: true });
const Withdrawal = named("Withdrawal", z.object({
  id: z.guid(),
  wallet_id: z.guid(),
  source_id: z.guid(),
  provider: z.enum(["mpesa", "kcb", "dtb"]),
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
}), "A withdrawal: the amount + fee stay held until the provider answers.");

const Uuid = z.string().uuid("must be a UUID");

const COLUMNS = (tx: Tx) => tx`
  id, wallet_id, source_id, provider, amount::text as amount, fee::text as fee, currency, status, hold_id,
  transaction_id, provider_request_id, provider_conversation_id, provider_receipt, failure_code, failure_reason,
  submitted_at is not null as submitted, created_at, updated_at, completed_at`;

async function readWithdrawal(tx: Tx, id: string) {
  const [row] = await tx`select ${COLUMNS(tx)} from public.wallet_withdrawals where id = ${id}`;
  if (!row) throw new ApiError(404, "withdrawal_not_found", "Withdrawal not found.");
  return row;
}

const RequestWithdrawal = z.object({
  source_id: Uuid,
  amount: Amount,
  currency: Currency.default("KES"),
}).strict();

docs.route({
  method: "post",
  path: "/",
  summary: "Request a withdrawal to one of my verified sources",
  description: "Holds amount + the catalog withdrawal fee, then sends the payout. The Idempotency-Key is the " +
    "withdrawal's ref.",
  auth: "bearer",
  idempotencyKey: "required",
  body: RequestWithdrawal,
  bodyExample: { source_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff", amount: "500.00", currency: "KES" },
  responses: {
    200: { description: "Replayed: the withdrawal this ref requested before.", schema: Withdrawal },
    201: { description: "Requested.", schema: Withdrawal },
  },
  errors: [
    "amount_outside_provider_limits", "currency_mismatch", "currency_not_supported", "insufficient_funds", "invalid_amount",
    "invalid_argument", "invalid_ref", "provider_not_supported", "ref_conflict", "same_wallet", "source_not_found",
    "source_not_verified", "wallet_not_active", "wallet_not_found",
  ],
});
app.post("/", idempotent(), async (c) => {
  const input = RequestWithdrawal.parse(await c.req.json());
  const claims = c.get("claims");
  const requestId = c.get("requestId");
  const [row] = await asUser(claims, requestId, (tx) => tx`
    select public.withdrawal_request(${input.source_id}, ${input.amount}::numeric, ${input.currency}, ${c.get("idempotencyKey")!}) as withdrawal`);
  const withdrawal = row.withdrawal as WithdrawalRow & { created: boolean };
  if (withdrawal.created) await startWithdrawal(withdrawal, requestId);
  const current = await asUser(claims, requestId, (tx) => readWithdrawal(tx, withdrawal.id));
  return c.json(current, withdrawal.created ? 201 : 200);
});


docs.route({
  method: "get",
  path: "/",
  summary: "List my withdrawals, newest first",
  auth: "bearer",
  query: PageParams,
  responses: { 200: { description: "A page of withdrawals.", schema: listOf(Withdrawal) } },
  errors: [],
});
app.get("/", async (c) => {
  const params = PageParams.parse(c.req.query());
  return c.json(await asUser(c.get("claims"), c.get("requestId"), (tx) => newestFirst(tx, "wallet_withdrawals", COLUMNS(tx), params)));
});

docs.route({
  method: "get",
  path: "/:id",
  summary: "One of my withdrawals",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The withdrawal.", schema: Withdrawal } },
  errors: ["withdrawal_not_found"],
});
app.get("/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(await asUser(c.get("claims"), c.get("requestId"), (tx) => readWithdrawal(tx, id)));
});

docs.route({
  method: "post",
  path: "/:id/cancel",
  summary: "Cancel my withdrawal while it was not yet sent to the provider",
  auth: "bearer",
  idempotencyKey: "optional",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The withdrawal, now `cancelled` (hold released).", schema: Withdrawal } },
  errors: ["withdrawal_not_found", "withdrawal_not_cancellable", "hold_not_found", "hold_not_pending"],
});
app.post("/:id/cancel", idempotent({ required: false }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const row = await asUser(c.get("claims"), c.get("requestId"), async (tx) => {
    await tx`select public.withdrawal_cancel(${id})`;
    return await readWithdrawal(tx, id);
  });
  return c.json(row);
});
