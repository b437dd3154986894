// Operator endpoints (admins only; the database checks the role): reconciliation and
// trial balance, the periodic sweeps, freezing wallets and reversing transactions.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { type AuthVariables, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { Amount } from "../_shared/money.ts";
import { apiDocs, MerchantApplication, Money, named, serveOpenApi, Wallet } from "../_shared/openapi.ts";

type Env = { Variables: AuthVariables & { requestId: string; idempotencyKey: string | undefined } };

export const app = createFunctionApp<Env>("ops");
export const docs = apiDocs("ops", "Operators (admins only)",
  "Reconciliation, sweeps, wallet status, reversals and merchant approval. The database decides who is an admin " +
    "(auth_users.role, a live login, an active user), never the token.");
serveOpenApi(app, docs); // before requireUser: the document is public
app.use("*", requireUser);

const Reconciliation = named("Reconciliation", z.object({
  discrepancies: z.array(z.object({
    check: z.string(),
    subject: z.string(),
    expected: z.string().nullable(),
    actual: z.string().nullable(),
  })).describe("Empty when the books are right."),
  trial_balance: z.array(z.object({ currency: z.string(), total: z.string(), wallets: z.number().int() }))
    .describe("Per currency, all wallets sum to zero: total is always \"0.0000\" when healthy."),
  checked_at: z.iso.datetime({ offset: true }),
}), "hazina.reconcile() and the trial balance.");

docs.route({
  method: "get",
  path: "/reconciliation",
  summary: "Reconciliation report and trial balance",
  auth: "bearer",
  responses: { 200: { description: "The report.", schema: Reconciliation } },
  errors: ["forbidden"],
});
app.get("/reconciliation", async (c) => {
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) => tx`select public.ops_reconciliation() as report`);
  return c.json(row.report);
});

docs.route({
  method: "post",
  path: "/sweeps",
  summary: "Run the periodic sweeps now",
  description: "Expires overdue holds and purges expired idempotency keys; safe to repeat. The provider " +
    "re-query sweep for stale top-ups and withdrawals is POST /webhooks/sweep.",
  auth: "bearer",
  responses: {
    200: {
      description: "What each sweep did.",
      schema: z.looseObject({ holds_expired: z.number().int(), idempotency_keys_purged: z.number().int() }),
    },
  },
  errors: ["forbidden"],
});
// Safe to call any number of times: each sweep only acts on what is overdue.
app.post("/sweeps", async (c) => {
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) => tx`select public.ops_run_sweeps() as result`);
  return c.json(row.result);
});

const WalletStatus = z.object({ status: z.enum(["active", "frozen", "closed"]) }).strict();

const WalletId = z.string().uuid();

docs.route({
  method: "post",
  path: "/wallets/:id/status",
  summary: "Freeze, unfreeze or close a wallet",
  description: "Closing needs an empty wallet without pending holds. Audited. Setting the same status again " +
    "returns the same wallet.",
  auth: "bearer",
  params: z.object({ id: WalletId }),
  body: WalletStatus,
  bodyExample: { status: "frozen" },
  responses: { 200: { description: "The wallet after the change.", schema: Wallet } },
  errors: ["forbidden", "invalid_argument", "wallet_not_found", "wallet_not_active", "wallet_not_empty"],
});
// Setting the same status again returns the same wallet: naturally idempotent.
app.post("/wallets/:id/status", async (c) => {
  const walletId = WalletId.parse(c.req.param("id"));
  const { status } = WalletStatus.parse(await c.req.json());
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) =>
    tx`select public.ops_set_wallet_status(${walletId}, ${status}) as wallet`);
  return c.json(row.wallet);
});

const Reversal = z.object({
  amount: Amount.optional().describe("Omit to reverse everything that remains (fees refunded when nothing was reversed yet)."),
  reason: z.string().min(1).max(500),
}).strict();

const ReversalResult = named("Reversal", z.object({
  transaction_id: z.string().uuid(),
  reverses: z.string().uuid(),
  amount: Money,
  currency: z.string(),
  reason: z.string(),
  created_at: z.iso.datetime({ offset: true }),
}), "A reversal transaction.");

const TransactionId = z.string().uuid();

docs.route({
  method: "post",
  path: "/transactions/:id/reverse",
  summary: "Reverse a posted transaction, fully or partly",
  description: "A full reversal mirrors every entry and refunds the fees; a partial one returns principal only. " +
    "The sum of reversals never exceeds the original. The Idempotency-Key is the reversal's ref.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: TransactionId }),
  body: Reversal,
  bodyExample: { amount: "150.00", reason: "customer dispute #4411" },
  responses: { 201: { description: "The reversal.", schema: ReversalResult } },
  errors: ["forbidden", "invalid_argument", "invalid_amount", "invalid_ref", "transaction_not_found", "not_reversible",
    "reversal_exceeds_original", "insufficient_funds", "ref_conflict"],
});
app.post("/transactions/:id/reverse", idempotent(), async (c) => {
  const transactionId = TransactionId.parse(c.req.param("id"));
  const input = Reversal.parse(await c.req.json());
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) =>
    tx`select public.ops_reverse_transaction(${transactionId}, ${c.get("idempotencyKey")!},
                                             ${input.amount ?? null}::numeric, ${input.reason}) as reversal`);
  return c.json(row.reversal, 201);
});

const MerchantDecision = z.object({
  reason: z.string().min(1).max(500).optional().describe("Recorded with the decision (audited)."),
}).strict();

const UserId = z.string().uuid();

for (const [verb, status] of [["approve", "approved"], ["reject", "rejected"]] as const) {
  docs.route({
    method: "post",
    path: `/merchants/:user_id/${verb}`,
    summary: verb === "approve" ? "Approve a merchant application" : "Reject a merchant application",
    description: verb === "approve"
      ? "The user becomes a merchant and their user wallets become merchant wallets, so payments to them are " +
        "merchant payments from now on (past payments stay as posted). Audited. Approving again returns the " +
        "approved application."
      : "The user stays a customer and may apply again. Audited. Rejecting again returns the rejected application.",
    auth: "bearer",
    params: z.object({ user_id: UserId }),
    body: MerchantDecision,
    bodyOptional: true,
    responses: { 200: { description: `The application, ${status}.`, schema: MerchantApplication } },
    errors: ["forbidden", "invalid_argument", "merchant_application_not_found", "merchant_application_not_pending"],
  });
  // Deciding the same way again returns the decided application: naturally idempotent.
  app.post(`/merchants/:user_id/${verb}`, async (c) => {
    const userId = UserId.parse(c.req.param("user_id"));
    const text = await c.req.text();
    const { reason } = MerchantDecision.parse(text.trim() ? JSON.parse(text) : {});
    const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) =>
      verb === "approve"
        ? tx`select public.ops_merchant_approve(${userId}, ${reason ?? null}) as application`
        : tx`select public.ops_merchant_reject(${userId}, ${reason ?? null}) as application`);
    return c.json(row.application);
  });
}
