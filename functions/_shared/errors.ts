// The one error type of the edge, and the mapping from database errors to it.
//
// Database scheme (see database/migrations/*_foundation.sql, hazina.raise_error):
// business errors are SQLSTATE P0001 whose MESSAGE is a stable snake_case code and whose
// DETAIL is optional JSON. The edge never parses English: it looks the code up below.
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }

  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/**
 * The error catalog, in two parts kept in this one file: the business codes the database
 * raises (DATABASE_CODES; tests/functions/error-catalog.test.ts fails when a migration raises
 * a code missing here) and the codes the edge raises itself (EDGE_ERROR_CODES; the OpenAPI
 * test fails when a `new ApiError(status, code)` disagrees). The OpenAPI error lists are
 * built from both (errorStatus / errorMessage).
 *
 * HTTP status and human message for each business error code raised by the database.
 */
export const DATABASE_CODES: Record<string, [ContentfulStatusCode, string]> = {
  // generic
  unauthenticated: [401, "Sign in first."],
  forbidden: [403, "You are not allowed to do this."],
  not_found: [404, "Not found."],
  invalid_argument: [400, "A value is invalid."],
  audit_log_append_only: [403, "The audit log cannot be changed."],
  ledger_immutable: [
    403,
    "Ledger entries, transactions and billing rows cannot be changed; post a reversal.",
  ],
  // ledger
  wallet_not_found: [404, "Wallet not found."],
  wallet_not_active: [409, "The wallet is frozen or closed."],
  wallet_exists: [409, "A wallet in this currency already exists."],
  currency_not_supported: [400, "This currency is not supported."],
  currency_mismatch: [400, "The wallets hold different currencies."],
  insufficient_funds: [409, "The available balance is too low."],
  unbalanced_transaction: [400, "Debits and credits do not balance."],
  // Where the database names the currency or the provider, the message states that rule
  // instead (RULE_MESSAGES).
  invalid_amount: [
    400,
    "Amounts must be greater than zero, with no more decimals than the currency has (KES: 2).",
  ],
  invalid_entries: [400, "The posting entries are invalid."],
  same_wallet: [400, "Source and destination wallets must differ."],
  ref_conflict: [409, "This reference was already used for a different operation."],
  transaction_not_found: [404, "Transaction not found."],
  reversal_exceeds_original: [409, "The reversal exceeds what remains of the original."],
  not_reversible: [409, "This transaction cannot be reversed."],
  hold_not_found: [404, "Hold not found."],
  hold_not_pending: [409, "The hold is no longer pending."],
  hold_amount_exceeded: [409, "The amount exceeds the hold."],
  hold_expired: [409, "The hold has expired."],
  fee_exceeds_amount: [409, "The fee would take the whole amount."],
  unknown_transaction_type: [400, "This transaction type is not one of public.transaction_types."],
  invalid_ref: [400, "The reference is missing or too long."],
  invalid_idempotency_key: [400, "The Idempotency-Key must be 8-255 letters, digits, or _ . : -"],
  // operations
  wallet_not_empty: [409, "Only an empty wallet with no pending holds can be closed."],
  // idempotency
  idempotency_key_reused: [422, "This Idempotency-Key was used with a different request."],
  idempotency_key_in_use: [409, "A request with this Idempotency-Key is still in progress."],
  rate_limited: [429, "Too many new requests; retry after the time in Retry-After."],

  // auth (database/migrations/*_auth_*.sql)
  verification_token_invalid: [400, "This link is invalid or was replaced by a newer one."],
  verification_token_used: [409, "This link was already used."],
  verification_token_expired: [400, "This link has expired; request a new one."],
  session_not_found: [404, "Session not found."],
  oauth_email_not_verified: [400, "The identity provider did not vouch for an email address."],
  oauth_account_in_use: [409, "This identity is linked to another account."],
  account_disabled: [403, "This account is disabled."],

  // merchant applications (database/migrations/*_merchant_applications.sql)
  already_merchant: [409, "This account is a merchant already."],
  merchant_application_not_found: [404, "This user has no merchant application."],
  merchant_application_not_pending: [
    409,
    "The merchant application was already decided the other way.",
  ],

  // money in/out (database/migrations/20261124000900_payment_sources.sql … *_money_sweep.sql, functions/funding, withdrawals, webhooks)
  provider_not_supported: [400, "This payment provider or currency is not supported."],
  provider_unavailable: [502, "The payment provider could not be reached; try again later."],
  invalid_source: [400, "The payment source is invalid."],
  source_not_found: [404, "Payment source not found."],
  source_not_verified: [409, "Withdrawals go only to a source you have topped up from."],
  amount_outside_provider_limits: [400, "The amount is outside the provider's limits."],
  funding_session_not_found: [404, "Top-up not found."],
  funding_session_not_pending: [409, "The top-up is no longer pending."],
  funding_session_already_requested: [409, "The top-up was already sent to the provider."],
  funding_amount_mismatch: [409, "The amount paid does not match the top-up."],
  funding_not_confirmed: [409, "The provider did not confirm the payment."],
  withdrawal_not_found: [404, "Withdrawal not found."],
  withdrawal_not_pending: [409, "The withdrawal is no longer pending."],
  withdrawal_not_cancellable: [
    409,
    "The withdrawal was already sent to the provider and cannot be cancelled.",
  ],
  withdrawal_not_submitted: [409, "The withdrawal was never sent to the provider."],
  withdrawal_amount_mismatch: [409, "The amount paid out does not match the withdrawal."],
  withdrawal_not_completed: [409, "Only a completed withdrawal can be reversed."],
  invalid_webhook_payload: [400, "The provider message is invalid."],
  not_confirmed_by_provider: [409, "The provider's own answer does not confirm this message."],
  paybill_short_code_mismatch: [
    409,
    "The payment was made to another short code than our paybill.",
  ],
  paybill_conflict: [409, "This M-Pesa transaction was already credited to another account."],
  webhook_event_not_found: [404, "Webhook event not found."],

  // payment intents and refunds (database/migrations/*_payment_intents.sql)
  payment_intent_not_found: [404, "Payment intent not found."],
  merchant_wallet_required: [
    409,
    "Only a merchant with an active merchant wallet in this currency can create payment intents.",
  ],
  customer_not_found: [404, "No such customer."],
  intent_not_confirmable: [409, "Only an intent that requires confirmation can be confirmed."],
  intent_not_capturable: [
    409,
    "Only a confirmed manual-capture intent (requires_capture) can be captured.",
  ],
  intent_not_cancelable: [
    409,
    "A succeeded or canceled intent cannot be canceled; refund a succeeded one instead.",
  ],
  intent_not_refundable: [409, "Only a succeeded intent can be refunded."],
  intent_expired: [409, "The payment intent has expired."],
  // invoices (database/migrations/*_invoices.sql, *_invoice_payments.sql)
  invoice_not_found: [404, "Invoice not found."],
  invoice_not_draft: [409, "Only a draft invoice can be edited, deleted or finalised."],
  invoice_empty: [409, "An invoice needs a total above zero to be finalised."],
  invoice_not_open: [409, "Only an open invoice can be marked uncollectible."],
  invoice_not_voidable: [409, "Only an open or uncollectible invoice can be voided."],
  invoice_has_payments: [409, "Refund the invoice's payments before voiding it."],
  invoice_not_payable: [409, "Only an open or uncollectible invoice can be paid."],
  invoice_payment_in_progress: [
    409,
    "A payment of this invoice is being made right now; retry once it has finished.",
  ],
  invoice_overpayment: [409, "This payment would exceed the amount due on the invoice."],
  invoice_refund_pending: [
    409,
    "A guest's refund of a payment of this invoice is waiting for its M-Pesa payout: the invoice takes no payment " +
    "and cannot be voided until that refund has succeeded or failed.",
  ],
  amount_exceeds_due: [409, "The amount is more than is due on the invoice."],
  partial_payment_not_allowed: [
    409,
    "This invoice must be paid in full: it does not allow partial payment.",
  ],
  capture_exceeds_authorized: [
    409,
    "The capture amount is above what the intent authorised (amount_capturable).",
  ],
  refund_exceeds_captured: [
    409,
    "Refunds cannot exceed what was captured minus what was already refunded.",
  ],
  sources_amount_mismatch: [400, "The sources must add up to the intent's amount exactly."],
  refund_not_supported: [
    409,
    "This payment cannot be refunded here: only a customer's wallet payment or a guest's M-Pesa payment of a " +
    "payment intent, QR code or invoice is refundable (orders and installment plans are paid by a signed-in customer only).",
  ],
  refund_insufficient_funds: [
    409,
    "The merchant's wallet does not have the refund's whole amount available to pay back to the guest's phone; nothing moved.",
  ],
  refund_not_pending: [409, "The refund is not pending (or its payout has not settled that way)."],
  payment_refund_not_found: [404, "Refund not found."],
  source_type_not_supported: [
    400,
    "Only wallet sources can pay an intent for now; M-Pesa parts are not supported yet.",
  ],
  // QR payment links (database/migrations/*_qr_codes.sql)
  qr_code_not_found: [404, "QR code not found."],
  qr_codes_merchants_only: [403, "Only merchants create QR codes."],
  qr_code_expired: [409, "This QR code has expired: it takes no new payments."],
  qr_code_exhausted: [
    409,
    "This QR code has been used as many times as it may: it takes no new payments.",
  ],
  qr_code_disabled: [409, "The merchant has disabled this QR code: it takes no new payments."],
  qr_code_kind_not_payable: [
    409,
    "This code is bound to an invoice, order or payment intent: it pays that object's own intent (POST /checkout/<slug>/pay/stk by M-Pesa, or /pay/wallet), never a separate intent of the code.",
  ],
  qr_code_not_bound: [
    409,
    "Only a code bound to an invoice, order or payment intent is paid here; a static or fixed code opens its own intent (POST /checkout/<slug>/pay/mpesa).",
  ],
  qr_code_already_paid: [
    409,
    "What this code is for has already been paid: nothing more is due.",
  ],
  qr_code_subject_closed: [
    409,
    "What this code is for is closed (the invoice voided, the order canceled, or the payment canceled or expired): it takes no payments.",
  ],
  qr_code_payment_in_progress: [
    409,
    "A payment of what this code is for is under way right now; wait for it to finish.",
  ],
  qr_code_payer_not_customer: [
    403,
    "This payment is for another customer: only they may pay it from a wallet (anyone may pay it by M-Pesa).",
  ],
  qr_code_intent_has_subject: [
    409,
    "This payment intent belongs to an invoice, order, plan or code: use that object's own code, not an intent code.",
  ],
  // merchant API keys (database/migrations/*_api_keys.sql)
  api_keys_merchants_only: [403, "Only merchants can hold API keys."],
  api_key_not_found: [404, "API key not found."],

  // shops, products, orders and goods escrow (database/migrations/*_shops_orders.sql, *_order_*.sql)
  shop_not_found: [404, "Shop not found."],
  shop_slug_taken: [409, "Another shop already uses this slug."],
  shop_merchants_only: [403, "Only merchants can open shops."],
  shop_not_active: [409, "The shop is suspended and takes no orders."],
  product_not_found: [404, "Product not found, or not for sale."],
  product_sku_taken: [409, "Another product of this shop already uses this SKU."],
  out_of_stock: [409, "Not enough stock left for this order."],
  escrow_not_offered: [409, "This shop does not offer escrow."],
  escrow_required: [409, "This shop sells only with escrow."],
  order_not_found: [404, "Order not found."],
  order_not_payable: [409, "Only an order pending payment can be paid."],
  order_not_dispatchable: [
    409,
    "Only a paid order (its escrow funded, not disputed) can be dispatched.",
  ],
  order_not_deliverable: [
    409,
    "Only a dispatched order not yet delivered can be marked delivered.",
  ],
  order_not_confirmable: [
    409,
    "Only a dispatched order (its escrow not disputed) can be confirmed.",
  ],
  order_not_disputable: [
    409,
    "Only an escrowed order whose money is still held can be disputed.",
  ],
  dispute_window_closed: [409, "The inspection window has closed; the escrow is being released."],
  order_not_cancelable: [
    409,
    "Only an unpaid order, or (by the merchant) a paid order not yet dispatched, can be canceled.",
  ],
  order_not_refundable: [
    409,
    "This order cannot be refunded: it was not paid, is refunded or canceled, or its escrow was released.",
  ],
  refund_exceeds_paid: [409, "Refunds cannot exceed what was paid and not yet refunded."],
  // database/migrations/20261124001800_order_plan_refunds_released.sql
  order_refund_merchant_funds: [
    409,
    "The merchant's wallet lacks the money for this refund: a completed installment plan paid the merchant out, so its order is refunded from the merchant's wallet (less the release fee's share, which comes back). Nothing was refunded; add funds and retry.",
  ],
  escrow_not_found: [404, "Escrow not found."],
  escrow_not_disputed: [409, "Only a disputed escrow can be resolved."],
  // jobs (database/migrations/*_jobs.sql, functions/_shared/jobs)
  job_not_found: [404, "No such job."],

  // merchant webhooks (database/migrations/*_webhook_delivery.sql, functions/payments/webhook-endpoints.ts)
  webhook_endpoints_merchants_only: [403, "Only merchants can register webhook endpoints."],
  webhook_endpoint_not_found: [404, "Webhook endpoint not found."],
  webhook_endpoint_limit_reached: [409, "A merchant may have at most 20 active webhook endpoints."],
  webhook_delivery_not_found: [404, "Webhook delivery not found."],
  event_not_found: [404, "Event not found."],
  // installment plans (database/migrations/*_installments.sql)
  installments_not_allowed: [
    409,
    "This shop does not sell on these installment terms (see its installment settings).",
  ],
  installment_not_found: [404, "Installment plan not found."],
  installment_not_active: [409, "The installment plan is completed, defaulted or canceled."],
  installment_row_not_found: [404, "The plan has no payment with this number."],
  installment_row_not_waivable: [
    409,
    "Only an unpaid payment or an unpaid late fee can be waived.",
  ],
  amount_exceeds_outstanding: [409, "The amount is above what the plan still owes."],
  installment_refund_not_allowed: [
    409,
    "An installment plan's payments are refunded by canceling the plan, not one by one.",
  ],
  order_has_installment_plan: [
    409,
    "This order is paid by an installment plan; cancel the plan instead.",
  ],
};

/** How providers are named to people, and the currency they move (for limit messages). */
const PROVIDERS: Record<string, { label: string; currency?: string }> = {
  mpesa: { label: "M-Pesa", currency: "KES" },
  kcb: { label: "KCB" },
  dtb: { label: "DTB" },
};

/** "250000" → "250,000" (an integer string; never through a JS number). */
function grouped(units: string): string {
  return /^[0-9]+$/.test(units) ? units.replace(/\B(?=([0-9]{3})+$)/g, ",") : units;
}

/**
 * Messages that state the rule that was broken, built from the details the database
 * raised with the code (currency and its decimals, the provider's rule or limits).
 * Undefined when the details do not say, and the code's general message applies.
 */
const RULE_MESSAGES: Record<string, (details: Record<string, unknown>) => string | undefined> = {
  invalid_amount: (d) => {
    // M-Pesa's whole-shilling rule arrives as its reason (hazina.assert_provider_amount).
    if (typeof d.reason === "string" && d.reason) return `${d.reason}.`;
    if (typeof d.currency !== "string" || typeof d.decimals !== "number") return undefined;
    if (d.decimals === 0) {
      return `${d.currency} amounts must be whole numbers greater than zero, e.g. "1250".`;
    }
    const places = d.decimals === 1 ? "1 decimal place" : `${d.decimals} decimal places`;
    return `${d.currency} amounts must be greater than zero with at most ${places}, e.g. "1250.${
      "0".repeat(d.decimals)
    }".`;
  },
  amount_outside_provider_limits: (d) => {
    if (
      typeof d.provider !== "string" || typeof d.minimum !== "string" ||
      typeof d.maximum !== "string"
    ) return undefined;
    const provider = PROVIDERS[d.provider] ?? { label: d.provider };
    const code = typeof d.currency === "string" ? d.currency : provider.currency;
    const currency = code ? `${code} ` : "";
    return `${provider.label} moves ${currency}${grouped(d.minimum)}–${
      grouped(d.maximum)
    } at a time.`;
  },
};

/**
 * Codes the edge raises itself (DATABASE_CODES above are the database's). Handlers build these with
 * `new ApiError(status, code, ...)`; the test checks every such call agrees with this table.
 */
export const EDGE_ERROR_CODES: Record<string, [number, string]> = {
  // M-Pesa Dynamic QR of a code (functions/qr-codes/mpesa.ts; docs/checkout.md)
  mpesa_qr_kind_not_supported: [
    409,
    "Only static and fixed codes get an M-Pesa QR; invoice, order and intent codes are paid through their checkout page.",
  ],
  mpesa_qr_invalid_amount: [
    400,
    "An M-Pesa QR's amount is whole shillings, rounded half up, from 1 to 250,000: a static code needs `amount`, a fixed code uses its own and takes none.",
  ],
  mpesa_qr_rejected: [
    502,
    "M-Pesa refused to generate the QR code; details.provider_code and provider_message say why.",
  ],
  validation_failed: [400, "The request is invalid; `details.fields` lists each problem."],
  invalid_json: [400, "The body is not valid JSON."],
  payload_too_large: [413, "The request body is larger than BODY_LIMIT_BYTES."],
  route_not_found: [404, "No such endpoint."],
  payment_refund_not_found: [404, "Refund not found."],
  invalid_api_key: [401, "The API key is unknown or revoked."],
  event_not_found: [404, "Event not found."],
  webhook_url_not_allowed: [
    400,
    "Webhook URLs must be https:// and resolve only to public addresses (no private, loopback, link-local or metadata address).",
  ],
  http_error: [400, "The request was refused by the HTTP layer."],
  internal_error: [500, "Something went wrong on our side; it has been logged."],
  unauthenticated: [401, "No bearer access token was sent."],
  invalid_token: [401, "The access token is malformed, invalid or not a user token."],
  token_expired: [401, "The access token has expired."],
  idempotency_key_required: [400, "The endpoint requires an Idempotency-Key header."],
  duplicate_ref: [400, "Two items of a batch share a ref."],
  user_not_found: [404, "The account no longer exists."],
  invalid_credentials: [401, "Wrong email or password, or the account is locked or disabled."],
  email_not_verified: [403, "The password is right but the email is not verified yet."],
  invalid_refresh_token: [401, "The refresh token is invalid, expired or revoked."],
  refresh_token_reused: [401, "The refresh token was already used; the session was revoked."],
  invalid_id_token: [401, "The OIDC ID token could not be verified."],
  oauth_provider_not_found: [404, "This identity provider is not configured."],
  webhook_unauthenticated: [401, "The webhook's path token or signature is wrong or missing."],
  database_unavailable: [
    503,
    "The database is unreachable (restarting, or the connection dropped); retry shortly with the same Idempotency-Key, which returns the committed result if the first attempt committed.",
  ],
  database_role_unsafe: [
    503,
    "Production only: the edge's database login is more than an authenticator; an operator must fix it.",
  ],
  // SQLSTATEs errors.ts maps to stable codes.
  conflict: [409, "This already exists."],
  serialization_failure: [409, "A concurrent change conflicted; retry."],
  deadlock_detected: [409, "A concurrent change conflicted; retry."],
};

/** HTTP status of a stable error code, or undefined for a code nobody defined. */
export function errorStatus(code: string): number | undefined {
  return EDGE_ERROR_CODES[code]?.[0] ?? DATABASE_CODES[code]?.[0];
}

/** The catalog's message of a stable error code (the code itself for an unknown one). */
export function errorMessage(code: string): string {
  return DATABASE_CODES[code]?.[1] ?? EDGE_ERROR_CODES[code]?.[1] ?? code;
}

/** SQLSTATEs that are the caller's fault rather than ours. */
const SQLSTATE_CODES: Record<string, [ContentfulStatusCode, string, string]> = {
  "42501": [403, "forbidden", "You are not allowed to do this."],
  "22P02": [400, "invalid_argument", "A value has the wrong format."],
  "22003": [400, "invalid_argument", "A number is out of range."],
  "22001": [400, "invalid_argument", "A value is too long."],
  // PostgreSQL text and jsonb cannot hold the NUL character (\u0000): a request that sends
  // one is refused as a whole, before anything is written.
  "22021": [400, "invalid_argument", "Text cannot contain the NUL character (\\u0000)."],
  "22P05": [400, "invalid_argument", "Text cannot contain the NUL character (\\u0000)."],
  "23514": [400, "invalid_argument", "A value breaks a rule."],
  "23503": [404, "not_found", "A referenced record does not exist."],
  "23505": [409, "conflict", "This already exists."],
  "40001": [409, "serialization_failure", "A concurrent change conflicted; retry."],
  "40P01": [409, "deadlock_detected", "A concurrent change conflicted; retry."],
};

interface PgLikeError {
  code?: string;
  message?: string;
  detail?: string;
}

function isPgError(err: unknown): err is PgLikeError {
  return typeof err === "object" && err !== null && "code" in err &&
    typeof (err as PgLikeError).code === "string" && (err as PgLikeError).code!.length === 5;
}

function parseDetail(detail: string | undefined): Record<string, unknown> | undefined {
  if (!detail) return undefined;
  try {
    const value = JSON.parse(detail);
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return Object.keys(value).length ? value : undefined;
    }
  } catch {
    // Detail was not ours (plain text from PostgreSQL): never leak it.
  }
  return undefined;
}

/**
 * postgres.js's own codes for a connection that failed or went away, the socket errors
 * under them, and the SQLSTATEs of a server that is shutting down, restarting or refusing
 * connections (class 08, 57P01-57P03, 53300).
 */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P01",
  "57P02",
  "57P03",
  "53300",
]);

/** Whether `err` says the database could not be reached or dropped the connection. */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (CONNECTION_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) {
    return true;
  }
  // Deno reports some socket failures by name only.
  const name = (err as { name?: unknown }).name;
  return name === "ConnectionRefused" || name === "ConnectionReset" || name === "BrokenPipe" ||
    name === "ConnectionAborted";
}

/** The answer while the database is unreachable: retry shortly (with the same Idempotency-Key). */
export function databaseUnavailable(): ApiError {
  return new ApiError(
    503,
    "database_unavailable",
    "The database is unreachable right now; retry shortly with the same Idempotency-Key.",
    { retry_after_seconds: 1 },
  );
}

/** Turn a database error into an ApiError, or undefined when it is an internal failure. */
export function fromDatabaseError(err: unknown): ApiError | undefined {
  if (isConnectionError(err)) return databaseUnavailable();
  if (!isPgError(err)) return undefined;
  if (err.code === "P0001" && err.message) {
    const known = DATABASE_CODES[err.message];
    // A code missing from the catalog is our bug, not the caller's: it answers 500 (and is
    // logged), never a guessed status. tests/functions/error-catalog.test.ts keeps every code
    // the migrations can raise in DATABASE_CODES.
    if (!known) return undefined;
    const details = parseDetail(err.detail);
    const message = (details && RULE_MESSAGES[err.message]?.(details)) ?? known[1];
    return new ApiError(known[0], err.message, message, details);
  }
  const mapped = SQLSTATE_CODES[err.code!];
  return mapped ? new ApiError(mapped[0], mapped[1], mapped[2]) : undefined;
}
