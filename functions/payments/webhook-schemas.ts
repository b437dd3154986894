// Response shapes of the merchant webhook routes (webhook-endpoints.ts), for the OpenAPI
// document: the shapes public.webhook_endpoint_json and public.webhook_delivery_json build
// (tests/functions/outbound-webhooks.test.ts keeps them equal).
import { z } from "zod";
import { named } from "../_shared/openapi.ts";

const Timestamp = z.iso.datetime({ offset: true });

export const WebhookEndpoint = named(
  "WebhookEndpoint",
  z.object({
    id: z.guid(),
    object: z.literal("webhook_endpoint"),
    url: z.string(),
    events: z.array(z.string()).describe(
      '`["*"]` (every event), event types (`payment_intent.succeeded`) or every type of an object (`payment_intent.*`).',
    ),
    status: z.enum(["active", "disabled"]),
    description: z.string().nullable(),
    disabled_at: Timestamp.nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "Where the merchant's events are POSTed, signed (Standard Webhooks).",
);

export const CreatedWebhookEndpoint = named(
  "CreatedWebhookEndpoint",
  WebhookEndpoint.extend({
    secret: z.string().optional().describe(
      "The signing secret (`whsec_<base64>`), only in the reply that created the endpoint: keep it to verify `webhook-signature`.",
    ),
  }),
  "A webhook endpoint as its create answers it.",
);

export const WebhookDeliveryAttempt = named(
  "WebhookDeliveryAttempt",
  z.object({
    attempt_number: z.number().int(),
    response_status: z.number().int().nullable(),
    error: z.string().nullable().describe(
      "Why the attempt failed (timeout, refused address, HTTP status).",
    ),
    duration_ms: z.number().int().nullable(),
    applied: z.boolean().describe("False for a worker's late answer after it had lost its lease."),
    created_at: Timestamp,
  }),
  "One POST of a delivery.",
);

export const WebhookDelivery = named(
  "WebhookDelivery",
  z.object({
    id: z.guid(),
    object: z.literal("webhook_delivery"),
    event_id: z.guid(),
    endpoint_id: z.guid(),
    event_type: z.string().nullable(),
    status: z.enum(["pending", "delivering", "succeeded", "failed"]),
    attempt_count: z.number().int().describe(
      "Attempts in this run (a redelivery starts a new run).",
    ),
    next_attempt_at: Timestamp.nullable(),
    last_attempt_at: Timestamp.nullable(),
    last_response_status: z.number().int().nullable(),
    last_error: z.string().nullable(),
    redelivery_count: z.number().int(),
    succeeded_at: Timestamp.nullable(),
    failed_at: Timestamp.nullable(),
    attempts: z.array(WebhookDeliveryAttempt),
    created_at: Timestamp,
    updated_at: Timestamp,
  }),
  "One event to one endpoint: pending → delivering → succeeded, or retried with backoff until failed.",
);

export const EventRedelivery = named(
  "EventRedelivery",
  z.object({
    object: z.literal("event_redelivery"),
    event_id: z.guid(),
    deliveries: z.array(WebhookDelivery),
  }),
  "The event's deliveries to the merchant's active endpoints, re-queued.",
);
