// Races on payment intents, on eight connections: two confirms of one intent, a capture
// racing a cancel (and the expiry job), refunds racing each other. Each race has exactly one
// outcome, every loser gets the stable code of the transition it lost, the money moved is
// exactly what the winners say, and the books reconcile.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import process from "node:process";
import { difference, fromUnits, sum, toUnits } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { paymentIntentFee } from "../helpers/payments.ts";

const INTENTS = 12;
const sql = postgres(process.env.DATABASE_URL!, { max: 8, onnotice: () => {} });

let merchant: Party;
let customer: Party;

beforeAll(async () => {
  await paymentIntentFee();
  merchant = await partyWithWallet("merchant");
  customer = await partyWithWallet();
  await fund(customer.walletId, "10000.00");
});

afterAll(async () => {
  await sql.end();
});

/** The stable code of a refused call, or "ok". */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (err) {
    const code = (err as { code?: string; message: string }).code === "P0001" ? (err as Error).message : `unexpected: ${err}`;
    return code;
  }
}

async function createIntent(amount: string, capture: "automatic" | "manual"): Promise<string> {
  const [row] = await sql`select hazina.payment_intent_create(${merchant.userId}, ${amount}::numeric, 'KES', ${capture},
    ${customer.userId}, null, null, null, ${"race-" + crypto.randomUUID()}) ->> 'id' as id`;
  return row.id;
}

const sources = (amount: string) => sql.json([{ type: "wallet", wallet_id: customer.walletId, amount }] as never);
const confirm = (id: string, amount: string) =>
  sql`select hazina.payment_intent_confirm(${id}, ${customer.userId}, ${sources(amount)}::jsonb)`;

describe("payment intent races", () => {
  it("two confirms of one intent: one pays, the other is intent_not_confirmable", async () => {
    const before = await balanceOf(customer.walletId);
    const ids = await Promise.all(Array.from({ length: INTENTS }, () => createIntent("10.00", "automatic")));
    const results = await Promise.all(ids.map((id) => Promise.all([outcome(confirm(id, "10.00")), outcome(confirm(id, "10.00"))])));
    for (const pair of results) expect(pair.sort()).toEqual(["intent_not_confirmable", "ok"]);
    const rows = await sql`select status, amount_received::text from public.payment_intents where id = any(${ids}::uuid[])`;
    expect(rows.every((r) => r.status === "succeeded" && r.amount_received === "10.0000")).toBe(true);
    expect(await balanceOf(customer.walletId)).toBe(difference(before, fromUnits(toUnits("10.00") * BigInt(INTENTS))));
    await expectBooksBalanced();
  });

  it("a capture racing a cancel and the expiry job: one of them wins, the money follows it", async () => {
    const before = await balanceOf(customer.walletId);
    const merchantBefore = await balanceOf(merchant.walletId);
    const ids = await Promise.all(Array.from({ length: INTENTS }, () => createIntent("20.00", "manual")));
    for (const id of ids) await confirm(id, "20.00");
    // Half are past their authorisation, so the expiry job joins the race for them.
    await sql`update public.payment_intents set expires_at = now() + interval '50 milliseconds'
               where id = any(${ids.filter((_, i) => i % 2 === 0)}::uuid[])`;
    await new Promise((resolve) => setTimeout(resolve, 60));
    const results = await Promise.all(ids.map((id, i) =>
      Promise.all([
        outcome(sql`select hazina.payment_intent_capture(${id}, ${merchant.userId}, 15.00)`),
        outcome(sql`select hazina.payment_intent_cancel(${id}, ${merchant.userId}, 'race')`),
        i % 2 === 0 ? outcome(sql`select hazina.expire_payment_intents(100)`) : Promise.resolve("ok"),
      ])
    ));
    const rows = await sql`select id, status, amount_received::text, cancellation_reason from public.payment_intents
                            where id = any(${ids}::uuid[])`;
    let captured = 0n;
    for (const [i, id] of ids.entries()) {
      const row = rows.find((r) => r.id === id)!;
      const [capture, cancel] = results[i];
      if (row.status === "succeeded") {
        expect([capture, cancel]).toEqual(["ok", "intent_not_cancelable"]);
        expect(row.amount_received).toBe("15.0000");
        captured += toUnits("15.00");
      } else {
        expect(row.status).toBe("canceled");
        expect(["intent_not_capturable", "intent_expired"]).toContain(capture);
        expect(cancel).toBe("ok"); // canceling a canceled intent is a no-op
        expect(row.amount_received).toBe("0.0000");
      }
      // An expired authorisation is never captured.
      if (i % 2 === 0) expect(row.status).toBe("canceled");
    }
    const [{ held }] = await sql`select held::text from public.wallets where id = ${customer.walletId}`;
    expect(held).toBe("0.0000");
    expect(await balanceOf(customer.walletId)).toBe(difference(before, fromUnits(captured)));
    // 1.5% of each 15.00 capture (0.225 → 0.23, half away from zero) is the merchant's fee.
    const captures = captured / toUnits("15.00");
    expect(await balanceOf(merchant.walletId)).toBe(
      sum(merchantBefore, fromUnits(captured - toUnits("0.23") * captures)),
    );
    await expectBooksBalanced();
  });

  it("refunds racing each other never exceed what was captured", async () => {
    const id = await createIntent("100.00", "automatic");
    await confirm(id, "100.00");
    const before = await balanceOf(customer.walletId);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      outcome(sql`select hazina.payment_refund_create(${merchant.userId}, ${id}, 30.00, null, ${`race-refund-${id}-${i}`})`)
    ));
    expect(results.filter((r) => r === "ok")).toHaveLength(3);
    expect(results.filter((r) => r !== "ok").every((r) => r === "refund_exceeds_captured")).toBe(true);
    const [intent] = await sql`select amount_refunded::text from public.payment_intents where id = ${id}`;
    expect(intent.amount_refunded).toBe("90.0000");
    const [{ n, total }] = await sql`select count(*)::int as n, sum(amount)::text as total from public.payment_refunds
                                      where payment_intent_id = ${id}`;
    expect([n, total]).toEqual([3, "90.0000"]);
    // Each winner gave back its share of the 1.50 fee: 1.50 × 30 / 100 = 0.45, once each.
    const [{ fees }] = await sql`select sum(fee_refunded)::text as fees from public.payment_refunds where payment_intent_id = ${id}`;
    expect(fees).toBe("1.3500");
    expect(await balanceOf(customer.walletId)).toBe(sum(before, "90.00"));
    await expectBooksBalanced();
  });
});
