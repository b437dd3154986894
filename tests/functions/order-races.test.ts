// Races on orders and goods escrow. No oversell: 100 concurrent POST /orders over the real
// HTTP server for a product with stock 10 → exactly 10 placed, stock 0, the rest
// out_of_stock. Multi-line orders naming the same products in opposite orders never
// deadlock. On eight connections: confirm receipt vs dispute vs refund vs the auto-release
// job on one escrow end in one outcome (the money moves once, to one side), and concurrent
// job runners release each due escrow exactly once. The books reconcile after each.
// (Time-based cases set auto_release_at directly rather than moving hazina.clock(): suites
// run in parallel and the clock is shared.)
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import postgres from "postgres";
import process from "node:process";
import { admin, createUser } from "../helpers/db.ts";
import { expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { httpCaller, idempotencyKey as key, readResponse } from "../helpers/request.ts";
import { accessToken } from "../helpers/tokens.ts";

const sql = postgres(process.env.DATABASE_URL!, { max: 8, onnotice: () => {} });
const orders = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1/orders`);

let duka: Party;
let amina: Party;
let shopId: string;

beforeAll(async () => {
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  await fund(amina.walletId, "100000.00");
  const [shop] = await sql`select hazina.shop_create(${duka.userId}, 'Race shop', ${"race-" + crypto.randomUUID().slice(0, 8)},
    'KES', 'optional', 3, null) ->> 'id' as id`;
  shopId = shop.id;
});

afterAll(async () => {
  await sql.end();
});

async function product(stock: number | null, price = "100.00"): Promise<string> {
  const [row] = await sql`select hazina.product_create(${duka.userId}, ${shopId}, 'Thing', ${"SKU-" + crypto.randomUUID().slice(0, 8)},
    ${price}::numeric, ${stock}::integer, true, null) ->> 'id' as id`;
  return row.id;
}

/** The stable code of a refused call, or "ok". */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (err) {
    return (err as { code?: string }).code === "P0001" ? (err as Error).message : `unexpected: ${err}`;
  }
}

/** An escrowed order of one unit, paid, dispatched and delivered. */
async function deliveredEscrow(productId: string): Promise<{ orderId: string; escrowId: string }> {
  const [o] = await sql`select hazina.order_create(${amina.userId}, ${shopId},
    ${sql.json([{ product_id: productId, quantity: 1 }] as never)}::jsonb, true, null, ${"race-" + crypto.randomUUID()}) as o`;
  await sql`select hazina.payment_intent_confirm(${o.o.payment_intent.id}, ${amina.userId},
    ${sql.json([{ type: "wallet", wallet_id: amina.walletId, amount: o.o.total }] as never)}::jsonb)`;
  await sql`select hazina.order_dispatch(${o.o.id}, ${duka.userId})`;
  await sql`select hazina.order_deliver(${o.o.id}, ${duka.userId})`;
  const [e] = await sql`select id from public.goods_escrows where order_id = ${o.o.id}`;
  return { orderId: o.o.id, escrowId: e.id };
}

describe("order races", () => {
  it("100 concurrent orders for a stock of 10 over HTTP: exactly 10 placed, stock 0, the rest out_of_stock", async () => {
    const scarce = await product(10);
    const buyers = await Promise.all(Array.from({ length: 100 }, async () => {
      const id = await createUser();
      return await accessToken(id);
    }));
    const answers = await Promise.all(buyers.map((token) =>
      orders(token, "POST", "", { shop_id: shopId, items: [{ product_id: scarce, quantity: 1 }] }, { "idempotency-key": key() })
        .then(readResponse)
    ));
    const placed = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status !== 201);
    expect(placed).toHaveLength(10);
    expect(refused.map((a) => `${a.status} ${a.body.error?.code}`)).toEqual(Array(90).fill("409 out_of_stock"));
    const [{ stock }] = await sql`select stock from public.products where id = ${scarce}`;
    expect(stock).toBe(0);
    const [{ n, units }] = await sql`select count(distinct order_id)::int as n, sum(quantity)::int as units
                                       from public.order_items where product_id = ${scarce}`;
    expect([n, units]).toEqual([10, 10]);
    // Cancelling the placed orders puts every unit back.
    await Promise.all(placed.map((a) => sql`select hazina.order_cancel(${a.body.id}, ${a.body.customer_id}, null)`));
    const [{ stock: after }] = await sql`select stock from public.products where id = ${scarce}`;
    expect(after).toBe(10);
    await expectBooksBalanced();
  });

  it("multi-line orders naming the same products in opposite orders never deadlock or oversell", async () => {
    const a = await product(40);
    const b = await product(40);
    const results = await Promise.all(Array.from({ length: 48 }, (_, i) =>
      outcome(sql`select hazina.order_create(${amina.userId}, ${shopId}, ${
        sql.json((i % 2 ? [a, b] : [b, a]).map((id) => ({ product_id: id, quantity: 1 })) as never)
      }::jsonb, false, null, ${"multi-" + crypto.randomUUID()})`)
    ));
    expect(results.filter((r) => r === "ok")).toHaveLength(40);
    expect(results.filter((r) => r !== "ok").every((r) => r === "out_of_stock")).toBe(true);
    const stocks = await sql`select stock from public.products where id in (${a}, ${b})`;
    expect(stocks.map((s) => s.stock)).toEqual([0, 0]);
  });

  it("confirm vs dispute vs refund vs auto-release on one escrow: the money moves once, to one side", async () => {
    const thing = await product(null);
    const escrows = [];
    for (let i = 0; i < 12; i++) escrows.push(await deliveredEscrow(thing));
    // Half are past their window, so the job joins the race (and a dispute comes too late).
    const late = escrows.filter((_, i) => i % 2 === 0).map((e) => e.escrowId);
    await sql`update public.goods_escrows set auto_release_at = hazina.clock() - interval '1 second' where id = any(${late}::uuid[])`;
    const results = await Promise.all(escrows.map(({ orderId }, i) =>
      Promise.all([
        outcome(sql`select hazina.order_confirm_receipt(${orderId}, ${amina.userId})`),
        outcome(sql`select hazina.order_dispute(${orderId}, ${amina.userId}, 'race')`),
        outcome(sql`select hazina.order_refund(${orderId}, ${duka.userId}, null, null, 'race', ${"race-" + i})`),
        outcome(sql`select * from hazina.release_due_escrows(100)`),
      ])
    ));
    const rows = await sql`select e.id, e.status, e.amount::text, e.released_amount::text, e.refunded_amount::text, o.status as order_status,
                                  (select count(*)::int from public.wallet_transactions t where t.ref = 'escrow:' || e.id || ':release') as releases,
                                  (select count(*)::int from public.payment_refunds r where r.payment_intent_id = o.payment_intent_id) as refunds
                             from public.goods_escrows e join public.orders o on o.id = e.order_id
                            where e.id = any(${escrows.map((e) => e.escrowId)}::uuid[])`;
    for (const [i, { escrowId }] of escrows.entries()) {
      const row = rows.find((r) => r.id === escrowId)!;
      const [confirm, dispute, refund, job] = results[i];
      expect(["released", "refunded"]).toContain(row.status);
      expect(job).toBe("ok");
      for (const code of [confirm, dispute, refund]) {
        expect(["ok", "order_not_confirmable", "order_not_disputable", "order_not_refundable", "dispute_window_closed"]).toContain(code);
      }
      if (row.status === "released") {
        expect([row.released_amount, row.refunded_amount, row.releases, row.refunds, row.order_status])
          .toEqual([row.amount, "0.0000", 1, 0, "completed"]);
        expect([dispute, refund]).not.toContain("ok");
      } else if (row.status === "refunded") {
        expect([row.released_amount, row.refunded_amount, row.releases, row.refunds, row.order_status])
          .toEqual(["0.0000", row.amount, 0, 1, "refunded"]);
        expect(refund).toBe("ok");
        expect(confirm).not.toBe("ok");
      } else {
        // A refund is allowed before and after a dispute, so it always wins unless a release did.
        throw new Error(`escrow ${escrowId} ended ${row.status}: ${results[i].join(", ")}`);
      }
      // A late escrow can never be disputed.
      if (late.includes(escrowId)) expect(dispute).not.toBe("ok");
    }
    await expectBooksBalanced();
  });

  it("concurrent job runners release each due escrow exactly once", async () => {
    const thing = await product(null);
    const escrows = [];
    for (let i = 0; i < 10; i++) escrows.push(await deliveredEscrow(thing));
    const ids = escrows.map((e) => e.escrowId);
    await sql`update public.goods_escrows set auto_release_at = hazina.clock() - interval '1 second' where id = any(${ids}::uuid[])`;
    const reports = await Promise.all(Array.from({ length: 6 }, () => sql`select released as n from hazina.release_due_escrows(3)`));
    const more = await sql`select released as n from hazina.release_due_escrows(100)`;
    const processed = [...reports, more].reduce((total, [r]) => total + r.n, 0);
    // Other suites' escrows may be due too; ours are released once each, never twice.
    expect(processed).toBeGreaterThanOrEqual(10);
    const rows = await sql`select e.status, (select count(*)::int from public.wallet_transactions t
                                             where t.ref = 'escrow:' || e.id || ':release') as releases
                             from public.goods_escrows e where e.id = any(${ids}::uuid[])`;
    expect(rows.map((r) => `${r.status}:${r.releases}`)).toEqual(Array(10).fill("released:1"));
    await expectBooksBalanced();
  });
});
