// Operator endpoints (admins only; the database checks the role): reconciliation and
// trial balance, the periodic sweeps, freezing wallets and reversing transactions.
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { type AuthVariables, requireUser, verifyAccessToken } from "../_shared/auth.ts";
import { config } from "../_shared/config.ts";
import { asUser, type JwtClaims, type Tx } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { runJob, runPass } from "../_shared/jobs/runner.ts";
import type { JobRun, JobStatus } from "../_shared/jobs/types.ts";
import { timingSafeEqual } from "../_shared/providers/hmac.ts";
import { Amount } from "../_shared/money.ts";
import { userTx } from "../_shared/user.ts";
import { GoodsEscrow } from "../orders/schemas.ts";
import {
  apiDocs,
  MerchantApplication,
  Money,
  named,
  serveOpenApi,
  Wallet,
} from "../_shared/openapi.ts";

type Env = {
  Variables: AuthVariables & {
    requestId: string;
    idempotencyKey: string | undefined;
    requestTx?: Tx;
  };
};

export const app = createFunctionApp<Env>("ops");
export const docs = apiDocs(
  "ops",
  "Operators (admins only)",
  "Reconciliation, sweeps, wallet status, reversals and merchant approval. The database decides who is an admin " +
    "(auth_users.role, a live login, an active user), never the token.",
);
serveOpenApi(app, docs); // before requireUser: the document is public

// --- jobs (functions/_shared/jobs; database/migrations/*_jobs.sql) -------------------------

const JobReport = z.looseObject({
  processed: z.number().int(),
  remaining: z.number().int().nullable().describe(
    "The backlog after the pass; null when the job cannot tell.",
  ),
  skipped: z.string().optional().describe(
    "Set when another pass of this (exclusive) job was running.",
  ),
});

const Job = named(
  "Job",
  z.object({
    name: z.string(),
    runs_in: z.enum(["database", "edge"]),
    every_seconds: z.number().int(),
    batch_size: z.number().int(),
    exclusive: z.boolean(),
    description: z.string(),
    run_count: z.number().int(),
    error_count: z.number().int(),
    last_started_at: z.string().nullable(),
    last_finished_at: z.string().nullable(),
    last_status: z.enum(["succeeded", "failed", "skipped"]).nullable(),
    last_report: JobReport.nullable(),
    last_error: z.string().nullable(),
    last_error_at: z.string().nullable(),
    backlog: z.number().int().nullable().describe("`remaining` of the last pass."),
    due: z.boolean().describe("Whether the runner would run it now."),
  }),
  "A job of the runner, with its last run and backlog.",
);

const JobRunResult = named(
  "JobRun",
  z.object({
    job: z.string(),
    report: JobReport.nullable(),
    error: z.string().nullable().describe(
      "Why the pass failed (its work was rolled back); null when it succeeded.",
    ),
  }),
  "What one pass of a job did.",
);

const JobRunRequest = z.object({
  job: z.string().min(1).max(60).optional().describe("Omit to run one pass of every job."),
  limit: z.number().int().min(1).max(100000).optional().describe(
    "At most this many items (default: the job's batch size).",
  ),
}).strict();

/** The jobs as an admin sees them; the database checks the caller is one (forbidden otherwise). */
async function jobsForAdmin(claims: JwtClaims, requestId: string): Promise<JobStatus[]> {
  const [row] = await asUser(claims, requestId, (tx) => tx`select public.ops_jobs() as jobs`);
  return row.jobs as JobStatus[];
}

docs.route({
  method: "post",
  path: "/jobs/run",
  summary: "Run one pass of a job (or of every job) now",
  description:
    "Each pass is bounded by the job's batch size and safe next to the runner and pg_cron. For admins " +
    "(bearer token) and schedulers (X-Sweep-Secret: pg_cron + pg_net call this for the jobs that run in the edge). " +
    "A job's own failure is reported in `error` (200); its work is rolled back.",
  auth: "bearer",
  alternativeSecurity: ["sweepSecret"],
  body: JobRunRequest,
  bodyOptional: true,
  bodyExample: { job: "holds.expire" },
  responses: {
    200: { description: "What each pass did.", schema: z.object({ runs: z.array(JobRunResult) }) },
  },
  errors: ["forbidden", "job_not_found"],
});
// Before requireUser: a scheduler presents the sweep secret instead of a user token.
app.post("/jobs/run", async (c) => {
  const requestId = c.get("requestId");
  const presented = c.req.header("x-sweep-secret");
  if (presented !== undefined) {
    const secret = config().SWEEP_SECRET;
    if (!(secret !== undefined && (await timingSafeEqual(presented, secret)))) {
      throw new ApiError(403, "forbidden", "You are not allowed to run jobs.");
    }
  } else {
    const match = /^Bearer\s+([A-Za-z0-9_\-.]+)$/i.exec(c.req.header("authorization") ?? "");
    if (!match) {
      throw new ApiError(401, "unauthenticated", "Send an admin's bearer token or X-Sweep-Secret.");
    }
    const claims = await verifyAccessToken(match[1]);
    if (claims.role !== "authenticated" || typeof claims.sub !== "string") {
      throw new ApiError(401, "invalid_token", "The access token is not a user token.");
    }
    await jobsForAdmin(claims, requestId);
  }
  const text = await c.req.text();
  const input = JobRunRequest.parse(text.trim() ? JSON.parse(text) : {});
  const runs: JobRun[] = input.job
    ? [await runJob(input.job, { limit: input.limit, requestId })]
    : await runPass();
  return c.json({ runs });
});

app.use("*", requireUser);

docs.route({
  method: "get",
  path: "/jobs",
  summary: "Every job: schedule, last run, last report, backlog",
  auth: "bearer",
  responses: { 200: { description: "The jobs.", schema: z.object({ data: z.array(Job) }) } },
  errors: ["forbidden"],
});
app.get("/jobs", async (c) => {
  return c.json({ data: await jobsForAdmin(c.get("claims"), c.get("requestId")) });
});

const Reconciliation = named(
  "Reconciliation",
  z.object({
    discrepancies: z.array(z.object({
      check: z.string(),
      subject: z.string(),
      expected: z.string().nullable(),
      actual: z.string().nullable(),
    })).describe("Empty when the books are right."),
    trial_balance: z.array(
      z.object({ currency: z.string(), total: z.string(), wallets: z.number().int() }),
    )
      .describe('Per currency, all wallets sum to zero: total is always "0.0000" when healthy.'),
    checked_at: z.iso.datetime({ offset: true }),
  }),
  "hazina.reconcile() and the trial balance.",
);

docs.route({
  method: "get",
  path: "/reconciliation",
  summary: "Reconciliation report and trial balance",
  auth: "bearer",
  responses: { 200: { description: "The report.", schema: Reconciliation } },
  errors: ["forbidden"],
});
app.get("/reconciliation", async (c) => {
  const [row] = await asUser(
    c.get("claims"),
    c.get("requestId"),
    (tx) => tx`select public.ops_reconciliation() as report`,
  );
  return c.json(row.report);
});

docs.route({
  method: "post",
  path: "/sweeps",
  summary: "Run the periodic sweeps now",
  description:
    "Expires overdue holds and purges expired idempotency keys; safe to repeat. The provider " +
    "re-query sweep for stale top-ups and withdrawals is POST /webhooks/sweep.",
  auth: "bearer",
  responses: {
    200: {
      description: "What each sweep did.",
      schema: z.looseObject({
        holds_expired: z.number().int(),
        idempotency_keys_purged: z.number().int(),
      }),
    },
  },
  errors: ["forbidden"],
});
// Safe to call any number of times: each sweep only acts on what is overdue.
app.post("/sweeps", async (c) => {
  const [row] = await asUser(
    c.get("claims"),
    c.get("requestId"),
    (tx) => tx`select public.ops_run_sweeps() as result`,
  );
  return c.json(row.result);
});

const WalletStatus = z.object({ status: z.enum(["active", "frozen", "closed"]) }).strict();

const WalletId = z.string().uuid();

docs.route({
  method: "post",
  path: "/wallets/:id/status",
  summary: "Freeze, unfreeze or close a wallet",
  description:
    "Closing needs an empty wallet without pending holds. Audited. Setting the same status again " +
    "returns the same wallet.",
  auth: "bearer",
  params: z.object({ id: WalletId }),
  body: WalletStatus,
  bodyExample: { status: "frozen" },
  responses: { 200: { description: "The wallet after the change.", schema: Wallet } },
  errors: [
    "forbidden",
    "invalid_argument",
    "wallet_not_found",
    "wallet_not_active",
    "wallet_not_empty",
  ],
});
// Setting the same status again returns the same wallet: naturally idempotent.
app.post("/wallets/:id/status", async (c) => {
  const walletId = WalletId.parse(c.req.param("id"));
  const { status } = WalletStatus.parse(await c.req.json());
  const [row] = await asUser(
    c.get("claims"),
    c.get("requestId"),
    (tx) => tx`select public.ops_set_wallet_status(${walletId}, ${status}) as wallet`,
  );
  return c.json(row.wallet);
});

const Reversal = z.object({
  amount: Amount.optional().describe(
    "Omit to reverse everything that remains (fees refunded when nothing was reversed yet).",
  ),
  reason: z.string().min(1).max(500),
}).strict();

const ReversalResult = named(
  "Reversal",
  z.object({
    transaction_id: z.string().uuid(),
    reverses: z.string().uuid(),
    amount: Money,
    currency: z.string(),
    reason: z.string(),
    created_at: z.iso.datetime({ offset: true }),
  }),
  "A reversal transaction.",
);

const TransactionId = z.string().uuid();

docs.route({
  method: "post",
  path: "/transactions/:id/reverse",
  summary: "Reverse a posted transaction, fully or partly",
  description:
    "A full reversal mirrors every entry and refunds the fees; a partial one returns principal only. " +
    "The sum of reversals never exceeds the original. The Idempotency-Key is the reversal's ref.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: TransactionId }),
  body: Reversal,
  bodyExample: { amount: "150.00", reason: "customer dispute #4411" },
  responses: { 201: { description: "The reversal.", schema: ReversalResult } },
  errors: [
    "forbidden",
    "invalid_argument",
    "invalid_amount",
    "invalid_ref",
    "transaction_not_found",
    "not_reversible",
    "reversal_exceeds_original",
    "insufficient_funds",
    "ref_conflict",
  ],
});
app.post(
  "/transactions/:id/reverse",
  idempotent({ required: true, oneTransaction: true }),
  async (c) => {
    const transactionId = TransactionId.parse(c.req.param("id"));
    const input = Reversal.parse(await c.req.json());
    const [row] = await userTx(
      c,
      (tx) =>
        tx`select public.ops_reverse_transaction(${transactionId}, ${c.get("idempotencyKey")!},
                                             ${
          input.amount ?? null
        }::numeric, ${input.reason}) as reversal`,
    );
    return c.json(row.reversal, 201);
  },
);

const MerchantDecision = z.object({
  reason: z.string().min(1).max(500).optional().describe("Recorded with the decision (audited)."),
}).strict();

const UserId = z.string().uuid();

for (const [verb, status] of [["approve", "approved"], ["reject", "rejected"]] as const) {
  docs.route({
    method: "post",
    path: `/merchants/:user_id/${verb}`,
    summary: verb === "approve"
      ? "Approve a merchant application"
      : "Reject a merchant application",
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
    errors: [
      "forbidden",
      "invalid_argument",
      "merchant_application_not_found",
      "merchant_application_not_pending",
    ],
  });
  // Deciding the same way again returns the decided application: naturally idempotent.
  app.post(`/merchants/:user_id/${verb}`, async (c) => {
    const userId = UserId.parse(c.req.param("user_id"));
    const text = await c.req.text();
    const { reason } = MerchantDecision.parse(text.trim() ? JSON.parse(text) : {});
    const [row] = await asUser(
      c.get("claims"),
      c.get("requestId"),
      (tx) =>
        verb === "approve"
          ? tx`select public.ops_merchant_approve(${userId}, ${reason ?? null}) as application`
          : tx`select public.ops_merchant_reject(${userId}, ${reason ?? null}) as application`,
    );
    return c.json(row.application);
  });
}

// --- goods escrow disputes (database/migrations/*_order_escrow.sql, docs/commerce.md) ------

const EscrowResolution = z.object({
  outcome: z.enum(["release", "refund", "split"]),
  buyer_amount: Amount.optional().describe(
    "split only: what goes back to the buyer; the rest of what is held goes to the merchant.",
  ),
  note: z.string().min(1).max(1000).optional().describe("Recorded with the decision (audited)."),
}).strict();

docs.route({
  method: "post",
  path: "/escrows/:id/resolve",
  summary: "Resolve a disputed goods escrow",
  description:
    "release: everything held to the merchant (it bears the escrow_release fee); refund: everything held back " +
    "to the buyer; split: `buyer_amount` to the buyer and the rest to the merchant (the two parts sum to what is " +
    "held). Admins only (checked in the database); audited with the admin's id.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: TransactionId }),
  body: EscrowResolution,
  bodyExample: {
    outcome: "split",
    buyer_amount: "500.00",
    note: "One of two items arrived broken.",
  },
  responses: { 200: { description: "The escrow, resolved.", schema: GoodsEscrow } },
  errors: [
    "forbidden",
    "escrow_not_found",
    "escrow_not_disputed",
    "invalid_argument",
    "invalid_amount",
    "merchant_wallet_required",
    "wallet_not_active",
    "fee_exceeds_amount",
  ],
});
app.post(
  "/escrows/:id/resolve",
  idempotent({ required: true, oneTransaction: true }),
  async (c) => {
    const escrowId = TransactionId.parse(c.req.param("id"));
    const input = EscrowResolution.parse(await c.req.json());
    const [row] = await userTx(
      c,
      (tx) =>
        tx`select public.ops_escrow_resolve(${escrowId}, ${input.outcome}, ${
          input.buyer_amount ?? null
        }::numeric, ${input.note ?? null}) as escrow`,
    );
    return c.json(row.escrow);
  },
);
