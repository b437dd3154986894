// The HTTP path of `npm run bench`: POST /wallets/transfers against the real Deno server
// (scripts/serve.ts) on a fresh copy of the bench database, from N concurrent keep-alive
// clients. Each client is a loop: a random payer among the funded wallets pays another
// random wallet 1.00 (fee charged) under a fresh Idempotency-Key, with the payer's own
// access token. The load generator is a minimal keep-alive HTTP/1.1 client on node:net in this
// process: a few thousand requests a second cost it little next to the server and the
// database (it shares the machine with them, as any local load generator does).
// Reported per client count: transfers/s (201s), p50 / p99 latency, non-201 answers, and
// database commits per request (pg_stat_database xact_commit of the copy, whole run).
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { SignJWT } from "jose";
import postgres from "postgres";
import { freePort } from "./free-port.mjs";
import { bin, root } from "./lib.mjs";

const secret = "hazina-bench-secret-0123456789-0123456789-abcdef";

async function startEdge(dbUrl, env, denoFlags = []) {
  const port = await freePort();
  const child = spawn(bin("deno"), [
    "run",
    ...denoFlags,
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
    pid: child.pid,
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

/**
 * One keep-alive HTTP/1.1 connection speaking just enough of the protocol for the bench: a
 * request written as one buffer, the answer read to its end (Content-Length or chunked),
 * its status returned. node:http's client machinery cost ~0.3 ms of CPU per request here
 * (`npm run profile:edge` prints it), a third of what the edge spends on the request: on a
 * shared 2-core machine the load generator's CPU is taken from the edge and the database,
 * so it must be as small as it can be. Opened lazily, reopened after a close.
 */
class Connection {
  constructor(port) {
    this.port = port;
    this.socket = undefined;
    this.buffer = Buffer.alloc(0);
    this.waiting = undefined;
  }

  #open() {
    const socket = net.connect({ port: this.port, host: "127.0.0.1", noDelay: true });
    socket.on("data", (chunk) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.#parse();
    });
    const fail = (err) => {
      if (this.socket === socket) this.socket = undefined;
      const w = this.waiting;
      this.waiting = undefined;
      this.buffer = Buffer.alloc(0);
      w?.reject(err ?? new Error("connection closed"));
    };
    socket.on("error", fail);
    socket.on("close", () => fail());
    this.socket = socket;
  }

  #parse() {
    const w = this.waiting;
    if (!w) return;
    const end = this.buffer.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.buffer.toString("latin1", 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let total;
    if (length) {
      total = end + 4 + Number(length[1]);
      if (this.buffer.length < total) return;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const last = this.buffer.indexOf("\r\n0\r\n\r\n", end);
      if (last < 0) return;
      total = last + 7;
    } else {
      total = end + 4;
    }
    this.buffer = this.buffer.subarray(total);
    this.waiting = undefined;
    w.resolve(status);
  }

  /** Send one request (the whole of it, as bytes) and resolve with the answer's status. */
  request(bytes) {
    if (!this.socket) this.#open();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(bytes);
    });
  }

  close() {
    this.socket?.destroy();
  }
}

function transferRequest(host, pathName, token, body, key) {
  const payload = JSON.stringify(body);
  return Buffer.from(
    `POST ${pathName} HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${token}\r\n` +
      `content-type: application/json\r\nidempotency-key: ${key}\r\n` +
      `content-length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
  );
}

async function commits(sql) {
  await sql`select pg_stat_clear_snapshot()`;
  const [{ n }] =
    await sql`select xact_commit::bigint::text as n from pg_stat_database where datname = current_database()`;
  return BigInt(n);
}

// CPU seconds (user + system) of processes, from /proc (Linux; 0 elsewhere). Clock ticks are
// 100 a second on Linux.
function procCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // after "pid (comm) "
    return { pgrp: Number(fields[2]), seconds: (Number(fields[11]) + Number(fields[12])) / 100 };
  } catch {
    return null; // gone, or not Linux
  }
}

/** CPU seconds of every process in process group `pgrp` (the edge and its copies). */
function groupCpu(pgrp) {
  let total = 0;
  let pids;
  try {
    pids = readdirSync("/proc").filter((d) => /^[0-9]+$/.test(d));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    const cpu = procCpu(pid);
    if (cpu?.pgrp === pgrp) total += cpu.seconds;
  }
  return total;
}

/** CPU seconds per backend pid serving database of `sql` (the edge's pool), and the WAL position. */
async function backendCpu(sql) {
  // Client backends only: the copy's autovacuum workers are the server's own work.
  const rows = await sql`select pid from pg_stat_activity
                          where datname = current_database() and pid <> pg_backend_pid()
                            and backend_type = 'client backend'`;
  const [{ lsn }] = await sql`select pg_current_wal_lsn()::text as lsn`;
  return { cpu: new Map(rows.map((r) => [r.pid, procCpu(r.pid)?.seconds ?? 0])), lsn };
}

const percentile = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;

/**
 * One measurement: start the edge on `dbUrl`, run `clients` loops for `seconds`, stop it.
 * `edgeEnv` passes server settings (DB_POOL_MAX, EDGE_PROCESSES). `hooks` (for
 * scripts/profile-edge.mjs): `denoFlags` for the server, `beforeRun(edge)` and
 * `afterRun(edge)` around the counted seconds.
 */
export async function measureHttp(dbUrl, payers, clients, seconds, edgeEnv = {}, hooks = {}) {
  const edge = await startEdge(dbUrl, edgeEnv, hooks.denoFlags);
  const port = Number(new URL(edge.base).port);
  const host = new URL(edge.base).host;
  const connections = Array.from({ length: clients }, () => new Connection(port));
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const latencies = [];
  const others = new Map();
  let ok = 0;
  let counter = 0;
  try {
    // Warm up (connections, JIT) before counting.
    const warmUntil = Date.now() + 1000;
    const loop = async (until, record, n) => {
      while (Date.now() < until) {
        const from = payers[Math.floor(Math.random() * payers.length)];
        let to = payers[Math.floor(Math.random() * payers.length)];
        if (to === from) to = payers[(payers.indexOf(from) + 1) % payers.length];
        const started = performance.now();
        const status = await connections[n].request(
          transferRequest(host, "/functions/v1/wallets/transfers", from.token, {
            from_wallet_id: from.walletId,
            to_wallet_id: to.walletId,
            amount: "1.00",
          }, `bench-${process.pid}-${++counter}`),
        ).catch(() => 0);
        if (!record) continue;
        if (status === 201) {
          ok++;
          latencies.push(performance.now() - started);
        } else others.set(status, (others.get(status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, n) => loop(warmUntil, false, n)));
    await new Promise((r) => setTimeout(r, 1200)); // let the warm-up's statistics reach pg_stat_database
    const commitsBefore = await commits(sql);
    const pgBefore = await backendCpu(sql);
    const edgeBefore = groupCpu(edge.pid);
    await hooks.beforeRun?.(edge);
    const loadBefore = process.cpuUsage();
    const started = performance.now();
    const until = Date.now() + seconds * 1000;
    await Promise.all(Array.from({ length: clients }, (_, n) => loop(until, true, n)));
    const elapsed = (performance.now() - started) / 1000;
    const load = process.cpuUsage(loadBefore);
    await hooks.afterRun?.(edge);
    const edgeCpu = groupCpu(edge.pid) - edgeBefore;
    const pgAfter = await backendCpu(sql);
    let pgCpu = 0;
    for (const [pid, seconds] of pgAfter.cpu) pgCpu += seconds - (pgBefore.cpu.get(pid) ?? 0);
    const [{ wal }] =
      await sql`select pg_wal_lsn_diff(${pgAfter.lsn}::pg_lsn, ${pgBefore.lsn}::pg_lsn)::float8 as wal`;
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
      // Per answered request, in milliseconds of CPU: the edge processes, the PostgreSQL
      // backends of the edge's pool (not the server's background writers), this load generator.
      edgeCpuMs: answered ? (edgeCpu * 1000) / answered : NaN,
      pgCpuMs: answered ? (pgCpu * 1000) / answered : NaN,
      loadCpuMs: answered ? (load.user + load.system) / 1000 / answered : NaN,
      // Server-wide WAL over the run per request: other databases' writes on a shared server count too.
      walBytes: answered ? wal / answered : NaN,
    };
  } finally {
    for (const c of connections) c.close();
    await sql.end();
    await edge.stop();
  }
}
