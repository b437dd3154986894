// Orders: a customer orders from a shop (priced and reserved in the database, paid through
// its payment intent, escrowed when the shop or the buyer asks), the merchant dispatches,
// delivers, cancels and refunds, the buyer confirms receipt or disputes. Every transition is
// one SQL function (database/migrations/*_shops_orders.sql, *_order_escrow.sql); the edge
// checks syntax and returns the order as the database builds it. See docs/commerce.md.
import { z } from "zod";
import type { Tx } from "../_shared/db.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { type MoneyObject, optionalBody, readObject } from "../_shared/money-object.ts";
import { Amount } from "../_shared/money.ts";
import { listOf } from "../_shared/openapi.ts";
import { pageNewestFirst, PageParams } from "../_shared/pagination.ts";
import { createSignedInFunction, userTx, Uuid } from "../_shared/user.ts";
import { CreatedOrder, Order, ORDER_STATUSES } from "./schemas.ts";

export const { app, docs } = createSignedInFunction(
  "orders",
  "Orders",
  "Orders from shops: placed and priced in the database with no oversell, paid through a payment intent " +
    "(into the merchant's wallet or goods escrow), fulfilled, confirmed or disputed, canceled and refunded. " +
    "See docs/commerce.md.",
);

const ORDER: MoneyObject = {
  table: "orders",
  json: "order_json",
  schema: Order,
  noun: "order",
  notFound: { code: "order_not_found", message: "Order not found." },
};

const Line = z.object({
  product_id: Uuid,
  quantity: z.number().int().min(1).max(10000),
}).strict();

const CreateOrder = z.object({
  shop_id: Uuid,
  items: z.array(Line).min(1).max(50),
  escrow: z.boolean().optional().describe(
    "Pay into goods escrow. Default: the shop's policy (required: yes; optional or none: no).",
  ),
  shipping: z.record(z.string().max(60), z.unknown()).optional().describe(
    "Where to deliver (kept as given, at most 4000 characters of JSON).",
  ),
  // (installments: an additive field; the plan is made by the installments capability, see docs/installments.md)
  installments: z.object({
    deposit: Amount,
    count: z.number().int().min(1).max(366),
    interval: z.enum(["day", "week", "month"]),
    auto_collect: z.boolean().optional(),
  }).strict().optional().describe(
    "Pay by a lay-by installment plan, when the shop allows it: the deposit now (the reply's payment_intent), " +
      "then `count` equal payments every `interval`; the stock stays reserved and the order is paid when the plan " +
      "completes (docs/installments.md).",
  ),
}).strict();

docs.route({
  method: "post",
  path: "/",
  summary: "Place an order (customer)",
  description:
    "Prices the lines from the database (the client never sends a price), snapshots them, reserves the stock " +
    "(never oversold: `out_of_stock`) and opens the order's payment intent for the customer, into the merchant's " +
    "wallet or, escrowed, into goods escrow. Pay it with POST /payments/intents/{id}/confirm within 30 minutes; " +
    "an unpaid order is then canceled and its stock released. The Idempotency-Key is the order's ref.",
  auth: "bearer",
  idempotencyKey: "required",
  body: CreateOrder,
  bodyExample: {
    shop_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff",
    items: [{ product_id: "7a9619ff-8b86-4011-b42d-00c04fc964ff", quantity: 2 }],
    escrow: true,
    shipping: { name: "Wanjiku Kamau", phone: "254700000001", city: "Nairobi" },
  },
  responses: {
    200: {
      description: "Replayed: the order this Idempotency-Key created before (no client_secret).",
      schema: CreatedOrder,
    },
    201: { description: "Placed, with its payment intent.", schema: CreatedOrder },
  },
  errors: [
    "shop_not_found",
    "shop_not_active",
    "product_not_found",
    "out_of_stock",
    "escrow_required",
    "escrow_not_offered",
    "installments_not_allowed",
    "merchant_wallet_required",
    "invalid_argument",
    "invalid_amount",
    "invalid_ref",
    "ref_conflict",
  ],
});
app.post("/", idempotent({ required: true, oneTransaction: true }), async (c) => {
  const input = CreateOrder.parse(await c.req.json());
  const [row] = await userTx(
    c,
    (tx) =>
      input.installments
        ? tx`select public.order_create_installments(${input.shop_id}, ${
          tx.json(input.items as never)
        }::jsonb, ${input.escrow ?? null}::boolean, ${
          input.shipping ? tx.json(input.shipping as never) : null
        }::jsonb, ${c.get("idempotencyKey")!}, ${
          tx.json(input.installments as never)
        }::jsonb) as order`
        : tx`select public.order_create(${input.shop_id}, ${tx.json(input.items as never)}::jsonb,
                                    ${input.escrow ?? null}::boolean,
                                    ${
          input.shipping ? tx.json(input.shipping as never) : null
        }::jsonb,
                                    ${c.get("idempotencyKey")!}) as order`,
  );
  const { created, ...body } = row.order as Record<string, unknown>;
  return c.json(body, created ? 201 : 200);
});

const OrderList = PageParams.extend({
  role: z.enum(["customer", "merchant"]).optional().describe(
    "customer: orders I placed; merchant: orders to my shops; default both.",
  ),
  status: z.enum(ORDER_STATUSES).optional(),
}).strict();

docs.route({
  method: "get",
  path: "/",
  summary: "List my orders, newest first",
  auth: "bearer",
  query: OrderList,
  responses: { 200: { description: "A page of orders.", schema: listOf(Order) } },
  errors: [],
});
app.get("/", async (c) => {
  const params = OrderList.parse(c.req.query());
  const me = c.get("userId");
  return c.json(
    await userTx(c, (tx) =>
      pageNewestFirst(
        tx,
        ORDER,
        params,
        tx`${
          params.role === "customer"
            ? tx`o.customer_id = ${me}`
            : params.role === "merchant"
            ? tx`o.merchant_id = ${me}`
            : tx`(o.customer_id = ${me} or o.merchant_id = ${me})`
        } and ${params.status ? tx`o.status = ${params.status}` : tx`true`}`,
      )),
  );
});

docs.route({
  method: "get",
  path: "/:id",
  summary: "One order (its customer or its merchant)",
  auth: "bearer",
  params: z.object({ id: Uuid }),
  responses: { 200: { description: "The order, with its lines and escrow.", schema: Order } },
  errors: ["order_not_found"],
});
app.get("/:id", async (c) => {
  const id = Uuid.parse(c.req.param("id"));
  return c.json(await userTx(c, (tx) => readObject(tx, ORDER, id)));
});

// --- transitions ---------------------------------------------------------------------------

const Empty = z.object({}).strict();
const Dispute = z.object({ reason: z.string().min(1).max(1000) }).strict();
const Cancel = z.object({ reason: z.string().min(1).max(500).optional() }).strict();
const Refund = z.object({
  amount: Amount.optional().describe("How much; default: everything not yet refunded."),
  items: z.array(Line).min(1).max(50).optional().describe(
    "Or the lines to refund: their snapshot unit price × quantity.",
  ),
  reason: z.string().min(1).max(500).optional(),
}).strict();

interface Transition {
  verb: string;
  summary: string;
  description: string;
  body: z.ZodObject;
  bodyOptional: boolean;
  bodyExample?: unknown;
  errors: string[];
  call: (tx: Tx, id: string, input: Record<string, unknown>, key: string) => ReturnType<Tx>;
}

const TRANSITIONS: Transition[] = [
  {
    verb: "dispatch",
    summary: "Dispatch a paid order (merchant): fulfilled",
    description: "The goods are on their way. An escrowed order's escrow becomes `dispatched`.",
    body: Empty,
    bodyOptional: true,
    errors: ["order_not_found", "order_not_dispatchable"],
    call: (tx, id) => tx`select public.order_dispatch(${id}) as order`,
  },
  {
    verb: "deliver",
    summary: "Mark a dispatched order delivered (merchant)",
    description:
      "A direct order is `completed`. An escrowed order's inspection window opens: its escrow is released to " +
      "the merchant `auto_release_days` after delivery unless the buyer confirms first or disputes.",
    body: Empty,
    bodyOptional: true,
    errors: ["order_not_found", "order_not_deliverable"],
    call: (tx, id) => tx`select public.order_deliver(${id}) as order`,
  },
  {
    verb: "confirm-receipt",
    summary: "Confirm receipt (customer)",
    description:
      "A dispatched order is `completed`; an escrowed one is released to the merchant now (the merchant bears " +
      "the escrow_release fee).",
    body: Empty,
    bodyOptional: true,
    errors: [
      "order_not_found",
      "order_not_confirmable",
      "merchant_wallet_required",
      "wallet_not_active",
      "fee_exceeds_amount",
    ],
    call: (tx, id) => tx`select public.order_confirm_receipt(${id}) as order`,
  },
  {
    verb: "dispute",
    summary: "Dispute an escrowed order (customer)",
    description:
      "While its money is held and before `auto_release_at`: the escrow is `disputed` and waits for an admin " +
      "(POST /ops/escrows/{id}/resolve).",
    body: Dispute,
    bodyOptional: false,
    bodyExample: { reason: "The radio arrived broken." },
    errors: [
      "order_not_found",
      "order_not_disputable",
      "dispute_window_closed",
      "invalid_argument",
    ],
    call: (tx, id, input) =>
      tx`select public.order_dispute(${id}, ${input.reason as string}) as order`,
  },
  {
    verb: "cancel",
    summary: "Cancel an order (customer before payment; merchant before dispatch)",
    description:
      "Unpaid: its payment intent is canceled and the stock released (customer or merchant). Paid and not yet " +
      "dispatched (merchant only): everything is refunded (from escrow when escrowed) and the stock released.",
    body: Cancel,
    bodyOptional: true,
    bodyExample: { reason: "Out of stock at the warehouse." },
    errors: ["order_not_found", "order_not_cancelable", "insufficient_funds", "invalid_argument"],
    call: (tx, id, input) =>
      tx`select public.order_cancel(${id}, ${(input.reason as string) ?? null}) as order`,
  },
  {
    verb: "refund",
    summary: "Refund an order, partly or fully (merchant)",
    description:
      "An `amount`, or `items` (their snapshot price), or with neither everything not yet refunded; never above " +
      "what was paid and not refunded. A direct order is refunded from the merchant's wallet (a refund of its " +
      "payment intent); an escrowed one from escrow while it still holds the money (not once released). " +
      "Refunds do not restock. Refunded in full, the order is `refunded`.",
    body: Refund,
    bodyOptional: true,
    bodyExample: { amount: "150.00", reason: "One bag was torn." },
    errors: [
      "order_not_found",
      "order_not_refundable",
      "refund_exceeds_paid",
      "insufficient_funds",
      "invalid_amount",
      "invalid_argument",
      "invalid_ref",
    ],
    call: (tx, id, input, key) =>
      tx`select public.order_refund(${id}, ${(input.amount as string) ?? null}::numeric,
                                    ${input.items ? tx.json(input.items as never) : null}::jsonb,
                                    ${(input.reason as string) ?? null}, ${key}) as order`,
  },
];

for (const t of TRANSITIONS) {
  docs.route({
    method: "post",
    path: `/:id/${t.verb}`,
    summary: t.summary,
    description: t.description,
    auth: "bearer",
    idempotencyKey: "required",
    params: z.object({ id: Uuid }),
    body: t.body,
    bodyOptional: t.bodyOptional || undefined,
    bodyExample: t.bodyExample,
    responses: { 200: { description: "The order.", schema: Order } },
    errors: t.errors,
  });
  app.post(
    `/:id/${t.verb}`,
    idempotent({ required: true, oneTransaction: true }),
    async (c) => {
      const id = Uuid.parse(c.req.param("id"));
      const input = t.body.parse(
        t.bodyOptional ? await optionalBody(c.req) : await c.req.json(),
      ) as Record<string, unknown>;
      const [row] = await userTx(
        c,
        async (tx) =>
          (await t.call(tx, id, input, c.get("idempotencyKey")!)) as unknown as {
            order: unknown;
          }[],
      );
      return c.json(row.order);
    },
  );
}
