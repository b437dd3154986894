// Merchant webhooks end to end: a merchant registers an endpoint (a real local receiver, a
// node:http server that verifies every signature with its own node:crypto HMAC, independent
// of the worker's Web Crypto code), a payment succeeds, the worker delivers the signed event;
// a 500-ing endpoint is retried on the schedule (the worker's clock is injected, nothing
// sleeps) until the delivery fails; several workers racing never deliver an event twice to a
// 2xx endpoint; a slow endpoint times out without holding up the other deliveries or a
// payment; private, loopback and metadata addresses are refused at creation and at
// delivery (DNS rebinding); redeliver; API keys work; the secret never reaches a log line.
import { spawn } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import postgres from "postgres";
import type { z } from "zod";
// @ts-expect-error: plain JavaScript shared with the npm scripts
import { dbmate, edgeDatabaseUrl, withDatabase } from "../../scripts/lib.mjs";

process.env.WEBHOOK_ALLOW_HTTP = "true";
process.env.WEBHOOK_ALLOW_PRIVATE = "true";

import { resetConfigForTests } from "../../functions/_shared/config.ts";
import { checkWebhookUrl } from "../../functions/_shared/webhook-delivery/ssrf.ts";
import { deliverDue, type DeliveryOptions } from "../../functions/_shared/webhook-delivery/worker.ts";
import { app } from "../../functions/payments/app.ts";
import { WebhookDelivery, WebhookEndpoint } from "../../functions/payments/webhook-schemas.ts";
import { admin } from "../helpers/db.ts";
import { type EdgeServer, startEdgeServer } from "../helpers/edge-server.ts";
import { expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { appCaller, httpCaller, idempotencyKey as key, readResponse } from "../helpers/request.ts";

const inProcess = appCaller(app, "/payments");
const overHttp = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1/payments`);

// --- the receiver ----------------------------------------------------------------------

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
const receivedAt = (path: string) => received.filter((r) => r.path === path);

async function startReceiver(): Promise<void> {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({ path, headers: req.headers, body, at: Date.now() });
      if (path.startsWith("/ok-jitter")) {
        setTimeout(() => res.writeHead(204).end(), 40 + Math.random() * 40);
      } else if (path.startsWith("/ok")) {
        res.writeHead(200).end("thanks");
      } else if (path.startsWith("/fail")) {
        res.writeHead(500).end("nope");
      } else if (path.startsWith("/slow")) {
        setTimeout(() => res.writeHead(200).end("late"), 3_000).unref();
      } else if (path.startsWith("/redirect")) {
        res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data" }).end();
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}

/** The Standard Webhooks check, written here with node:crypto (not the worker's code). */
function verifies(secret: string, r: Received, toleranceSeconds = 300): boolean {
  const id = r.headers["webhook-id"] as string;
  const timestamp = r.headers["webhook-timestamp"] as string;
  const signatures = String(r.headers["webhook-signature"] ?? "").split(" ");
  if (!id || !/^[0-9]+$/.test(timestamp ?? "")) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = Buffer.from(createHmac("sha256", key).update(`${id}.${timestamp}.${r.body}`).digest("base64"));
  return signatures.some((s) => {
    const [version, mac] = s.split(",");
    const given = Buffer.from(mac ?? "");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

// --- fixtures ----------------------------------------------------------------------------

let duka: Party;
let amina: Party;

const allowLocal = { allowHttp: true, allowPrivate: true };

/** One worker pass over `merchant`'s deliveries (so parallel suites never deliver each other's). */
function work(merchant: Party, options: Partial<DeliveryOptions> = {}) {
  return deliverDue({ limit: 100, merchantId: merchant.userId, policy: allowLocal, timeoutMs: 2_000, ...options });
}

async function createEndpoint(merchant: Party, body: Record<string, unknown>, token = merchant.token) {
  return await readResponse(await inProcess(token, "POST", "/webhook-endpoints", body, { "idempotency-key": key() }));
}

async function paidIntent(amount = "25.00"): Promise<string> {
  const created = await readResponse(await inProcess(duka.token, "POST", "/intents",
    { amount, customer_id: amina.userId }, { "idempotency-key": key() }));
  expect(created.status).toBe(201);
  const confirmed = await readResponse(await inProcess(amina.token, "POST", `/intents/${created.body.id}/confirm`,
    { sources: [{ type: "wallet", wallet_id: amina.walletId, amount }] }, { "idempotency-key": key() }));
  expect(confirmed.body.status).toBe("succeeded");
  return created.body.id;
}

async function emit(merchant: Party, type = "invoice.paid"): Promise<string> {
  const [row] = await admin`select hazina.event_emit(${merchant.userId}, ${type}, 'invoice', gen_random_uuid(), '{"n": 1}') as id`;
  return row.id;
}

async function deliveriesOf(endpointId: string) {
  return await admin`select d.*, (select count(*)::int from public.webhook_delivery_attempts a where a.delivery_id = d.id) as attempts
                       from public.webhook_deliveries d where d.endpoint_id = ${endpointId} order by d.created_at, d.id`;
}

async function disable(merchant: Party, endpointId: string) {
  const res = await inProcess(merchant.token, "DELETE", `/webhook-endpoints/${endpointId}`);
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  resetConfigForTests();
  await startReceiver();
  await paymentIntentFee();
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  await fund(amina.walletId, "1000.00");
});

afterAll(async () => {
  receiver?.close();
  await expectBooksBalanced();
});

describe("merchant webhooks", () => {
  it("a succeeded payment reaches the endpoint, signed (verified independently); the secret is shown once", async () => {
    const k = key();
    const body = { url: `${receiverUrl}/ok/paid`, events: ["payment_intent.succeeded"] };
    const created = await readResponse(await inProcess(duka.token, "POST", "/webhook-endpoints", body, { "idempotency-key": k }));
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const again = await readResponse(await inProcess(duka.token, "POST", "/webhook-endpoints", body, { "idempotency-key": k }));
    expect([again.status, again.body.id, "secret" in again.body]).toEqual([200, created.body.id, false]);
    const listed = await readResponse(await inProcess(duka.token, "GET", "/webhook-endpoints"));
    expect(listed.body.data.map((e: { id: string }) => e.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const stored = await admin`select to_jsonb(e)::text as row from public.webhook_endpoints e where id = ${created.body.id}`;
    expect(stored[0].row).not.toContain(secret);

    const intentId = await paidIntent();
    const [event] = await admin`select id from public.events where object_id = ${intentId} and type = 'payment_intent.succeeded'`;
    const report = await work(duka);
    expect(report.outcomes.map((o) => [o.event_id, o.status, o.response_status])).toEqual([[event.id, "succeeded", 200]]);

    const [got] = receivedAt("/ok/paid");
    expect(got.headers["webhook-id"]).toBe(event.id);
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifies(secret, got)).toBe(true);
    // The verifier can fail: another body, another secret.
    expect(verifies(secret, { ...got, body: got.body.replace("succeeded", "canceled") })).toBe(false);
    expect(verifies(`whsec_${Buffer.alloc(24, 1).toString("base64")}`, got)).toBe(false);
    const payload = JSON.parse(got.body);
    expect(payload).toMatchObject({ id: event.id, object: "event", type: "payment_intent.succeeded",
      data: { id: intentId, status: "succeeded", amount: "25.0000" } });

    const deliveries = await readResponse(await inProcess(duka.token, "GET", `/webhook-endpoints/${created.body.id}/deliveries`));
    expect(deliveries.body.data).toHaveLength(1);
    expect(deliveries.body.data[0]).toMatchObject({ event_id: event.id, status: "succeeded", attempt_count: 1,
      last_response_status: 200, attempts: [{ attempt_number: 1, response_status: 200, applied: true }] });
    // Nothing more is due: a second pass delivers nothing.
    expect((await work(duka)).processed).toBe(0);
    expect(receivedAt("/ok/paid")).toHaveLength(1);
    await disable(duka, created.body.id);
  });

  it("a merchant API key manages endpoints like the merchant's token; another user sees none", async () => {
    const created = await readResponse(await inProcess(duka.token, "POST", "/api-keys", { name: "hooks" }, { "idempotency-key": key() }));
    const apiKey = created.body.secret as string;
    expect(apiKey).toMatch(/^hz_test_/);
    const endpoint = await createEndpoint(duka, { url: `${receiverUrl}/ok/key`, events: ["*"] }, apiKey);
    expect(endpoint.status).toBe(201);
    const listed = await readResponse(await overHttp(apiKey, "GET", "/webhook-endpoints"));
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((e: { id: string }) => e.id)).toContain(endpoint.body.id);
    const stranger = await readResponse(await overHttp(amina.token, "GET", "/webhook-endpoints"));
    expect(stranger.body.data).toEqual([]);
    expect((await readResponse(await overHttp(amina.token, "GET", `/webhook-endpoints/${endpoint.body.id}/deliveries`))).status).toBe(404);
    expect((await overHttp(amina.token, "DELETE", `/webhook-endpoints/${endpoint.body.id}`)).status).toBe(404);
    const customer = await createEndpoint(amina, { url: `${receiverUrl}/ok/x` });
    expect([customer.status, customer.body.error.code]).toEqual([403, "webhook_endpoints_merchants_only"]);
    expect((await overHttp(undefined, "GET", "/webhook-endpoints")).status).toBe(401);
    const removed = await readResponse(await inProcess(apiKey, "DELETE", `/webhook-endpoints/${endpoint.body.id}`));
    expect(removed.body.status).toBe("disabled");
  });

  it("a 500-ing endpoint is retried on the backoff schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), then failed", async () => {
    const endpoint = await createEndpoint(duka, { url: `${receiverUrl}/fail/retries`, events: ["invoice.overdue"] });
    const eventId = await emit(duka, "invoice.overdue");
    const expectedGaps = [5, 300, 1800, 7200, 18000, 36000, 36000];
    let now = new Date();
    for (let attempt = 1; attempt <= 8; attempt++) {
      const report = await work(duka, { now: () => now });
      expect(report.outcomes.map((o) => [o.event_id, o.response_status, o.attempt_number]), `attempt ${attempt}`)
        .toEqual([[eventId, 500, attempt]]);
      const [d] = await deliveriesOf(endpoint.body.id);
      if (attempt === 8) {
        expect([d.status, d.attempt_count, d.next_attempt_at, d.last_error]).toEqual(["failed", 8, null, "HTTP 500"]);
        break;
      }
      expect(d.status).toBe("pending");
      const gap = (d.next_attempt_at.getTime() - now.getTime()) / 1000;
      expect(gap).toBeGreaterThanOrEqual(expectedGaps[attempt - 1] - 0.002);
      expect(gap).toBeLessThanOrEqual(expectedGaps[attempt - 1] * 1.1 + 0.01);
      // Not a moment early…
      expect((await work(duka, { now: () => new Date(d.next_attempt_at.getTime() - 1000) })).processed).toBe(0);
      now = new Date(d.next_attempt_at.getTime() + 1); // (a Date drops the microseconds)
    }
    const hits = receivedAt("/fail/retries");
    expect(hits).toHaveLength(8);
    expect(new Set(hits.map((h) => h.headers["webhook-id"]))).toEqual(new Set([eventId]));
    const [d] = await deliveriesOf(endpoint.body.id);
    expect(d.attempts).toBe(8);
    // A dead delivery stays dead, whatever the time.
    expect((await work(duka, { now: () => new Date(Date.now() + 90 * 86400_000) })).processed).toBe(0);

    // The merchant asks again: a new run, the same webhook-id; a replay of the key queues nothing more.
    const k = key();
    const redeliver = await readResponse(await inProcess(duka.token, "POST", `/events/${eventId}/redeliver`, undefined, { "idempotency-key": k }));
    expect(redeliver.status).toBe(200);
    expect(redeliver.body.deliveries.map((x: { status: string; attempt_count: number }) => [x.status, x.attempt_count]))
      .toEqual([["pending", 0]]);
    const replay = await inProcess(duka.token, "POST", `/events/${eventId}/redeliver`, undefined, { "idempotency-key": k });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await deliveriesOf(endpoint.body.id))[0].redelivery_count).toBe(1);
    expect((await work(duka)).outcomes.map((o) => [o.event_id, o.attempt_number])).toEqual([[eventId, 9]]);
    expect(receivedAt("/fail/retries").at(-1)!.headers["webhook-id"]).toBe(eventId);
    const other = await partyWithWallet("merchant");
    const foreign = await readResponse(await inProcess(other.token, "POST", `/events/${eventId}/redeliver`, undefined, { "idempotency-key": key() }));
    expect([foreign.status, foreign.body.error.code]).toEqual([404, "event_not_found"]);
    await disable(duka, endpoint.body.id);
  });

  it("several workers racing deliver each event exactly once to a 2xx endpoint", async () => {
    const merchant = await partyWithWallet("merchant");
    const endpoint = await createEndpoint(merchant, { url: `${receiverUrl}/ok/race`, events: ["invoice.*"] });
    const events = new Set<string>();
    for (let i = 0; i < 30; i++) events.add(await emit(merchant));
    // A pass with no time budget left claims nothing (the job's budget is 15 s).
    expect((await work(merchant, { maxPassMs: 0 })).processed).toBe(0);
    const workers = Array.from({ length: 6 }, (_, i) =>
      work(merchant, { worker: `racer-${i}`, concurrency: 4, maxInFlightPerEndpoint: 1000 }));
    const reports = await Promise.all(workers);
    expect(reports.reduce((n, r) => n + r.processed, 0)).toBe(30);
    expect(reports.filter((r) => r.processed > 0).length).toBeGreaterThan(1); // they did race
    const hits = receivedAt("/ok/race");
    expect(hits).toHaveLength(30);
    expect(new Set(hits.map((h) => h.headers["webhook-id"]))).toEqual(events);
    const deliveries = await deliveriesOf(endpoint.body.id);
    expect(deliveries.map((d) => [d.status, d.attempt_count, d.attempts])).toEqual(Array(30).fill(["succeeded", 1, 1]));
    // And nobody delivers them again.
    const again = await Promise.all([work(merchant), work(merchant), work(merchant, { now: () => new Date(Date.now() + 86400_000) })]);
    expect(again.map((r) => r.processed)).toEqual([0, 0, 0]);
    expect(receivedAt("/ok/race")).toHaveLength(30);
    await disable(merchant, endpoint.body.id);
  });

  it("a slow endpoint times out without holding up other deliveries or a payment", async () => {
    const slow = await createEndpoint(duka, { url: `${receiverUrl}/slow/hook`, events: ["payment_intent.*"] });
    const fast = await createEndpoint(duka, { url: `${receiverUrl}/ok/fast`, events: ["payment_intent.succeeded"] });
    // A payment while a delivery to the slow endpoint is in flight is as quick as ever.
    const eventId = await emit(duka, "payment_intent.custom_test");
    const inFlight = work(duka, { timeoutMs: 2_500, concurrency: 1, limit: 1 });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const intentId = await paidIntent("5.00");
    expect(Date.now() - started).toBeLessThan(2_000);
    const first = await inFlight;
    expect(first.outcomes.find((o) => o.event_id === eventId)).toMatchObject({ error: "timeout after 2500 ms", status: "pending" });

    // The intent's events: the slow endpoint times out, the fast one gets its delivery at once.
    const passStarted = Date.now();
    const report = await work(duka, { timeoutMs: 1_000, concurrency: 4 });
    const fastHit = receivedAt("/ok/fast").find((h) => JSON.parse(h.body).data.id === intentId);
    expect(fastHit).toBeDefined();
    expect(fastHit!.at - passStarted).toBeLessThan(900); // before the slow one's timeout
    expect(Date.now() - passStarted).toBeLessThan(2_500);
    const bySlow = report.outcomes.filter((o) => o.endpoint_id === slow.body.id);
    expect(bySlow.length).toBeGreaterThan(0);
    expect(bySlow.every((o) => o.error === "timeout after 1000 ms" && o.status === "pending")).toBe(true);
    expect(report.outcomes.filter((o) => o.endpoint_id === fast.body.id).map((o) => o.status)).toEqual(["succeeded"]);
    await disable(duka, slow.body.id);
    await disable(duka, fast.body.id);
    expect((await deliveriesOf(slow.body.id)).every((d) => d.status === "failed" && d.last_error === "endpoint disabled")).toBe(true);
  });

  it("refuses private, loopback, link-local and metadata addresses, at creation and at delivery", async () => {
    // Over the real server, configured as production would be (no WEBHOOK_ALLOW_*).
    const refused: [string, string][] = [
      ["http://127.0.0.1:9/hook", "scheme_not_allowed"],
      ["https://127.0.0.1/hook", "address_not_allowed"],
      ["https://169.254.169.254/latest/meta-data", "address_not_allowed"],
      ["https://10.1.2.3/hook", "address_not_allowed"],
      ["https://192.168.1.10/hook", "address_not_allowed"],
      ["https://[::1]/hook", "address_not_allowed"],
      ["https://[::ffff:10.0.0.1]/hook", "address_not_allowed"],
      ["https://[fd00::1]/hook", "address_not_allowed"],
      ["https://localhost/hook", "address_not_allowed"],
      ["https://user:pw@example.com/hook", "credentials_in_url"],
      ["ftp://example.com/hook", "scheme_not_allowed"],
    ];
    for (const [url, reason] of refused) {
      const res = await readResponse(await overHttp(duka.token, "POST", "/webhook-endpoints", { url, events: ["*"] },
        { "idempotency-key": key() }));
      expect([res.status, res.body.error?.code, res.body.error?.details?.reason], url).toEqual([400, "webhook_url_not_allowed", reason]);
    }
    const policy = { allowHttp: false, allowPrivate: false };
    expect(await checkWebhookUrl("https://hooks.example.com/x", { ...policy, resolve: async () => ["93.184.216.34"] })).toBeNull();
    expect((await checkWebhookUrl("https://hooks.example.com/x", { ...policy, resolve: async () => ["93.184.216.34", "10.0.0.8"] }))?.reason)
      .toBe("address_not_allowed");

    // At delivery: an endpoint accepted earlier whose host now resolves inward (DNS rebinding),
    // and a loopback URL once private addresses are no longer allowed. Nothing is sent.
    const rebound = await createEndpoint(duka, { url: "https://hooks.rebind.example/x", events: ["invoice.voided"] });
    const loopback = await createEndpoint(duka, { url: `${receiverUrl}/ok/loopback`, events: ["invoice.voided"] });
    await emit(duka, "invoice.voided");
    const before = received.length;
    const report = await work(duka, {
      policy: { allowHttp: true, allowPrivate: false, resolve: async () => ["169.254.169.254"] },
    });
    const errors = Object.fromEntries(report.outcomes.map((o) => [o.endpoint_id, o.error]));
    expect(errors[rebound.body.id]).toBe("refused (address_not_allowed): 169.254.169.254");
    expect(errors[loopback.body.id]).toBe("refused (address_not_allowed): 127.0.0.1");
    expect(received.length).toBe(before);

    // A redirect is never followed (it could point inward): a failed attempt.
    const redirect = await createEndpoint(duka, { url: `${receiverUrl}/redirect/x`, events: ["invoice.sent"] });
    await emit(duka, "invoice.sent");
    const bounced = await work(duka);
    expect(bounced.outcomes.filter((o) => o.endpoint_id === redirect.body.id).map((o) => [o.response_status, o.error]))
      .toEqual([[302, "redirects are not followed"]]);
    for (const e of [rebound, loopback, redirect]) await disable(duka, e.body.id);
  });

  it("validates the subscription and answers endpoints and deliveries in their documented shapes", async () => {
    const bad: unknown[] = [["*", "invoice.paid"], [], ["Invoice Paid"], ["invoice"], "*"];
    for (const events of bad) {
      const res = await createEndpoint(duka, { url: `${receiverUrl}/ok/v`, events });
      expect([res.status, res.body.error?.code], JSON.stringify(events)).toEqual([400, "validation_failed"]);
    }
    const noKey = await inProcess(duka.token, "POST", "/webhook-endpoints", { url: `${receiverUrl}/ok/v` });
    expect((await noKey.json()).error.code).toBe("idempotency_key_required");
    const endpoint = await createEndpoint(duka, { url: `${receiverUrl}/ok/shape`, events: ["invoice.shaped"] });
    await emit(duka, "invoice.shaped");
    await work(duka);
    const [{ endpoint: ep, delivery }] = await admin`
      select public.webhook_endpoint_json(e) as endpoint, public.webhook_delivery_json(d) as delivery
        from public.webhook_endpoints e join public.webhook_deliveries d on d.endpoint_id = e.id where e.id = ${endpoint.body.id}`;
    for (const [schema, json] of [[WebhookEndpoint, ep], [WebhookDelivery, delivery]] as const) {
      const object = schema as unknown as z.ZodObject;
      expect(Object.keys(json).sort()).toEqual(Object.keys(object.shape).sort());
      expect(object.strict().safeParse(json).error?.issues ?? []).toEqual([]);
    }
    await disable(duka, endpoint.body.id);
    await emit(duka, "invoice.shaped");
    expect((await deliveriesOf(endpoint.body.id))).toHaveLength(1); // disabled: no new deliveries
  });
});

describe("the job runner's delivery on the real server", () => {
  const SWEEP_SECRET = `sweep-${crypto.randomUUID().replaceAll("-", "")}`;
  let server: EdgeServer;

  beforeAll(async () => {
    server = await startEdgeServer({
      DATABASE_URL: process.env.EDGE_DATABASE_URL ?? process.env.DATABASE_URL,
      EDGE_DATABASE_URL: undefined,
      LOG_LEVEL: "debug",
      SWEEP_SECRET,
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOW_PRIVATE: "true",
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("delivers through POST /ops/jobs/run (as pg_cron + pg_net would), and never logs the secret or a signature", async () => {
    const merchant = await partyWithWallet("merchant");
    const base = `${server.baseUrl}/functions/v1`;
    const created = await readResponse(await fetch(`${base}/payments/webhook-endpoints`, {
      method: "POST",
      headers: { authorization: `Bearer ${merchant.token}`, "content-type": "application/json", "idempotency-key": key() },
      body: JSON.stringify({ url: `${receiverUrl}/ok/logged`, events: ["invoice.logged"] }),
    }));
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    const eventId = await emit(merchant, "invoice.logged");
    const run = await readResponse(await fetch(`${base}/ops/jobs/run`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-sweep-secret": SWEEP_SECRET },
      body: JSON.stringify({ job: "webhooks.deliver" }),
    }));
    expect(run.status).toBe(200);
    const hit = receivedAt("/ok/logged").find((h) => h.headers["webhook-id"] === eventId);
    expect(hit).toBeDefined();
    expect(verifies(secret, hit!)).toBe(true);
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !server.output().includes("webhook delivery attempt")) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const output = server.output();
    expect(output).toContain("webhook delivery attempt");
    expect(output).not.toContain(secret);
    expect(output).not.toContain(secret.slice("whsec_".length));
    expect(output).not.toContain(String(hit!.headers["webhook-signature"]).slice(3));
    const [d] = await admin`select status from public.webhook_deliveries where event_id = ${eventId}`;
    expect(d.status).toBe("succeeded");
    await fetch(`${base}/payments/webhook-endpoints/${created.body.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${merchant.token}` },
    });
  });
});

describe("job runner processes racing", () => {
  // A database of its own: each runner delivers every due delivery there is.
  const root = path.resolve(import.meta.dirname, "../..");
  const database = `hazina_webhooks_${Date.now()}_${process.pid}`;
  const ownerUrl = withDatabase(process.env.DATABASE_URL!, database);
  const serverAdmin = postgres(withDatabase(process.env.DATABASE_URL!, "postgres"), { max: 1, onnotice: () => {} });
  let sql: postgres.Sql;

  beforeAll(async () => {
    await serverAdmin.unsafe(`create database "${database}"`);
    dbmate(ownerUrl, ["--no-dump-schema", "up"], { quiet: true });
    sql = postgres(ownerUrl, { max: 2, onnotice: () => {} });
  }, 60_000);
  afterAll(async () => {
    await sql?.end();
    await serverAdmin.unsafe(`drop database if exists "${database}" with (force)`);
    await serverAdmin.end();
  });

  function runner(): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(path.join(root, "node_modules/.bin/deno"),
      ["run", "--allow-net", "--allow-env", "--allow-read", "scripts/jobs.ts", "--once", "--drain", "--job", "webhooks.deliver"], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: edgeDatabaseUrl(ownerUrl), EDGE_DATABASE_URL: undefined, LOG_LEVEL: "warn",
               WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_CONCURRENCY: "3" },
        stdio: ["ignore", "pipe", "pipe"],
      });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
  }

  it("three `npm run jobs` processes deliver each of 20 events to each of 6 endpoints exactly once", { timeout: 60_000 }, async () => {
    const [merchant] = await sql`insert into public.auth_users (email, role) values ('duka@webhooks.test', 'merchant') returning id`;
    // Six endpoints (one endpoint allows 3 deliveries in flight at a time, so one runner could hold it all).
    const endpoints = await sql`select (hazina.webhook_endpoint_create(${merchant.id}, ${`${receiverUrl}/ok-jitter/runners/`} || n,
      array['*'], null, 'runners-endpoint-' || n)) as e from generate_series(1, 6) n`;
    const secrets = new Map(endpoints.map((r) => [`/ok-jitter/runners/${r.e.url.split("/").at(-1)}`, r.e.secret as string]));
    await sql`select hazina.event_emit(${merchant.id}, 'invoice.paid', 'invoice', gen_random_uuid(), jsonb_build_object('n', n))
                from generate_series(1, 20) n`;
    // Small passes, so the runners really interleave.
    await sql`update hazina.jobs set batch_size = 4 where name = 'webhooks.deliver'`;
    const results = await Promise.all([1, 2, 3].map(() => runner()));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const processed = results.map((r) =>
      (JSON.parse(r.stdout.trim().split("\n").at(-1)!).runs as { report: { processed: number } }[])
        .reduce((n, run) => n + run.report.processed, 0));
    console.log(`webhook runners race: ${processed.join(" + ")} deliveries`);
    expect(processed.reduce((a, b) => a + b, 0)).toBe(120);
    const hits = received.filter((h) => h.path.startsWith("/ok-jitter/runners/"));
    expect(hits).toHaveLength(120);
    const events = await sql`select id from public.events where merchant_id = ${merchant.id}`;
    expect(new Set(hits.map((h) => `${h.path} ${h.headers["webhook-id"]}`)).size).toBe(120); // no pair twice
    expect(new Set(hits.map((h) => h.headers["webhook-id"]))).toEqual(new Set(events.map((e) => e.id)));
    expect(hits.every((h) => verifies(secrets.get(h.path)!, h))).toBe(true);
    expect(await sql`select status, attempt_count, count(*)::int as n from public.webhook_deliveries group by 1, 2`)
      .toEqual([{ status: "succeeded", attempt_count: 1, n: 120 }]);
    expect((await sql`select count(*)::int as n from public.webhook_delivery_attempts`)[0].n).toBe(120);
  });
});
