// Withdrawals (payouts): request one to a verified source (amount + catalog fee held until
// the provider answers), read its status, list mine, cancel while not yet sent.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { requireUser } from "../_shared/auth.ts";
import { pageNewestFirst, PageParams } from "../_shared/pagination.ts";
import type { Tx } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { type UserEnv, userTx, Uuid } from "../_shared/user.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { apiDocs, listOf, serveOpenApi } from "../_shared/openapi.ts";
import { startWithdrawal, type WithdrawalRow } from "../_shared/money-movement/withdrawals.ts";
import { Withdrawal } from "./schemas.ts";

export const app = createFunctionApp<UserEnv>("withdrawals");
export const docs = apiDocs("withdrawals", "Withdrawals (payouts)",
  "Payouts to a verified source: amount + fee are held until the provider answers. See docs/money-movement.md.");
serveOpenApi(app, docs); // before requireUser (and before GET /:id): the document is public
app.use("*", requireUser);



// A withdrawal's one shape is public.withdrawal_json(row), built in the database for SQL
// replies and these reads alike (RLS gives the caller only their rows).
async function readWithdrawal(tx: Tx, id: string) {
  const [row] = await tx`select public.withdrawal_json(w) as json from public.wallet_withdrawals w where w.id = ${id}`;
  if (!row) throw new ApiError(404, "withdrawal_not_found", "Withdrawal not found.");
  return row.json;
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
  const requestId = c.get("requestId");
  const [row] = await userTx(c, (tx) => tx`
    select public.withdrawal_request(${input.source_id}, ${input.amount}::numeric, ${input.currency}, ${c.get("idempotencyKey")!}) as withdrawal`);
  const withdrawal = row.withdrawal as WithdrawalRow & { created: boolean };
  if (withdrawal.created) await startWithdrawal(withdrawal, requestId);
  const current = await userTx(c, (tx) => readWithdrawal(tx, withdrawal.id));
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
  return c.json(await userTx(c, (tx) =>
    pageNewestFirst(tx, { table: "wallet_withdrawals", json: "withdrawal_json" }, params)));
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
  return c.json(await userTx(c, (tx) => readWithdrawal(tx, id)));
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
  const row = await userTx(c, async (tx) => {
    await tx`select public.withdrawal_cancel(${id})`;
    return await readWithdrawal(tx, id);
  });
  return c.json(row);
});
