// Backups and point-in-time recovery with pgBackRest, on a cluster of the suite's own with
// WAL archiving on (as `npm start` runs it), through the real commands: transfers, a full
// backup (`npm run backup`), more transfers, an incremental one (`-- --type=incr`), more
// transfers, a time T, more transfers, then `npm run restore -- --to T --verify` into a new
// data folder. Started, the restored cluster holds exactly the transfers committed before
// T (every balance as it was at T), reconciles clean, and the live cluster was never touched.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript shared with the npm scripts
import { LocalCluster } from "../../scripts/cluster.mjs";
// @ts-expect-error: plain JavaScript shared with the npm scripts
import { archiveSettings, backupLayout, listBackups, pgbackrestBinary } from "../../scripts/pgbackrest.mjs";
import { startTestCluster, type TestCluster } from "../helpers/cluster.ts";
import { freePort } from "../helpers/ports.ts";

const root = path.resolve(import.meta.dirname, "../..");
const WALLETS = 6;
const missing = !pgbackrestBinary();
if (missing) {
  const message = "backup-restore: pgBackRest is not installed (apt-get install pgbackrest); the backup and restore suite cannot run";
  if (process.env.CI) throw new Error(message);
  console.warn(`\n!!! SKIPPED ${message}\n`);
}

let live: TestCluster;
let sql: postgres.Sql;
let wallets: string[];
const timings: Record<string, number> = {};

/** Run one of our npm scripts against the suite's cluster, as an operator would. */
function npmScript(script: string, args: string[]): string {
  const env: Record<string, string | undefined> = { ...process.env, HAZINA_DATA_DIR: live.cluster.databaseDir };
  delete env.DATABASE_URL; // the scripts refuse to mix up the embedded cluster with a server
  const started = Date.now();
  const result = spawnSync(process.execPath, [`scripts/${script}.mjs`, ...args], { cwd: root, env, encoding: "utf8" });
  timings[[script, ...args.filter((a) => a.startsWith("--type"))].join(" ")] = Date.now() - started;
  expect(result.status, `${script} ${args.join(" ")}:\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Post `count` transfers named `<batch>-<n>` around the ring of wallets. */
async function postBatch(batch: string, count: number): Promise<string[]> {
  const refs: string[] = [];
  for (let n = 0; n < count; n++) {
    const ref = `${batch}-${n}`;
    await sql`select hazina.transfer(${ref}, ${wallets[n % WALLETS]}, ${wallets[(n + 1) % WALLETS]}, ${`${n + 1}.25`}::numeric)`;
    refs.push(ref);
  }
  return refs;
}

beforeAll(async () => {
  if (missing) return;
  live = await startTestCluster({
    prefix: "hazina-backup-",
    settingsFor: (dir) => archiveSettings(backupLayout(path.join(dir, "postgres"))),
  });
  sql = postgres(live.url, { max: 1, onnotice: () => {} });
  const users = await sql`insert into public.auth_users (email) select 'pitr' || n || '@backup.test' from generate_series(1, ${WALLETS}) n returning id`;
  wallets = (await sql`insert into public.wallets (user_id, kind) select unnest(${users.map((u) => u.id)}::uuid[]), 'user' returning id`)
    .map((w) => w.id as string);
  for (const w of wallets) {
    await sql`select hazina.post_transaction(${"pitr-fund-" + w}, 'funding', jsonb_build_array(
      jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', '10000'),
      jsonb_build_object('wallet_id', ${w}::text, 'direction', 'credit', 'amount', '10000')))`;
  }
}, 120_000);

afterAll(async () => {
  await sql?.end();
  await live?.remove();
  if (Object.keys(timings).length) console.log(`backup-restore timings (ms): ${JSON.stringify(timings)}`);
});

describe.skipIf(missing)("point-in-time recovery", () => {
  it("restores exactly the transfers committed before T, with clean books, into a new folder", { timeout: 240_000 }, async () => {
    const beforeFull = await postBatch("pitr-a", 10);
    npmScript("backup", []);
    const beforeIncr = await postBatch("pitr-b", 10);
    npmScript("backup", ["--type=incr"]);
    const beforeT = await postBatch("pitr-c", 10);
    const layout = backupLayout(live.cluster.databaseDir);
    expect(listBackups(layout).map((b: { type: string }) => b.type)).toEqual(["full", "incr"]);

    const balancesAtT = await sql`select id, balance::text from public.wallets order by id`;
    const [{ t }] = await sql`select clock_timestamp()::text as t`; // e.g. 2026-12-01 14:05:00.123456+00
    const afterT = await postBatch("pitr-d", 10);

    const targetDir = path.join(live.dir, "restored", "postgres");
    const out = npmScript("restore", ["--to", t, "--target-dir", targetDir, "--verify"]);
    expect(out).toContain("0 reconciliation discrepancies");
    expect(out).toContain(`HAZINA_DATA_DIR=${targetDir}`);

    const restored = new LocalCluster({ databaseDir: targetDir, port: await freePort(), settings: { archive_mode: "off" } });
    await restored.start();
    const check = postgres(restored.url.replace(/\/postgres$/, "/hazina"), { max: 1, onnotice: () => {} });
    try {
      const present = (await check`select ref from public.wallet_transactions where ref like 'pitr-%' and ref not like 'pitr-fund-%' order by ref`)
        .map((r) => r.ref as string);
      expect(present).toEqual([...beforeFull, ...beforeIncr, ...beforeT].sort());
      expect(present.filter((ref) => afterT.includes(ref))).toEqual([]);
      expect(await check`select id, balance::text from public.wallets order by id`).toEqual(balancesAtT);
      expect(await check`select * from hazina.reconcile()`).toEqual([]);
      expect(await check`select * from hazina.trial_balance() where total <> 0`).toEqual([]);
      // A real, writable cluster after recovery (promoted onto a new timeline).
      const [{ inRecovery }] = await check`select pg_is_in_recovery() as "inRecovery"`;
      expect(inRecovery).toBe(false);
    } finally {
      await check.end();
      await restored.stop();
    }

    // The live cluster is untouched and still has everything.
    const [{ count }] = await sql`select count(*)::int from public.wallet_transactions where ref like 'pitr-d-%'`;
    expect(count).toBe(afterT.length);
    expect(await sql`select * from hazina.reconcile()`).toEqual([]);
  });

  it("refuses to restore over the live data folder or without a time zone", { timeout: 60_000 }, () => {
    const env: Record<string, string | undefined> = { ...process.env, HAZINA_DATA_DIR: live.cluster.databaseDir };
    delete env.DATABASE_URL;
    const run = (args: string[]) => spawnSync(process.execPath, ["scripts/restore.mjs", ...args], { cwd: root, env, encoding: "utf8" });
    const over = run(["--to", "latest", "--target-dir", live.cluster.databaseDir]);
    expect(over.status).toBe(2);
    expect(over.stderr).toContain("refusing to restore into the live data folder");
    const naive = run(["--to", "2026-12-01 14:05:00"]);
    expect(naive.status).toBe(2);
    expect(naive.stderr).toContain("is not a timestamp with a time zone");
    expect(existsSync(path.join(live.cluster.databaseDir, "PG_VERSION"))).toBe(true);
  });
});
