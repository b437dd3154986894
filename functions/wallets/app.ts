// Wallets: my wallets and balances, opening a wallet, statements (JSON or CSV), and P2P /
// merchant transfers. Every call runs as the caller, so RLS and the SQL functions decide.
import { z } from "zod";
import { ApiError } from "../_shared/errors.ts";
import { type GroupHandler, idempotent } from "../_shared/idempotency.ts";
import { createSignedInFunction, userTx, Uuid } from "../_shared/user.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { listOf, Wallet } from "../_shared/openapi.ts";
import { BatchItemResult, StatementEntry, TransferResult, WalletBalance } from "./schemas.ts";
import { statementCsv, statementQuery } from "./statement.ts";
import { groupTransfer } from "./transfer-group.ts";

export const { app, docs } = createSignedInFunction(
  "wallets",
  "My wallets, statements and transfers",
  "Wallets, balances, statements and P2P / merchant transfers. Every call runs as the caller under RLS.",
);

docs.route({
  method: "get",
  path: "/",
  summary: "List my wallets with balance, held and available",
  auth: "bearer",
  responses: { 200: { description: "My wallets (never paged).", schema: listOf(WalletBalance) } },
  errors: [],
});
app.get("/", async (c) => {
  const rows = await userTx(c, (tx) =>
    tx`
    select wallet_id as id, kind, currency, status, balance::text, held::text, available::text, created_at, updated_at
      from public.wallet_balances order by created_at, wallet_id`);
  return c.json({ data: rows, next_cursor: null });
});

const OpenWallet = z.object({ currency: Currency.default("KES") }).strict();

docs.route({
  method: "post",
  path: "/",
  summary: "Open my wallet in a currency",
  description:
    "Idempotent by nature: opening a currency I already hold returns that wallet with 200.",
  auth: "bearer",
  idempotencyKey: "optional",
  body: OpenWallet,
  bodyOptional: true,
  bodyExample: { currency: "KES" },
  responses: {
    200: { description: "The wallet already existed.", schema: Wallet },
    201: { description: "Opened.", schema: Wallet },
  },
  errors: ["currency_not_supported", "forbidden"],
});
app.post("/", idempotent({ required: false }), async (c) => {
  const raw = await c.req.text();
  const input = OpenWallet.parse(raw.trim() ? JSON.parse(raw) : {});
  const [row] = await userTx(c, (tx) => tx`select public.wallet_open(${input.currency}) as wallet`);
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

docs.route({
  method: "get",
  path: "/:id/ledger",
  summary: "My wallet's statement, newest first",
  description:
    "Cursor-paginated JSON, or CSV (`format=csv` or `Accept: text/csv`; up to 10 000 lines, no paging). " +
    "`from` is inclusive, `to` exclusive.",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  query: StatementParams,
  responses: {
    200: {
      description: "A page of entries, or the CSV statement (`Content-Disposition: attachment`).",
      schema: listOf(StatementEntry),
      alternatives: {
        "text/csv": {
          schema: { type: "string" },
          example:
            "id,created_at,transaction_id,kind,leg,direction,amount,currency,balance_after,description\r\n",
        },
      },
    },
  },
  errors: ["wallet_not_found"],
});
app.get("/:id/ledger", async (c) => {
  const walletId = Uuid.parse(c.req.param("id"));
  const params = StatementParams.parse(c.req.query());
  const wantsCsv = params.format === "csv" || (c.req.header("accept") ?? "").includes("text/csv");
  return await userTx(c, async (tx) => {
    const [wallet] =
      await tx`select wallet_id, currency from public.wallet_balances where wallet_id = ${walletId}`;
    if (!wallet) throw new ApiError(404, "wallet_not_found", "Wallet not found.");
    if (wantsCsv) {
      const rows = await statementQuery(tx, walletId, {
        ...params,
        limit: 10_000,
        cursor: undefined,
      });
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

docs.route({
  method: "post",
  path: "/transfers",
  summary: "Pay another wallet (P2P or merchant payment)",
  description:
    "To a merchant's wallet it is a merchant payment (the merchant bears the fee); otherwise P2P " +
    "(the sender pays amount + fee). The Idempotency-Key is the transfer's ref.",
  auth: "bearer",
  idempotencyKey: "required",
  body: Transfer,
  bodyExample: {
    from_wallet_id: "00000000-0000-4000-8000-0000000000a1",
    to_wallet_id: "00000000-0000-4000-8000-0000000000a3",
    amount: "250.00",
  },
  responses: {
    201: { description: "Posted (or replayed: `replayed: true`).", schema: TransferResult },
  },
  errors: [
    "wallet_not_found",
    "wallet_not_active",
    "currency_mismatch",
    "currency_not_supported",
    "insufficient_funds",
    "invalid_amount",
    "invalid_argument",
    "invalid_ref",
    "same_wallet",
    "ref_conflict",
    "fee_exceeds_amount",
    "unbalanced_transaction",
    "invalid_entries",
  ],
});
// Concurrent transfers are grouped (GROUP_COMMIT, transfer-group.ts): a valid body joins the
// next group; anything else (invalid JSON or fields, a NUL character, a group that failed as
// a whole) runs alone through the handler below, whose answers the group reproduces item by item.
const groupTransferRequest: GroupHandler = async (c, request) => {
  const raw = await c.req.text();
  // A NUL character cannot enter jsonb: it would fail the whole group, so it runs alone.
  if (raw.includes("\\u0000")) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const input = Transfer.safeParse(body);
  return input.success ? await groupTransfer(c, request, input.data) : undefined;
};

app.post(
  "/transfers",
  idempotent({ required: true, oneTransaction: true, group: groupTransferRequest }),
  async (c) => {
    const input = Transfer.parse(await c.req.json());
    const [row] = await userTx(c, (tx) =>
      tx`
    select public.transfer(${input.from_wallet_id}, ${input.to_wallet_id}, ${input.amount}::numeric,
                           ${c.get("idempotencyKey")!}, ${input.description ?? null}) as result`);
    return c.json(row.result, 201);
  },
);

const BatchItem = z.object({
  ref: z.string().min(1).max(200),
  from_wallet_id: Uuid,
  to_wallet_id: Uuid,
  amount: Amount,
  description: z.string().max(500).optional(),
}).strict();
const Batch = z.object({ items: z.array(BatchItem).min(1).max(1000) }).strict();

docs.route({
  method: "post",
  path: "/transfers/batch",
  summary: "Up to 1000 transfers from my wallets in one database transaction",
  description:
    "One result per item (`posted` / `replayed` / `failed` + `error`); a failed item does not undo " +
    "the others. Item refs share the namespace of single transfers.",
  auth: "bearer",
  idempotencyKey: "required",
  body: Batch,
  responses: {
    200: {
      description: "One result per item, in request order.",
      schema: z.object({ data: z.array(BatchItemResult) }),
    },
  },
  errors: ["duplicate_ref", "invalid_entries", "invalid_ref"],
});
// Bulk transfers (e.g. payouts): one database transaction, one result per item; a failed
// item (insufficient funds, unknown wallet, ...) does not undo the others.
app.post("/transfers/batch", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const input = Batch.parse(await c.req.json());
  const refs = new Set(input.items.map((item) => item.ref));
  if (refs.size !== input.items.length) {
    throw new ApiError(400, "duplicate_ref", "Every item in a batch needs its own ref.");
  }
  const [row] = await userTx(
    c,
    (tx) => tx`select public.transfer_batch(${tx.json(input.items as never)}) as results`,
  );
  return c.json({ data: row.results }, 200);
});
