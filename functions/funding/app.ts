// Funding (top-ups): start one from a linked source (STK push / bank collection), read its
// status, list mine; manage my payment sources; my paybill account reference.
// Clients act through public.* functions as themselves; talking to the provider happens
// between committed steps (functions/_shared/money-movement/).
import { z } from "zod";
import { config } from "../_shared/config.ts";
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
import { listOf } from "../_shared/openapi.ts";
import { type FundingRow, submitFunding } from "../_shared/money-movement/funding.ts";
import { BANK_PROVIDERS } from "../_shared/vocabulary.ts";
import { FundingSession, Paybill, Source } from "./schemas.ts";

export const { app, docs } = createSignedInFunction(
  "funding",
  "Top-ups and payment sources",
  "Top-ups by STK push or bank collection from a linked source, my sources, my paybill reference. " +
    "See docs/money-movement.md.",
);

// Objects have one shape, built in the database (public.funding_session_json and
// public.wallet_source_json take the row): SQL replies use the same functions, and these reads
// see only the rows RLS gives the caller (functions/_shared/money-object.ts).
// tests/functions/money-objects.test.ts holds the zod schemas in schemas.ts to these shapes.
const TOP_UP: MoneyObject = {
  table: "wallet_funding_sessions",
  json: "funding_session_json",
  schema: FundingSession,
  noun: "top-up",
  notFound: { code: "funding_session_not_found", message: "Top-up not found." },
};
const SOURCE: MoneyObject = {
  table: "wallet_sources",
  json: "wallet_source_json",
  schema: Source,
  noun: "payment source",
  notFound: { code: "source_not_found", message: "Payment source not found." },
};

// --- sources -----------------------------------------------------------------------------

docs.route({
  method: "get",
  path: "/sources",
  summary: "List my active payment sources",
  auth: "bearer",
  responses: { 200: { description: "My sources (never paged).", schema: listOf(Source) } },
  errors: [],
});
app.get("/sources", async (c) => {
  const rows = await userTx(c, (tx) =>
    tx`
    select public.wallet_source_json(s) as json from public.wallet_sources s
     where s.status = 'active' order by s.created_at, s.id`);
  return c.json({ data: rows.map((r) => r.json), next_cursor: null });
});

const AddSource = z.discriminatedUnion("provider", [
  z.object({
    provider: z.literal("mpesa"),
    msisdn: z.string().trim().min(9).max(20),
    label: z.string().trim().min(1).max(60).optional(),
    is_default: z.boolean().optional(),
  }).strict(),
  z.object({
    provider: z.enum(BANK_PROVIDERS),
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
  const result = await userTx(c, async (tx) => {
    const [row] = await tx`select public.wallet_source_add(
      ${input.provider}, ${"msisdn" in input ? input.msisdn : null}, ${
      "account_number" in input ? input.account_number : null
    },
      ${"account_name" in input ? input.account_name ?? null : null}, ${input.label ?? null}, ${
      input.is_default ?? false
    }) as source`;
    const { created, id } = row.source as { created: boolean; id: string };
    return { created, source: await readObject(tx, SOURCE, id) };
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
  const source = await userTx(c, async (tx) => {
    await tx`select public.wallet_source_remove(${id})`;
    return await readObject(tx, SOURCE, id);
  });
  return c.json(source);
});

// --- paybill -----------------------------------------------------------------------------

docs.route({
  method: "get",
  path: "/paybill",
  summary: "My paybill account reference (KES)",
  description:
    "Pay to `business_short_code` with `account_reference` as the account number to top up this wallet.",
  auth: "bearer",
  responses: { 200: { description: "Paybill details.", schema: Paybill } },
  errors: ["currency_not_supported", "wallet_not_found"],
});
app.get("/paybill", async (c) => {
  const [row] = await userTx(
    c,
    (tx) => tx`select public.wallet_paybill_reference('KES') as reference`,
  );
  const reference = row.reference as {
    wallet_id: string;
    account_reference: string;
    currency: string;
  };
  return c.json({ business_short_code: config().MPESA_PAYBILL, ...reference });
});

// --- top-ups -----------------------------------------------------------------------------

const StartFunding = z.object({
  source_id: Uuid,
  amount: Amount,
  currency: Currency.default("KES"),
}).strict();

docs.route(createRouteDoc(TOP_UP, {
  summary: "Start a top-up from one of my sources",
  description:
    "Sends an STK push (M-Pesa) or a bank collection request; the session completes when the " +
    "provider confirms (webhook or sweep). The Idempotency-Key is the top-up's ref.",
  body: StartFunding,
  bodyExample: {
    source_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff",
    amount: "1000.00",
    currency: "KES",
  },
  created: "Started (`pending`, or `failed` when the provider refused it).",
  errors: [
    "amount_outside_provider_limits",
    "currency_not_supported",
    "invalid_amount",
    "invalid_ref",
    "provider_not_supported",
    "provider_unavailable",
    "ref_conflict",
    "source_not_found",
    "wallet_not_active",
    "wallet_not_found",
  ],
}));
app.post("/", idempotent(), async (c) => {
  const input = StartFunding.parse(await c.req.json());
  const { body, status } = await createThenSend<FundingRow & { created: boolean }>(
    c,
    TOP_UP,
    async (tx) => {
      const [row] =
        await tx`select public.funding_start(${input.source_id}, ${input.amount}::numeric, ${input.currency},
                                                        ${c.get("idempotencyKey")!}) as session`;
      return row.session as FundingRow & { created: boolean };
    },
    submitFunding,
  );
  return c.json(body, status);
});

objectReadRoutes(app, docs, TOP_UP);
