// Crash safety, on a PostgreSQL cluster of its own (embedded): eight connections post
// transfers as fast as they can, then the server and every backend are killed with
// SIGKILL mid-stream, and the cluster restarts through crash recovery. Every transfer whose
// commit was acknowledged is still there, nothing else is half-there: every transaction
// balances, every balance equals its entries, and no user balance is negative.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import { killCluster, startTestCluster, type TestCluster } from "../helpers/cluster.ts";

const WALLETS = 20;
const WORKERS = 8;

let own: TestCluster;
let cluster: TestCluster["cluster"];
let dataDir: string;
let url: string;

beforeAll(async () => {
  own = await startTestCluster({ prefix: "hazina-crash-" });
  ({ cluster, url } = own);
  dataDir = cluster.databaseDir;
}, 120_000);

afterAll(async () => {
  await own?.remove();
});


describe("a crash mid-stream", () => {
  it("loses no acknowledged transfer and leaves no partial one", async () => {
    const setup = postgres(url, { max: 1, onnotice: () => {} });
    await setup`insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount) values ('p2p_transfer', 50, 0.01)`;
    const users = await setup`insert into public.auth_users (email) select 'crash' || n || '@crash.test' from generate_series(1, ${WALLETS}) n returning id`;
    const wallets = (await setup`insert into public.wallets (user_id, kind) select unnest(${users.map((u) => u.id)}::uuid[]), 'user' returning id`)
      .map((w) => w.id as string);
    for (const w of wallets) {
      await setup`select hazina.post_transaction(${"crash-fund-" + w}, 'funding', jsonb_build_array(
        jsonb_build_object('wallet_id', hazina.system_wallet('mpesa_clearing'), 'direction', 'debit', 'amount', '1000'),
        jsonb_build_object('wallet_id', ${w}::text, 'direction', 'credit', 'amount', '1000')))`;
    }
    await setup.end();

    const load = postgres(url, { max: WORKERS, onnotice: () => {} });
    const acknowledged: string[] = [];
    let crashed = false;
    let sent = 0;
    async function worker(n: number) {
      for (let i = 0; !crashed; i++) {
        const from = wallets[(n * 7 + i * 3) % WALLETS];
        let to = wallets[(n * 5 + i * 11 + 1) % WALLETS];
        if (to === from) to = wallets[(wallets.indexOf(from) + 1) % WALLETS];
        const ref = `crash-${n}-${i}`;
        sent++;
        try {
          await load`select hazina.transfer(${ref}, ${from}, ${to}, ${`${1 + (i % 50)}.${String(i % 100).padStart(2, "0")}`}::numeric)`;
          acknowledged.push(ref);
        } catch {
          return; // the server is gone (or an overdraft, which cannot happen with these amounts)
        }
      }
    }
    const workers = Array.from({ length: WORKERS }, (_, n) => worker(n));
    while (acknowledged.length < 300) await new Promise((r) => setTimeout(r, 10));
    killCluster(dataDir); // while the workers keep posting
    await Promise.all(workers);
    crashed = true;
    // It is really down: nothing answers until the restart.
    const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    await expect(probe`select 1`).rejects.toThrow();
    await probe.end({ timeout: 1 }).catch(() => {});
    await load.end({ timeout: 1 }).catch(() => {});
    expect(acknowledged.length).toBeGreaterThanOrEqual(300);

    await cluster.start(); // crash recovery replays the WAL
    const check = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const present = await check`select ref from public.wallet_transactions where ref like 'crash-%' and ref not like 'crash-fund-%'`;
      const refs = new Set(present.map((r) => r.ref as string));
      console.log(`crash test: ${sent} sent, ${acknowledged.length} acknowledged, ${refs.size} present after recovery`);
      // Nothing acknowledged is lost; at most the in-flight ones committed without an answer.
      expect(acknowledged.filter((ref) => !refs.has(ref))).toEqual([]);
      expect(refs.size).toBeLessThanOrEqual(acknowledged.length + WORKERS);
      expect(refs.size).toBeLessThanOrEqual(sent);
      // Nothing is half-there: every transaction balances, every balance is its entries.
      expect(await check`select * from hazina.reconcile()`).toEqual([]);
      expect(await check`select * from hazina.trial_balance() where total <> 0`).toEqual([]);
      const [{ negative }] = await check`select count(*)::int as negative from public.wallets where kind <> 'system' and balance < 0`;
      expect(negative).toBe(0);
      const [{ entries }] = await check`
        select count(*)::int as entries from public.wallet_ledger l join public.wallet_transactions t on t.id = l.transaction_id
         where t.ref like 'crash-%' and t.ref not like 'crash-fund-%'`;
      expect(entries).toBe(refs.size * 4); // principal and fee legs, for every transfer present
    } finally {
      await check.end();
    }
  }, 120_000);
});
