// Funding (top-ups): start one from a linked source (STK push / bank collection), read its
// status, list mine; manage my payment sources; my paybill account reference.
// Clients act through public.* functions as themselves; talking to the provider happens
// between committed steps (functions/_shared/money-movement/).
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { type AuthVariables, requireUser } from "../_shared/auth.ts";
import { config } from "../_shared/config.ts";
import { newestFirst, PageParams } from "../_shared/pagination.ts";
import { asUser, type Tx } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { Amount, Currency } from "../_shared/money.ts";
import { apiDocs, listOf, serveOpenApi } from "../_shared/openapi.ts";
import { type FundingRow, submitFunding } from "../_shared/money-movement/funding.ts";
import { FundingSession, Paybill, Source } from "./schemas.ts";

type Env = { Variables: AuthVariables & { requestId: string; idempotencyKey: string | undefined } };

export const app = createFunctionApp<Env>("funding");
export const docs = apiDocs("funding", "Top-ups and payment sources",
  "Top-ups by STK push or bank collection from a linked source, my sources, my paybill reference. " +
    "See docs/money-movement.md.");
serveOpenApi(app, docs); // before requireUser (and before GET /:id): the document is public
app.use("*", requireUser);

const Uuid = z.string().uuid("must be a UUID");

const SESSION_COLUMNS = (tx: Tx) => tx`
  id, wallet_id, source_id, provider, channel, amount::text as amount, fee::text as fee, currency, status,
  provider_request_id, provider_checkout_id, provider_receipt, account_reference, transaction_id,
  failure_code, failure_reason, expires_at, created_at, updated_at, completed_at`;

async function readSession(tx: Tx, id: string) {
  const [row] = await tx`select ${SESSION_COLUMNS(tx)} from public.wallet_funding_sessions where id = ${id}`;
  if (!row) throw new ApiError(404, "funding_session_not_found", "Top-up not found.");
  return row;
}

// --- sources -----------------------------------------------------------------------------

const SOURCE_COLUMNS = (tx: Tx) => tx`
  id, provider, kind, msisdn, account_number, account_name, label, is_default, verification_status, status,
  created_at, updated_at`;

docs.route({
  method: "get",
  path: "/sources",
  summary: "List my active payment sources",
  auth: "bearer",
  responses: { 200: { description: "My sources (never paged).", schema: listOf(Source) } },
  errors: [],
});
app.get("/sources", async (c) => {
  const rows = await asUser(c.get("claims"), c.get("requestId"), (tx) => tx`
    select ${SOURCE_COLUMNS(tx)} from public.wallet_sources where status = 'active' order by created_at, id`);
  return c.json({ data: rows, next_cursor: null });
});

const AddSource = z.discriminatedUnion("provider", [
  z.object({
    provider: z.literal("mpesa"),
    msisdn: z.string().trim().min(9).max(20),
    label: z.string().trim().min(1).max(60).optional(),
    is_default: z.boolean().optional(),
  }).strict(),
  z.object({
    provider: z.enum(["kcb", "dtb"]),
    account_number: z.string().regex(/^[0-9]{6,20}$/, "6 to 20 digits"),
    account_name: z.string().trim().min(1).max(200).optional(),
    label: z.string().trim().min(1).max(60).optional(),
    is_default: z.boolean().optional(),
  }).strict(),
]);

docs.route({
  method: "post",
  path: "/sources",
  summary: "Link an M-Pesa number or a bank account",
  description: "Linking the same source again returns it with 200.",
  auth: "bearer",
  idempotencyKey: "optional",
  body: AddSource,
  bodyExample: { provider: "mpesa", msisdn: "0712345678", label: "My Safaricom line" },
  responses: {
    200: { description: "Already linked.", schema: Source },
    201: { description: "Linked.", schema: Source },
  },
  errors: ["invalid_source", "provider_not_supported"],
});
app.post("/sources", idempotent({ required: false }), async (c) => {
  const input = AddSource.parse(await c.req.json());
  const result = await asUser(c.get("claims"), c.get("requestId"), async (tx) => {
    const [row] = await tx`select public.wallet_source_add(
      ${input.provider}, ${"msisdn" in input ? input.msisdn : null}, ${"account_number" in input ? input.account_number : null},
      ${"account_name" in input ? input.account_name ?? null : null}, ${input.label ?? null}, ${input.is_default ?? false}) as source`;
    const { created, id } = row.source as { created: boolean; id: string };
    const [source] = await tx`select ${SOURCE_COLUMNS(tx)} from public.wallet_sources where id = ${id}`;
    return { created, source };
  });
  return c.json(result.source, result.created ? 201 : 200);
});

docs.route({
  method: "delete",
  path: "/sources/:id",
  summary: "Remove one of my sources",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The source, now `status: removed`.", schema: Source } },
  errors: ["source_not_found"],
});
app.delete("/sources/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const source = await asUser(c.get("claims"), c.get("requestId"), async (tx) => {
    await tx`select public.wallet_source_remove(${id})`;
    const [row] = await tx`select ${SOURCE_COLUMNS(tx)} from public.wallet_sources where id = ${id}`;
    return row;
  });
  return c.json(source);
});

// --- paybill -----------------------------------------------------------------------------

docs.route({
  method: "get",
  path: "/paybill",
  summary: "My paybill account reference (KES)",
  description: "Pay to `business_short_code` with `account_reference` as the account number to top up this wallet.",
  auth: "bearer",
  responses: { 200: { description: "Paybill details.", schema: Paybill } },
  errors: ["currency_not_supported", "wallet_not_found"],
});
app.get("/paybill", async (c) => {
  const [row] = await asUser(c.get("claims"), c.get("requestId"), (tx) =>
    tx`select public.wallet_paybill_reference('KES') as reference`);
  const reference = row.reference as { wallet_id: string; account_reference: string; currency: string };
  return c.json({ business_short_code: config().MPESA_PAYBILL, ...reference });
});

// --- top-ups -----------------------------------------------------------------------------

const StartFunding = z.object({
  source_id: Uuid,
  amount: Amount,
  currency: Currency.default("KES"),
}).strict();

docs.route({
  method: "post",
  path: "/",
  summary: "Start a top-up from one of my sources",
  description: "Sends an STK push (M-Pesa) or a bank collection request; the session completes when the " +
    "provider confirms (webhook or sweep). The Idempotency-Key is the top-up's ref.",
  auth: "bearer",
  idempotencyKey: "required",
  body: StartFunding,
  bodyExample: { source_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff", amount: "1000.00", currency: "KES" },
  responses: {
    200: { description: "Replayed: the session this ref started before.", schema: FundingSession },
    201: { description: "Started (`pending`, or `failed` when the provider refused it).", schema: FundingSession },
  },
  errors: [
    "amount_outside_provider_limits", "currency_not_supported", "invalid_amount", "invalid_ref", "provider_not_supported",
    "provider_unavailable", "ref_conflict", "source_not_found", "wallet_not_active", "wallet_not_found",
  ],
});
app.post("/", idempotent(), async (c) => {
  const input = StartFunding.parse(await c.req.json());
  const claims = c.get("claims");
  const requestId = c.get("requestId");
  const [row] = await asUser(claims, requestId, (tx) => tx`
    select public.funding_start(${input.source_id}, ${input.amount}::numeric, ${input.currency}, ${c.get("idempotencyKey")!}) as session`);
  const session = row.session as FundingRow & { created: boolean; status: string; provider_checkout_id: string | null };
  if (session.created) await submitFunding(session, requestId);
  const current = await asUser(claims, requestId, (tx) => readSession(tx, session.id));
  return c.json(current, session.created ? 201 : 200);
});

docs.route({
  method: "get",
  path: "/",
  summary: "List my top-ups, newest first",
  auth: "bearer",
  query: PageParams,
  responses: { 200: { description: "A page of top-ups.", schema: listOf(FundingSession) } },
  errors: [],
});
app.get("/", async (c) => {
  const params = PageParams.parse(c.req.query());
  return c.json(await asUser(c.get("claims"), c.get("requestId"), (tx) => newestFirst(tx, "wallet_funding_sessions", SESSION_COLUMNS(tx), params)));
});

docs.route({
  method: "get",
  path: "/:id",
  summary: "One of my top-ups",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The top-up.", schema: FundingSession } },
  errors: ["funding_session_not_found"],
});
app.get("/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(await asUser(c.get("claims"), c.get("requestId"), (tx) => readSession(tx, id)));
});
