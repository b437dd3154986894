// Hundreds of concurrent transfers through the real Deno server over HTTP: random P2P and
// merchant payments, deliberate overdraws and duplicate Idempotency-Keys. Afterwards the
// books reconcile, no user balance is negative, money is conserved, each key posted once,
// and every balance equals what the accepted responses say, to the ten-thousandth.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { fromUnits, toUnits } from "../helpers/decimal.ts";
import { expectBalancesFromAnswers, expectBooksBalanced, fund, type Party, partyWithWallet, type PostedTransfer } from "../helpers/money.ts";
import { seeded } from "../helpers/random.ts";
import { requestInit } from "../helpers/request.ts";

const TRANSFERS = 300;
const IN_FLIGHT = 24;
const FUNDING = "500.00";

let parties: Party[];

beforeAll(async () => {
  await admin`insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount, maximum_amount)
              select 'p2p_transfer', 50, 1, 100 where not exists (select 1 from public.billing_fee_catalog where transaction_type = 'p2p_transfer')`;
  parties = [
    await partyWithWallet(), await partyWithWallet(), await partyWithWallet(), await partyWithWallet(),
    await partyWithWallet("merchant"),
  ];
  for (const p of parties) await fund(p.walletId, FUNDING);
});

describe("concurrent transfers over HTTP", () => {
  it("keep the books exact", async () => {
    const base = inject("edgeBaseUrl");
    const { seed, rand } = seeded("concurrency", "CONCURRENCY_SEED");
    const feeRevenueBefore = toUnits((await admin`
      select balance::text from public.wallet_balances where system_code = 'fee_revenue' and currency = 'KES'`)[0].balance);

    type Planned = { key: string; from: Party; to: Party; amount: string };
    const planned: Planned[] = [];
    for (let i = 0; i < TRANSFERS; i++) {
      const from = parties[Math.floor(rand() * 4)]; // customers pay
      let to = parties[Math.floor(rand() * parties.length)];
      if (to === from) to = parties[4];
      const overdraw = rand() < 0.05;
      const cents = overdraw ? 100_000_00 : 1 + Math.floor(rand() * 20_00);
      const amount = fromUnits(BigInt(cents) * 100n); // cents → "12.3400"
      const duplicateOf = i > 0 && rand() < 0.1 ? planned[Math.floor(rand() * planned.length)] : undefined;
      planned.push(duplicateOf ?? { key: `conc-${seed}-${i}`, from, to, amount });
    }

    const results: { planned: Planned; status: number; body: Record<string, string> & { error?: { code: string } } }[] = [];
    let next = 0;
    async function worker() {
      while (next < planned.length) {
        const p = planned[next++];
        const res = await fetch(`${base}/functions/v1/wallets/transfers`, requestInit("POST", p.from.token,
          { from_wallet_id: p.from.walletId, to_wallet_id: p.to.walletId, amount: p.amount }, { "idempotency-key": p.key }));
        results.push({ planned: p, status: res.status, body: await res.json() });
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));

    // Every answer is an accepted transfer, a refusal for lack of funds, or a duplicate in flight.
    for (const r of results) {
      expect([201, 409], JSON.stringify(r.body)).toContain(r.status);
      if (r.status === 409) expect(["insufficient_funds", "idempotency_key_in_use"]).toContain(r.body.error?.code);
    }
    const overdraws = results.filter((r) => toUnits(r.planned.amount) >= toUnits("100000"));
    expect(overdraws.every((r) => r.status === 409)).toBe(true);

    // Each key posted at most once, and the same result for every accepted copy.
    const byKey = new Map<string, Record<string, string>>();
    for (const r of results.filter((r) => r.status === 201)) {
      const seen = byKey.get(r.planned.key);
      if (seen) expect(r.body.transaction_id).toBe(seen.transaction_id);
      else byKey.set(r.planned.key, r.body);
    }
    for (const [key, body] of byKey) {
      const [{ count }] = await admin`select count(*)::int from public.wallet_transactions where ref like ${"%:" + key}`;
      expect(count, key).toBe(1);
    }

    // Balances are what the accepted transfers say, in exact units.
    const fees = await expectBalancesFromAnswers(new Map(parties.map((p) => [p.walletId, toUnits(FUNDING)])), byKey.values() as Iterable<PostedTransfer>);
    const feeRevenueAfter = toUnits((await admin`
      select balance::text from public.wallet_balances where system_code = 'fee_revenue' and currency = 'KES'`)[0].balance);
    expect(feeRevenueAfter - feeRevenueBefore).toBe(fees);
    expect(byKey.size).toBeGreaterThan(TRANSFERS / 4);

    await expectBooksBalanced();
  });
});
