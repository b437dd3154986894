// Races on invoices, on eight connections: twenty finalisations of one merchant at once
// (numbers 1..20, no gap, no duplicate), concurrent pays and confirms of one invoice (never
// overpaid: what the invoice says it received is what the intents moved), a void racing a
// confirm, and concurrent overdue passes (each invoice marked once). The books reconcile.
import postgres from "postgres";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { difference } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { paymentIntentFee } from "../helpers/payments.ts";

const sql = postgres(process.env.DATABASE_URL!, { max: 8, onnotice: () => {} });

let customer: Party;

beforeAll(async () => {
  await paymentIntentFee();
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
    const e = err as { code?: string; message: string };
    return e.code === "P0001" ? e.message : `unexpected: ${e.code} ${e.message}`;
  }
}

async function draft(merchant: Party, fields: Record<string, unknown>): Promise<string> {
  const [row] = await sql`select hazina.invoice_create(${merchant.userId}, ${sql.json(fields as never)}::jsonb,
    ${"race-" + crypto.randomUUID()}) ->> 'id' as id`;
  return row.id;
}

const item = (amount: string) => [{ description: "Goods", quantity: "1", unit_amount: amount }];
const confirm = (intentId: string, amount: string) =>
  sql`select hazina.payment_intent_confirm(${intentId}, ${customer.userId},
    ${sql.json([{ type: "wallet", wallet_id: customer.walletId, amount }] as never)}::jsonb)`;

describe("invoice races", () => {
  it("twenty finalisations at once take the numbers 1..20: no gap, no duplicate", async () => {
    const merchant = await partyWithWallet("merchant");
    const ids = await Promise.all(Array.from({ length: 20 }, () => draft(merchant, { customer_id: customer.userId, items: item("10") })));
    const results = await Promise.all(ids.map((id) => outcome(sql`select hazina.invoice_finalize(${id}, ${merchant.userId})`)));
    expect(results.every((r) => r === "ok")).toBe(true);
    const rows = await sql`select number, sequence_number::int as n from public.invoices where id = any(${ids}::uuid[]) order by 2`;
    expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(rows.map((r) => r.number)).toEqual(Array.from({ length: 20 }, (_, i) => `INV-${String(i + 1).padStart(6, "0")}`));
    // Finalising them all again: every one refused, no number consumed.
    const again = await Promise.all(ids.map((id) => outcome(sql`select hazina.invoice_finalize(${id}, ${merchant.userId})`)));
    expect(again.every((r) => r === "invoice_not_draft")).toBe(true);
    const [{ next }] = await sql`select next_number::int as next from public.invoice_sequences where merchant_id = ${merchant.userId}`;
    expect(next).toBe(21);
  });

  it("concurrent pays and confirms never overpay an invoice", async () => {
    const merchant = await partyWithWallet("merchant");
    const before = await balanceOf(customer.walletId);
    const invoices = await Promise.all(Array.from({ length: 4 }, async () => {
      const id = await draft(merchant, { customer_id: customer.userId, allow_partial_payment: true, items: item("100") });
      await sql`select hazina.invoice_finalize(${id}, ${merchant.userId})`;
      return id;
    }));
    // Six payers per invoice, each asking for 40 of the 100 due and confirming at once.
    const attempts = await Promise.all(invoices.flatMap((id) =>
      Array.from({ length: 6 }, async () => {
        let intentId: string;
        try {
          const [row] = await sql`select hazina.invoice_pay(${id}, ${customer.userId}, 40, null) ->> 'id' as id`;
          intentId = row.id;
        } catch (err) {
          return `pay:${(err as Error).message}`;
        }
        return `confirm:${await outcome(confirm(intentId, "40.00"))}`;
      })
    ));
    const allowed = new Set(["confirm:ok", "confirm:intent_not_confirmable", "confirm:invoice_overpayment",
      "pay:invoice_payment_in_progress", "pay:amount_exceeds_due", "pay:partial_payment_not_allowed"]);
    expect(attempts.filter((a) => !allowed.has(a))).toEqual([]);
    const rows = await sql`
      select i.id, i.amount_paid::text, i.amount_due::text, i.status,
             (select coalesce(sum(amount_received), 0)::text from public.payment_intents p
               where p.subject_type = 'invoice' and p.subject_id = i.id and p.status = 'succeeded') as received
        from public.invoices i where i.id = any(${invoices}::uuid[])`;
    let paid = 0;
    for (const row of rows) {
      expect(row.amount_paid).toBe(row.received);
      expect(Number(row.amount_paid)).toBeLessThanOrEqual(100);
      expect(Number(row.amount_paid) + Number(row.amount_due)).toBe(100);
      paid += Number(row.amount_paid);
    }
    // At least one payment per invoice got through.
    expect(attempts.filter((a) => a === "confirm:ok").length).toBeGreaterThanOrEqual(invoices.length);
    expect(await balanceOf(customer.walletId)).toBe(difference(before, paid.toFixed(4)));
    const [{ held }] = await sql`select held::text from public.wallets where id = ${customer.walletId}`;
    expect(held).toBe("0.0000");
    await expectBooksBalanced();
  });

  it("a void racing a confirm: either the payment lands and the void is refused, or the void wins and nothing moves", async () => {
    const merchant = await partyWithWallet("merchant");
    const before = await balanceOf(customer.walletId);
    const ids = await Promise.all(Array.from({ length: 8 }, async () => {
      const id = await draft(merchant, { customer_id: customer.userId, items: item("25") });
      await sql`select hazina.invoice_finalize(${id}, ${merchant.userId})`;
      const [row] = await sql`select hazina.invoice_pay(${id}, ${customer.userId}, null, null) ->> 'id' as intent`;
      return { id, intent: row.intent as string };
    }));
    const results = await Promise.all(ids.map(({ id, intent }) =>
      Promise.all([outcome(confirm(intent, "25.00")), outcome(sql`select hazina.invoice_void(${id}, ${merchant.userId})`)])
    ));
    let paid = 0;
    for (const [i, { id }] of ids.entries()) {
      const [row] = await sql`select status from public.invoices where id = ${id}`;
      const [pay, voided] = results[i];
      if (row.status === "paid") {
        expect(pay).toBe("ok");
        expect(["invoice_not_voidable", "invoice_payment_in_progress", "invoice_has_payments"]).toContain(voided);
        paid += 25;
      } else {
        expect(row.status).toBe("void");
        expect(voided).toBe("ok");
        expect(["intent_not_confirmable", "invoice_not_payable"]).toContain(pay);
      }
    }
    expect(await balanceOf(customer.walletId)).toBe(difference(before, paid.toFixed(4)));
    await expectBooksBalanced();
  });

  it("concurrent overdue passes mark each invoice once", async () => {
    const merchant = await partyWithWallet("merchant");
    const ids = await Promise.all(Array.from({ length: 10 }, async () => {
      const id = await draft(merchant, { customer_id: customer.userId, due_date: "2020-01-01", items: item("5") });
      await sql`select hazina.invoice_finalize(${id}, ${merchant.userId})`;
      return id;
    }));
    await Promise.all(Array.from({ length: 6 }, () => sql`select hazina.run_job('invoices.mark_overdue', 3)`));
    await sql`select hazina.run_job('invoices.mark_overdue')`;
    const events = await sql`select object_id, count(*)::int as n from public.events
                              where object_id = any(${ids}::uuid[]) and type = 'invoice.overdue' group by 1`;
    expect(events).toHaveLength(10);
    expect(events.every((e) => e.n === 1)).toBe(true);
  });
});
