// M-Pesa Daraja adapter: OAuth token, STK Push (Lipa na M-Pesa Online) and its status
// query, B2C payouts, Transaction Status, C2B URL registration — plus parsers that turn
// Daraja's callbacks into the provider-neutral events the database applies.
//
// Daraja facts this relies on (developer.safaricom.co.ke):
// - OAuth: GET /oauth/v1/generate?grant_type=client_credentials, Basic key:secret; tokens
//   live 3599 s.
// - STK Push: POST /mpesa/stkpush/v1/processrequest; Password = base64(shortcode + passkey
//   + timestamp), Timestamp = yyyyMMddHHmmss in Nairobi time; Amount in whole shillings.
//   The result arrives at CallBackURL; ResultCode 0 = paid, 1032 = cancelled by the user,
//   1037 = phone unreachable / no answer, 1 = insufficient balance, 2001 = wrong PIN.
// - STK query: POST /mpesa/stkpushquery/v1/query; while the customer has not answered it
//   fails with errorCode 500.001.1001 ("The transaction is being processed").
// - B2C: POST /mpesa/b2c/v3/paymentrequest with our OriginatorConversationID; result at
//   ResultURL, queue timeout at QueueTimeOutURL.
// - Transaction Status: POST /mpesa/transactionstatus/v1/query; answered asynchronously at
//   ResultURL. The synchronous answer carries M-Pesa's OriginatorConversationID for the
//   query, and the result names it again: we believe a result only when it names a query
//   we made (hazina.provider_query_open), so a forger with the callback token cannot answer.
// - C2B: validation / confirmation POSTs carry TransID, TransAmount (string), BillRefNumber.
import { z } from "zod";
import { config } from "../config.ts";
import {
  decimalFrom,
  jsonWithIntegers,
  providerFetch,
  type ProviderResponse,
  refusedBeforeAcceptance,
  wholeUnits,
} from "./http.ts";
import type {
  CollectionRequest,
  NormalisedEvent,
  PaymentProvider,
  PayoutRequest,
  StatusResult,
  SubmitResult,
} from "./types.ts";
import { InvalidPayloadError, ProviderUnavailableError } from "./types.ts";

let tokenCache: { key: string; token: string; expiresAt: number } | undefined;

async function accessToken(): Promise<string> {
  const cfg = config();
  const cacheKey = `${cfg.MPESA_BASE_URL}|${cfg.MPESA_CONSUMER_KEY}`;
  if (tokenCache && tokenCache.key === cacheKey && tokenCache.expiresAt > Date.now()) {
    return tokenCache.token;
  }
  const basic = btoa(`${cfg.MPESA_CONSUMER_KEY}:${cfg.MPESA_CONSUMER_SECRET}`);
  // Without a token the request it is for is never sent: certainly not carried out.
  const res = await providerFetch(
    "mpesa",
    `${cfg.MPESA_BASE_URL}/oauth/v1/generate?grant_type=client_credentials`,
    {
      method: "GET",
      headers: { authorization: `Basic ${basic}` },
    },
  ).catch((err: Error) => {
    throw new ProviderUnavailableError("mpesa", err.message, "not_accepted");
  });
  const token = res.body.access_token;
  if (res.status !== 200 || typeof token !== "string") {
    throw new ProviderUnavailableError(
      "mpesa",
      `Daraja OAuth failed with HTTP ${res.status}`,
      "not_accepted",
    );
  }
  const lifetime = Number(res.body.expires_in ?? 3599);
  tokenCache = {
    key: cacheKey,
    token,
    expiresAt: Date.now() + (Math.max(lifetime, 120) - 60) * 1000,
  };
  return token;
}

/** yyyyMMddHHmmss in Africa/Nairobi (UTC+3, no daylight saving). */
export function darajaTimestamp(now = new Date()): string {
  return new Date(now.getTime() + 3 * 3600 * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

export function stkPassword(shortcode: string, passkey: string, timestamp: string): string {
  return btoa(`${shortcode}${passkey}${timestamp}`);
}

async function call(path: string, body: string): Promise<ProviderResponse> {
  const cfg = config();
  const res = await providerFetch("mpesa", `${cfg.MPESA_BASE_URL}${path}`, {
    headers: { authorization: `Bearer ${await accessToken()}` },
    body,
  });
  if (res.status === 401) tokenCache = undefined;
  return res;
}

function callbackUrl(kind: string): string {
  const cfg = config();
  return `${cfg.PUBLIC_FUNCTIONS_URL}/webhooks/mpesa/${kind}/${cfg.MPESA_CALLBACK_TOKEN}`;
}

function errorOf(res: ProviderResponse): { code: string; message: string } {
  return {
    code: String(res.body.errorCode ?? res.body.ResponseCode ?? `http_${res.status}`),
    message: String(res.body.errorMessage ?? res.body.ResponseDescription ?? "rejected by M-Pesa")
      .slice(0, 500),
  };
}

/**
 * Daraja answers 5xx for its own trouble but also for "still processing" (with an
 * errorCode). A 503 means it refused to take the request; 500/502/504 leave it unknown.
 */
function unavailableUnless(res: ProviderResponse, what: string): void {
  if (res.status >= 500 && !res.body.errorCode) {
    throw new ProviderUnavailableError(
      "mpesa",
      `M-Pesa ${what} failed with HTTP ${res.status}`,
      refusedBeforeAcceptance(res.status) ? "not_accepted" : "unknown",
    );
  }
}

/** Ask Transaction Status about a transaction; the answer arrives at our status/result URL. */
async function transactionStatus(query: {
  transactionId: string;
  originalConversationId: string;
  partyA: string;
  occasion: string;
}): Promise<StatusResult> {
  const cfg = config();
  const res = await call(
    "/mpesa/transactionstatus/v1/query",
    JSON.stringify({
      Initiator: cfg.MPESA_INITIATOR_NAME,
      SecurityCredential: cfg.MPESA_SECURITY_CREDENTIAL,
      CommandID: "TransactionStatusQuery",
      TransactionID: query.transactionId,
      OriginalConversationID: query.originalConversationId,
      PartyA: query.partyA,
      IdentifierType: "4",
      ResultURL: callbackUrl("status/result"),
      QueueTimeOutURL: callbackUrl("status/timeout"),
      Remarks: "Hazina status check",
      Occasion: query.occasion,
    }),
  );
  unavailableUnless(res, "Transaction Status");
  if (res.status === 200 && String(res.body.ResponseCode) === "0") {
    const queryId = res.body.OriginatorConversationID;
    return { state: "requested", queryId: typeof queryId === "string" && queryId ? queryId : null };
  }
  return { state: "unknown", message: errorOf(res).message };
}

/** Ask M-Pesa about a paybill payment (by its TransID) to our paybill. */
export async function queryPaybillPayment(transId: string): Promise<StatusResult> {
  return await transactionStatus({
    transactionId: transId,
    originalConversationId: "",
    partyA: config().MPESA_PAYBILL,
    occasion: transId,
  });
}

const PENDING_CODES = new Set(["500.001.1001"]);

/** M-Pesa STK result codes: which end state a non-zero code means for a funding session. */
export function stkOutcome(code: string): "cancelled" | "expired" | "failed" {
  if (code === "1032") return "cancelled"; // Request cancelled by user
  if (code === "1037" || code === "1019") return "expired"; // no answer from the phone / transaction expired
  return "failed";
}

export const mpesa: PaymentProvider = {
  name: "mpesa",

  async startCollection(request: CollectionRequest): Promise<SubmitResult> {
    const cfg = config();
    if (!request.msisdn) {
      return {
        accepted: false,
        code: "invalid_source",
        message: "an M-Pesa source needs a phone number",
      };
    }
    const timestamp = darajaTimestamp();
    const body = jsonWithIntegers({
      BusinessShortCode: cfg.MPESA_SHORTCODE,
      Password: stkPassword(cfg.MPESA_SHORTCODE, cfg.MPESA_PASSKEY, timestamp),
      Timestamp: timestamp,
      TransactionType: cfg.MPESA_TRANSACTION_TYPE,
      PartyA: request.msisdn,
      PartyB: cfg.MPESA_SHORTCODE,
      PhoneNumber: request.msisdn,
      CallBackURL: callbackUrl("stk"),
      // Shown to the customer on the prompt; Daraja allows 12 characters.
      AccountReference: `HZ${request.sessionId.replace(/-/g, "").slice(0, 10).toUpperCase()}`,
      TransactionDesc: request.description.slice(0, 13) || "Hazina top-up",
    }, { Amount: wholeUnits(request.amount) });
    const res = await call("/mpesa/stkpush/v1/processrequest", body);
    unavailableUnless(res, "STK push");
    if (
      res.status === 200 && String(res.body.ResponseCode) === "0" &&
      typeof res.body.CheckoutRequestID === "string"
    ) {
      return {
        accepted: true,
        requestId: typeof res.body.MerchantRequestID === "string"
          ? res.body.MerchantRequestID
          : null,
        reference: res.body.CheckoutRequestID,
        message: typeof res.body.CustomerMessage === "string"
          ? res.body.CustomerMessage
          : undefined,
      };
    }
    return { accepted: false, ...errorOf(res) };
  },

  async queryCollection({ reference }): Promise<StatusResult> {
    const cfg = config();
    const timestamp = darajaTimestamp();
    const res = await call(
      "/mpesa/stkpushquery/v1/query",
      JSON.stringify({
        BusinessShortCode: cfg.MPESA_SHORTCODE,
        Password: stkPassword(cfg.MPESA_SHORTCODE, cfg.MPESA_PASSKEY, timestamp),
        Timestamp: timestamp,
        CheckoutRequestID: reference,
      }),
    );
    if (PENDING_CODES.has(String(res.body.errorCode))) return { state: "pending" };
    unavailableUnless(res, "STK query");
    if (res.status !== 200 || res.body.ResultCode === undefined) {
      return { state: "unknown", message: errorOf(res).message };
    }
    const code = String(res.body.ResultCode);
    // The STK query carries neither amount nor receipt: the request was for the session's amount.
    if (code === "0") return { state: "succeeded", amount: null, receipt: null };
    return {
      state: "failed",
      outcome: stkOutcome(code),
      code,
      message: String(res.body.ResultDesc ?? "").slice(0, 500),
    };
  },

  async startPayout(request: PayoutRequest): Promise<SubmitResult> {
    const cfg = config();
    if (!request.msisdn) {
      return {
        accepted: false,
        code: "invalid_source",
        message: "an M-Pesa payout needs a phone number",
      };
    }
    const body = jsonWithIntegers({
      OriginatorConversationID: request.withdrawalId,
      InitiatorName: cfg.MPESA_INITIATOR_NAME,
      SecurityCredential: cfg.MPESA_SECURITY_CREDENTIAL,
      CommandID: "BusinessPayment",
      PartyA: cfg.MPESA_B2C_SHORTCODE,
      PartyB: request.msisdn,
      Remarks: request.description.slice(0, 100) || "Hazina withdrawal",
      QueueTimeOutURL: callbackUrl("b2c/timeout"),
      ResultURL: callbackUrl("b2c/result"),
      Occasion: request.withdrawalId,
    }, { Amount: wholeUnits(request.amount) });
    const res = await call("/mpesa/b2c/v3/paymentrequest", body);
    unavailableUnless(res, "B2C");
    if (res.status === 200 && String(res.body.ResponseCode) === "0") {
      return {
        accepted: true,
        requestId: request.withdrawalId,
        reference: typeof res.body.ConversationID === "string"
          ? res.body.ConversationID
          : request.withdrawalId,
      };
    }
    return { accepted: false, ...errorOf(res) };
  },

  async queryPayout({ withdrawalId }): Promise<StatusResult> {
    // Our OriginatorConversationID for the payout is the withdrawal id.
    return await transactionStatus({
      transactionId: "",
      originalConversationId: withdrawalId,
      partyA: config().MPESA_B2C_SHORTCODE,
      occasion: withdrawalId,
    });
  },
};

/** Register our C2B validation/confirmation URLs for the paybill (run once per shortcode). */
export async function registerC2bUrls(): Promise<ProviderResponse> {
  const cfg = config();
  return await call(
    "/mpesa/c2b/v1/registerurl",
    JSON.stringify({
      ShortCode: cfg.MPESA_PAYBILL,
      ResponseType: "Completed",
      ConfirmationURL: callbackUrl("c2b/confirmation"),
      ValidationURL: callbackUrl("c2b/validation"),
    }),
  );
}

// ---------------------------------------------------------------------------------------
// Callbacks → normalised events

const Code = z.union([z.number().int(), z.string().regex(/^[A-Za-z0-9.]{1,20}$/)]).transform(
  String,
);
const Id = z.string().trim().min(1).max(255);
const Item = z.object({ Name: z.string(), Value: z.unknown().optional() });
const Parameter = z.object({ Key: z.string(), Value: z.unknown().optional() });

function items(list: { Name: string; Value?: unknown }[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((i) => [i.Name, i.Value]));
}
function parameters(
  list: { Key: string; Value?: unknown }[] | { Key: string; Value?: unknown } | undefined,
) {
  const array = Array.isArray(list) ? list : list ? [list] : [];
  return Object.fromEntries(array.map((p) => [p.Key, p.Value]));
}
function text(value: unknown): string | null {
  if (typeof value === "string" && value.trim()) return value.trim().slice(0, 255);
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return null;
}

export const StkCallback = z.object({
  Body: z.object({
    stkCallback: z.object({
      MerchantRequestID: Id.optional(),
      CheckoutRequestID: Id,
      ResultCode: Code,
      ResultDesc: z.string().max(1000).optional(),
      CallbackMetadata: z.object({ Item: z.array(Item).max(50) }).optional(),
    }),
  }),
});

export function parseStkCallback(body: unknown): NormalisedEvent {
  const cb = StkCallback.parse(body).Body.stkCallback;
  const key = `stk:${cb.CheckoutRequestID}:${cb.ResultCode}`;
  if (cb.ResultCode === "0") {
    const meta = items(cb.CallbackMetadata?.Item);
    const amount = decimalFrom(meta.Amount);
    if (!amount) throw new InvalidPayloadError("a success callback needs CallbackMetadata.Amount");
    return {
      eventType: "stk_callback",
      eventKey: key,
      payload: {
        action: "funding.succeeded",
        checkout_id: cb.CheckoutRequestID,
        amount,
        receipt: text(meta.MpesaReceiptNumber),
        msisdn: text(meta.PhoneNumber),
      },
    };
  }
  return {
    eventType: "stk_callback",
    eventKey: key,
    payload: {
      action: "funding.failed",
      checkout_id: cb.CheckoutRequestID,
      outcome: stkOutcome(cb.ResultCode) === "cancelled" ? "cancelled" : "failed",
      result_code: cb.ResultCode,
      result_desc: (cb.ResultDesc ?? "").slice(0, 500),
    },
  };
}

export const ResultEnvelope = z.object({
  Result: z.object({
    ResultType: z.union([z.number(), z.string()]).optional(),
    ResultCode: Code,
    ResultDesc: z.string().max(1000).optional(),
    OriginatorConversationID: Id,
    ConversationID: Id.optional(),
    TransactionID: z.string().max(255).optional(),
    ResultParameters: z.object({
      ResultParameter: z.union([z.array(Parameter).max(50), Parameter]),
    }).optional(),
    ReferenceData: z.object({ ReferenceItem: z.union([z.array(Parameter).max(50), Parameter]) })
      .optional(),
  }),
});

export function parseB2cResult(body: unknown): NormalisedEvent {
  const r = ResultEnvelope.parse(body).Result;
  const params = parameters(r.ResultParameters?.ResultParameter);
  const key = `b2c:${r.OriginatorConversationID}:${r.ResultCode}`;
  if (r.ResultCode === "0") {
    return {
      eventType: "b2c_result",
      eventKey: key,
      payload: {
        action: "payout.succeeded",
        withdrawal_id: r.OriginatorConversationID,
        receipt: text(params.TransactionReceipt) ?? text(r.TransactionID),
        amount: decimalFrom(params.TransactionAmount),
      },
    };
  }
  return {
    eventType: "b2c_result",
    eventKey: key,
    payload: {
      action: "payout.failed",
      withdrawal_id: r.OriginatorConversationID,
      result_code: r.ResultCode,
      result_desc: (r.ResultDesc ?? "").slice(0, 500),
    },
  };
}

export function parseB2cTimeout(body: unknown): NormalisedEvent {
  const r = ResultEnvelope.parse(body).Result;
  return {
    eventType: "b2c_timeout",
    eventKey: `b2c_timeout:${r.OriginatorConversationID}`,
    payload: { action: "payout.timeout", withdrawal_id: r.OriginatorConversationID },
  };
}

/**
 * A Transaction Status answer. It is believed only as the answer to a query we made: the
 * database matches its OriginatorConversationID to wallet_provider_queries, whatever else
 * it claims (an Occasion naming a withdrawal proves nothing). TransactionStatus
 * "Completed" = paid; a non-zero ResultCode = M-Pesa has no such (successful) transaction.
 */
export function parseStatusResult(body: unknown): NormalisedEvent {
  const r = ResultEnvelope.parse(body).Result;
  const params = parameters(r.ResultParameters?.ResultParameter);
  // "600000 - Hazina Paybill": the short code that received the money.
  const creditParty = /^([0-9]{5,8})\b/.exec(text(params.CreditPartyName) ?? "")?.[1] ?? null;
  return {
    eventType: "transaction_status",
    eventKey: `status:${r.OriginatorConversationID}:${r.ResultCode}`,
    payload: {
      action: "status.answer",
      originator_conversation_id: r.OriginatorConversationID,
      result_code: r.ResultCode,
      result_desc: (r.ResultDesc ?? "").slice(0, 500),
      transaction_status: text(params.TransactionStatus),
      receipt: text(params.ReceiptNo) ?? text(r.TransactionID),
      amount: decimalFrom(params.Amount),
      credit_party: creditParty,
    },
  };
}

export const C2bPayment = z.object({
  TransactionType: z.string().max(100).optional(),
  TransID: z.string().trim().regex(/^[A-Za-z0-9]{6,40}$/),
  TransTime: z.string().max(40).optional(),
  TransAmount: z.union([z.string(), z.number()]),
  BusinessShortCode: z.union([z.string(), z.number()]).optional(),
  BillRefNumber: z.string().max(100).optional().default(""),
  MSISDN: z.union([z.string(), z.number()]).optional(),
  FirstName: z.string().max(100).optional(),
});

export function parseC2b(body: unknown, kind: "validation" | "confirmation"): NormalisedEvent {
  const p = C2bPayment.parse(body);
  const amount = decimalFrom(p.TransAmount);
  if (!amount) throw new InvalidPayloadError("TransAmount must be an amount");
  const shortCode = p.BusinessShortCode === undefined ? null : String(p.BusinessShortCode).trim();
  const account = p.BillRefNumber.slice(0, 100);
  return {
    eventType: kind === "validation" ? "c2b_validation" : "c2b_confirmation",
    // What the claim says is part of its key: a forged copy of a real TransID with another
    // amount or account is a different event, so it cannot take the genuine one's place.
    eventKey: `c2b_${kind}:${p.TransID}:${amount}:${shortCode ?? ""}:${account}`,
    payload: {
      action: kind === "validation" ? "paybill.validation" : "paybill.credit",
      trans_id: p.TransID,
      amount,
      account_reference: account,
      msisdn: text(p.MSISDN),
      short_code: shortCode,
      // The paybill we are configured to receive on: the database refuses any other.
      paybill: config().MPESA_PAYBILL,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Dynamic QR (Daraja `POST /mpesa/qrcode/v1/generate`): a QR the M-Pesa app scans to pay a
// till (BG), paybill (PB), agent (WA), phone (SM) or business (SB) a set amount. Daraja's
// request: {MerchantName, RefNo, Amount (a number, whole shillings), TrxCode, CPI (the credit
// party: till, paybill, agent, phone or business number), Size (pixels, a string)}; its answer:
// {ResponseCode, RequestID, ResponseDescription, QRCode (the PNG, base64)}. See docs/checkout.md.

export const QR_TRX_CODES = ["BG", "PB", "WA", "SM", "SB"] as const;

/**
 * A decimal amount as whole shillings, by string logic: rounded half up on the first decimal
 * (150.49 → 150, 150.50 → 151; Daraja's Amount is whole shillings). Throws on anything that
 * is not a non-negative decimal.
 */
export function roundHalfUpToShillings(amount: string): string {
  const match = /^([0-9]{1,15})(?:\.([0-9]{1,4}))?$/.exec(amount.trim());
  if (!match) throw new Error(`amount ${amount} is not a decimal`);
  const whole = BigInt(match[1]);
  const roundUp = (match[2] ?? "0")[0] >= "5";
  return String(roundUp ? whole + 1n : whole);
}

/** Our limits on a Dynamic QR (M-Pesa's per-transaction maximum is KES 250,000). */
export const QR_MIN_SHILLINGS = 1n;
export const QR_MAX_SHILLINGS = 250_000n;

export const DynamicQrInput = z.object({
  merchantName: z.string().trim().min(1).max(60),
  refNo: z.string().trim().min(1).max(40).regex(
    /^[A-Za-z0-9 ._-]+$/,
    "letters, digits, space . _ -",
  ),
  /** A decimal string; sent as whole shillings rounded half up (roundHalfUpToShillings). */
  amount: z.string().regex(/^[0-9]{1,15}(\.[0-9]{1,4})?$/, "a decimal string"),
  trxCode: z.enum(QR_TRX_CODES),
  /** BG, PB, WA: a 5–8 digit till, paybill or agent number; SM, SB: a 2547/2541 MSISDN. */
  cpi: z.string().trim(),
  size: z.number().int().min(100).max(1000).default(300),
}).strict().superRefine((input, ctx) => {
  const phone = input.trxCode === "SM" || input.trxCode === "SB";
  const ok = phone ? /^254[17][0-9]{8}$/.test(input.cpi) : /^[0-9]{5,8}$/.test(input.cpi);
  if (!ok) {
    ctx.addIssue({
      code: "custom",
      path: ["cpi"],
      message: phone
        ? "SM and SB take a phone number in MSISDN format (2547XXXXXXXX)"
        : "BG, PB and WA take a 5-8 digit till, paybill or agent number",
    });
  }
  if (!/^[0-9]{1,15}(\.[0-9]{1,4})?$/.test(input.amount)) return; // reported above
  const shillings = BigInt(roundHalfUpToShillings(input.amount));
  if (shillings < QR_MIN_SHILLINGS || shillings > QR_MAX_SHILLINGS) {
    ctx.addIssue({
      code: "custom",
      path: ["amount"],
      message: "whole shillings from 1 to 250000 after rounding half up",
    });
  }
});
export type DynamicQrRequest = z.input<typeof DynamicQrInput>;

export type DynamicQrResult =
  | {
    ok: true;
    /** The PNG Daraja made (checked to be one). */
    png: Uint8Array;
    /** The whole-shilling amount the QR carries. */
    amount: string;
    requestId: string | null;
    responseCode: string;
    description: string;
  }
  /** M-Pesa refused the request (HTTP 4xx, or an answer without a PNG). */
  | { ok: false; code: string; message: string };

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function pngFromBase64(text: unknown): Uint8Array | null {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/=\s]{16,}$/.test(text)) return null;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(text.replace(/\s/g, "")), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
  return PNG_MAGIC.every((b, i) => bytes[i] === b) ? bytes : null;
}

/**
 * Ask Daraja for a Dynamic QR. Bad input throws a ZodError (nothing is sent); no usable answer
 * (unreachable, timeout, HTTP 5xx, 401/403/429) throws ProviderUnavailableError; a refusal is
 * `{ ok: false }`. Read-only at M-Pesa: the same input may be asked for again at any time.
 */
export async function generateDynamicQr(request: DynamicQrRequest): Promise<DynamicQrResult> {
  const input = DynamicQrInput.parse(request);
  const amount = roundHalfUpToShillings(input.amount);
  const res = await call(
    "/mpesa/qrcode/v1/generate",
    jsonWithIntegers({
      MerchantName: input.merchantName,
      RefNo: input.refNo,
      TrxCode: input.trxCode,
      CPI: input.cpi,
      Size: String(input.size),
    }, { Amount: amount }),
  );
  if (res.status >= 500 || refusedBeforeAcceptance(res.status)) {
    throw new ProviderUnavailableError(
      "mpesa",
      `M-Pesa Dynamic QR failed with HTTP ${res.status}`,
      "not_accepted",
    );
  }
  if (res.status !== 200) return { ok: false, ...errorOf(res) };
  const png = pngFromBase64(res.body.QRCode);
  if (!png) {
    return {
      ok: false,
      code: "invalid_qr_code",
      message: "M-Pesa's answer carried no PNG QR code",
    };
  }
  return {
    ok: true,
    png,
    amount,
    requestId: typeof res.body.RequestID === "string" ? res.body.RequestID : null,
    responseCode: String(res.body.ResponseCode ?? ""),
    description: String(res.body.ResponseDescription ?? "").slice(0, 200),
  };
}
