// Storing an inbound provider message: every message is stored first (wallet_webhook_events)
// and applied exactly once in the same transaction (hazina.webhook_ingest): duplicates are
// stored as duplicates, bad signatures as rejected, messages for a session we cannot match
// yet as unmatched (applied when the session learns its provider reference).
import type { Context } from "hono";
import { z } from "zod";
import { clientIp } from "../_shared/clientip.ts";
import { config } from "../_shared/config.ts";
import { asService } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { log } from "../_shared/log.ts";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../_shared/providers/hmac.ts";
import type { NormalisedEvent, ProviderName } from "../_shared/providers/types.ts";
import { overRefusalLimit } from "./refusals.ts";

const KEPT_HEADERS = [
  "content-type",
  "user-agent",
  "x-forwarded-for",
  "x-real-ip",
  "x-request-id",
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
];

function storedHeaders(c: Context): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) headers[name] = value.slice(0, 500);
  }
  return headers;
}

/** What storing and applying a message concluded: wallet_webhook_events.status's values. */
export const EventStatus = z.enum([
  "received",
  "processed",
  "unmatched",
  "failed",
  "duplicate",
  "rejected",
  "unconfirmed",
  "refused",
]);

export interface IngestResult {
  event_id: string;
  status: string;
  duplicate: boolean;
  applied: boolean;
  error?: string;
}

export async function ingest(
  c: Context,
  providerName: ProviderName,
  event: NormalisedEvent,
  rawBody: string,
  signatureValid: boolean | null,
): Promise<IngestResult> {
  const [row] = await asService(c.get("requestId"), (tx) =>
    tx`
    select hazina.webhook_ingest(${providerName}, ${event.eventType}, ${event.eventKey}, ${rawBody},
                                 ${tx.json(storedHeaders(c))}, ${signatureValid}, ${
      tx.json(event.payload as never)
    }) as result`);
  const result = row.result as IngestResult;
  log(result.status === "failed" ? "warn" : "info", "webhook", {
    provider: providerName,
    event_type: event.eventType,
    event_key: event.eventKey,
    event_id: result.event_id,
    status: result.status,
    error: result.error,
  });
  return result;
}

/**
 * Store a message we refuse (bad token, signature or source: 401/403; unreadable: 400),
 * for forensics, never applied: the database keeps its first 2 KB and a hash of the whole.
 * Past WEBHOOK_REFUSALS_PER_MINUTE from one address: 429, and nothing is stored.
 */
export async function refuse(
  c: Context,
  providerName: ProviderName,
  eventType: string,
  rawBody: string,
  reason: string,
  status: 400 | 401 | 403,
) {
  const retryAfter = overRefusalLimit(
    clientIp(c) ?? "unknown",
    config().WEBHOOK_REFUSALS_PER_MINUTE,
  );
  if (retryAfter !== null) {
    throw new ApiError(
      429,
      "rate_limited",
      "Too many refused webhook calls from this address; retry later.",
      {
        retry_after_seconds: retryAfter,
      },
    );
  }
  const signatureFailure = status !== 400;
  await ingest(
    c,
    providerName,
    {
      eventType,
      eventKey: `${signatureFailure ? "rejected" : "invalid"}:${crypto.randomUUID()}`,
      payload: { action: signatureFailure ? "rejected" : "invalid", reason },
    },
    rawBody,
    signatureFailure ? false : null,
  );
  if (status === 403) {
    throw new ApiError(403, "forbidden", "This source address may not send these webhooks.");
  }
  if (signatureFailure) {
    throw new ApiError(401, "webhook_unauthenticated", "The webhook could not be authenticated.");
  }
  throw new ApiError(400, "invalid_webhook_payload", "The provider message is invalid.", {
    reason: reason.slice(0, 300),
  });
}

export function parseJson(rawBody: string): unknown {
  return JSON.parse(rawBody);
}

export function describe(err: unknown): string {
  if (err && typeof err === "object" && "issues" in err) {
    const issues = (err as { issues: { path: PropertyKey[]; message: string }[] }).issues;
    return issues.slice(0, 3).map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join(
      "; ",
    );
  }
  return (err as Error)?.message ?? String(err);
}
