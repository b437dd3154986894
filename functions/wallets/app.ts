// Wallets: my wallets and balances, opening a wallet, statements (JSON or CSV), and P2P /
// merchant transfers. Every call runs as the caller, so RLS and the SQL functions decide.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { type AuthVariables, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { statementCsv, statementQuery } from "./statement.ts";

type Env = { Variables: AuthVariables & { requestId: string; idempotencyKey: string | undefined } };

export const app = createFunctionApp<Env>("wallets");
app.use("*", requireUser);

const Uuid = z.string().uuid("must be a UUID");

app.get("/", async (c) => {
  const rows = await asUser(c.get("claims"), c.get("requestId"), (tx) => tx`
    select wallet_id as id, kind, currency, status, balance::text, held::text, available::text, created_at, updated_at
      from public.wallet_balances order by created_at, wallet_id`);
  return c.json({ data: rows, next_cursor: null });
});

const OpenWallet = z.object({ currency: Currency.default("KES") }).strict();

app.post("/", idempotent({ required: false }), async (c) => {
  const raw = await c.req.text();
  const input = OpenWallet.parse(raw.trim() ? JSON.parse(raw) : {});
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) =>
    tx`select public.wallet_open(${input.currency}) as wallet`);
  const { created, ...wallet } = row.wallet as Record<string, unknown> & { created: boolean };
  return c.json(wallet, created ? 201 : 200);
});

const StatementParams = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().regex(/^[0-9]{1,19}$/, "cursor must come from next_cursor").optional(),
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  format: z.enum(["json", "csv"]).default("json"),
}).strict();

app.get("/:id/ledger", async (c) => {
  const walletId = Uuid.parse(c.req.param("id"));
  const params = StatementParams.parse(c.req.query());
  const wantsCsv = params.format === "csv" || (c.req.header("accept") ?? "").includes("text/csv");
  return await asUser(c.get("claims"), c.get("requestId"), async (tx) => {
    const [wallet] = await tx`select wallet_id, currency from public.wallet_balances where wallet_id = ${walletId}`;
    if (!wallet) throw new ApiError(404, "wallet_not_found", "Wallet not found.");
    if (wantsCsv) {
      const rows = await statementQuery(tx, walletId, { ...params, limit: 10_000, cursor: undefined });
      return c.body(statementCsv(rows), 200, {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="statement-${walletId}.csv"`,
      });
    }
    const rows = await statementQuery(tx, walletId, { ...params, limit: params.limit + 1 });
    const page = rows.slice(0, params.limit);
    const nextCursor = rows.length > params.limit ? String(page[page.length - 1].id) : null;
    return c.json({ data: page, next_cursor: nextCursor });
  });
});

const Transfer = z.object({
  from_wallet_id: Uuid,
  to_wallet_id: Uuid,
  amount: Amount,
  description: z.string().max(500).optional(),
}).strict();

app.post("/transfers", idempotent(), async (c) => {
  const input = Transfer.parse(await c.req.json());
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) => tx`
    select public.transfer(${input.from_wallet_id}, ${input.to_wallet_id}, ${input.amount}::numeric,
                           ${c.get("idempotencyKey")!}, ${input.description ?? null}) as result`);
  return c.json(row.result, 201);
});

const BatchItem = z.object({
  ref: z.string().min(1).max(200),
  from_wallet_id: Uuid,
  to_wallet_id: Uuid,
  amount: Amount,
  description: z.string().max(500).optional(),
}).strict();
const Batch = z.object({ items: z.array(BatchItem).min(1).max(1000) }).strict();

// Bulk transfers (e.g. payouts): one database transaction, one result per item; a failed
// item (insufficient funds, unknown wallet, ...) does not undo the others.
app.post("/transfers/batch", idempotent(), async (c) => {
  const input = Batch.parse(await c.req.json());
  const refs = new Set(input.items.map((item) => item.ref));
  if (refs.size !== input.items.length) {
    throw new ApiError(400, "duplicate_ref", "Every item in a batch needs its own ref.");
  }
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) =>
    tx`select public.transfer_batch(${tx.json(input.items as never)}) as results`);
  return c.json({ data: row.results }, 200);
});
