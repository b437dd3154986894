// The hosted checkout page in a real browser: Debian's Chromium (/usr/bin/chromium) driven by
// playwright-core, at a phone's viewport, against our functions served over HTTP and the
// provider sandbox (tests/helpers/money-movement.ts). Each flow starts where a person does:
// the QR code's PNG is decoded here (jsQR) and its URL opened. Then: pay with the wallet after
// signing in; an expired code; a double submit (and a reload) that pays once; M-Pesa as a guest
// through the sandbox: success, cancelled on the phone (1032), timeout. Each ends with the
// balances to the cent and the books reconciled. Screenshots are the pictures in
// docs/checkout.md and the README: `UPDATE_SCREENSHOTS=1 TEST_ONLY=checkout-browser npm test`.
//
// Without Chromium (CHROMIUM_PATH, default /usr/bin/chromium) the suite is skipped with a
// message, and fails under CI (.ci/run installs it).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { difference, sum } from "../helpers/decimal.ts";
import { balanceOf, type Party, partyWithWallet } from "../helpers/money.ts";
import { randomMsisdn, SWEEP_SECRET, waitFor } from "../helpers/money-movement.ts";
import { useMoneyStack } from "../helpers/money-stack.ts";
import { customerWithPassword, intentFee, scan, signIn, usePhoneBrowser } from "../helpers/phone-browser.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { idempotencyKey as key } from "../helpers/request.ts";

const { available, images: IMAGES, device } = usePhoneBrowser("checkout-browser", "checkout");
const { stack, api } = useMoneyStack({ when: available });

let merchant: Party;

beforeAll(async () => {
  if (!available) return;
  await paymentIntentFee(); // 1.5%, borne by the merchant
  merchant = await partyWithWallet("merchant");
  await admin`update public.auth_users set name = 'Mama Mboga Greens' where id = ${merchant.userId}`;
}, 120_000);

async function createCode(body: Record<string, unknown>) {
  const res = await api(merchant.token, "POST", "/qr-codes", body, { "idempotency-key": key() });
  expect(res.status).toBe(201);
  return res.body;
}

const fee = intentFee;

async function codeRow(id: string) {
  const [row] = await admin`select use_count, status from public.qr_codes where id = ${id}`;
  return row;
}

async function runSweep() {
  const res = await api(undefined, "POST", "/webhooks/sweep", undefined, { "x-sweep-secret": SWEEP_SECRET });
  expect(res.status).toBe(200);
  await stack.sandbox.idle();
}

describe.skipIf(!available)("checkout in Chromium at a phone's viewport", () => {
  it("scan, sign in, pay with the wallet: the receipt; balances to the cent; one use", async () => {
    const payer = await customerWithPassword("500.00");
    const code = await createCode({ kind: "fixed", label: "Sukuma wiki, 2 bunches", amount: "120.00" });
    const url = await scan(code.png_url);
    expect(url).toBe(code.url);
    writeFileSync(path.join(IMAGES, "checkout-qr.png"), Buffer.from(await (await fetch(`${code.png_url}?size=256`)).arrayBuffer()));
    const merchantBefore = await balanceOf(merchant.walletId);

    const page = await device.newPage();
    const response = await page.goto(url);
    expect(response!.status()).toBe(200);
    expect(response!.headers()["content-security-policy"]).toContain("script-src 'self'");
    await expect(page.getByText("Mama Mboga Greens")).toBeTruthy();
    expect(await page.locator("#amount-shown").textContent()).toBe("KES 120.00");
    await device.shot(page, "checkout.png");
    await signIn(page, payer.email);
    await page.getByRole("button", { name: "Pay KES 120.00" }).click();
    await page.locator("#receipt").waitFor();
    expect(await page.locator("#status").textContent()).toContain("Payment received");
    await device.shot(page, "checkout-paid.png");

    expect(await balanceOf(payer.walletId)).toBe("380.0000");
    expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("120.00", await fee("120.00"))));
    expect(await codeRow(code.id)).toEqual({ use_count: 1, status: "active" });
    await page.close();
  });

  it("accessible: every field labelled, the focus order is the reading order, text contrast at least 4.5:1", async () => {
    const code = await createCode({ kind: "static", label: "Accessible till" });
    const page = await device.newPage();
    await page.goto(code.url);
    // Each input and select has a <label for>, and described hints point at real elements.
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll("input, select")].filter((el) =>
        !el.id || !document.querySelector(`label[for="${el.id}"]`)
      ).map((el) => el.outerHTML));
    expect(unlabelled).toEqual([]);
    // Tab from the top walks the page in reading order.
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press("Tab");
      order.push(await page.evaluate(() => document.activeElement?.id ?? ""));
    }
    expect(order).toEqual(["amount", "phone", "pay-mpesa-button", "email", "password", "signin-button"]);
    // WCAG contrast of every text element against its card or page background.
    const worst = await page.evaluate(() => {
      const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
      const lum = (c: number[]) => {
        const [r, g, b] = c.map((v) => {
          const s = v / 255;
          return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const background = (el: Element | null): string => {
        for (; el; el = el.parentElement) {
          const bg = getComputedStyle(el).backgroundColor;
          if (bg && !/rgba\(0, 0, 0, 0\)|transparent/.test(bg)) return bg;
        }
        return "rgb(255, 255, 255)";
      };
      let min = 21;
      for (const el of document.querySelectorAll("h1, h2, p, label, button, strong, footer")) {
        if (!(el as HTMLElement).offsetParent || !el.textContent?.trim()) continue;
        const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(rgb(background(el)))];
        min = Math.min(min, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05));
      }
      return min;
    });
    console.log(`checkout page: lowest text contrast ${worst.toFixed(2)}:1`);
    expect(worst).toBeGreaterThanOrEqual(4.5);
    await page.close();
  });

  it("an expired code: a page that says so, and nothing to pay", async () => {
    const code = await createCode({ kind: "fixed", label: "Yesterday's offer", amount: "50.00", expires_at: "2099-01-01T00:00:00Z" });
    await admin`update public.qr_codes set expires_at = now() - interval '1 minute' where id = ${code.id}`;
    const page = await device.newPage();
    const response = await page.goto(await scan(code.png_url));
    expect(response!.status()).toBe(200);
    expect(await page.locator("#status").getAttribute("data-code-status")).toBe("expired");
    expect(await page.locator("h1").textContent()).toBe("This code takes no payments");
    expect(await page.locator("#status").textContent()).toContain("expired");
    expect(await page.locator("form").count()).toBe(0);
    await device.shot(page, "checkout-expired.png");
    await page.close();
  });

  it("a double submit and a reload pay once (static code: the payer types the amount)", async () => {
    const payer = await customerWithPassword("300.00");
    const code = await createCode({ kind: "static", label: "Market stall 14" });
    const page = await device.newPage();
    await page.goto(await scan(code.png_url));
    await page.getByLabel("Amount to pay (KES)").fill("75.50");
    await signIn(page, payer.email);
    // Two submits in one task (a double tap faster than the button disables), then a tap.
    await page.evaluate(() => {
      const form = document.getElementById("wallet-form") as HTMLFormElement;
      form.requestSubmit();
      form.requestSubmit();
    });
    await page.getByRole("button", { name: "Pay" }).click({ force: true }).catch(() => {});
    await page.locator("#receipt").waitFor();
    await page.reload();
    await page.locator("#receipt").waitFor();
    expect(await page.locator("#receipt-amount").textContent()).toBe("KES 75.50");
    // The page's attempt key, sent again (a retry whose answer was lost): the same payment.
    const attempt = await page.evaluate((slug) => JSON.parse(sessionStorage.getItem(`hazina-checkout:${slug}`)!), code.slug);
    const again = await api(payer.access_token, "POST", `/checkout/${code.slug}/pay/wallet`,
      { wallet_id: payer.walletId, amount: "75.50" }, { "idempotency-key": attempt.key });
    expect([again.status, again.body.id, again.headers.get("idempotent-replayed")]).toEqual([200, attempt.paid.id, "true"]);
    await waitFor(async () => (await codeRow(code.id)).use_count === 1, "the one use");
    await new Promise((r) => setTimeout(r, 300)); // anything late would show now
    const [{ n }] = await admin`select count(*)::int as n from public.payment_intents where subject_id = ${code.id}`;
    expect(n).toBe(1);
    expect(await balanceOf(payer.walletId)).toBe("224.5000");
    expect((await codeRow(code.id)).use_count).toBe(1);
    await page.close();
  });

  describe("M-Pesa as a guest, through the provider sandbox", () => {
    it("success: waiting, then the receipt; the merchant is paid less its fee", async () => {
      const code = await createCode({ kind: "fixed", label: "Avocados", amount: "200.00" });
      const merchantBefore = await balanceOf(merchant.walletId);
      const page = await device.newPage();
      await page.goto(await scan(code.png_url));
      await page.getByLabel("M-Pesa phone number").fill(`0${randomMsisdn().slice(3)}`);
      await page.getByRole("button", { name: "Pay with M-Pesa" }).click();
      await page.locator("#receipt").waitFor({ timeout: 20_000 });
      await device.shot(page, "checkout-mpesa-paid.png");
      expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("200.00", await fee("200.00"))));
      expect(await codeRow(code.id)).toEqual({ use_count: 1, status: "active" });
      const [intent] = await admin`select status, customer_id from public.payment_intents where subject_id = ${code.id}`;
      expect(intent).toEqual({ status: "succeeded", customer_id: null });
      await page.close();
    });

    it("cancelled on the phone (1032): the page says so; nothing moved; no use counted", async () => {
      const code = await createCode({ kind: "fixed", label: "Tomatoes", amount: "90.00", max_uses: 1 });
      const merchantBefore = await balanceOf(merchant.walletId);
      const page = await device.newPage();
      await page.goto(await scan(code.png_url));
      await page.getByLabel("M-Pesa phone number").fill("0712 34 1032");
      await page.getByRole("button", { name: "Pay with M-Pesa" }).click();
      await page.locator("#status.error").waitFor({ timeout: 20_000 });
      expect(await page.locator("#status").textContent()).toBe("The payment was cancelled on the phone. Nothing was paid.");
      await device.shot(page, "checkout-mpesa-cancelled.png");
      expect(await balanceOf(merchant.walletId)).toBe(merchantBefore);
      expect(await codeRow(code.id)).toEqual({ use_count: 0, status: "active" });
      // The reservation ended with the attempt: the one use is still there to pay.
      await page.getByLabel("M-Pesa phone number").fill(`0${randomMsisdn().slice(3)}`);
      await page.getByRole("button", { name: "Pay with M-Pesa" }).click();
      await page.locator("#receipt").waitFor({ timeout: 20_000 });
      expect(await codeRow(code.id)).toEqual({ use_count: 1, status: "exhausted" });
      expect(await balanceOf(merchant.walletId)).toBe(sum(merchantBefore, difference("90.00", await fee("90.00"))));
      await page.close();
    });

    it("timeout (no answer from the phone): waiting until the sweep expires it; nothing moved", async () => {
      const code = await createCode({ kind: "static", label: "Delivery" });
      const merchantBefore = await balanceOf(merchant.walletId);
      const page = await device.newPage();
      await page.goto(await scan(code.png_url));
      await page.getByLabel("Amount to pay (KES)").fill("60");
      await page.getByLabel("M-Pesa phone number").fill("254712340000");
      await page.getByRole("button", { name: "Pay with M-Pesa" }).click();
      await page.locator("#status.wait", { hasText: "Check your phone" }).waitFor({ timeout: 20_000 });
      await device.shot(page, "checkout-mpesa-waiting.png");
      const [intent] = await admin`select id from public.payment_intents where subject_id = ${code.id}`;
      await waitFor(async () => {
        const [s] = await admin`select count(*)::int as n from public.wallet_funding_sessions
                                 where payment_intent_id = ${intent.id} and provider_checkout_id is not null`;
        return s.n === 1;
      }, "the STK push to be accepted");
      await admin`update public.wallet_funding_sessions set expires_at = now() - interval '1 second'
                   where payment_intent_id = ${intent.id}`;
      await runSweep();
      await page.locator("#status.error").waitFor({ timeout: 20_000 });
      expect(await page.locator("#status").textContent()).toBe("M-Pesa did not hear back from the phone in time. Nothing was paid.");
      expect(await balanceOf(merchant.walletId)).toBe(merchantBefore);
      expect(await codeRow(code.id)).toEqual({ use_count: 0, status: "active" });
      await page.close();
    });
  });
});
