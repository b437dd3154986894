// Withdrawals (payouts): request one to a verified source (amount + catalog fee held until
// the provider answers), read its status, list mine, cancel while not yet sent.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { type AuthVariables, requireUser } from "../_shared/auth.ts";
import { asUser, type Tx } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { submitWithdrawal, type WithdrawalRow } from "../_shared/providers/movement.ts";

type Env = { Variables: AuthVariables & { requestId: string; idempotencyKey: string | undefined } };

export const app = createFunctionApp<Env>("withdrawals");
app.use("*", requireUser);

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

app.post("/", idempotent(), async (c) => {
  const input = RequestWithdrawal.parse(await c.req.json());
  const claims = c.get("claims");
  const requestId = c.get("requestId");
  const [row] = await asUser(claims, requestId, (tx) => tx`
    select public.withdrawal_request(${input.source_id}, ${input.amount}::numeric, ${input.currency}, ${c.get("idempotencyKey")!}) as withdrawal`);
  const withdrawal = row.withdrawal as WithdrawalRow & { created: boolean };
  if (withdrawal.created) await submitWithdrawal(withdrawal, requestId);
  const current = await asUser(claims, requestId, (tx) => readWithdrawal(tx, withdrawal.id));
  return c.json(current, withdrawal.created ? 201 : 200);
});

const ListParams = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: Uuid.optional(),
}).strict();

app.get("/", async (c) => {
  const params = ListParams.parse(c.req.query());
  const rows = await asUser(c.get("claims"), c.get("requestId"), (tx) => tx`
    select ${COLUMNS(tx)} from public.wallet_withdrawals
     where ${params.cursor
       ? tx`(created_at, id) < (select created_at, id from public.wallet_withdrawals where id = ${params.cursor})`
       : tx`true`}
     order by created_at desc, id desc limit ${params.limit + 1}`);
  const page = rows.slice(0, params.limit);
  return c.json({ data: page, next_cursor: rows.length > params.limit ? page[page.length - 1].id : null });
});

app.get("/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(await asUser(c.get("claims"), c.get("requestId"), (tx) => readWithdrawal(tx, id)));
});

app.post("/:id/cancel", idempotent({ required: false }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const row = await asUser(c.get("claims"), c.get("requestId"), async (tx) => {
    await tx`select public.withdrawal_cancel(${id})`;
    return await readWithdrawal(tx, id);
  });
  return c.json(row);
});
