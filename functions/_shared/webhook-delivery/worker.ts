// The webhook delivery worker: one bounded pass POSTs due deliveries (public.webhook_deliveries,
// database/migrations/*_webhook_delivery.sql) to their merchants' endpoints, signed the
// Standard Webhooks way (sign.ts). Run as the job `webhooks.deliver` by every job runner
// (`npm start`, `npm run jobs`, pg_cron + pg_net through POST /ops/jobs/run).
//
// Each of `concurrency` slots loops: claim ONE due delivery with a lease (a short
// transaction: `for update skip locked`), check its URL again (SSRF, DNS rebinding), POST it
// OUTSIDE any transaction with a per-request timeout, record the attempt (another short
// transaction, which decides the outcome only while this worker still holds the lease). So a
// slow endpoint holds one slot for at most the timeout, never a transaction, never a
// payment (deliveries are created by a trigger and sent later), and never the other
// deliveries (other slots go on; the claim also skips endpoints with too many deliveries in
// flight). The lease (2 × timeout + 30 s) outlives any attempt, so no other worker claims a
// delivery while its POST may still succeed: a 2xx endpoint gets each event once, however
// many workers run (tests/functions/outbound-webhooks.test.ts races several).
import { config } from "../config.ts";
import { asService } from "../db.ts";
import { log } from "../log.ts";
import { checkWebhookUrl, type UrlPolicy } from "./ssrf.ts";
import { webhookHeaders } from "./sign.ts";

export interface DeliveryOptions {
  /** At most this many deliveries in this pass. */
  limit: number;
  requestId?: string;
  /** This worker's lease name (default: a random one per pass). */
  worker?: string;
  /** Deliveries in flight at once (default WEBHOOK_CONCURRENCY). */
  concurrency?: number;
  /** Per-request timeout (default WEBHOOK_TIMEOUT_MS). */
  timeoutMs?: number;
  /** The SSRF policy (default WEBHOOK_ALLOW_HTTP / WEBHOOK_ALLOW_PRIVATE). */
  policy?: UrlPolicy;
  /** The clock deliveries are due by and retries scheduled from (default: the database's, hazina.clock()). */
  now?: () => Date;
  /** Only this merchant's deliveries (tests, so parallel suites do not deliver each other's). */
  merchantId?: string;
  /**
   * Stop claiming new deliveries after this many milliseconds (attempts in flight finish,
   * within their timeout), so one pass never holds its runner's other jobs for long.
   */
  maxPassMs?: number;
  /** At most this many deliveries in flight per endpoint (default WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT; claim-time, soft). */
  maxInFlightPerEndpoint?: number;
}

export interface DeliveryOutcome {
  delivery_id: string;
  event_id: string;
  endpoint_id: string;
  attempt_number: number;
  response_status: number | null;
  error: string | null;
  status: string;
  duration_ms: number;
}

export interface DeliveryReport {
  processed: number;
  remaining: number;
  succeeded: number;
  failed_attempts: number;
  outcomes: DeliveryOutcome[];
}

interface Claimed {
  delivery_id: string;
  event_id: string;
  endpoint_id: string;
  url: string;
  secret: string;
  payload: string;
  attempt_number: number;
}

/** What a refused, failed or timed-out attempt records (at most 500 characters). */
function describeError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") {
    return `timeout after ${timeoutMs} ms`;
  }
  const detail = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return `request failed: ${detail}`.slice(0, 500);
}

/** POST one claimed delivery; never throws (every outcome is an attempt to record). */
async function attempt(
  claimed: Claimed,
  policy: UrlPolicy,
  timeoutMs: number,
): Promise<{ status: number | null; error: string | null; ms: number }> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const refusal = await checkWebhookUrl(claimed.url, policy);
  if (refusal) {
    return {
      status: null,
      error: `refused (${refusal.reason})${refusal.address ? `: ${refusal.address}` : ""}`,
      ms: ms(),
    };
  }
  try {
    // The timestamp is this attempt's real time (receivers compare it with their clock).
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = await webhookHeaders(
      claimed.secret,
      claimed.event_id,
      timestamp,
      claimed.payload,
    );
    const res = await fetch(claimed.url, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        "user-agent": "Hazina-Webhooks/1",
      },
      body: claimed.payload,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is not read (nothing in it counts); drop it so the connection is freed.
    await res.body?.cancel().catch(() => {});
    if (res.status >= 300 && res.status < 400) {
      return { status: res.status, error: "redirects are not followed", ms: ms() };
    }
    return {
      status: res.status,
      error: res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`,
      ms: ms(),
    };
  } catch (err) {
    return { status: null, error: describeError(err, timeoutMs), ms: ms() };
  }
}

/** One bounded pass: claim, send and record up to `limit` due deliveries. */
export async function deliverDue(options: DeliveryOptions): Promise<DeliveryReport> {
  const cfg = config();
  const requestId = options.requestId ?? `webhooks:${crypto.randomUUID()}`;
  const worker = options.worker ?? `worker-${crypto.randomUUID()}`;
  const concurrency = Math.max(1, options.concurrency ?? cfg.WEBHOOK_CONCURRENCY);
  const timeoutMs = options.timeoutMs ?? cfg.WEBHOOK_TIMEOUT_MS;
  const policy = options.policy ??
    { allowHttp: cfg.WEBHOOK_ALLOW_HTTP, allowPrivate: cfg.WEBHOOK_ALLOW_PRIVATE };
  const maxInFlight = options.maxInFlightPerEndpoint ?? cfg.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT;
  const leaseSeconds = Math.ceil((2 * timeoutMs) / 1000) + 30;
  const nowIso = () => (options.now ? options.now().toISOString() : null);
  const outcomes: DeliveryOutcome[] = [];
  let reserved = 0;
  const deadline = Date.now() + (options.maxPassMs ?? Infinity);

  async function claimOne(): Promise<Claimed | undefined> {
    const rows = await asService(
      requestId,
      (tx) =>
        tx`select delivery_id, event_id, endpoint_id, url, secret, payload, attempt_number
             from hazina.webhook_deliveries_claim(${worker}, 1, ${`${leaseSeconds} seconds`}::interval,
                                                  ${nowIso()}::timestamptz, ${
          options.merchantId ?? null
        }::uuid,
                                                  ${maxInFlight}::integer)`,
    );
    return rows[0] as unknown as Claimed | undefined;
  }

  async function slot(): Promise<void> {
    while (reserved < options.limit && Date.now() < deadline) {
      reserved++;
      const claimed = await claimOne();
      if (!claimed) {
        reserved--;
        return;
      }
      const result = await attempt(claimed, policy, timeoutMs);
      const [row] = await asService(
        requestId,
        (tx) =>
          tx`select hazina.webhook_delivery_record(${claimed.delivery_id}, ${worker}, ${claimed.url},
               ${result.status}::integer, ${result.error}, ${result.ms}::integer, ${nowIso()}::timestamptz) as d`,
      );
      const outcome: DeliveryOutcome = {
        delivery_id: claimed.delivery_id,
        event_id: claimed.event_id,
        endpoint_id: claimed.endpoint_id,
        attempt_number: claimed.attempt_number,
        response_status: result.status,
        error: result.error,
        status: (row.d as { status: string }).status,
        duration_ms: result.ms,
      };
      outcomes.push(outcome);
      // Ids, statuses and errors only: never the secret, the payload or the signature.
      log(result.error ? "warn" : "debug", "webhook delivery attempt", {
        request_id: requestId,
        ...outcome,
      });
    }
  }

  await Promise.all(Array.from({ length: concurrency }, () => slot()));
  const [backlog] = await asService(
    requestId,
    (tx) => tx`select hazina.webhook_delivery_backlog(${nowIso()}::timestamptz)::text as remaining`,
  );
  return {
    processed: outcomes.length,
    remaining: Number(backlog.remaining),
    succeeded: outcomes.filter((o) => o.status === "succeeded").length,
    failed_attempts: outcomes.filter((o) => o.error !== null).length,
    outcomes,
  };
}
