// The hosted checkout page: where a person who scanned a merchant's QR code pays.
//   GET  /checkout/:slug                the page (server-rendered HTML; public)
//   GET  /checkout/assets/:file         its stylesheet and script (content-hashed, cacheable)
//   POST /checkout/:slug/pay/mpesa      a guest's intent for the code (public; Idempotency-Key)
//   POST /checkout/:slug/pay/wallet     pay from a Hazina wallet (signed in; Idempotency-Key)
//   POST /checkout/:slug/pay/stk        a bound code (invoice, order, intent) by M-Pesa (public)
//   GET  /checkout/:slug/payments/:id   a payment through the code, for the payer to poll
// A payment through a code is a payment intent opened for it (hazina.qr_code_open_intent);
// the rules (active, expiry, uses, amount) are the database's. A guest pays by M-Pesa with
// the payments function's own guest routes: the page confirms the intent it opened here with
// its client_secret (POST /payments/intents/:id/confirm) and polls its checkout view
// (GET /payments/intents/:id?client_secret=) until M-Pesa says paid, cancelled or timed out.
// The page runs no inline script or style (its CSP forbids both) and loads nothing from
// elsewhere. See docs/checkout.md.
import type { Context } from "hono";
import { html } from "hono/html";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { createFunctionApp } from "../_shared/app.ts";
import { requireUser } from "../_shared/auth.ts";
import { asService, asUser, type Tx } from "../_shared/db.ts";
import { ApiError, DATABASE_CODES } from "../_shared/errors.ts";
import { idempotent } from "../_shared/idempotency.ts";
import { type FundingRow, submitFunding } from "../_shared/money-movement/funding.ts";
import { Amount } from "../_shared/money.ts";
import { apiDocs, serveOpenApi } from "../_shared/openapi.ts";
import { type UserEnv, userTx, Uuid } from "../_shared/user.ts";
import { checkoutAssets } from "./assets.ts";
import { BoundCheckoutPayment, CheckoutGuestIntent, CheckoutPayment, Slug } from "./schemas.ts";

export const app = createFunctionApp<UserEnv>("checkout");
export const docs = apiDocs(
  "checkout",
  "Hosted checkout",
  "The page a QR code opens (GET /checkout/<slug>): the merchant, the label and the amount, and paying it " +
    "by M-Pesa (a guest, STK push) or from a Hazina wallet (signed in). See docs/checkout.md.",
);
serveOpenApi(app, docs);

/** What qr_code_resolve tells anyone about a code. */
interface Checkout {
  slug: string;
  status: "active" | "disabled" | "expired" | "exhausted";
  merchant_name: string;
  kind?: string;
  label?: string | null;
  amount?: string | null;
  currency?: string;
  minor_units?: number;
  /** A bound code's object: payable, paid or closed (void, canceled, expired). */
  subject_state?: "payable" | "paid" | "closed";
  invoice_number?: string;
  allow_partial_payment?: boolean;
}

const BOUND_KINDS = new Set(["invoice", "order", "intent"]);
const NOUNS: Record<string, string> = { invoice: "invoice", order: "order", intent: "payment" };

// Scripts and styles only from this function's own files; requests only to this origin
// (the auth, wallets and checkout functions); no frames, no forms posting anywhere.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
  "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

function securityHeaders(c: Context): void {
  c.header("Cache-Control", "no-store");
  c.header("Content-Security-Policy", CSP);
  c.header("Referrer-Policy", "no-referrer");
  c.header("X-Frame-Options", "DENY");
  c.header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

/** "1234567.50" → "1,234,567.50" (strings only: money is never a float). */
export function groupedAmount(amount: string): string {
  const [whole, fraction] = amount.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** A new attempt's Idempotency-Key: 128 random bits. */
function attemptKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "checkout-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function layout(title: string, body: ReturnType<typeof html>, withScript: boolean) {
  const { css, js } = checkoutAssets();
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="robots" content="noindex">
        <title>${title} · Hazina checkout</title>
        <link rel="stylesheet" href="assets/${css.name}">
      </head>
      <body>
    ${body}
    ${withScript ? html`<script src="assets/${js.name}" defer></script>` : ""}
      </body>
    </html>
  `;
}

const REFUSED: Record<string, string> = {
  expired: "This payment code has expired. Ask the merchant for a new one.",
  exhausted: "This payment code has already been used. Ask the merchant for a new one.",
  disabled: "The merchant has switched this payment code off. Ask them how to pay.",
};

/** A bound code whose object is paid or closed: the page says that, not "disabled". */
function boundRefusal(code: Checkout): { heading: string; text: string; status: string } | null {
  const noun = NOUNS[code.kind ?? ""];
  if (!noun || !code.subject_state || code.subject_state === "payable") return null;
  if (code.subject_state === "paid") {
    return {
      heading: "Already paid",
      text: `This ${noun} has already been paid: nothing more is due. Thank you!`,
      status: "paid",
    };
  }
  const why = code.kind === "invoice"
    ? "The merchant has voided this invoice"
    : code.kind === "order"
    ? "This order was canceled (or its time to pay ran out)"
    : "This payment was canceled (or its time to pay ran out)";
  return {
    heading: "No longer payable",
    text: `${why}: it takes no payments. Ask the merchant how to pay.`,
    status: "closed",
  };
}

/** The page for a code that takes no payments (or does not exist). */
function refusedPage(code: Checkout | null) {
  const bound = code ? boundRefusal(code) : null;
  const heading = bound?.heading ??
    (code ? "This code takes no payments" : "Payment link not found");
  const text = bound?.text ??
    (code
      ? REFUSED[code.status]
      : "Check that you scanned the whole code, or ask the merchant for the link.");
  return layout(
    heading,
    html`
      <main>
        <div class="card">
      ${code ? html`<p class="merchant">${code.merchant_name}</p>` : ""}
      <h1>${heading}</h1>
      <p class="status ${bound?.status === "paid"
        ? "ok"
        : "error"}" id="status" data-code-status="${bound
        ?.status ?? code?.status ?? "not_found"}">${text}</p>
        </div>
        <footer>Payments by Hazina</footer>
      </main>
    `,
    false,
  );
}

/** The page for an active code. */
function payPage(code: Checkout) {
  const title = code.label ?? `Pay ${code.merchant_name}`;
  const bound = BOUND_KINDS.has(code.kind ?? "");
  // An invoice that takes part payments: its amount due, and a field (filled with it) for less.
  const partial = code.kind === "invoice" && code.allow_partial_payment === true;
  const fixed = partial ? "" : (code.amount ?? "");
  const amount = partial
    ? html`
      <p class="hint">Amount due</p>
      <p class="amount" id="amount-shown">${code.currency} ${groupedAmount(code.amount!)}</p>
      <label for="amount">Amount to pay (${code.currency})</label>
      <input id="amount" name="amount" inputmode="decimal" autocomplete="off" required
        value="${code.amount}" aria-describedby="amount-hint">
      <p class="hint"
        id="amount-hint">This invoice may be paid in parts: up to ${code
          .currency} ${groupedAmount(code.amount!)}.</p>
    `
    : code.amount
    ? html`${code.kind === "invoice" ? html`<p class="hint">Amount due</p>` : ""}
      <p class="amount" id="amount-shown">${code.currency} ${groupedAmount(code.amount)}</p>`
    : html`
      <label for="amount">Amount to pay (${code.currency})</label>
      <input id="amount" name="amount" inputmode="decimal" autocomplete="off" required
        aria-describedby="amount-hint">
      <p class="hint" id="amount-hint">For example 250${(code.minor_units ?? 2) > 0
        ? " or 250.50"
        : ""}.</p>
    `;
  return layout(
    title,
    html`
      <main data-slug="${code.slug}" data-amount="${fixed}" data-currency="${code
        .currency}"
        data-bound="${bound ? "1" : ""}" data-kind="${code.kind ?? ""}"
        data-minor-units="${String(code.minor_units ?? 2)}" data-attempt="${attemptKey()}">
        <div class="card">
      <p class="merchant">Pay <strong>${code.merchant_name}</strong></p>
      <h1>${title}</h1>
      ${code.invoice_number
        ? html`<p class="invoice-number" id="invoice-number">Invoice number <strong>${code.invoice_number}</strong></p>`
        : ""}
      ${amount}
        </div>
        <p class="status" id="status" role="status" aria-live="polite" tabindex="-1"></p>
        <div id="pay-forms">
          <section class="card" aria-labelledby="mpesa-heading">
            <h2 id="mpesa-heading">Pay with M-Pesa</h2>
            <form id="mpesa-form" novalidate>
              <label for="phone">M-Pesa phone number</label>
              <input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" required
                aria-describedby="phone-hint">
              <p class="hint" id="phone-hint">
                For example 0712 345 678. A prompt comes to this phone: enter your M-Pesa PIN there.
              </p>
              <button type="submit" id="pay-mpesa-button">Pay with M-Pesa</button>
            </form>
          </section>
          <section class="card" aria-labelledby="wallet-heading">
            <h2 id="wallet-heading">Pay with Hazina wallet</h2>
            <form id="signin-form" novalidate>
              <label for="email">Email</label>
              <input id="email" name="email" type="email" autocomplete="email" required>
              <label for="password">Password</label>
              <input id="password" name="password" type="password" autocomplete="current-password"
                required>
              <button type="submit" id="signin-button">Sign in</button>
            </form>
            <form id="wallet-form" hidden>
              <label for="wallet">Pay from</label>
              <select id="wallet" name="wallet"></select>
              <button type="submit" id="pay-wallet-button">Pay${fixed
                ? ` ${code.currency} ${groupedAmount(fixed)}`
                : ""}</button>
            </form>
          </section>
        </div>
        <section class="card" id="receipt" hidden aria-labelledby="receipt-heading">
          <h2 id="receipt-heading">Paid</h2>
          <dl class="receipt">
            <dt>To</dt>
            <dd>${code.merchant_name}</dd>
            <dt>Amount</dt>
            <dd id="receipt-amount"></dd>
            <dt>Reference</dt>
            <dd id="receipt-ref"></dd>
          </dl>
          <button type="button" class="secondary" id="again">Make another payment</button>
        </section>
        <footer>Payments by Hazina · your password goes only to Hazina</footer>
      </main>
    `,
    true,
  );
}

async function resolve(c: Context<UserEnv>, slug: string): Promise<Checkout | null> {
  if (!Slug.safeParse(slug).success) return null;
  return await asUser(undefined, c.get("requestId"), async (tx) => {
    const [r] = await tx`select public.qr_code_resolve(${slug}) as code`;
    return r.code as Checkout | null;
  });
}

// --- the page's files ----------------------------------------------------------------------

const AssetFile = z.string().regex(/^checkout-[0-9a-f]{16}\.(css|js)$/);

docs.route({
  method: "get",
  path: "/assets/:file",
  summary: "The checkout page's stylesheet or script",
  description: "Named by their content's hash, so cacheable for a year.",
  auth: "none",
  params: z.object({ file: AssetFile }),
  responses: {
    200: { description: "The file.", contentType: "text/javascript", schema: { type: "string" } },
  },
  errors: ["route_not_found"],
});
app.get("/assets/:file", (c) => {
  const { css, js } = checkoutAssets();
  const asset = [css, js].find((a) => a.name === c.req.param("file"));
  if (!asset) throw new ApiError(404, "route_not_found", "No such endpoint.");
  c.header("Cache-Control", "public, max-age=31536000, immutable");
  c.header("Content-Type", asset.type);
  return c.body(asset.body);
});

// --- the page --------------------------------------------------------------------------------

docs.route({
  method: "get",
  path: "/:slug",
  summary: "The checkout page of a QR code (HTML)",
  description:
    "An active code: the merchant, the label, the amount (or a field for it) and the ways to pay. An " +
    "expired, exhausted or disabled code, or an unknown one: a page that says why (`data-code-status` on its " +
    "status line: expired, exhausted, disabled, not_found). Every outcome is a page with status 200, as for " +
    "the auth function's pages: they are for people; programs read the code through the qr-codes API.",
  auth: "none",
  params: z.object({ slug: z.string().describe("The code's slug.") }),
  responses: {
    200: { description: "The page.", contentType: "text/html", schema: { type: "string" } },
  },
  errors: [],
});
app.get("/:slug", async (c) => {
  const code = await resolve(c, c.req.param("slug"));
  securityHeaders(c);
  if (
    !code || code.status !== "active" || code.subject_state === "paid" ||
    code.subject_state === "closed"
  ) {
    return c.html(refusedPage(code));
  }
  return c.html(payPage(code));
});

// --- paying ----------------------------------------------------------------------------------

const GuestIntent = z.object({
  amount: Amount.optional().describe("A static code's amount; a fixed code's is set."),
}).strict();

/** A guest's Idempotency-Keys belong to the code (the per-minute admission limit counts per code). */
const guestOwner = createMiddleware<UserEnv>(async (c, next) => {
  const slug = Slug.safeParse(c.req.param("slug"));
  if (!slug.success) throw new ApiError(404, "qr_code_not_found", "QR code not found.");
  c.set("userId", `guest:qr:${slug.data}`);
  await next();
});

docs.route({
  method: "post",
  path: "/:slug/pay/mpesa",
  summary: "Start a guest's M-Pesa payment of a QR code: open its payment intent",
  description:
    "No account needed. Opens a payment intent for the code (its amount, or `amount` for a static code; " +
    "automatic capture; 15 minutes to pay) and answers it with its `client_secret`. The guest then pays it " +
    "with one M-Pesa part: POST /payments/intents/{id}/confirm with the client_secret, and polls GET " +
    "/payments/intents/{id}?client_secret= until it is `succeeded` or back at `requires_confirmation` with " +
    "`last_payment_error` (`mpesa_cancelled`, `mpesa_timeout`, `mpesa_failed`). The Idempotency-Key is the " +
    "attempt: the same key returns the same intent (with its secret, kept with the key for 24 hours).",
  auth: "none",
  idempotencyKey: "required",
  params: z.object({ slug: Slug }),
  body: GuestIntent,
  bodyOptional: true,
  bodyExample: {},
  responses: {
    200: {
      description:
        "The intent this attempt opened before (its client_secret only within the key's 24 hours).",
      schema: CheckoutGuestIntent,
    },
    201: { description: "The intent, with its client_secret.", schema: CheckoutGuestIntent },
  },
  errors: [
    "qr_code_not_found",
    "qr_code_expired",
    "qr_code_exhausted",
    "qr_code_disabled",
    "qr_code_kind_not_payable",
    "invoice_refund_pending",
    "invalid_amount",
    "invalid_argument",
    "invalid_ref",
  ],
});
app.post(
  "/:slug/pay/mpesa",
  guestOwner,
  idempotent({ required: true, oneTransaction: true }),
  async (c) => {
    const slug = Slug.parse(c.req.param("slug"));
    const text = await c.req.text();
    const input = GuestIntent.parse(text.trim() ? JSON.parse(text) : {});
    // As anon (no claims): the database opens the intent for nobody in particular.
    const run = async (tx: Tx) => {
      const [r] = await tx`select public.qr_code_open_guest_intent(${slug},
        ${input.amount ?? null}::numeric, ${c.get("idempotencyKey")!}) as intent`;
      return r.intent as Record<string, unknown>;
    };
    const intent = c.var.requestTx
      ? await run(c.var.requestTx)
      : await asUser(undefined, c.var.requestId, run);
    return c.json({
      id: intent.id,
      object: "checkout_intent",
      amount: intent.amount,
      currency: intent.currency,
      status: intent.status,
      expires_at: intent.expires_at,
      client_secret: intent.client_secret ?? null,
    }, intent.created ? 201 : 200);
  },
);

const PayWallet = z.object({
  wallet_id: Uuid,
  amount: Amount.optional().describe("A static code's amount; a fixed code's is set."),
}).strict();

// The refusals of paying a code bound to an object (an invoice, an order or an intent), by
// wallet or by M-Pesa: the object's state and the amount decide them, not the way it is paid.
const BOUND_PAYMENT_ERRORS = [
  "qr_code_already_paid",
  "qr_code_subject_closed",
  "qr_code_payment_in_progress",
  "qr_code_payer_not_customer",
  "amount_exceeds_due",
  "partial_payment_not_allowed",
  "invoice_payment_in_progress",
  "invoice_refund_pending",
];

docs.route({
  method: "post",
  path: "/:slug/pay/wallet",
  summary: "Pay a QR code from my Hazina wallet",
  description:
    "A static or fixed code: opens a payment intent for the code and pays it from `wallet_id` at once. A code " +
    "bound to an invoice, order or intent pays that object's own intent (an invoice's amount due, or `amount` " +
    "when the invoice allows partial payment; an order's or intent's amount; an intent for a customer only by " +
    "that customer). The Idempotency-Key is " +
    "the attempt: the same key again returns the same payment (a double tap pays once). A refused or failed " +
    "attempt (`insufficient_funds`) needs a new key.",
  auth: "bearer",
  idempotencyKey: "required",
  params: z.object({ slug: Slug }),
  body: PayWallet,
  bodyExample: { wallet_id: "6f9619ff-8b86-4011-b42d-00c04fc964ff" },
  responses: {
    200: {
      description:
        "The payment, `succeeded` (a bound code's is the object's intent, subject invoice, order or none).",
      schema: CheckoutPayment,
    },
  },
  errors: [
    "qr_code_not_found",
    "qr_code_expired",
    "qr_code_exhausted",
    "qr_code_disabled",
    "qr_code_kind_not_payable",
    "wallet_not_found",
    "wallet_not_active",
    "insufficient_funds",
    ...BOUND_PAYMENT_ERRORS,
    "invalid_amount",
    "invalid_argument",
    "invalid_ref",
    "ref_conflict",
    "fee_exceeds_amount",
  ],
});
app.post(
  "/:slug/pay/wallet",
  requireUser,
  idempotent({ required: true, oneTransaction: true }),
  async (c) => {
    const slug = Slug.parse(c.req.param("slug"));
    const input = PayWallet.parse(await c.req.json());
    const intent = await userTx(c, async (tx) => {
      const [r] = await tx`select public.qr_code_pay_wallet(${slug}, ${input.wallet_id},
        ${input.amount ?? null}::numeric, ${c.get("idempotencyKey")!}) as intent`;
      return r.intent as Record<string, unknown> & {
        payment_error?: { code: string; details?: Record<string, unknown> };
      };
    });
    if (intent.payment_error) {
      const { code, details } = intent.payment_error;
      const [status, message] = DATABASE_CODES[code] ?? [409, "The payment failed."];
      throw new ApiError(status, code, message, { ...details, payment_intent_id: intent.id });
    }
    return c.json(intent);
  },
);

// --- bound codes: M-Pesa as a guest, and the payment's progress ------------------------------

const PayStk = z.object({
  phone: z.string().regex(
    /^254[17][0-9]{8}$/,
    "phone must be an M-Pesa number such as 254712345678",
  ),
  amount: Amount.optional().describe(
    "Only to pay part of an invoice that allows partial payment (whole shillings).",
  ),
}).strict();

docs.route({
  method: "post",
  path: "/:slug/pay/stk",
  summary: "Pay a code bound to an invoice, order or intent by M-Pesa (a guest)",
  description:
    "No account needed. Confirms the object's own payment intent with one M-Pesa part of its amount (an " +
    "invoice's amount due, or `amount` when it allows partial payment; an order's or intent's amount: never " +
    "the client's) and sends the STK push to `phone` after the commit. An intent for a customer (an order's) is " +
    "paid as that customer: the M-Pesa money tops up their wallet and pays the intent from it. Then poll GET " +
    "/checkout/{slug}/payments/{id} until `succeeded` or back at `requires_confirmation` with " +
    "`last_payment_error` (`mpesa_cancelled`, `mpesa_timeout`, `mpesa_failed`). The Idempotency-Key is the " +
    "attempt: the same key returns the same payment and sends no second push. Static and fixed codes use " +
    "POST /checkout/{slug}/pay/mpesa.",
  auth: "none",
  idempotencyKey: "required",
  params: z.object({ slug: Slug }),
  body: PayStk,
  bodyExample: { phone: "254712345678" },
  responses: {
    200: { description: "The payment, `processing`.", schema: BoundCheckoutPayment },
  },
  errors: [
    "qr_code_not_found",
    "qr_code_not_bound",
    "qr_code_expired",
    "qr_code_disabled",
    "qr_code_exhausted",
    ...BOUND_PAYMENT_ERRORS,
    "amount_outside_provider_limits",
    "invalid_amount",
    "invalid_argument",
    "wallet_not_found",
    "provider_unavailable",
  ],
});
app.post("/:slug/pay/stk", guestOwner, idempotent({ required: true }), async (c) => {
  const slug = Slug.parse(c.req.param("slug"));
  const input = PayStk.parse(await c.req.json());
  // One transaction, committed before the provider call (a callback never waits on our locks).
  const row = await asService(c.var.requestId, async (tx) => {
    const [r] = await tx`select hazina.qr_code_pay_mpesa(${slug}, ${input.phone},
      ${input.amount ?? null}::numeric) as payment`;
    return r.payment as Record<string, unknown> & {
      mpesa?: { funding_session_id: string; amount: string; currency: string; msisdn: string };
    };
  });
  const { mpesa, ...payment } = row;
  if (mpesa) {
    const session: FundingRow & { msisdn: string; description: string } = {
      id: mpesa.funding_session_id,
      provider: "mpesa",
      source_id: "",
      amount: mpesa.amount,
      currency: mpesa.currency,
      msisdn: mpesa.msisdn,
      description: "Payment",
    };
    await submitFunding(session, c.var.requestId);
  }
  return c.json(await paymentView(c.var.requestId, slug, payment.id as string));
});

async function paymentView(requestId: string, slug: string, id: string) {
  const [r] = await asService(
    requestId,
    (tx) => tx`select hazina.qr_code_payment_json(${slug}, ${id}) as payment`,
  );
  return r.payment as Record<string, unknown>;
}

docs.route({
  method: "get",
  path: "/:slug/payments/:id",
  summary: "A payment through a QR code, for its payer to follow",
  description:
    "The slug and the payment's id (which only the payer's answer carried) are the authority, as a " +
    "client_secret is. Only the amount, the status and the provider's error code.",
  auth: "none",
  params: z.object({ slug: Slug, id: Uuid }),
  responses: { 200: { description: "The payment.", schema: BoundCheckoutPayment } },
  errors: ["payment_intent_not_found"],
});
app.get("/:slug/payments/:id", async (c) => {
  const slug = Slug.safeParse(c.req.param("slug"));
  const id = Uuid.safeParse(c.req.param("id"));
  if (!slug.success || !id.success) {
    throw new ApiError(404, "payment_intent_not_found", "Payment intent not found.");
  }
  c.header("Cache-Control", "no-store");
  return c.json(await paymentView(c.var.requestId, slug.data, id.data));
});
