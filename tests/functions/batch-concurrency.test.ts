// Batches racing each other and single transfers over the same few wallets, straight
// against the database (hazina.transfer_batch / hazina.transfer, as the service role
// would call them). Clean batches take the set-based path, batches with an unaffordable
// item the item-by-item one; both lock wallets in id order, so nothing may deadlock.
// Afterwards every call has answered, each ref is posted once, the books reconcile, no
// user balance is negative and every balance equals what the answers say, exactly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import process from "node:process";
import { toUnits } from "../helpers/decimal.ts";
import { expectBalancesFromAnswers, type PostedTransfer, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { seeded } from "../helpers/random.ts";

const CALLS = 60;
const FUNDING = "1000.00";
// Eight connections: as many racing transactions as the benchmark's busiest run.
const pool = postgres(process.env.DATABASE_URL!, { max: 8, onnotice: () => {} });

let parties: Party[];

beforeAll(async () => {
  await pool`insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount, maximum_amount)
             select 'p2p_transfer', 50, 1, 100 where not exists (select 1 from public.billing_fee_catalog where transaction_type = 'p2p_transfer')`;
  parties = [];
  for (let i = 0; i < 6; i++) parties.push(await partyWithWallet());
  parties.push(await partyWithWallet("merchant"));
  for (const p of parties.slice(0, 6)) await fund(p.walletId, FUNDING);
});

afterAll(async () => {
  await pool.end();
});

type Posted = PostedTransfer & { ref: string; status?: string };

describe("concurrent batches and transfers", () => {
  it("never deadlock, post each ref once and keep the books exact", async () => {
    const { seed, rand, pick } = seeded("batch concurrency", "CONCURRENCY_SEED");
    const item = (ref: string, overdraw = false) => {
      const from = parties[Math.floor(rand() * 6)]; // customers pay; anyone receives
      let to = pick(parties);
      if (to === from) to = parties[6];
      const cents = overdraw ? 1_000_000_00 : 1 + Math.floor(rand() * 2_00);
      const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
      return { ref, from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount,
               transaction_type: to === parties[6] ? "merchant_payment" : "p2p_transfer" };
    };

    let cleanBatches = 0;
    const calls = Array.from({ length: CALLS }, async (_, c) => {
      const ref = `bconc-${seed}-${c}`;
      if (rand() < 0.3) {
        const i = item(ref);
        const [{ result }] = await pool`
          select hazina.transfer(${i.ref}, ${i.from_wallet_id}, ${i.to_wallet_id}, ${i.amount}::numeric,
                                 ${i.transaction_type}) as result`;
        return [result as Posted];
      }
      const overdraw = rand() < 0.25;
      const items = Array.from({ length: 10 + Math.floor(rand() * 30) }, (_, k) => item(`${ref}-${k}`, overdraw && k === 3));
      const [{ results }] = await pool`select hazina.transfer_batch(${pool.json(items)}) as results`;
      if (!overdraw) cleanBatches++;
      return results as Posted[];
    });
    const answers = (await Promise.all(calls)).flat();

    // Only the deliberate overdraws failed, each alone.
    const failed = answers.filter((a) => a.status === "failed");
    for (const f of failed) expect((f as unknown as { error: string }).error).toBe("insufficient_funds");
    expect(failed.length).toBe(answers.filter((a) => a.ref.endsWith("-3") && a.status === "failed").length);
    const posted = answers.filter((a) => a.status !== "failed");
    expect(cleanBatches).toBeGreaterThan(0);

    // Each ref posted exactly once.
    const refs = posted.map((p) => p.ref);
    expect(new Set(refs).size).toBe(refs.length);
    const [{ count }] = await pool`select count(*)::int from public.wallet_transactions where ref like ${`bconc-${seed}-%`}`;
    expect(count).toBe(refs.length);

    // Balances are what the answers say, in exact units; no user balance below zero.
    await expectBalancesFromAnswers(new Map(parties.map((p, i) => [p.walletId, i < 6 ? toUnits(FUNDING) : 0n])), posted);
    await expectBooksBalanced();
  });
});
