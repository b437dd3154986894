// Installment plans through the installments function, against the real database: a plan's
// life from deposit through auto-collection (the job runner, POST /ops/jobs/run), a late
// payment with its fee, a default with its refund, an early payoff, reminders by mail, who
// may see what, and races (concurrent pays, pay vs collect vs cancel) ending in exactly one
// outcome. Every amount is checked to the cent against the wallets; the books reconcile.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { app } from "../../functions/installments/app.ts";
import { app as ops } from "../../functions/ops/app.ts";
import { app as orders } from "../../functions/orders/app.ts";
import { clearSentMail, sentMail } from "../../functions/_shared/mailer.ts";
import { Installment, ShopInstallmentSettings } from "../../functions/installments/schemas.ts";
import { placePlanOrder, shopWithLamp } from "../helpers/commerce.ts";
import { admin, asUser, createUser } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { appCaller, httpCaller, idempotencyKey as key, type Json, readResponse } from "../helpers/request.ts";
import { accessToken } from "../helpers/tokens.ts";

const inProcess = appCaller(app, "/installments");
const overHttp = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1/installments`);
const opsCall = appCaller(ops, "/ops");
const ordersCall = appCaller(orders, "/orders");

let duka: Party;
let amina: Party;
let other: Party;
let adminToken: string;
let shopId: string;
let lampId: string;
let seed = 0;

/** Place an order with a plan as the customer (the orders capability's placement, with `installments`). */
async function placePlan(customer: Party, terms: Record<string, unknown>, quantity = 1): Promise<Json> {
  return await placePlanOrder(customer.userId, shopId, lampId, { terms, quantity, ref: `order-${++seed}-${crypto.randomUUID()}` });
}

async function runDueJob(): Promise<Json> {
  const res = await readResponse(await opsCall(adminToken, "POST", "/jobs/run", { job: "installments.due" }, {
    "idempotency-key": key(),
  }));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.runs[0];
}

async function travel(by: string): Promise<void> {
  await admin`select hazina.clock_travel(${by}::interval)`;
}

async function plan(id: string): Promise<Json> {
  const [row] = await admin`select public.installment_json(i) as json from public.installments i where i.id = ${id}`;
  return row.json;
}

const pay = (who: Party, id: string, body: Record<string, unknown>, k = key()) =>
  inProcess(who.token, "POST", `/${id}/pay`, body, { "idempotency-key": k }).then(readResponse);

beforeAll(async () => {
  await admin`select hazina.clock_travel(null, true)`;
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  other = await partyWithWallet();
  const adminId = await createUser("admin");
  adminToken = await accessToken(adminId, { appRole: "admin" });
  await fund(amina.walletId, "5000.00");
  ({ shopId, lampId } = await shopWithLamp(duka.userId, "Duka la Taa", "duka-taa"));
});

afterAll(async () => {
  await admin`select hazina.clock_travel(null, true)`;
  await expectBooksBalanced();
});

describe("installment plans", () => {
  it("the merchant sets its shop's policy; nobody else can", async () => {
    const body = { allowed: true, max_count: 6, grace_days: 2, cancellation_fee_bps: 1000, missed_payments_to_default: 2 };
    const set = await readResponse(
      await inProcess(duka.token, "PUT", `/shops/${shopId}/settings`, body, { "idempotency-key": key() }),
    );
    expect(set.status).toBe(200);
    expect(ShopInstallmentSettings.strict().safeParse(set.body).error?.issues ?? []).toEqual([]);
    expect(set.body).toMatchObject({ allowed: true, grace_days: 2, max_cancellation_fee_bps: 1500 });
    const refused = await readResponse(
      await inProcess(amina.token, "PUT", `/shops/${shopId}/settings`, body, { "idempotency-key": key() }),
    );
    expect([refused.status, refused.body.error.code]).toEqual([404, "shop_not_found"]);
    const bad = await readResponse(
      await inProcess(duka.token, "PUT", `/shops/${shopId}/settings`, { grace_days: 99 }, { "idempotency-key": key() }),
    );
    expect([bad.status, bad.body.error.code]).toEqual([400, "validation_failed"]);
    const read = await readResponse(await inProcess(other.token, "GET", `/shops/${shopId}/settings`));
    expect(read.body.allowed).toBe(true);
  });

  it("a full plan: deposit, auto-collection on each date, a late payment with its fee, to the cent", async () => {
    const start = await balanceOf(amina.walletId);
    const placed = await placePlan(amina, { deposit: "100.00", count: 3, interval: "week", auto_collect: true });
    const id = placed.installment.id;
    expect(placed.installment.schedule.map((r: Json) => r.amount)).toEqual(["100.0000", "300.0000", "300.0000", "300.0100"]);

    // The plan's one shape, for the customer and the merchant; nobody else.
    const mine = await readResponse(await inProcess(amina.token, "GET", `/${id}`));
    expect(mine.status).toBe(200);
    expect(Installment.strict().safeParse(mine.body).error?.issues ?? []).toEqual([]);
    expect(mine.body).toEqual(await plan(id));
    expect((await inProcess(duka.token, "GET", `/${id}`)).status).toBe(200);
    const hidden = await readResponse(await inProcess(other.token, "GET", `/${id}`));
    expect([hidden.status, hidden.body.error.code]).toEqual([404, "installment_not_found"]);
    expect((await inProcess(undefined, "GET", `/${id}`)).status).toBe(401);

    // The deposit (no amount: what is due now), paid from the wallet over HTTP.
    const deposit = await readResponse(await overHttp(amina.token, "POST", `/${id}/pay`, { wallet_id: amina.walletId }, {
      "idempotency-key": key(),
    }));
    expect(deposit.status, JSON.stringify(deposit.body)).toBe(200);
    expect(deposit.body.payment_intent).toMatchObject({ amount: "100.0000", status: "succeeded", subject_type: "installment" });
    expect(deposit.body.installment.schedule[0].status).toBe("paid");
    expect(await balanceOf(amina.walletId)).toBe(difference(start, "100.00"));

    try {
      // Week 1: collected on its date, once even if the job runs twice. (The clock is shared
      // with suites running in parallel, whose plans may fall due too: count this plan's money,
      // not the job's report.)
      await travel("7 days 1 minute");
      expect((await runDueJob()).report.processed).toBeGreaterThanOrEqual(1);
      await runDueJob();
      expect((await plan(id)).schedule[1].status).toBe("paid");
      expect(await balanceOf(amina.walletId)).toBe(difference(start, "400.00"));

      // Week 2: the wallet is short. The row is late; nothing is overdrawn.
      const left = await balanceOf(amina.walletId);
      await admin`select hazina.post_transaction(${"test-drain:" + crypto.randomUUID()}, 'p2p_transfer', jsonb_build_array(
        jsonb_build_object('wallet_id', ${amina.walletId}::text, 'direction', 'debit', 'amount', ${
        difference(left, "10.00")
      }::text),
        jsonb_build_object('wallet_id', ${other.walletId}::text, 'direction', 'credit', 'amount', ${
        difference(left, "10.00")
      }::text)))`;
      await travel("7 days");
      await runDueJob();
      expect((await plan(id)).schedule[2].status).toBe("late");
      expect(await balanceOf(amina.walletId)).toBe("10.0000");

      // Past the grace period: the late fee (5% of 300 is 15, at least KES 50), once.
      await travel("2 days");
      await runDueJob();
      await runDueJob();
      const late = await plan(id);
      expect(late.schedule[2]).toMatchObject({ late_fee: "50.0000", amount_due: "350.0000" });
      expect(late).toMatchObject({ late_fees: "50.0000", missed_count: 1, amount_outstanding: "650.0100" });

      // A refused payment is answered as its error; the plan is untouched.
      const short = await pay(amina, id, { wallet_id: amina.walletId });
      expect([short.status, short.body.error.code]).toEqual([409, "insufficient_funds"]);
      expect((await plan(id)).amount_paid).toBe("400.0000");

      // Paid (350 with the fee), then the rest early: the plan completes, the merchant is paid.
      await fund(amina.walletId, "1000.00");
      const k = key();
      const paid = await pay(amina, id, { wallet_id: amina.walletId }, k);
      expect(paid.body.payment_intent.amount).toBe("350.0000");
      const replay = await pay(amina, id, { wallet_id: amina.walletId }, k);
      expect(replay.body.payment_intent.id).toBe(paid.body.payment_intent.id);
      const tooMuch = await pay(amina, id, { amount: "300.02", wallet_id: amina.walletId });
      expect([tooMuch.status, tooMuch.body.error.code]).toEqual([409, "amount_exceeds_outstanding"]);
      const dukaBefore = await balanceOf(duka.walletId);
      const payoff = await pay(amina, id, { amount: "300.01", wallet_id: amina.walletId });
      expect(payoff.body.installment).toMatchObject({ status: "completed", amount_paid: "1050.0100", amount_outstanding: "0.0000" });
      expect(await balanceOf(amina.walletId)).toBe(difference("1010.00", "350.00", "300.01"));
      const [fee] = await admin`select (hazina.fee_quote('escrow_release', 1050.01, 'KES', ${duka.userId}::uuid)).fee::text`;
      expect(await balanceOf(duka.walletId)).toBe(difference(sum(dukaBefore, "1050.01"), fee.fee));
      const [order] = await admin`select status, amount_paid::text from public.orders where id = ${placed.id}`;
      expect(order).toEqual({ status: "paid", amount_paid: "1000.0100" });
      const events = await admin`select type from public.events where object_id = ${id} order by created_at, id`;
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining([
        "installment.created",
        "installment.paid",
        "installment.overdue",
        "installment.missed",
        "installment.completed",
      ]));
    } finally {
      await admin`select hazina.clock_travel(null, true)`;
    }
    await expectBooksBalanced();
  });

  it("POST /orders with installments: the order, its plan and the deposit intent; replayed by its key", async () => {
    const k = key();
    const body = {
      shop_id: shopId,
      items: [{ product_id: lampId, quantity: 1 }],
      installments: { deposit: "250.00", count: 3, interval: "month" },
    };
    const placed = await readResponse(await ordersCall(amina.token, "POST", "", body, { "idempotency-key": k }));
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    expect(placed.body).toMatchObject({ status: "pending_payment", payment_intent_id: null });
    expect(placed.body.payment_intent).toMatchObject({ amount: "250.0000", subject_type: "installment" });
    expect(placed.body.installment.schedule.map((r: Json) => r.amount)).toEqual([
      "250.0000",
      "250.0000",
      "250.0000",
      "250.0100",
    ]);
    expect(Installment.strict().safeParse(placed.body.installment).error?.issues ?? []).toEqual([]);
    const again = await readResponse(await ordersCall(amina.token, "POST", "", body, { "idempotency-key": k }));
    expect(again.body.installment.id).toBe(placed.body.installment.id);
    const refused = await readResponse(await ordersCall(amina.token, "POST", "", {
      ...body,
      installments: { deposit: "250.00", count: 7, interval: "month" },
    }, { "idempotency-key": key() }));
    expect([refused.status, refused.body.error.code]).toEqual([409, "installments_not_allowed"]);
    // The order moves only through its plan.
    const cancelOrder = await readResponse(
      await ordersCall(amina.token, "POST", `/${placed.body.id}/cancel`, {}, { "idempotency-key": key() }),
    );
    expect([cancelOrder.status, cancelOrder.body.error.code]).toEqual([409, "order_has_installment_plan"]);
    const canceled = await readResponse(
      await inProcess(amina.token, "POST", `/${placed.body.installment.id}/cancel`, {}, { "idempotency-key": key() }),
    );
    expect(canceled.body.status).toBe("canceled");
    const [order] = await admin`select status from public.orders where id = ${placed.body.id}`;
    expect(order.status).toBe("canceled");
  });

  it("a default: two missed payments, the refund less the bounded cancellation fee, the stock back", async () => {
    await fund(amina.walletId, "500.00");
    const placed = await placePlan(amina, { deposit: "200.00", count: 2, interval: "day" });
    const id = placed.installment.id;
    const [{ stock: reserved }] = await admin`select stock from public.products where id = ${lampId}`;
    await pay(amina, id, { wallet_id: amina.walletId });
    const afterDeposit = await balanceOf(amina.walletId);
    try {
      await travel("4 days 1 minute");
      await runDueJob();
    } finally {
      await admin`select hazina.clock_travel(null, true)`;
    }
    const defaulted = await plan(id);
    expect(defaulted).toMatchObject({ status: "defaulted", cancellation_fee: "20.0000", amount_refunded: "180.0000" });
    expect(await balanceOf(amina.walletId)).toBe(sum(afterDeposit, "180.00"));
    const [order] = await admin`select status from public.orders where id = ${placed.id}`;
    expect(order.status).toBe("canceled");
    const [{ stock }] = await admin`select stock from public.products where id = ${lampId}`;
    expect(stock).toBe(reserved + 1);
    await expectBooksBalanced();
  });

  it("lists: mine by role and status, paged", async () => {
    const a = await placePlan(amina, { deposit: "100.00", count: 2, interval: "month" });
    const b = await placePlan(amina, { deposit: "100.00", count: 2, interval: "month" });
    const page1 = await readResponse(await inProcess(amina.token, "GET", "?role=customer&status=active&limit=1"));
    expect(page1.body.data.map((p: Json) => p.id)).toEqual([b.installment.id]);
    const page2 = await readResponse(
      await inProcess(amina.token, "GET", `?role=customer&status=active&limit=1&cursor=${page1.body.next_cursor}`),
    );
    expect(page2.body.data.map((p: Json) => p.id)).toEqual([a.installment.id]);
    const asMerchant = await readResponse(await inProcess(amina.token, "GET", "?role=merchant"));
    expect(asMerchant.body.data).toEqual([]);
    const merchant = await readResponse(await inProcess(duka.token, "GET", "?role=merchant&status=active"));
    expect(merchant.body.data.map((p: Json) => p.id)).toEqual(expect.arrayContaining([a.installment.id, b.installment.id]));
    expect((await readResponse(await inProcess(other.token, "GET", ""))).body.data).toEqual([]);
    // Clean up: the merchant cancels both (full refunds, no fee).
    for (const p of [a, b]) {
      const res = await readResponse(await inProcess(duka.token, "POST", `/${p.installment.id}/cancel`, {}, {
        "idempotency-key": key(),
      }));
      expect(res.body).toMatchObject({ status: "canceled", cancellation_fee: "0.0000" });
    }
  });

  it("waive: the merchant forgives a late fee; the customer cannot", async () => {
    await fund(amina.walletId, "100.00");
    const placed = await placePlan(amina, { deposit: "100.00", count: 2, interval: "week" });
    const id = placed.installment.id;
    await pay(amina, id, { wallet_id: amina.walletId });
    try {
      await travel("7 days 1 minute");
      await runDueJob();
      await travel("2 days");
      await runDueJob();
    } finally {
      await admin`select hazina.clock_travel(null, true)`;
    }
    expect((await plan(id)).schedule[1].late_fee).toBe("50.0000");
    const refused = await readResponse(await inProcess(amina.token, "POST", `/${id}/waive`, { seq: 1 }, {
      "idempotency-key": key(),
    }));
    expect([refused.status, refused.body.error.code]).toEqual([403, "forbidden"]);
    const waived = await readResponse(await inProcess(duka.token, "POST", `/${id}/waive`, { seq: 1, what: "late_fee" }, {
      "idempotency-key": key(),
    }));
    expect(waived.status, JSON.stringify(waived.body)).toBe(200);
    expect(waived.body.schedule[1]).toMatchObject({ late_fee: "50.0000", amount_waived: "50.0000", amount_due: "450.0000" });
    const again = await readResponse(await inProcess(duka.token, "POST", `/${id}/waive`, { seq: 1, what: "late_fee" }, {
      "idempotency-key": key(),
    }));
    expect([again.status, again.body.error.code]).toEqual([409, "installment_row_not_waivable"]);
    // The customer cancels: 10% of 100 stays with the merchant.
    const before = await balanceOf(amina.walletId);
    const canceled = await readResponse(await inProcess(amina.token, "POST", `/${id}/cancel`, {}, {
      "idempotency-key": key(),
    }));
    expect(canceled.body).toMatchObject({ status: "canceled", cancellation_fee: "10.0000", amount_refunded: "90.0000" });
    expect(await balanceOf(amina.walletId)).toBe(sum(before, "90.00"));
    await expectBooksBalanced();
  });

  it("reminders: mailed once before a due date", async () => {
    clearSentMail();
    await fund(amina.walletId, "100.00");
    const placed = await placePlan(amina, { deposit: "100.00", count: 2, interval: "week", auto_collect: true });
    await pay(amina, placed.installment.id, { wallet_id: amina.walletId });
    const [{ email }] = await admin`select email from public.auth_users where id = ${amina.userId}`;
    try {
      await travel("6 days 1 hour");
      const run = async () =>
        (await readResponse(await opsCall(adminToken, "POST", "/jobs/run", { job: "installments.remind" }, {
          "idempotency-key": key(),
        }))).body.runs[0];
      // Other suites' plans may be reminded in the same runs (one shared clock): that this
      // customer is reminded exactly once is the mail count below.
      expect((await run()).report.processed).toBeGreaterThanOrEqual(1);
      await run();
    } finally {
      await admin`select hazina.clock_travel(null, true)`;
    }
    const mails = sentMail(email);
    expect(mails.length).toBe(1);
    expect(mails[0]).toMatchObject({ kind: "installment_due_soon" });
    expect(mails[0].subject).toContain("KES 450.00");
    await asUser(amina.userId, (tx) => tx`select public.installment_cancel(${placed.installment.id})`);
  });
});

describe("installment races", () => {
  it("concurrent payoffs of one plan: exactly one is taken, the customer pays once", async () => {
    await fund(amina.walletId, "2000.00");
    const placed = await placePlan(amina, { deposit: "100.00", count: 2, interval: "week" });
    const id = placed.installment.id;
    await pay(amina, id, { wallet_id: amina.walletId });
    const before = await balanceOf(amina.walletId);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => pay(amina, id, { amount: "900.01", wallet_id: amina.walletId })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === "installment_not_active")).toBe(true);
    expect(await balanceOf(amina.walletId)).toBe(difference(before, "900.01"));
    expect((await plan(id)).status).toBe("completed");
    await expectBooksBalanced();
  });

  it("concurrent job runners collect each due payment exactly once", async () => {
    await fund(amina.walletId, "2000.00");
    const plans = [];
    for (let i = 0; i < 3; i++) {
      const placed = await placePlan(amina, { deposit: "100.00", count: 2, interval: "week", auto_collect: true });
      await pay(amina, placed.installment.id, { wallet_id: amina.walletId });
      plans.push(placed.installment.id);
    }
    const before = await balanceOf(amina.walletId);
    try {
      await travel("7 days 1 minute");
      const runs = await Promise.all(Array.from({ length: 6 }, () => runDueJob()));
      // (A runner may still claim a plan another just finished; it then finds nothing left to do.)
      expect(runs.reduce((n: number, r: Json) => n + r.report.processed, 0)).toBeGreaterThanOrEqual(3);
    } finally {
      await admin`select hazina.clock_travel(null, true)`;
    }
    expect(await balanceOf(amina.walletId)).toBe(difference(before, "450.00", "450.00", "450.00"));
    for (const id of plans) {
      expect((await plan(id)).schedule[1].status).toBe("paid");
      const [{ n }] = await admin`select count(*)::int as n from public.payment_intents
                                   where subject_id = ${id} and client_ref like '%:collect:%'`;
      expect(n).toBe(1);
      await asUser(duka.userId, (tx) => tx`select public.installment_cancel(${id})`);
    }
    await expectBooksBalanced();
  });

  it("pay vs auto-collect vs cancel on one due plan: one consistent outcome, no money lost", async () => {
    for (let round = 0; round < 3; round++) {
      await fund(amina.walletId, "1000.00");
      const placed = await placePlan(amina, { deposit: "100.00", count: 2, interval: "week", auto_collect: true });
      const id = placed.installment.id;
      await pay(amina, id, { wallet_id: amina.walletId });
      const before = await balanceOf(amina.walletId);
      const dukaBefore = await balanceOf(duka.walletId);
      try {
        await travel("7 days 1 minute");
        await Promise.all([
          pay(amina, id, { amount: "450.00", wallet_id: amina.walletId }),
          runDueJob(),
          readResponse(await inProcess(amina.token, "POST", `/${id}/cancel`, {}, { "idempotency-key": key() })),
          runDueJob(),
        ]);
      } finally {
        await admin`select hazina.clock_travel(null, true)`;
      }
      const final = await plan(id);
      // Whatever won, the customer's wallet moved by exactly what the plan kept, and the
      // merchant received exactly the cancellation fee (or nothing while the plan is active).
      const kept = final.status === "canceled" ? final.cancellation_fee : final.amount_paid;
      const paidSince = difference(kept, final.status === "canceled" ? "0" : "100.00");
      expect(await balanceOf(amina.walletId), `round ${round}: ${final.status}`).toBe(
        final.status === "canceled" ? sum(difference(before, final.cancellation_fee), "100.00") : difference(before, paidSince),
      );
      if (final.status === "canceled") {
        expect(await balanceOf(duka.walletId)).toBe(sum(dukaBefore, final.cancellation_fee));
        expect(final.amount_refunded).toBe(difference(final.amount_paid, final.cancellation_fee));
      } else {
        expect(final.amount_paid).toBe("550.0000");
        await asUser(duka.userId, (tx) => tx`select public.installment_cancel(${id})`);
      }
      await expectBooksBalanced();
    }
  });
});
