// Codes bound to an invoice, an order or an intent, paid on the hosted checkout page in real
// Chromium (/usr/bin/chromium via playwright-core) at a phone's viewport, against our functions
// over HTTP and the provider sandbox. Each flow starts with the scan: the code's PNG decoded
// here (jsQR) and its URL opened. An invoice code paid from the wallet after signing in (the
// page shows the invoice number and the amount due, then the receipt; reopened, "already
// paid"); an order code paid by a guest's M-Pesa (success through the sandbox); an intent code
// paid by M-Pesa. Each ends with the balances to the cent, one use, and the books reconciled.
// Screenshots: `UPDATE_SCREENSHOTS=1 TEST_ONLY=checkout-bound-browser npm test` writes
// docs/images/checkout-invoice.png and checkout-invoice-paid.png.
import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, type Party, partyWithWallet } from "../helpers/money.ts";
import { randomMsisdn } from "../helpers/money-movement.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { customerWithPassword, intentFee, scan, signIn, usePhoneBrowser } from "../helpers/phone-browser.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { idempotencyKey as key } from "../helpers/request.ts";

const { available, device } = usePhoneBrowser("checkout-bound-browser", "checkout-bound");
const { api } = useMoneyStack({ when: available });

let merchant: Party;

beforeAll(async () => {
  if (!available) return;
  await paymentIntentFee(); // 1.5%, borne by the merchant
  merchant = await partyWithWallet("merchant");
  await admin`update public.auth_users set name = 'Fundi Hardware' where id = ${merchant.userId}`;
  // Orders post as order_payment (receiver paid); shop-orders may put a 1% order_payment row in
  // the db-wide catalog at any moment of a full run: this merchant's own profile waives it.
  await admin`insert into public.merchant_fee_profiles (merchant_id, transaction_type, waived, note)
              values (${merchant.userId}, 'order_payment', true, 'checkout-bound-browser: orders unpriced')`;
}, 120_000);

const fee = intentFee;

async function boundCode(column: "invoice_id" | "order_id", id: string) {
  const [row] = await admin`select id, slug from public.qr_codes where ${admin(column)} = ${id}`;
  const links = await api(merchant.token, "GET", `/qr-codes/${row.id}`);
  return links.body as { id: string; slug: string; url: string; png_url: string };
}

async function useOf(id: string) {
  const [row] = await admin`select use_count, status from public.qr_codes where id = ${id}`;
  return row;
}

describe.skipIf(!available)("bound codes in Chromium at a phone's viewport", () => {
  it("an invoice code: number and amount due; sign in, pay from the wallet; the receipt; reopened it says paid", async () => {
    const payer = await customerWithPassword("2000.00");
    const fields = { customer_id: payer.user.id, items: [{ description: "Cement, 3 bags", quantity: "3", unit_amount: "415.50" }] };
    const [{ id }] = await admin`select (hazina.invoice_create(${merchant.userId}, ${admin.json(fields)}, ${key()}) ->> 'id') as id`;
    const [{ number }] = await admin`select hazina.invoice_finalize(${id}::uuid, ${merchant.userId}::uuid) ->> 'number' as number`;
    const code = await boundCode("invoice_id", id);
    const url = await scan(code.png_url);
    expect(url).toBe(code.url);
    const merchantBefore = await balanceOf(merchant.walletId);

    const page = await device.newPage();
    await page.goto(url);
    expect(await page.locator(".merchant").textContent()).toContain("Fundi Hardware");
    expect(await page.locator("#invoice-number").textContent()).toBe(`Invoice number ${number}`);
    expect(await page.locator("#amount-shown").textContent()).toBe("KES 1,246.50");
    await device.shot(page, "checkout-invoice.png");
    await signIn(page, payer.email);
    await page.getByRole("button", { name: "Pay KES 1,246.50" }).click();
    await page.locator("#receipt").waitFor();
    expect(await page.locator("#receipt-amount").textContent()).toBe("KES 1,246.50");
    expect(await page.locator("#status").textContent()).toContain("Payment received");

    expect(await balanceOf(payer.walletId)).toBe("753.5000");
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("1246.50", await fee("1246.50"))));
    const [inv] = await admin`select status, amount_due::text from public.invoices where id = ${id}`;
    expect(inv).toEqual({ status: "paid", amount_due: "0.0000" });
    expect(await useOf(code.id)).toEqual({ use_count: 1, status: "disabled" });

    const again = await device.newPage();
    await again.goto(url);
    expect(await again.locator("#status").getAttribute("data-code-status")).toBe("paid");
    expect(await again.locator("h1").textContent()).toBe("Already paid");
    expect(await again.locator("form").count()).toBe(0);
    await device.shot(again, "checkout-invoice-paid.png");
    await page.close();
    await again.close();
  });

  it("an order code: a guest pays by M-Pesa (sandbox success); the order is paid from its own intent", async () => {
    const customer = await customerWithPassword("10.00");
    const [{ shop }] = await admin`select hazina.shop_create(${merchant.userId}, 'Fundi', ${`fundi-${crypto.randomUUID().slice(0, 8)}`},
      'KES', 'optional', 5, null) ->> 'id' as shop`;
    const [{ product }] = await admin`select hazina.product_create(${merchant.userId}, ${shop}::uuid, 'Nails 1kg', 'NAILS', 180, 50,
      true, null) ->> 'id' as product`;
    const [{ o }] = await admin`select hazina.order_create(${customer.user.id}, ${shop}::uuid,
      ${admin.json([{ product_id: product, quantity: 2 }])}, null, '{}', ${key()}) as o`;
    const code = await boundCode("order_id", o.id);
    const merchantBefore = await balanceOf(merchant.walletId);
    const page = await device.newPage();
    await page.goto(await scan(code.png_url));
    expect(await page.locator("#amount-shown").textContent()).toBe("KES 360.00");
    await page.getByLabel("M-Pesa phone number").fill(`0${randomMsisdn().slice(3)}`);
    await page.getByRole("button", { name: "Pay with M-Pesa" }).click();
    await page.locator("#receipt").waitFor({ timeout: 20_000 });
    expect(await page.locator("#receipt-amount").textContent()).toBe("KES 360.00");
    expect(await page.locator("#receipt-ref").textContent()).toBe(o.payment_intent.id);

    const [order] = await admin`select status from public.orders where id = ${o.id}`;
    expect(order.status).toBe("paid");
    // Orders post as order_payment, waived for this merchant (beforeAll): it gets the total.
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, "360.00"));
    // The M-Pesa money went through the customer's wallet, which ends where it began.
    expect(await balanceOf(customer.walletId)).toBe("10.0000");
    expect(await useOf(code.id)).toEqual({ use_count: 1, status: "disabled" });
    await page.close();
  });

  it("an intent code (created through POST /qr-codes): a guest pays it by M-Pesa; a double tap pays once", async () => {
    const [{ pi }] = await admin`select hazina.payment_intent_create(${merchant.userId}, 640, 'KES', 'automatic', null,
      'Deposit on a water tank', null, null, ${key()}) ->> 'id' as pi`;
    const created = await api(merchant.token, "POST", "/qr-codes", { kind: "intent", payment_intent_id: pi, label: "Water tank deposit" },
      { "idempotency-key": key() });
    expect(created.status).toBe(201);
    const merchantBefore = await balanceOf(merchant.walletId);
    const page = await device.newPage();
    await page.goto(await scan(created.body.png_url));
    expect(await page.locator("h1").textContent()).toBe("Water tank deposit");
    expect(await page.locator("#amount-shown").textContent()).toBe("KES 640.00");
    await page.getByLabel("M-Pesa phone number").fill(`0${randomMsisdn().slice(3)}`);
    await page.evaluate(() => {
      const form = document.getElementById("mpesa-form") as HTMLFormElement;
      form.requestSubmit();
      form.requestSubmit();
    });
    await page.locator("#receipt").waitFor({ timeout: 20_000 });
    expect(await page.locator("#receipt-ref").textContent()).toBe(pi);
    const [sessions] = await admin`select count(*)::int as n from public.wallet_funding_sessions where payment_intent_id = ${pi}`;
    expect(sessions.n).toBe(1);
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("640.00", await fee("640.00"))));
    expect(await useOf(created.body.id)).toEqual({ use_count: 1, status: "disabled" });
    await page.close();
  });
});
