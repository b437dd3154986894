// The HTTP path of `npm run bench`: POST /wallets/transfers against the real Deno server
// (scripts/serve.ts) on a fresh copy of the bench database, from N concurrent keep-alive
// clients. Each client is a loop: a random payer among the funded wallets pays another
// random wallet 1.00 (fee charged) under a fresh Idempotency-Key, with the payer's own
// access token. The load generator is plain node:http with a keep-alive agent in this
// process: a few thousand requests a second cost it little next to the server and the
// database (it shares the machine with them, as any local load generator does).
// Reported per client count: transfers/s (201s), p50 / p99 latency, non-201 answers, and
// database commits per request (pg_stat_database xact_commit of the copy, whole run).
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { SignJWT } from "jose";
import postgres from "postgres";
import { freePort } from "./free-port.mjs";
import { bin, root } from "./lib.mjs";

const secret = "hazina-bench-secret-0123456789-0123456789-abcdef";

async function startEdge(dbUrl, env) {
  const port = await freePort();
  const child = spawn(bin("deno"), [
    "run",
    "--unstable-no-legacy-abort",
    "--unstable-net",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-run",
    "scripts/serve.ts",
  ], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      DATABASE_URL: dbUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      JWT_SECRET: secret,
      LOG_LEVEL: "error",
      HAZINA_ENV: "development",
    },
    stdio: ["ignore", "ignore", "inherit"],
    detached: true, // its own process group: stopping it stops every process it serves with
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/functions/v1/health`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          resolve();
        }
      }),
  };
}

/** Access tokens for every funded wallet's owner (n ≥ 1), as the auth service mints them. */
export async function benchPayers(dbUrl) {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const rows = await sql`select b.n, b.wallet_id, w.user_id from public.bench_wallets b
                           join public.wallets w on w.id = b.wallet_id where b.n > 0 order by b.n`;
  await sql.end();
  const key = new TextEncoder().encode(secret);
  const payers = [];
  for (const row of rows) {
    const token = await new SignJWT({ role: "authenticated", app_metadata: { role: "customer" } })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(row.user_id).setAudience(
        "authenticated",
      )
      .setIssuedAt().setExpirationTime("2h").sign(key);
    payers.push({ walletId: row.wallet_id, token });
  }
  return payers;
}

function post(agent, base, pathName, token, body, key) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(`${base}${pathName}`, {
      method: "POST",
      agent,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "idempotency-key": key,
        "content-length": Buffer.byteLength(payload),
      },
    }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

async function commits(sql) {
  await sql`select pg_stat_clear_snapshot()`;
  const [{ n }] =
    await sql`select xact_commit::bigint::text as n from pg_stat_database where datname = current_database()`;
  return BigInt(n);
}

const percentile = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;

/**
 * One measurement: start the edge on `dbUrl`, run `clients` loops for `seconds`, stop it.
 * `edgeEnv` passes server settings (DB_POOL_MAX, EDGE_PROCESSES).
 */
export async function measureHttp(dbUrl, payers, clients, seconds, edgeEnv = {}) {
  const edge = await startEdge(dbUrl, edgeEnv);
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const latencies = [];
  const others = new Map();
  let ok = 0;
  let counter = 0;
  try {
    // Warm up (connections, JIT) before counting.
    const warmUntil = Date.now() + 1000;
    const loop = async (until, record) => {
      while (Date.now() < until) {
        const from = payers[Math.floor(Math.random() * payers.length)];
        let to = payers[Math.floor(Math.random() * payers.length)];
        if (to === from) to = payers[(payers.indexOf(from) + 1) % payers.length];
        const started = performance.now();
        const status = await post(agent, edge.base, "/functions/v1/wallets/transfers", from.token, {
          from_wallet_id: from.walletId,
          to_wallet_id: to.walletId,
          amount: "1.00",
        }, `bench-${process.pid}-${++counter}`);
        if (!record) continue;
        if (status === 201) {
          ok++;
          latencies.push(performance.now() - started);
        } else others.set(status, (others.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: clients }, () => loop(warmUntil, false)));
    await new Promise((r) => setTimeout(r, 1200)); // let the warm-up's statistics reach pg_stat_database
    const commitsBefore = await commits(sql);
    const started = performance.now();
    const until = Date.now() + seconds * 1000;
    await Promise.all(Array.from({ length: clients }, () => loop(until, true)));
    const elapsed = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 1200)); // statistics are flushed at most once a second
    const commitsAfter = await commits(sql);
    const answered = ok + [...others.values()].reduce((a, b) => a + b, 0);
    latencies.sort((a, b) => a - b);
    return {
      clients,
      tps: ok / elapsed,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      others: Object.fromEntries(others),
      // The one-connection probe of this function commits twice per read; minus them.
      commitsPerRequest: answered ? Number(commitsAfter - commitsBefore - 2n) / answered : NaN,
    };
  } finally {
    agent.destroy();
    await sql.end();
    await edge.stop();
  }
}
