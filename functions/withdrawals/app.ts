// Withdrawals (payouts): request one to a verified source (amount + catalog fee held until
// the provider answers), read its status, list mine, cancel while not yet sent.
import { z } from "zod";
import { idempotent } from "../_shared/idempotency.ts";
import {
  createRouteDoc,
  createThenSend,
  type MoneyObject,
  objectReadRoutes,
  readObject,
} from "../_shared/money-object.ts";
import { createSignedInFunction, userTx, Uuid } from "../_shared/user.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { startWithdrawal, type WithdrawalRow } from "../_shared/money-movement/withdrawals.ts";
import { Withdrawal } from "./schemas.ts";

export const { app, docs } = createSignedInFunction(
  "withdrawals",
  "Withdrawals (payouts)",
  "Payouts to a verified source: amount + fee are held until the provider answers. See docs/money-movement.md.",
);

// A withdrawal's one shape is public.withdrawal_json(row), built in the database for SQL
// replies and these reads alike (RLS gives the caller only their rows).
const WITHDRAWAL: MoneyObject = {
  table: "wallet_withdrawals",
  json: "withdrawal_json",
  schema: Withdrawal,
  noun: "withdrawal",
  notFound: { code: "withdrawal_not_found", message: "Withdrawal not found." },
};

const RequestWithdrawal = z.object({
  source_id: Uuid,
  amount: Amount,
  currency: Currency.default("KES"),
}).strict();

docs.route(createRouteDoc(WITHDRAWAL, {
  summary: "Request a withdrawal to one of my verified sources",
  description:
    "Holds amount + the catalog withdrawal fee, then sends the payout. The Idempotency-Key is the " +
    "withdrawal's ref.",
  body: RequestWithdrawal,
  bodyExample: {
    source_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff",
    amount: "500.00",
    currency: "KES",
  },
  created: "Requested.",
  errors: [
    "amount_outside_provider_limits",
    "currency_mismatch",
    "currency_not_supported",
    "insufficient_funds",
    "invalid_amount",
    "invalid_argument",
    "invalid_ref",
    "provider_not_supported",
    "ref_conflict",
    "same_wallet",
    "source_not_found",
    "source_not_verified",
    "wallet_not_active",
    "wallet_not_found",
  ],
}));
app.post("/", idempotent(), async (c) => {
  const input = RequestWithdrawal.parse(await c.req.json());
  const { body, status } = await createThenSend<WithdrawalRow & { created: boolean }>(
    c,
    WITHDRAWAL,
    async (tx) => {
      const [row] =
        await tx`select public.withdrawal_request(${input.source_id}, ${input.amount}::numeric, ${input.currency},
                                                             ${c.get(
          "idempotencyKey",
        )!}) as withdrawal`;
      return row.withdrawal as WithdrawalRow & { created: boolean };
    },
    startWithdrawal,
  );
  return c.json(body, status);
});

docs.route({
  method: "post",
  path: "/:id/cancel",
  summary: "Cancel my withdrawal while it was not yet sent to the provider",
  auth: "bearer",
  idempotencyKey: "optional",
  params: z.object({ id: Uuid }),
  responses: {
    200: { description: "The withdrawal, now `cancelled` (hold released).", schema: Withdrawal },
  },
  errors: [
    "withdrawal_not_found",
    "withdrawal_not_cancellable",
    "hold_not_found",
    "hold_not_pending",
  ],
});
app.post("/:id/cancel", idempotent({ required: false }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const row = await userTx(c, async (tx) => {
    await tx`select public.withdrawal_cancel(${id})`;
    return await readObject(tx, WITHDRAWAL, id);
  });
  return c.json(row);
});

// After every other GET route: /:id would answer for them.
objectReadRoutes(app, docs, WITHDRAWAL);
