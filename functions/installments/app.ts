// Installments: lay-by plans on shop orders (a deposit, then equal payments into escrow; the
// merchant is paid when the plan completes). Plans are made by POST /orders with
// `installments` (the orders function); here they are read, paid, canceled and waived, and
// a shop's merchant sets its plan policy. Every rule is SQL
// (database/migrations/*_installments.sql); the edge checks syntax and returns the plan's
// one shape. See docs/installments.md.
import { z } from "zod";
import { ApiError, DATABASE_CODES } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { type MoneyObject, optionalBody, readObject } from "../_shared/money-object.ts";
import { Amount } from "../_shared/money.ts";
import { listOf } from "../_shared/openapi.ts";
import { pageNewestFirst, PageParams } from "../_shared/pagination.ts";
import { createSignedInFunction, userTx, Uuid } from "../_shared/user.ts";
import {
  Installment,
  INSTALLMENT_STATUSES,
  InstallmentPayment,
  INTERVALS,
  ShopInstallmentSettings,
} from "./schemas.ts";

export const { app, docs } = createSignedInFunction(
  "installments",
  "Installments",
  "Lay-by installment plans on shop orders: the plan and its schedule, payments through payment intents into " +
    "escrow, cancels with a bounded cancellation fee, waivers, and each shop's plan policy. See docs/installments.md.",
);

const PLAN: MoneyObject = {
  table: "installments",
  json: "installment_json",
  schema: Installment,
  noun: "installment plan",
  notFound: { code: "installment_not_found", message: "Installment plan not found." },
};

// --- shop policy (before /:id) ---------------------------------------------------------

const Settings = z.object({
  allowed: z.boolean().optional(),
  max_count: z.number().int().min(1).max(366).optional(),
  intervals: z.array(z.enum(INTERVALS)).min(1).max(3).optional(),
  min_deposit_bps: z.number().int().min(0).max(10000).optional(),
  grace_days: z.number().int().min(0).max(60).optional(),
  late_fee_enabled: z.boolean().optional(),
  cancellation_fee_bps: z.number().int().min(0).max(10000).optional(),
  cancellation_fee_fixed: Amount.optional(),
  missed_payments_to_default: z.number().int().min(1).max(366).optional(),
}).strict();

docs.route({
  method: "put",
  path: "/shops/:shop_id/settings",
  summary: "Set a shop's installment policy (its merchant)",
  description:
    "Whether the shop sells on installments and on what terms: the most payments, the intervals, the smallest " +
    "deposit (bps of the total), grace days before a late fee, whether late fees apply (priced by the fee catalog, " +
    "`installment_late_fee`), the cancellation fee (fixed + bps of what was paid; never above the platform's " +
    "`max_cancellation_fee_bps`) and how many missed payments default a plan. Omitted fields keep their value. " +
    "Plans already made keep the policy they were made under.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ shop_id: Uuid }),
  body: Settings,
  bodyExample: {
    allowed: true,
    max_count: 12,
    grace_days: 3,
    cancellation_fee_bps: 1000,
    missed_payments_to_default: 2,
  },
  responses: { 200: { description: "The shop's policy.", schema: ShopInstallmentSettings } },
  errors: ["shop_not_found", "invalid_argument"],
});
app.put(
  "/shops/:shop_id/settings",
  idempotent({ required: true, oneTransaction: true }),
  async (c) => {
    const shopId = Uuid.parse(c.req.param("shop_id"));
    const input = Settings.parse(await c.req.json());
    return c.json(
      await userTx(c, async (tx) => {
        const [r] = await tx`select public.shop_installment_settings_set(${shopId}, ${
          tx.json(input as never)
        }::jsonb) as settings`;
        return r.settings;
      }),
    );
  },
);

docs.route({
  method: "get",
  path: "/shops/:shop_id/settings",
  summary: "A shop's installment policy (anyone, for an active shop)",
  auth: "bearer",
  params: z.object({ shop_id: Uuid }),
  responses: { 200: { description: "The shop's policy.", schema: ShopInstallmentSettings } },
  errors: ["shop_not_found"],
});
app.get("/shops/:shop_id/settings", async (c) => {
  const shopId = Uuid.parse(c.req.param("shop_id"));
  const rows = await userTx(c, (tx) =>
    tx`select public.shop_installment_settings_json(s) as json
         from public.shop_installment_settings s where s.shop_id = ${shopId}`);
  if (!rows[0]) throw new ApiError(404, "shop_not_found", "Shop not found.");
  return c.json(rows[0].json);
});

// --- plans -----------------------------------------------------------------------------

const PlanList = PageParams.extend({
  role: z.enum(["customer", "merchant"]).optional(),
  status: z.enum(INSTALLMENT_STATUSES).optional(),
}).strict();

docs.route({
  method: "get",
  path: "/",
  summary: "List installment plans, newest first",
  description:
    "The caller's plans as the customer (`role=customer`), as the shop's merchant (`role=merchant`), or both.",
  auth: "bearer",
  query: PlanList,
  responses: { 200: { description: "A page of plans.", schema: listOf(Installment) } },
  errors: [],
});
app.get("/", async (c) => {
  const params = PlanList.parse(c.req.query());
  return c.json(
    await userTx(c, (tx) =>
      pageNewestFirst(
        tx,
        PLAN,
        params,
        tx`${
          params.role === "customer"
            ? tx`o.customer_id = auth.uid()`
            : params.role === "merchant"
            ? tx`o.merchant_id = auth.uid()`
            : tx`true`
        } and ${params.status ? tx`o.status = ${params.status}` : tx`true`}`,
      )),
  );
});

docs.route({
  method: "get",
  path: "/:id",
  summary: "One plan with its schedule (its customer or the shop's merchant)",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The plan.", schema: Installment } },
  errors: ["installment_not_found"],
});
app.get("/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(await userTx(c, (tx) => readObject(tx, PLAN, id)));
});

const Pay = z.object({
  amount: Amount.optional(),
  wallet_id: Uuid.optional(),
}).strict();

docs.route({
  method: "post",
  path: "/:id/pay",
  summary: "Pay toward a plan (its customer)",
  description:
    "Opens a payment intent for `amount` (default: what is due now, else the next payment; never above the " +
    "outstanding balance) into escrow. With `wallet_id` it is paid from that wallet at once; without, confirm the " +
    "intent through POST /payments/intents/:id/confirm. The money covers the oldest unpaid payments first (a " +
    "payment's amount, then its late fee); paying everything outstanding completes the plan early (the order is " +
    "then paid). When the wallet cannot cover it the attempt is recorded on the intent and answered as " +
    "`insufficient_funds`.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: Uuid }),
  body: Pay,
  bodyOptional: true,
  bodyExample: { amount: "300.00", wallet_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff" },
  responses: {
    200: { description: "The plan and the payment's intent.", schema: InstallmentPayment },
  },
  errors: [
    "installment_not_found",
    "installment_not_active",
    "amount_exceeds_outstanding",
    "invalid_amount",
    "invalid_ref",
    "wallet_not_found",
    "wallet_not_active",
    "insufficient_funds",
  ],
});
app.post("/:id/pay", idempotent(), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const input = Pay.parse(await optionalBody(c.req));
  const result = await userTx(c, async (tx) => {
    const [r] = await tx`select public.installment_pay(${id}, ${input.amount ?? null}::numeric,
      ${input.wallet_id ?? null}::uuid, ${c.get("idempotencyKey")!}) as payment`;
    return r.payment as {
      installment: unknown;
      payment_intent: Record<string, unknown> & {
        payment_error?: { code: string; details?: Record<string, unknown> };
      };
    };
  });
  // A failed wallet attempt was recorded on the intent (committed above); answer it as its error.
  const failure = result.payment_intent.payment_error;
  if (failure) {
    const [status, message] = DATABASE_CODES[failure.code] ?? [409, "The payment failed."];
    throw new ApiError(status, failure.code, message, {
      ...failure.details,
      payment_intent_id: result.payment_intent.id,
    });
  }
  return c.json(result);
});

const Cancel = z.object({ reason: z.string().min(1).max(500).optional() }).strict();

docs.route({
  method: "post",
  path: "/:id/cancel",
  summary: "Cancel a plan (its customer, or the shop's merchant)",
  description:
    "The order is canceled and its stock released. The customer is refunded what it paid less the shop's " +
    "cancellation fee (bounded by the platform's maximum), which goes to the merchant; a merchant's cancel " +
    "refunds everything. Canceling a canceled plan returns it unchanged.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: Uuid }),
  body: Cancel,
  bodyOptional: true,
  bodyExample: { reason: "changed my mind" },
  responses: { 200: { description: "The plan, now `canceled`.", schema: Installment } },
  errors: ["installment_not_found", "installment_not_active"],
});
app.post("/:id/cancel", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const input = Cancel.parse(await optionalBody(c.req));
  return c.json(
    await userTx(c, async (tx) => {
      await tx`select public.installment_cancel(${id}, ${input.reason ?? null})`;
      return await readObject(tx, PLAN, id);
    }),
  );
});

const Waive = z.object({
  seq: z.number().int().min(0).max(366),
  what: z.enum(["late_fee", "payment"]).default("late_fee"),
}).strict();

docs.route({
  method: "post",
  path: "/:id/waive",
  summary: "Waive a late fee or a payment (the shop's merchant)",
  description:
    "`what: late_fee` forgives the unpaid part of payment `seq`'s late fee; `what: payment` forgives all that " +
    "payment still owes (not the deposit). Waiving what is left completes the plan.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ id: Uuid }),
  body: Waive,
  bodyExample: { seq: 2, what: "late_fee" },
  responses: { 200: { description: "The plan.", schema: Installment } },
  errors: [
    "installment_not_found",
    "installment_not_active",
    "installment_row_not_found",
    "installment_row_not_waivable",
    "forbidden",
    "invalid_argument",
  ],
});
app.post("/:id/waive", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  const input = Waive.parse(await c.req.json());
  return c.json(
    await userTx(c, async (tx) => {
      await tx`select public.installment_waive(${id}, ${input.seq}, ${input.what})`;
      return await readObject(tx, PLAN, id);
    }),
  );
});
