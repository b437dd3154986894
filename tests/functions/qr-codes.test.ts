// QR payment links and the hosted checkout's payment route: the merchant's codes (create,
// list, change, disable), the public images (decoded back to the checkout URL), the page's
// answers for active, unknown and refused codes, wallet payments through a code (once per
// attempt key), and the race the issue names: max_uses = 1 under 20 simultaneous payers pays
// exactly once. Every money answer is checked against the wallets; the books reconcile.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { app as qrApp } from "../../functions/qr-codes/app.ts";
import { app as checkoutApp } from "../../functions/checkout/app.ts";
import { QrCode } from "../../functions/qr-codes/schemas.ts";
import { admin } from "../helpers/db.ts";
import { difference, fromUnits, toUnits } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { appCaller, httpCaller, idempotencyKey as key, readResponse } from "../helpers/request.ts";

const qr = appCaller(qrApp, "/qr-codes");
const checkout = appCaller(checkoutApp, "/checkout");
const base = () => `${inject("edgeBaseUrl")}/functions/v1`;
const checkoutHttp = httpCaller(() => `${base()}/checkout`);

let duka: Party;
let amina: Party;

beforeAll(async () => {
  await paymentIntentFee();
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  await admin`update public.auth_users set name = 'Duka la Mama' where id = ${duka.userId}`;
  await fund(amina.walletId, "1000.00");
});

afterAll(async () => {
  await expectBooksBalanced();
});

async function createCode(body: Record<string, unknown>, who = duka) {
  return await readResponse(await qr(who.token, "POST", "", body, { "idempotency-key": key() }));
}

/** The payment_intent fee at 150 bps, rounded half up to the cent (the billing rule). */
function fee(amount: string): string {
  const units = toUnits(amount) * 150n;
  return fromUnits((units + 5000n) / 10000n);
}

describe("qr codes", () => {
  it("create: 201 with its links; the same key replays; customers create none; API keys work", async () => {
    const k = key();
    const first = await readResponse(await qr(duka.token, "POST", "",
      { kind: "fixed", label: "Chai", amount: "150.00", max_uses: 3 }, { "idempotency-key": k }));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ object: "qr_code", kind: "fixed", label: "Chai", amount: "150.0000",
      currency: "KES", max_uses: 3, use_count: 0, status: "active" });
    expect(first.body.slug).toMatch(/^[a-z2-7]{26}$/);
    expect(first.body.url).toMatch(new RegExp(`/functions/v1/checkout/${first.body.slug}$`));
    expect(first.body.png_url).toMatch(new RegExp(`/functions/v1/qr-codes/${first.body.slug}\\.png$`));
    expect(first.body.svg_url).toMatch(new RegExp(`/functions/v1/qr-codes/${first.body.slug}\\.svg$`));
    const again = await qr(duka.token, "POST", "", { kind: "fixed", label: "Chai", amount: "150.00", max_uses: 3 },
      { "idempotency-key": k });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await again.json()).id).toBe(first.body.id);

    const cases: [Party, Record<string, unknown>, number, string][] = [
      [amina, { kind: "static" }, 403, "qr_codes_merchants_only"],
      [duka, { kind: "fixed" }, 400, "invalid_argument"],
      [duka, { kind: "static", amount: "10.00" }, 400, "invalid_argument"],
      [duka, { kind: "fixed", amount: 10 }, 400, "validation_failed"],
      [duka, { kind: "fixed", amount: "10.001" }, 400, "invalid_amount"],
      [duka, { kind: "order", amount: "10.00" }, 400, "validation_failed"],
      [duka, { kind: "intent", payment_intent_id: crypto.randomUUID() }, 404, "payment_intent_not_found"],
      [duka, { kind: "intent" }, 400, "invalid_argument"],
      [duka, { kind: "fixed", amount: "10.00", payment_intent_id: crypto.randomUUID() }, 400, "invalid_argument"],
      [duka, { kind: "static", expires_at: "2001-01-01T00:00:00Z" }, 400, "invalid_argument"],
    ];
    for (const [who, body, status, code] of cases) {
      const res = await createCode(body, who);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect((await qr(undefined, "GET", "")).status).toBe(401);

    const apiKey = await readResponse(await fetch(`${base()}/payments/api-keys`, {
      method: "POST", headers: { authorization: `Bearer ${duka.token}`, "content-type": "application/json", "idempotency-key": key() },
      body: JSON.stringify({ name: "till" }),
    }));
    const byKey = await createCode({ kind: "static", label: "Till 1" }, { ...duka, token: apiKey.body.secret });
    expect([byKey.status, byKey.body.merchant_id]).toEqual([201, duka.userId]);
  });

  it("one shape: public.qr_code_json is the published QrCode schema, key for key", async () => {
    const code = (await createCode({ kind: "fixed", label: "Shape", amount: "1.00", max_uses: 2, expires_at: "2099-01-01T00:00:00Z" })).body;
    const [row] = await admin`select public.qr_code_json(q) as json from public.qr_codes q where q.id = ${code.id}`;
    expect(Object.keys(row.json).sort()).toEqual(Object.keys(QrCode.shape).sort());
    expect(QrCode.strict().safeParse(row.json).error?.issues ?? []).toEqual([]);
    const { url: _u, png_url: _p, svg_url: _s, ...fromApi } = code;
    expect(fromApi).toEqual(row.json);
  });

  it("list, change and disable: only the merchant's own", async () => {
    const code = (await createCode({ kind: "static", label: "Counter" })).body;
    const list = await readResponse(await qr(duka.token, "GET", "?limit=100"));
    expect(list.body.data.map((c: { id: string }) => c.id)).toContain(code.id);
    expect((await readResponse(await qr(amina.token, "GET", ""))).body.data).toEqual([]);
    const patch = (who: Party, body: unknown) =>
      qr(who.token, "PATCH", `/${code.id}`, body, { "idempotency-key": key() }).then(readResponse);
    expect((await patch(amina, { label: "mine" })).status).toBe(404);
    const changed = await patch(duka, { label: "Counter 2", max_uses: 5, expires_at: "2099-01-01T00:00:00Z" });
    expect(changed.body).toMatchObject({ label: "Counter 2", max_uses: 5, expires_at: "2099-01-01T00:00:00.000Z", status: "active" });
    expect((await patch(duka, { max_uses: null, expires_at: null })).body).toMatchObject({ max_uses: null, expires_at: null });
    expect(changed.body.disabled_reason).toBeNull();
    const disabled = await readResponse(await qr(duka.token, "DELETE", `/${code.id}`));
    expect([disabled.body.status, disabled.body.disabled_reason]).toEqual(["disabled", "merchant"]);
    expect((await readResponse(await qr(duka.token, "DELETE", `/${code.id}`))).body.status).toBe("disabled");
    expect((await readResponse(await qr(duka.token, "GET", `/${code.id}`))).body.disabled_reason).toBe("merchant");
    const back = (await patch(duka, { status: "active" })).body;
    expect([back.status, back.disabled_reason]).toEqual(["active", null]);
    const [events] = await admin`select array_agg(type order by created_at) as types from public.events where object_id = ${code.id}`;
    expect(events.types).toEqual(["qr_code.created", "qr_code.updated", "qr_code.updated", "qr_code.disabled", "qr_code.active"]);
  });

  it("images: the PNG decodes to the checkout URL; the SVG carries the label; unknown slugs are 404", async () => {
    const code = (await createCode({ kind: "fixed", label: "Mandazi <3", amount: "20.00" })).body;
    const png = await fetch(code.png_url.replace(/^.*\/functions\/v1/, base()));
    expect([png.status, png.headers.get("content-type")]).toEqual([200, "image/png"]);
    const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    expect(image.width).toBe(512);
    const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(decoded?.data).toBe(code.url);
    const svg = await fetch(`${base()}/qr-codes/${code.slug}.svg`);
    expect(svg.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    const text = await svg.text();
    expect(text).toMatch(/^<svg /);
    expect(text).toContain("Mandazi &lt;3");
    expect(await (await fetch(`${base()}/qr-codes/${code.slug}.svg?label=false`)).text()).not.toContain("Mandazi");
    expect((await fetch(`${base()}/qr-codes/aaaaaaaaaaaaaaaaaaaaaaaaaa.png`)).status).toBe(404);
    expect((await fetch(`${base()}/qr-codes/${code.slug}.png?size=64`)).status).toBe(400);
  });
});

describe("checkout", () => {
  it("the page: active, unknown and refused codes; a strict CSP and nothing inline", async () => {
    const code = (await createCode({ kind: "fixed", label: "Chai", amount: "1500.00" })).body;
    const page = await fetch(`${base()}/checkout/${code.slug}`);
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    const body = await page.text();
    expect(body).toContain("Duka la Mama");
    expect(body).toContain("KES 1,500.00");
    expect(body).not.toMatch(/<script>|<style>|\sstyle="|\son[a-z]+="/);
    const script = /<script src="(assets\/checkout-[0-9a-f]{16}\.js)"/.exec(body)![1];
    const js = await fetch(`${base()}/checkout/${script}`);
    expect([js.status, js.headers.get("content-type"), js.headers.get("cache-control")])
      .toEqual([200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"]);

    for (const unknown of ["aaaaaaaaaaaaaaaaaaaaaaaaaa", "not-a-slug"]) {
      const missing = await fetch(`${base()}/checkout/${unknown}`);
      expect(missing.status).toBe(200);
      expect(await missing.text()).toContain('data-code-status="not_found"');
    }
    await qr(duka.token, "DELETE", `/${code.id}`);
    const refused = await fetch(`${base()}/checkout/${code.slug}`);
    expect(refused.status).toBe(200);
    const refusedText = await refused.text();
    expect(refusedText).toContain("switched this payment code off");
    expect(refusedText).toContain('data-code-status="disabled"');
    expect(refusedText).not.toContain("<form");
  });

  it("pays from the wallet once per attempt key; counts one use; refuses a used-up, expired or disabled code", async () => {
    const code = (await createCode({ kind: "fixed", label: "Chai", amount: "150.00", max_uses: 2 })).body;
    const aminaBefore = await balanceOf(amina.walletId);
    const dukaBefore = await balanceOf(duka.walletId);
    const k = key();
    const pay = (attempt: string, body: Record<string, unknown> = { wallet_id: amina.walletId }) =>
      checkoutHttp(amina.token, "POST", `/${code.slug}/pay/wallet`, body, { "idempotency-key": attempt }).then(readResponse);
    const paid = await pay(k);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: "succeeded", amount: "150.0000", subject_type: "qr_code", subject_id: code.id,
      customer_id: amina.userId });
    const replay = await pay(k);
    expect([replay.status, replay.body.id, replay.headers.get("idempotent-replayed")]).toEqual([200, paid.body.id, "true"]);
    expect(await balanceOf(amina.walletId)).toBe(difference(aminaBefore, "150.0000"));
    expect(await balanceOf(duka.walletId)).toBe(fromUnits(toUnits(dukaBefore) + toUnits("150.00") - toUnits(fee("150.00"))));

    expect((await pay(key(), { wallet_id: amina.walletId, amount: "10.00" })).body.error.code).toBe("invalid_argument");
    expect((await checkoutHttp(undefined, "POST", `/${code.slug}/pay/wallet`, { wallet_id: amina.walletId },
      { "idempotency-key": key() })).status).toBe(401);
    expect((await pay(key())).status).toBe(200);
    const used = await pay(key());
    expect([used.status, used.body.error.code]).toEqual([409, "qr_code_exhausted"]);
    const [row] = await admin`select use_count, status from public.qr_codes where id = ${code.id}`;
    expect(row).toEqual({ use_count: 2, status: "exhausted" });
    // The merchant lists them among its events (GET /payments/events), each naming the payment.
    const events = await readResponse(await fetch(`${base()}/payments/events?type=qr_code.used&limit=100`,
      { headers: { authorization: `Bearer ${duka.token}` } }));
    const uses = events.body.data.filter((e: { object_id: string }) => e.object_id === code.id);
    expect(uses.map((e: { object_type: string; data: { use_count: number } }) => [e.object_type, e.data.use_count]))
      .toEqual([["qr_code", 2], ["qr_code", 1]]);
    expect(await balanceOf(amina.walletId)).toBe(difference(aminaBefore, "300.0000"));

    const expiring = (await createCode({ kind: "static", label: "Soon", expires_at: "2099-01-01T00:00:00Z" })).body;
    await admin`update public.qr_codes set expires_at = now() - interval '1 second' where id = ${expiring.id}`;
    const expired = await checkoutHttp(amina.token, "POST", `/${expiring.slug}/pay/wallet`,
      { wallet_id: amina.walletId, amount: "5.00" }, { "idempotency-key": key() }).then(readResponse);
    expect([expired.status, expired.body.error.code]).toEqual([409, "qr_code_expired"]);
    expect(await (await fetch(`${base()}/checkout/${expiring.slug}`)).text()).toContain('data-code-status="expired"');

    const poor = await checkoutHttp(amina.token, "POST", `/${expiring.slug}/pay/wallet`,
      { wallet_id: amina.walletId, amount: "5.00" }, { "idempotency-key": key() }).then(readResponse);
    expect(poor.body.error.code).toBe("qr_code_expired");
  });

  it("a guest's M-Pesa start: an intent for nobody with its client_secret, once per attempt key", async () => {
    const code = (await createCode({ kind: "fixed", label: "Guest", amount: "300.00", max_uses: 1 })).body;
    const start = (k: string, slug = code.slug) =>
      checkoutHttp(undefined, "POST", `/${slug}/pay/mpesa`, {}, { "idempotency-key": k }).then(readResponse);
    const k = key();
    const opened = await start(k);
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ object: "checkout_intent", amount: "300.0000", currency: "KES",
      status: "requires_confirmation" });
    expect(opened.body.client_secret).toMatch(/^pi_[0-9a-f]{32}_secret_[0-9a-f]{48}$/);
    const again = await start(k);
    expect([again.body.id, again.body.client_secret, again.headers.get("idempotent-replayed")])
      .toEqual([opened.body.id, opened.body.client_secret, "true"]);
    const [intent] = await admin`select customer_id, subject_type, subject_id, capture_method,
                                        expires_at - created_at as ttl from public.payment_intents where id = ${opened.body.id}`;
    expect(intent).toMatchObject({ customer_id: null, subject_type: "qr_code", subject_id: code.id, capture_method: "automatic" });
    expect((await start(key(), "aaaaaaaaaaaaaaaaaaaaaaaaaa")).body.error.code).toBe("qr_code_not_found");
    expect((await start(key(), "x".repeat(300))).status).toBe(404);
    expect((await checkoutHttp(undefined, "POST", `/${code.slug}/pay/mpesa`, {})).status).toBe(400);
    // Someone pays it from a wallet meanwhile: the code is used up, a new guest attempt is refused.
    expect((await checkoutHttp(amina.token, "POST", `/${code.slug}/pay/wallet`, { wallet_id: amina.walletId },
      { "idempotency-key": key() })).status).toBe(200);
    const late = await start(key());
    expect([late.status, late.body.error.code]).toEqual([409, "qr_code_exhausted"]);
  });

  it("a static code: the payer's amount; too much for the wallet is insufficient_funds and counts nothing", async () => {
    const code = (await createCode({ kind: "static", label: "Tips" })).body;
    const before = await balanceOf(amina.walletId);
    const pay = (amount: string) => checkout(amina.token, "POST", `/${code.slug}/pay/wallet`,
      { wallet_id: amina.walletId, amount }, { "idempotency-key": key() }).then(readResponse);
    const poor = await pay("99999.00");
    expect([poor.status, poor.body.error.code]).toEqual([409, "insufficient_funds"]);
    expect((await pay("12.50")).body).toMatchObject({ status: "succeeded", amount: "12.5000" });
    expect(await balanceOf(amina.walletId)).toBe(difference(before, "12.50"));
    const [row] = await admin`select use_count from public.qr_codes where id = ${code.id}`;
    expect(row.use_count).toBe(1);
  });

  it("max_uses = 1 under 20 simultaneous payers: exactly one pays, the others are refused before money moves", async () => {
    const code = (await createCode({ kind: "fixed", label: "Last ticket", amount: "40.00", max_uses: 1 })).body;
    const payers = await Promise.all(Array.from({ length: 20 }, () => partyWithWallet()));
    await Promise.all(payers.map((p) => fund(p.walletId, "50.00")));
    const dukaBefore = await balanceOf(duka.walletId);
    const answers = await Promise.all(payers.map((p) =>
      checkoutHttp(p.token, "POST", `/${code.slug}/pay/wallet`, { wallet_id: p.walletId }, { "idempotency-key": key() })
        .then(readResponse)));
    const outcomes = answers.map((a) => a.status === 200 ? a.body.status : a.body.error?.code).sort();
    expect(outcomes).toEqual([...Array(19).fill("qr_code_exhausted"), "succeeded"].sort());
    const winner = payers[answers.findIndex((a) => a.status === 200)];
    for (const p of payers) {
      expect(await balanceOf(p.walletId)).toBe(p === winner ? "10.0000" : "50.0000");
    }
    const [held] = await admin`select coalesce(sum(held), 0)::text as held from public.wallets where id = any(${payers.map((p) => p.walletId)})`;
    expect(held.held).toBe("0.0000");
    expect(await balanceOf(duka.walletId)).toBe(fromUnits(toUnits(dukaBefore) + toUnits("40.00") - toUnits(fee("40.00"))));
    const [row] = await admin`select use_count, status from public.qr_codes where id = ${code.id}`;
    expect(row).toEqual({ use_count: 1, status: "exhausted" });
    const [intents] = await admin`select count(*)::int as n from public.payment_intents where subject_id = ${code.id}`;
    expect(intents.n).toBe(1);
  });
});

describe("qr code races", () => {
  it("the merchant disables a code while 12 payers pay: each payment before the lock pays, after it is refused; uses = payments", async () => {
    const code = (await createCode({ kind: "fixed", label: "Rush hour", amount: "5.00" })).body;
    const payers = await Promise.all(Array.from({ length: 12 }, () => partyWithWallet()));
    await Promise.all(payers.map((p) => fund(p.walletId, "5.00")));
    const pays = payers.map((p, i) =>
      new Promise((r) => setTimeout(r, i * 8)).then(() =>
        checkoutHttp(p.token, "POST", `/${code.slug}/pay/wallet`, { wallet_id: p.walletId }, { "idempotency-key": key() })
          .then(readResponse)));
    // The merchant disables it as soon as the first payment is answered, while the rest are on their way.
    const disabled = Promise.race(pays).then(() =>
      fetch(`${base()}/qr-codes/${code.id}`, { method: "DELETE", headers: { authorization: `Bearer ${duka.token}` } })
        .then(readResponse));
    const answers = await Promise.all(pays);
    expect((await disabled).body.status).toBe("disabled");
    const outcomes = answers.map((a) => a.status === 200 ? a.body.status : a.body.error?.code);
    for (const outcome of outcomes) expect(["succeeded", "qr_code_disabled"]).toContain(outcome);
    const paid = outcomes.filter((o) => o === "succeeded").length;
    expect(paid).toBeGreaterThanOrEqual(1);
    const [row] = await admin`select use_count, status from public.qr_codes where id = ${code.id}`;
    expect(row).toEqual({ use_count: paid, status: "disabled" });
    for (const [i, p] of payers.entries()) {
      expect(await balanceOf(p.walletId)).toBe(outcomes[i] === "succeeded" ? "0.0000" : "5.0000");
    }
    console.log(`disable race: ${paid} of 12 paid before the code was disabled`);
  });

  it("concurrent expiry passes mark each expired code once (one event each)", async () => {
    const codes = await Promise.all(Array.from({ length: 6 }, () =>
      createCode({ kind: "static", label: "Flash", expires_at: "2099-01-01T00:00:00Z" }).then((r) => r.body)));
    const ids = codes.map((c) => c.id);
    await admin`update public.qr_codes set expires_at = now() - interval '1 second' where id = any(${ids})`;
    await Promise.all(Array.from({ length: 4 }, () => admin`select hazina.job_expire_qr_codes(100)`));
    const rows = await admin`select status from public.qr_codes where id = any(${ids})`;
    expect(rows.map((r) => r.status)).toEqual(Array(6).fill("expired"));
    const [events] = await admin`select count(*)::int as n from public.events where type = 'qr_code.expired' and object_id = any(${ids})`;
    expect(events.n).toBe(6);
  });
});
