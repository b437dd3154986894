// `npm run bench`: throughput of the posting engine next to pgbench's built-in tpcb-like,
// on the same server in one run. Prints a table; nothing here is a pass/fail test.
//
// Workloads (each for BENCH_SECONDS at 1 and 8 connections, pgbench -M prepared):
//   p2p uniform   hazina.transfer between two random wallets of BENCH_WALLETS (fee charged)
//   p2p hot       every transfer pays one merchant wallet (merchant payment, fee charged)
//   batch         hazina.transfer_batch of BENCH_BATCH (default 250) transfers per call
//   intent        a payment intent created and confirmed from a random customer's wallet to
//                 the one merchant (automatic capture, merchant fee), in one statement: the
//                 cost of the intent layer next to "p2p hot", the bare merchant payment
//   tpcb-like     pgbench's built-in TPC-B-like script (scale 10) in its own database
//   http          POST /wallets/transfers over HTTP against the real Deno server, at
//                 BENCH_HTTP_CLIENTS (default 1,8,32,128) concurrent keep-alive clients
//                 (scripts/bench-http.mjs), next to direct hazina.transfer and tpcb-like,
//                 with group commit off and on (BENCH_GROUP_COMMIT) side by side
//   floor         reference, not a feature: only the rows a fee-charging transfer must write,
//                 in one bare SQL statement (no function, no check, no idempotency), twice:
//                 "issue minimum" (3 entries, the billing row, 3 balance updates; no header)
//                 and "our rows" (what hazina.transfer writes: + header, a 4th entry, and
//                 so the commit-time balance trigger). They bound what any implementation
//                 of the rules can reach on this machine.
// Each run gets a fresh copy of its prepared database (see measure()).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { prepareBenchDb } from "./bench-db.mjs";
import { benchPayers, measureHttp } from "./bench-http.mjs";
import { localServerUrl, which, withDatabase } from "./lib.mjs";

const serverUrl = process.env.DATABASE_URL ?? localServerUrl;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const walletCount = Number(process.env.BENCH_WALLETS ?? 10000);
const batchSize = Number(process.env.BENCH_BATCH ?? 250);
// BENCH_CONNECTIONS / BENCH_WORKLOADS narrow a run (e.g. "8" and "tpcb,p2p") while tuning.
const connectionCounts = (process.env.BENCH_CONNECTIONS ?? "1,8").split(",").map(Number);
const repeat = Number(process.env.BENCH_REPEAT ?? 1);
const workloads = new Set(
  (process.env.BENCH_WORKLOADS ?? "tpcb,p2p,hot,intent,batch,floor,http").split(","),
);
const httpClientCounts = (process.env.BENCH_HTTP_CLIENTS ?? "1,8,32,128").split(",").map(Number);
// Server settings for the HTTP runs: BENCH_EDGE_PROCESSES lists the EDGE_PROCESSES to
// measure (default 1,2), after a baseline with IDEMPOTENCY_ONE_TRANSACTION=false
// (BENCH_HTTP_BASELINE=off skips it); BENCH_DB_POOL_MAX sets DB_POOL_MAX (default: the server's).
const edgeProcessCounts = (process.env.BENCH_EDGE_PROCESSES ?? "1,2").split(",").map(Number);
// BENCH_DB_POOL_MAX may list several sizes (e.g. 4,10,20): each is measured at each process count.
const poolEnvs = (process.env.BENCH_DB_POOL_MAX ?? "").split(",").filter(Boolean).map((n) => ({
  DB_POOL_MAX: n,
}));
if (poolEnvs.length === 0) poolEnvs.push({});
// BENCH_GROUP_COMMIT lists the GROUP_COMMIT modes measured at each process count and pool
// size (default off,on: side by side in one run); "on:<ms>" sets GROUP_COMMIT_WINDOW_MS for
// that mode (e.g. off,on,on:5); BENCH_GROUP_MAX_ITEMS sets GROUP_COMMIT_MAX_ITEMS.
const groupEnvs = (process.env.BENCH_GROUP_COMMIT ?? "off,on").split(",").filter(Boolean).map(
  (mode) => {
    const [name, windowMs] = mode.split(":");
    if (name !== "on") return { GROUP_COMMIT: "false" };
    return {
      GROUP_COMMIT: "true",
      ...(windowMs ? { GROUP_COMMIT_WINDOW_MS: windowMs } : {}),
      ...(process.env.BENCH_GROUP_MAX_ITEMS
        ? { GROUP_COMMIT_MAX_ITEMS: process.env.BENCH_GROUP_MAX_ITEMS }
        : {}),
    };
  },
);
// BENCH_JWT_CACHE lists JWT_VERIFY_CACHE_SECONDS values measured for each of the above
// (e.g. 0,5: every token verified vs reused for 5 s, side by side); unset: the server's default.
const jwtCacheEnvs = (process.env.BENCH_JWT_CACHE ?? "").split(",").filter(Boolean).map((s) => ({
  JWT_VERIFY_CACHE_SECONDS: s,
}));
if (jwtCacheEnvs.length === 0) jwtCacheEnvs.push({});
const stamp = Date.now();
const benchDb = `hazina_bench_${stamp}`;
const tpcbDb = `hazina_tpcb_${stamp}`;
const admin = postgres(withDatabase(serverUrl, "postgres"), { max: 1, onnotice: () => {} });

if (!which("pgbench")) {
  console.error("pgbench is needed (Debian: apt-get install postgresql-client).");
  process.exit(2);
}

function pgbench(dbUrl, args) {
  const result = spawnSync("pgbench", [...args, dbUrl], { encoding: "utf8" });
  const out = result.stdout + result.stderr;
  const tps = /tps = ([0-9.]+) \(without initial connection time\)/.exec(out);
  if (result.status !== 0 || !tps) throw new Error(`pgbench failed:\n${out}`);
  const failed = /number of failed transactions: ([0-9]+)/.exec(out);
  return { tps: Number(tps[1]), failed: failed ? Number(failed[1]) : 0 };
}

const scripts = mkdtempSync(path.join(os.tmpdir(), "hazina-bench-"));
function script(name, text) {
  const file = path.join(scripts, `${name}.sql`);
  writeFileSync(file, text);
  return file;
}

const uniform = script(
  "p2p-uniform",
  `
\\set a random(1, ${walletCount})
\\set b 1 + (:a + random(0, ${walletCount - 2})) % ${walletCount}
select hazina.transfer(gen_random_uuid()::text, (select wallet_id from bench_wallets where n = :a),
                       (select wallet_id from bench_wallets where n = :b), 1.00, 'p2p_transfer');
`,
);
const hot = script(
  "p2p-hot",
  `
\\set a random(1, ${walletCount})
select hazina.transfer(gen_random_uuid()::text, (select wallet_id from bench_wallets where n = :a),
                       (select wallet_id from bench_wallets where n = 0), 1.00, 'merchant_payment');
`,
);
const intent = script(
  "intent",
  `
\\set a random(1, ${walletCount})
select hazina.payment_intent_confirm(
         (hazina.payment_intent_create(m.user_id, 1.00, 'KES', 'automatic', c.user_id, null, null, null,
                                       gen_random_uuid()::text) ->> 'id')::uuid,
         c.user_id, jsonb_build_array(jsonb_build_object('type', 'wallet', 'wallet_id', c.id, 'amount', '1.00')))
  from public.wallets m, public.wallets c
 where m.id = (select wallet_id from bench_wallets where n = 0) and c.id = (select wallet_id from bench_wallets where n = :a);
`,
);
const batch = script(
  "batch",
  `
\\set a random(1, ${walletCount})
select hazina.transfer_batch((
  select jsonb_agg(jsonb_build_object('ref', gen_random_uuid(), 'from_wallet_id', f.wallet_id,
                                      'to_wallet_id', t.wallet_id, 'amount', '1.00'))
    from generate_series(1, ${batchSize}) g
    join bench_wallets f on f.n = 1 + (:a + g * 7) % ${walletCount}
    join bench_wallets t on t.n = 1 + (:a + g * 7 + 1 + g % 5) % ${walletCount}));
`,
);

// The floors. Wallet n = -1 is the KES fee revenue wallet; amounts as in p2p uniform
// (1.00 with a 0.01 fee). balance_after comes from the updates, as in a real posting.
const floorPick = `
\\set a random(1, ${walletCount})
\\set b 1 + (:a + random(0, ${walletCount - 2})) % ${walletCount}
with w as (select (select wallet_id from bench_wallets where n = :a) as f, (select wallet_id from bench_wallets where n = :b) as t,
                  (select wallet_id from bench_wallets where n = -1) as r, gen_random_uuid() as tx),
debit as (update wallets set balance = balance - 1.01, updated_at = now() where id = (select f from w) returning balance),
credit as (update wallets set balance = balance + 1.00, updated_at = now() where id = (select t from w) returning balance),
fee as (update wallet_balance_buckets set balance = balance + 0.01
         where wallet_id = (select r from w) and bucket = pg_backend_pid() % 16 returning balance),
billing as (insert into billing_ledger (ref, transaction_id, payer_wallet_id, transaction_type, direction, amount,
                                        currency, base_amount, rule_source)
            select tx::text || '#fee', tx, f, 'p2p_transfer', 'charge', 0.01, 'KES', 1.00, 'catalog' from w returning 1)`;
const floorMinimum = script(
  "floor-minimum",
  `${floorPick},
entries as (insert into wallet_ledger (transaction_id, wallet_id, direction, amount, currency, balance_after, kind, ref)
            select w.tx, e.wallet, e.direction, e.amount, 'KES', e.after, 'p2p_transfer', w.tx::text || '#' || e.n
              from w, lateral (values (1, w.f, 'debit', 1.01, (select balance from debit)),
                                      (2, w.t, 'credit', 1.00, (select balance from credit)),
                                      (3, w.r, 'credit', 0.01, null)) e(n, wallet, direction, amount, after) returning 1)
select (select count(*) from entries), (select count(*) from billing), (select count(*) from fee);
`,
);
const floorOurs = script(
  "floor-ours",
  `${floorPick},
header as (insert into wallet_transactions (id, ref, kind, request_hash, principal_amount, currency)
           select tx, tx::text, 'p2p_transfer', md5(tx::text), 1.00, 'KES' from w returning 1),
entries as (insert into wallet_ledger (transaction_id, wallet_id, direction, amount, currency, balance_after, leg, kind, ref)
            select w.tx, e.wallet, e.direction, e.amount, 'KES', e.after, e.leg, 'p2p_transfer', w.tx::text || '#' || e.n
              from w, lateral (values (1, w.f, 'debit', 1.00, (select balance from debit) + 0.01, 'principal'),
                                      (2, w.t, 'credit', 1.00, (select balance from credit), 'principal'),
                                      (3, w.f, 'debit', 0.01, (select balance from debit), 'fee'),
                                      (4, w.r, 'credit', 0.01, null, 'fee')) e(n, wallet, direction, amount, after, leg) returning 1)
select (select count(*) from header), (select count(*) from entries), (select count(*) from billing), (select count(*) from fee);
`,
);

async function prepareBenchDatabase() {
  const url = withDatabase(serverUrl, benchDb);
  await prepareBenchDb(admin, url, benchDb, walletCount);
  return url;
}

const results = [];
try {
  console.log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${
      Math.round(os.totalmem() / 2 ** 30)
    } GiB; ` +
      `${
        execFileSync("psql", ["-XAtc", "select version()", withDatabase(serverUrl, "postgres")], {
          encoding: "utf8",
        }).trim().split(" on ")[0]
      }`,
  );
  console.log(
    `each run: ${seconds}s, ${walletCount} wallets, batch of ${batchSize}; median of ${repeat} round(s)`,
  );
  const benchUrl = await prepareBenchDatabase();
  await admin.unsafe(`create database "${tpcbDb}"`);
  const tpcbUrl = withDatabase(serverUrl, tpcbDb);
  spawnSync("pgbench", ["-i", "-q", "-s", "10", tpcbUrl], { encoding: "utf8" });

  // Every measurement starts from the same state: a fresh copy of the prepared database
  // (ours or tpcb's) and a checkpoint, so no run inherits the rows an earlier run wrote
  // or its share of full-page writes, and the order of the runs does not matter.
  let copies = 0;
  let postings = 0;
  let discrepancies = 0;
  async function measure(name, templateUrl, args, clients) {
    if (!workloads.has(name.split("-")[0])) return { tps: NaN, failed: 0 };
    const copy = `${benchDb}_run${++copies}`;
    await admin.unsafe(
      `create database "${copy}" template "${new URL(templateUrl).pathname.slice(1)}"`,
    );
    try {
      const url = withDatabase(serverUrl, copy);
      await admin.unsafe("checkpoint");
      const result = pgbench(url, [
        ...args,
        "-n",
        "-M",
        "prepared",
        "-T",
        String(seconds),
        "-c",
        String(clients),
        "-j",
        String(Math.min(clients, 2)),
      ]);
      // (The floors write entries without checks, and "issue minimum" without headers:
      // reconciliation would rightly report them.)
      if (name !== "tpcb" && !name.startsWith("floor")) {
        const sql = postgres(url, { max: 1, onnotice: () => {} });
        const [{ n }] = await sql`select count(*)::int as n from hazina.reconcile()`;
        const [{ count }] =
          await sql`select count(*)::int as count from public.wallet_transactions`;
        await sql.end();
        discrepancies += n;
        postings += count;
      }
      return result;
    } finally {
      await admin.unsafe(`drop database if exists "${copy}" with (force)`);
    }
  }

  // BENCH_REPEAT rounds, interleaved (a slow phase of a shared machine hits every
  // workload alike); each figure is the median of its rounds.
  const rounds = [];
  for (let round = 0; round < repeat; round++) {
    for (const clients of connectionCounts) {
      rounds.push({
        clients,
        tpcb: await measure("tpcb", tpcbUrl, ["-b", "tpcb-like"], clients),
        p2p: await measure("p2p", benchUrl, ["-f", uniform], clients),
        hot: await measure("hot", benchUrl, ["-f", hot], clients),
        intent: await measure("intent", benchUrl, ["-f", intent], clients),
        batch: await measure("batch", benchUrl, ["-f", batch], clients),
        floorMinimum: await measure("floor-minimum", benchUrl, ["-f", floorMinimum], clients),
        floorOurs: await measure("floor-ours", benchUrl, ["-f", floorOurs], clients),
      });
    }
  }
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  for (const clients of connectionCounts) {
    const mine = rounds.filter((r) => r.clients === clients);
    const figure = (name) => ({ tps: median(mine.map((r) => r[name].tps)) });
    results.push({
      clients,
      tpcb: figure("tpcb"),
      p2p: figure("p2p"),
      hot: figure("hot"),
      intent: figure("intent"),
      batch: figure("batch"),
      floorMinimum: figure("floorMinimum"),
      floorOurs: figure("floorOurs"),
    });
  }

  // A P2P posting with a fee writes 4 entries (principal debit/credit, fee debit/credit).
  const entriesPerTransfer = 4;
  const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
  console.log(
    "\n| connections | tpcb-like tx/s | p2p uniform postings/s | p2p hot merchant postings/s | intent create + wallet confirm (automatic capture)/s | batch transfers/s (entries/s) |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const r of results) {
    const batchTransfers = r.batch.tps * batchSize;
    console.log(
      `| ${r.clients} | ${r.tpcb.tps.toFixed(0)} | ${r.p2p.tps.toFixed(0)} (${
        ratio(r.p2p.tps, r.tpcb.tps)
      } tpcb) | ` +
        `${r.hot.tps.toFixed(0)} (${ratio(r.hot.tps, r.tpcb.tps)} tpcb) | ` +
        `${r.intent.tps.toFixed(0)} (${ratio(r.intent.tps, r.hot.tps)} hot) | ` +
        `${batchTransfers.toFixed(0)} (${(batchTransfers * entriesPerTransfer).toFixed(0)}; ${
          ratio(batchTransfers, r.tpcb.tps)
        } tpcb) |`,
    );
  }
  if (workloads.has("floor")) {
    console.log(
      "\nFloors: the writes alone, one bare statement per transfer (no function, no check):",
    );
    console.log(
      "| connections | issue minimum (3 entries, billing row, 3 balances) | our rows (+ header, 4th entry, commit trigger) | p2p uniform as share of our rows |",
    );
    console.log("|---|---|---|---|");
    for (const r of results) {
      console.log(
        `| ${r.clients} | ${r.floorMinimum.tps.toFixed(0)} (${
          ratio(r.floorMinimum.tps, r.tpcb.tps)
        } tpcb) | ` +
          `${r.floorOurs.tps.toFixed(0)} (${ratio(r.floorOurs.tps, r.tpcb.tps)} tpcb) | ${
            ratio(r.p2p.tps, r.floorOurs.tps)
          } |`,
      );
    }
  }
  console.log(
    "\nTargets (issue 3): single ≥ 1.3× tpcb at 8 connections; hot ≥ 0.8× uniform; batch ≥ 5× single.",
  );
  for (const r of results) {
    console.log(
      `  ${r.clients} connection(s): single ${ratio(r.p2p.tps, r.tpcb.tps)} tpcb, ` +
        `hot ${ratio(r.hot.tps, r.p2p.tps)} uniform, batch ${
          ratio(r.batch.tps * batchSize, r.p2p.tps)
        } single`,
    );
  }
  if (workloads.has("http")) {
    const payers = await benchPayers(benchUrl);
    const direct = results.find((r) => r.clients === 8) ?? results[results.length - 1];
    // The baseline first: three transactions per request (IDEMPOTENCY_ONE_TRANSACTION=false), one process.
    const setups = [
      {
        ...poolEnvs[0],
        EDGE_PROCESSES: "1",
        IDEMPOTENCY_ONE_TRANSACTION: "false",
        GROUP_COMMIT: "false",
      },
      ...edgeProcessCounts.flatMap((processes) =>
        poolEnvs.flatMap((pool) =>
          groupEnvs.flatMap((group) =>
            jwtCacheEnvs.map((jwt) => ({
              ...pool,
              EDGE_PROCESSES: String(processes),
              ...group,
              ...jwt,
            }))
          )
        )
      ),
    ];
    for (const edgeEnv of process.env.BENCH_HTTP_BASELINE === "off" ? setups.slice(1) : setups) {
      const http = [];
      for (const clients of httpClientCounts) {
        const copy = `${benchDb}_run${++copies}`;
        await admin.unsafe(`create database "${copy}" template "${benchDb}"`);
        try {
          const url = withDatabase(serverUrl, copy);
          await admin.unsafe("checkpoint");
          http.push(await measureHttp(url, payers, clients, seconds, edgeEnv));
          const sql = postgres(url, { max: 1, onnotice: () => {} });
          const [{ n }] = await sql`select count(*)::int as n from hazina.reconcile()`;
          const [{ count }] =
            await sql`select count(*)::int as count from public.wallet_transactions`;
          await sql.end();
          discrepancies += n;
          postings += count;
        } finally {
          await admin.unsafe(`drop database if exists "${copy}" with (force)`);
        }
      }
      const settings = Object.entries(edgeEnv).map(([k, v]) => `${k}=${v}`).join(", ");
      console.log(
        `\nHTTP: POST /wallets/transfers through the Deno server (${settings}), next to direct SQL at ${direct.clients} connections:`,
      );
      console.log(
        `| clients | transfers/s | × direct hazina.transfer (${direct.clients} conn.) | × tpcb-like (${direct.clients} conn.) | p50 ms | p99 ms | commits/request | WAL bytes/request | CPU ms/request: edge / PostgreSQL / load generator | non-201 |`,
      );
      console.log("|---|---|---|---|---|---|---|---|---|---|");
      for (const h of http) {
        console.log(
          `| ${h.clients} | ${h.tps.toFixed(0)} | ${ratio(h.tps, direct.p2p.tps)} | ${
            ratio(h.tps, direct.tpcb.tps)
          } | ` +
            `${h.p50.toFixed(1)} | ${h.p99.toFixed(1)} | ${h.commitsPerRequest.toFixed(2)} | ${
              h.walBytes.toFixed(0)
            } | ${h.edgeCpuMs.toFixed(2)} / ${h.pgCpuMs.toFixed(2)} / ${h.loadCpuMs.toFixed(2)} | ${
              JSON.stringify(h.others)
            } |`,
        );
      }
    }
    console.log(
      "Target (issue 12): HTTP at 32 clients ≥ 1.5× direct hazina.transfer at 8 connections, p99 < 50 ms.",
    );
  }
  console.log(
    `\n${postings} ledger transactions in the measured copies (funding included); reconciliation discrepancies afterwards: ${discrepancies}`,
  );
} finally {
  if (process.env.BENCH_KEEP) console.log(`kept databases ${benchDb} and ${tpcbDb}`);
  else {for (const db of [benchDb, tpcbDb]) {
      await admin.unsafe(`drop database if exists "${db}" with (force)`);
    }}
  await admin.end();
}
