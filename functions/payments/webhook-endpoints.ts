// Merchant webhook endpoints (payments function): register an endpoint (its signing secret
// is answered once), list, disable, see its deliveries, and ask for an event again. The
// deliveries themselves are made by the worker (functions/_shared/webhook-delivery/); the
// rules live in database/migrations/*_webhook_delivery.sql. See docs/payments.md#webhooks.
// Mounted from app.ts with webhookEndpointRoutes(app, docs).
import type { Hono } from "hono";
import { z } from "zod";
import { config } from "../_shared/config.ts";
import { ApiError } from "../_shared/errors.ts";
import { idempotent, requiredIdempotencyKey } from "../_shared/idempotency.ts";
import { type MoneyObject, readObject } from "../_shared/money-object.ts";
import { type FunctionDocs, listOf } from "../_shared/openapi.ts";
import { pageNewestFirst, PageParams } from "../_shared/pagination.ts";
import { type UserEnv, userTx, Uuid } from "../_shared/user.ts";
import { checkWebhookUrl } from "../_shared/webhook-delivery/ssrf.ts";
import {
  CreatedWebhookEndpoint,
  EventRedelivery,
  WebhookDelivery,
  WebhookEndpoint,
} from "./webhook-schemas.ts";

const ENDPOINT: MoneyObject = {
  table: "webhook_endpoints",
  json: "webhook_endpoint_json",
  schema: WebhookEndpoint,
  noun: "webhook endpoint",
  notFound: { code: "webhook_endpoint_not_found", message: "Webhook endpoint not found." },
};
const DELIVERY: MoneyObject = {
  table: "webhook_deliveries",
  json: "webhook_delivery_json",
  schema: WebhookDelivery,
  noun: "webhook delivery",
  notFound: { code: "webhook_delivery_not_found", message: "Webhook delivery not found." },
};

const EVENT_FILTER = /^(\*|[a-z_]+\.(\*|[a-z_]+))$/;

const CreateEndpoint = z.object({
  url: z.string().min(1).max(2048),
  events: z.array(
    z.string().max(100).regex(
      EVENT_FILTER,
      'an event type such as "payment_intent.succeeded", "payment_intent.*" or "*"',
    ),
  ).min(1).max(100).refine(
    (events) => !events.includes("*") || events.length === 1,
    '"*" (every event) stands alone',
  ).default(["*"]),
  description: z.string().max(500).nullable().optional(),
}).strict();

export function webhookEndpointRoutes(app: Hono<UserEnv>, docs: FunctionDocs): void {
  docs.route({
    method: "post",
    path: "/webhook-endpoints",
    summary: "Register a webhook endpoint (merchant)",
    description:
      "Every event of the merchant whose type matches `events` is POSTed to `url`, signed the Standard Webhooks way " +
      "(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`), and retried with backoff " +
      "for more than 24 hours until it gets a 2xx. The URL must be https:// and resolve to public addresses only. " +
      "The reply that creates the endpoint carries its signing `secret`, once. The Idempotency-Key is the endpoint's " +
      "ref: repeating it returns the endpoint without its secret (200), so the secret is never stored for replay.",
    auth: "bearer",
    idempotencyKey: "required",
    body: CreateEndpoint,
    bodyExample: {
      url: "https://shop.example.com/hazina/webhooks",
      events: ["payment_intent.succeeded", "payment_refund.*"],
    },
    responses: {
      200: {
        description: "The endpoint this Idempotency-Key created before (no secret).",
        schema: CreatedWebhookEndpoint,
      },
      201: { description: "Registered, with its signing secret.", schema: CreatedWebhookEndpoint },
    },
    errors: [
      "webhook_endpoints_merchants_only",
      "webhook_endpoint_limit_reached",
      "webhook_url_not_allowed",
      "idempotency_key_required",
      "invalid_idempotency_key",
      "invalid_argument",
      "invalid_ref",
      "ref_conflict",
    ],
  });
  app.post("/webhook-endpoints", async (c) => {
    // Not idempotent(): its replay record would keep the secret for 24 h. The endpoint's own
    // (merchant, client_ref) makes the create idempotent instead (as for API keys).
    const ref = requiredIdempotencyKey(c);
    const input = CreateEndpoint.parse(await c.req.json());
    const cfg = config();
    const refusal = await checkWebhookUrl(input.url, {
      allowHttp: cfg.WEBHOOK_ALLOW_HTTP,
      allowPrivate: cfg.WEBHOOK_ALLOW_PRIVATE,
    });
    if (refusal) {
      throw new ApiError(400, "webhook_url_not_allowed", refusal.message, {
        reason: refusal.reason,
        ...(refusal.address ? { address: refusal.address } : {}),
      });
    }
    const row = await userTx(c, async (tx) => {
      const [r] =
        await tx`select public.webhook_endpoint_create(${input.url}, ${input.events}::text[],
        ${input.description ?? null}, ${ref}) as endpoint`;
      return r.endpoint as Record<string, unknown>;
    });
    const { created, ...body } = row;
    return c.json(body, created ? 201 : 200);
  });

  docs.route({
    method: "get",
    path: "/webhook-endpoints",
    summary: "List my webhook endpoints, newest first (never their secrets)",
    auth: "bearer",
    query: PageParams,
    responses: {
      200: { description: "A page of webhook endpoints.", schema: listOf(WebhookEndpoint) },
    },
    errors: [],
  });
  app.get("/webhook-endpoints", async (c) => {
    const params = PageParams.parse(c.req.query());
    return c.json(await userTx(c, (tx) => pageNewestFirst(tx, ENDPOINT, params)));
  });

  docs.route({
    method: "get",
    path: "/webhook-endpoints/:id",
    summary: "One of my webhook endpoints",
    auth: "bearer",
    params: z.object({ id: Uuid }),
    responses: { 200: { description: "The webhook endpoint.", schema: WebhookEndpoint } },
    errors: ["webhook_endpoint_not_found"],
  });
  app.get("/webhook-endpoints/:id", async (c) => {
    const id = Uuid.parse(c.req.param("id"));
    return c.json(await userTx(c, (tx) => readObject(tx, ENDPOINT, id)));
  });

  docs.route({
    method: "delete",
    path: "/webhook-endpoints/:id",
    summary: "Disable one of my webhook endpoints, at once",
    description:
      "Nothing more is delivered to it; deliveries still queued for it are failed (`endpoint disabled`). " +
      "Disabling a disabled endpoint returns it unchanged.",
    auth: "bearer",
    idempotencyKey: "optional",
    params: z.object({ id: Uuid }),
    responses: { 200: { description: "The endpoint, now `disabled`.", schema: WebhookEndpoint } },
    errors: ["webhook_endpoint_not_found"],
  });
  app.delete(
    "/webhook-endpoints/:id",
    idempotent({ required: false, oneTransaction: true }),
    async (c) => {
      const id = Uuid.parse(c.req.param("id"));
      return c.json(
        await userTx(c, async (tx) => {
          await tx`select public.webhook_endpoint_disable(${id})`;
          return await readObject(tx, ENDPOINT, id);
        }),
      );
    },
  );

  const DeliveryList = PageParams.extend({
    status: z.enum(["pending", "delivering", "succeeded", "failed"]).optional(),
  }).strict();

  docs.route({
    method: "get",
    path: "/webhook-endpoints/:id/deliveries",
    summary: "The deliveries to one of my endpoints, newest first, with every attempt",
    auth: "bearer",
    params: z.object({ id: Uuid }),
    query: DeliveryList,
    responses: {
      200: { description: "A page of deliveries.", schema: listOf(WebhookDelivery) },
    },
    errors: ["webhook_endpoint_not_found"],
  });
  app.get("/webhook-endpoints/:id/deliveries", async (c) => {
    const id = Uuid.parse(c.req.param("id"));
    const params = DeliveryList.parse(c.req.query());
    return c.json(
      await userTx(c, async (tx) => {
        await readObject(tx, ENDPOINT, id); // 404 unless it is mine
        return await pageNewestFirst(
          tx,
          DELIVERY,
          params,
          params.status
            ? tx`o.endpoint_id = ${id} and o.status = ${params.status}`
            : tx`o.endpoint_id = ${id}`,
        );
      }),
    );
  });

  docs.route({
    method: "post",
    path: "/events/:id/redeliver",
    summary: "Send one of my events to my endpoints again (merchant)",
    description:
      "Every active endpoint subscribed to the event gets it again, at once: a delivery that ended (succeeded or " +
      "failed) starts a new run of attempts, a pending one is made due now, one in flight is left alone, and an " +
      "endpoint registered after the event gets it for the first time. The same Idempotency-Key replays the answer " +
      "without queueing again. The `webhook-id` is the event id, as on every attempt.",
    auth: "bearer",
    idempotencyKey: "required",
    params: z.object({ id: Uuid }),
    responses: {
      200: { description: "The event's deliveries, re-queued.", schema: EventRedelivery },
    },
    errors: ["event_not_found"],
  });
  app.post(
    "/events/:id/redeliver",
    idempotent({ required: true, oneTransaction: true }),
    async (c) => {
      const id = Uuid.parse(c.req.param("id"));
      return c.json(
        await userTx(c, async (tx) => {
          const [r] = await tx`select public.event_redeliver(${id}) as redelivery`;
          return r.redelivery;
        }),
      );
    },
  );
}
