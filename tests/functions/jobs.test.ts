// The job runner: two runner processes racing over the same overdue holds give one outcome
// (each hold released exactly once, the counts add up, the books reconcile); a stuck
// withdrawal's hold is released by the runner with nobody calling /webhooks/sweep; admins
// see every job's last run and backlog (GET /ops/jobs) and run a pass now (POST /ops/jobs/run).
import { spawn } from "node:child_process";
import path from "node:path";
import process from "node:process";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app as ops } from "../../functions/ops/app.ts";
import { edgeJobs } from "../../functions/_shared/jobs/registry.ts";
// @ts-expect-error: plain JavaScript shared with the npm scripts
import { dbmate, edgeDatabaseUrl, withDatabase } from "../../scripts/lib.mjs";
import { admin, createUser } from "../helpers/db.ts";
import { balanceOf, expectBooksBalanced, partyWithWallet } from "../helpers/money.ts";
import { difference } from "../helpers/decimal.ts";
import { feeFor, type MoneyStack, randomMsisdn, startMoneyStack, SWEEP_SECRET, waitFor } from "../helpers/money-movement.ts";
import { accessToken } from "../helpers/tokens.ts";

const root = path.resolve(import.meta.dirname, "../..");

interface RunnerResult { code: number | null; stdout: string; stderr: string }

/** `npm run jobs -- <args>` as its own process, logged in as `databaseUrl`. */
function runner(databaseUrl: string, args: string[]): Promise<RunnerResult> {
  const child = spawn(path.join(root, "node_modules/.bin/deno"), ["run", "--allow-net", "--allow-env", "--allow-read", "scripts/jobs.ts", ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, EDGE_DATABASE_URL: undefined, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

function runsOf(result: RunnerResult): { job: string; report: { processed: number; remaining: number }; error: string | null }[] {
  const last = result.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last).runs;
}

describe("two runners at once", () => {
  // A database of its own: the race is over every overdue hold there is.
  const database = `hazina_jobs_${Date.now()}_${process.pid}`;
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

  it("release each of 40 overdue holds exactly once; the counts add up and the books reconcile", { timeout: 60_000 }, async () => {
    const [payer, payee] = await sql`insert into public.auth_users (email) values ('payer@jobs.test'), ('payee@jobs.test') returning id`;
    const [a, b] = (await sql`insert into public.wallets (user_id, kind) values (${payer.id}, 'user'), (${payee.id}, 'user') returning id`).map((w) => w.id);
    await sql`select hazina.post_transaction('jobs-fund', 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', '1000'),
      jsonb_build_object('wallet_id', ${a}::text, 'direction', 'credit', 'amount', '1000')))`;
    await sql`select hazina.hold_create('jobs-hold-' || n, ${a}, ${b}, 5, now() + interval '1 hour') from generate_series(1, 40) n`;
    await sql`update public.wallet_holds set expires_at = now() - interval '1 second'`;
    // Small passes, so the two runners really interleave.
    await sql`update hazina.jobs set batch_size = 3 where name = 'holds.expire'`;

    const edgeUrl = edgeDatabaseUrl(ownerUrl);
    const [first, second] = await Promise.all([1, 2].map(() => runner(edgeUrl, ["--once", "--drain", "--job", "holds.expire"])));
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    const passes = [...runsOf(first), ...runsOf(second)];
    const released = (result: RunnerResult) => runsOf(result).reduce((sum, run) => sum + run.report.processed, 0);
    console.log(`jobs race: runner 1 released ${released(first)} holds, runner 2 ${released(second)}`);
    expect(passes.every((run) => run.error === null && run.report.processed <= 3)).toBe(true);
    expect(passes.reduce((sum, run) => sum + run.report.processed, 0)).toBe(40);

    const holds = await sql`select status, count(*)::int as n from public.wallet_holds group by status`;
    expect(holds).toEqual([{ status: "expired", n: 40 }]);
    const [wallet] = await sql`select balance::text, held::text from public.wallets where id = ${a}`;
    expect(wallet).toEqual({ balance: "1000.0000", held: "0.0000" });
    expect(await sql`select * from hazina.reconcile()`).toEqual([]);
    // Every pass of both runners is recorded.
    const [status] = await sql`select run_count::int, last_status from public.job_runs where name = 'holds.expire'`;
    expect(status).toEqual({ run_count: passes.length, last_status: "succeeded" });
  });
});

describe("the runner", () => {
  let stack: MoneyStack;
  beforeAll(async () => {
    stack = await startMoneyStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("settles a stuck withdrawal (hold posted, money out) with nobody calling /webhooks/sweep", { timeout: 60_000 }, async () => {
    const party = await partyWithWallet();
    const msisdn = randomMsisdn();
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${stack.functionsUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${party.token}`, "content-type": "application/json", "idempotency-key": `jobs-${crypto.randomUUID()}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    const source = await call("POST", "/funding/sources", { provider: "mpesa", msisdn });
    expect(source.status).toBe(201);
    const topUp = await call("POST", "/funding", { source_id: source.body.id, amount: "1000" });
    expect(topUp.status).toBe(201);
    await stack.sandbox.idle();
    await waitFor(async () => (await call("GET", `/funding/${topUp.body.id}`)).body.status === "completed", "the top-up");
    const start = await balanceOf(party.walletId);

    // The payout's reply is lost (HTTP 504: M-Pesa paid, we cannot know): the outcome is
    // unknown, so the hold stays until M-Pesa's word. (A 503 is a definite refusal: the
    // withdrawal would fail at once, see callback-trust.test.ts.)
    stack.sandbox.setScenario(msisdn, "lost_response");
    const withdrawal = await call("POST", "/withdrawals", { source_id: source.body.id, amount: "150" });
    expect(withdrawal.body).toMatchObject({ status: "pending", submitted: true });
    const [{ held }] = await admin`select held::text from public.wallets where id = ${party.walletId}`;
    expect(held).not.toBe("0.0000");
    await admin`update public.wallet_withdrawals set expires_at = now() - interval '1 second' where id = ${withdrawal.body.id}`;

    // The runner's pass of the provider sweep (not the endpoint) asks the provider and settles it.
    const result = await runner(process.env.EDGE_DATABASE_URL!, ["--once", "--job", "money.provider_sweep"]);
    expect(result.code, result.stderr).toBe(0);
    expect(runsOf(result)[0]).toMatchObject({ job: "money.provider_sweep", error: null });
    await stack.sandbox.idle();
    await waitFor(async () => (await call("GET", `/withdrawals/${withdrawal.body.id}`)).body.status === "completed", "the payout's status");
    const [after] = await admin`select held::text from public.wallets where id = ${party.walletId}`;
    expect(after.held).toBe("0.0000");
    expect(await balanceOf(party.walletId)).toBe(difference(start, "150", await feeFor("withdrawal", "150", party.userId)));
    const [status] = await admin`select last_status, last_report from public.job_runs where name = 'money.provider_sweep'`;
    expect(status.last_status).toBe("succeeded");
    expect(status.last_report).toMatchObject({ processed: expect.any(Number), remaining: expect.any(Number) });
    await expectBooksBalanced();
  });
});

describe("ops: jobs", () => {
  const request = (headers: Record<string, string>, method: string, route: string, body?: unknown) =>
    ops.request(`/ops${route}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("every edge job in the catalog has its pass in the registry, and nothing else is there", async () => {
    const catalog = await admin`select name from hazina.jobs where runs_in = 'edge' order by name`;
    expect(catalog.map((row) => row.name)).toEqual(Object.keys(edgeJobs).sort());
  });

  it("shows admins each job's schedule, last run and backlog, runs a pass now; everyone else gets 403", async () => {
    const adminToken = await accessToken(await createUser("admin"), { appRole: "admin" });
    const customer = await createUser();
    const forged = await accessToken(customer, { appRole: "admin" });
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    expect((await request(bearer(forged), "GET", "/jobs")).status).toBe(403);
    const refused = await request(bearer(forged), "POST", "/jobs/run", { job: "holds.expire" });
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe("forbidden");
    expect((await request({}, "POST", "/jobs/run", {})).status).toBe(401);
    expect((await request({ "x-sweep-secret": "wrong-secret-0123456789abcdef" }, "POST", "/jobs/run", {})).status).toBe(403);

    const run = await request(bearer(adminToken), "POST", "/jobs/run", { job: "holds.expire" });
    expect(run.status).toBe(200);
    expect((await run.json()).runs).toEqual([
      { job: "holds.expire", report: { processed: expect.any(Number), remaining: expect.any(Number) }, error: null },
    ]);
    const unknown = await request(bearer(adminToken), "POST", "/jobs/run", { job: "no.such_job" });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("job_not_found");
    const bad = await request(bearer(adminToken), "POST", "/jobs/run", { job: "holds.expire", limit: 0 });
    expect(bad.status).toBe(400);

    // A scheduler (pg_cron + pg_net) presents the sweep secret.
    process.env.SWEEP_SECRET ??= SWEEP_SECRET;
    const { resetConfigForTests } = await import("../../functions/_shared/config.ts");
    resetConfigForTests();
    const scheduled = await request({ "x-sweep-secret": process.env.SWEEP_SECRET! }, "POST", "/jobs/run", { job: "idempotency.purge" });
    expect(scheduled.status).toBe(200);

    const list = await request(bearer(adminToken), "GET", "/jobs");
    expect(list.status).toBe(200);
    const { data } = await list.json();
    const names = (await admin`select name from hazina.jobs order by name`).map((row) => row.name);
    expect(data.map((job: { name: string }) => job.name)).toEqual(names);
    const holds = data.find((job: { name: string }) => job.name === "holds.expire");
    expect(holds).toMatchObject({
      runs_in: "database", every_seconds: 60, batch_size: expect.any(Number), last_status: "succeeded",
      run_count: expect.any(Number), backlog: expect.any(Number), last_started_at: expect.any(String),
    });
    expect(holds.run_count).toBeGreaterThanOrEqual(1);
  });
});
