// Races on the same money, on eight connections.
//
// Two-phase transfers: many holds between a few wallets, then posts (full and
// partial), voids and the expiry sweep all fired at the same holds at once, on eight
// connections. Each hold must end in exactly one final state, reached by exactly one
// caller; every other caller gets a stable business error; the money a posted hold moved is
// its posted amount; held amounts are released exactly once; the books reconcile.
//
// Reversals: many partial reversals and a full one of the same transfer at once never
// reverse more than it moved.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import process from "node:process";
import { expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";

const HOLDS = 40;
const sql = postgres(process.env.DATABASE_URL!, { max: 8, onnotice: () => {} });

let payers: Party[];
let payee: Party;

beforeAll(async () => {
  payers = [await partyWithWallet(), await partyWithWallet(), await partyWithWallet()];
  payee = await partyWithWallet("merchant");
  for (const p of payers) await fund(p.walletId, "1000.00");
});

afterAll(async () => {
  await sql.end();
});

describe("races", () => {
  it("holds end in one final state each, reached once, and keep the books exact", async () => {
    const run = crypto.randomUUID().slice(0, 8);
    const holds: { id: string; payer: Party; amount: string }[] = [];
    for (let i = 0; i < HOLDS; i++) {
      const payer = payers[i % payers.length];
      const amount = `${10 + (i % 7)}.00`;
      // A third expire almost at once, so the sweep races the posts and voids.
      const expiresIn = i % 3 === 0 ? "150 milliseconds" : "1 hour";
      const [row] = await sql`select hazina.hold_create(${`hc-${run}-${i}`}, ${payer.walletId}, ${payee.walletId},
                                                        ${amount}::numeric, now() + ${expiresIn}::interval, 'merchant_payment') as id`;
      holds.push({ id: row.id, payer, amount });
    }
    await new Promise((r) => setTimeout(r, 200));

    type Outcome = { hold: string; op: string; ok: boolean; code?: string };
    const outcomes: Outcome[] = [];
    const attempt = async (hold: string, op: string, query: () => Promise<unknown>) => {
      try {
        await query();
        outcomes.push({ hold, op, ok: true });
      } catch (err) {
        outcomes.push({ hold, op, ok: false, code: `${(err as { code?: string }).code}:${(err as Error).message}` });
      }
    };
    const calls: Promise<void>[] = [];
    holds.forEach((h, i) => {
      const partial = `${5 + (i % 3)}.00`;
      calls.push(attempt(h.id, "post", () => sql`select hazina.hold_post(${h.id}, ${i % 2 ? partial : null}::numeric)`));
      calls.push(attempt(h.id, "void", () => sql`select hazina.hold_void(${h.id})`));
      if (i % 4 === 0) calls.push(attempt(h.id, "post", () => sql`select hazina.hold_post(${h.id}, ${partial}::numeric)`));
    });
    for (let k = 0; k < 4; k++) calls.push(attempt("*", "sweep", () => sql`select hazina.expire_holds()`));
    await Promise.all(calls);

    // Every refusal is a business error with a stable code.
    for (const o of outcomes.filter((o) => !o.ok)) expect(o.code, JSON.stringify(o)).toMatch(/^P0001:[a-z_]+$/);

    const rows = await sql`select id, status, amount::text, posted_amount::text, transaction_id from public.wallet_holds
                            where id = any(${holds.map((h) => h.id)}::uuid[])`;
    for (const row of rows) {
      expect(["posted", "voided", "expired"], row.id).toContain(row.status);
      const mine = outcomes.filter((o) => o.hold === row.id && o.ok);
      if (row.status === "posted") {
        // Posting the same amount again replays; a different amount is refused. So the
        // successful posts all posted the one amount recorded, once.
        expect(mine.every((o) => o.op === "post"), row.id).toBe(true);
        const [{ n }] = await sql`select count(*)::int as n from public.wallet_transactions where id = ${row.transaction_id}`;
        expect(n).toBe(1);
        const [{ moved }] = await sql`
          select coalesce(sum(amount) filter (where leg = 'principal' and direction = 'credit'), 0)::text as moved
            from hazina.transaction_entries(${row.transaction_id})`;
        expect(moved).toBe(row.posted_amount);
      } else if (row.status === "voided") {
        expect(mine.filter((o) => o.op !== "void"), row.id).toEqual([]);
      } else {
        expect(mine, row.id).toEqual([]); // only the sweep expires, and it reports no per-hold success
      }
    }
    const count = (status: string) => rows.filter((r) => r.status === status).length;
    console.log(`holds race: ${count("posted")} posted, ${count("voided")} voided, ${count("expired")} expired; ` +
      `${outcomes.filter((o) => !o.ok).length} refusals`);
    expect(rows.filter((r) => r.status === "posted").length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.status === "voided").length).toBeGreaterThan(0);
    // held = pending holds (none left pending here), balances = entries: reconcile checks both.
    const [{ held }] = await sql`select coalesce(sum(held), 0)::text as held from public.wallets where id = any(${payers.map((p) => p.walletId)}::uuid[])`;
    expect(held).toBe("0.0000");
    await expectBooksBalanced();
  });

  it("concurrent reversals of one transfer never reverse more than it moved", async () => {
    const run = crypto.randomUUID().slice(0, 8);
    const payer = payers[0];
    const [{ tx }] = await sql`select (hazina.transfer(${`rv-${run}`}, ${payer.walletId}, ${payee.walletId}, 100.00, 'p2p_transfer') ->> 'transaction_id') as tx`;
    const attempts = Array.from({ length: 10 }, (_, i) =>
      sql`select hazina.reverse_transaction(${tx}, ${`rv-${run}-${i}`}, ${i === 9 ? null : "30.00"}::numeric, 'race')`
        .then(() => "reversed", (err) => `${err.code}:${err.message}`));
    const results = await Promise.all(attempts);
    for (const r of results.filter((r) => r !== "reversed")) expect(r).toMatch(/^P0001:reversal_exceeds_original$/);
    const [{ reversed }] = await sql`select coalesce(sum(principal_amount), 0)::text as reversed
                                       from public.wallet_transactions where reverses_id = ${tx}`;
    // Whatever the order, exactly the 100 moved is reversed: the full reversal first and no
    // partial after it, or up to three partials of 30 and then "the rest".
    expect(reversed).toBe("100.0000");
    const succeeded = results.filter((r) => r === "reversed").length;
    expect(succeeded).toBeGreaterThanOrEqual(1);
    expect(succeeded).toBeLessThanOrEqual(4);
    await expectBooksBalanced();
  });
});
