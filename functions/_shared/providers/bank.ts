// Bank adapter shared by KCB and DTB. Neither bank publishes its API openly (KCB's Buni
// portal and DTB's corporate API are behind onboarding), so this adapter defines the
// smallest request-to-pay / funds-transfer API both offer in substance, and documents it
// (docs/money-movement.md, "Provider assumptions"). The sandbox implements exactly this.
//
//   POST {base}/v1/collections        {reference, account_number, amount "0.00", currency, narration, callback_url}
//                                     → 202 {request_id, status: "accepted"} | 4xx {error: {code, message}}
//   GET  {base}/v1/collections/{reference}
//                                     → {status: pending|succeeded|failed, amount, receipt, result_code, result_desc}
//   POST {base}/v1/payouts            {reference, account_number, account_name, amount, currency, narration, callback_url}
//   GET  {base}/v1/payouts/{reference}
//   webhook → callback_url, HMAC-signed (hmac.ts):
//     {event_id, event_type: collection.succeeded|collection.failed|payout.succeeded|payout.failed|payout.reversed,
//      reference, request_id, amount, currency, receipt, result_code, result_desc, occurred_at}
//
// Our reference is the funding session / withdrawal id, so every answer names its subject
// and retries of the same request are idempotent at the bank.
import { z } from "zod";
import { config } from "../config.ts";
import {
  decimalFrom,
  providerFetch,
  type ProviderResponse,
  refusedBeforeAcceptance,
  twoDecimals,
} from "./http.ts";
import {
  type CollectionRequest,
  InvalidPayloadError,
  type NormalisedEvent,
  type PaymentProvider,
  type PayoutRequest,
  type ProviderName,
  ProviderUnavailableError,
  type StatusResult,
  type SubmitResult,
} from "./types.ts";

export interface BankSettings {
  baseUrl: string;
  /** Headers that authenticate one call (OAuth bearer for KCB, API key for DTB). */
  authHeaders: () => Promise<Record<string, string>>;
}

export function createBankAdapter(
  name: Exclude<ProviderName, "mpesa">,
  settings: () => BankSettings,
): PaymentProvider {
  async function call(method: string, path: string, body?: unknown): Promise<ProviderResponse> {
    const s = settings();
    const res = await providerFetch(name, `${s.baseUrl}${path}`, {
      method,
      headers: await s.authHeaders(),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 500 || res.status === 401 || res.status === 429) {
      throw new ProviderUnavailableError(
        name,
        `${name} answered HTTP ${res.status}`,
        refusedBeforeAcceptance(res.status) ? "not_accepted" : "unknown",
      );
    }
    return res;
  }
  const callbackUrl = () => `${config().PUBLIC_FUNCTIONS_URL}/webhooks/${name}`;
  const submitted = (res: ProviderResponse, reference: string): SubmitResult => {
    if (
      (res.status === 200 || res.status === 201 || res.status === 202) &&
      res.body.status !== "rejected"
    ) {
      return {
        accepted: true,
        requestId: typeof res.body.request_id === "string" ? res.body.request_id : null,
        reference,
      };
    }
    const error = (res.body.error ?? {}) as Record<string, unknown>;
    return {
      accepted: false,
      code: String(error.code ?? `http_${res.status}`),
      message: String(error.message ?? "rejected by the bank").slice(0, 500),
    };
  };
  const status = (res: ProviderResponse): StatusResult => {
    if (res.status === 404) {
      return {
        state: "failed",
        outcome: "expired",
        code: "not_found",
        message: "the bank has no such request",
      };
    }
    if (res.status !== 200) return { state: "unknown", message: `HTTP ${res.status}` };
    const state = res.body.status;
    if (state === "succeeded") {
      return {
        state: "succeeded",
        amount: decimalFrom(res.body.amount),
        receipt: typeof res.body.receipt === "string" ? res.body.receipt : null,
      };
    }
    if (state === "failed") {
      return {
        state: "failed",
        outcome: res.body.result_code === "CANCELLED" ? "cancelled" : "failed",
        code: String(res.body.result_code ?? "failed"),
        message: String(res.body.result_desc ?? "").slice(0, 500),
      };
    }
    if (state === "pending" || state === "accepted") return { state: "pending" };
    return { state: "unknown", message: `unexpected status ${String(state)}` };
  };

  return {
    name,
    async startCollection(request: CollectionRequest) {
      if (!request.accountNumber) {
        return {
          accepted: false,
          code: "invalid_source",
          message: "a bank source needs an account number",
        };
      }
      const res = await call("POST", "/v1/collections", {
        reference: request.sessionId,
        account_number: request.accountNumber,
        amount: twoDecimals(request.amount),
        currency: request.currency,
        narration: request.description.slice(0, 100),
        callback_url: callbackUrl(),
      });
      return submitted(res, request.sessionId);
    },
    async queryCollection({ sessionId }) {
      return status(await call("GET", `/v1/collections/${encodeURIComponent(sessionId)}`));
    },
    async startPayout(request: PayoutRequest) {
      if (!request.accountNumber) {
        return {
          accepted: false,
          code: "invalid_source",
          message: "a bank payout needs an account number",
        };
      }
      const res = await call("POST", "/v1/payouts", {
        reference: request.withdrawalId,
        account_number: request.accountNumber,
        account_name: request.accountName ?? null,
        amount: twoDecimals(request.amount),
        currency: request.currency,
        narration: request.description.slice(0, 100),
        callback_url: callbackUrl(),
      });
      return submitted(res, request.withdrawalId);
    },
    async queryPayout({ withdrawalId }) {
      return status(await call("GET", `/v1/payouts/${encodeURIComponent(withdrawalId)}`));
    },
  };
}

export const BankEvent = z.object({
  event_id: z.string().trim().min(1).max(200),
  event_type: z.enum([
    "collection.succeeded",
    "collection.failed",
    "payout.succeeded",
    "payout.failed",
    "payout.reversed",
  ]),
  reference: z.string().uuid(),
  request_id: z.string().max(255).nullish(),
  amount: z.union([z.string(), z.number()]).nullish(),
  currency: z.string().regex(/^[A-Z]{3}$/).nullish(),
  receipt: z.string().max(255).nullish(),
  result_code: z.string().max(100).nullish(),
  result_desc: z.string().max(1000).nullish(),
  occurred_at: z.string().max(64).nullish(),
});

export function parseBankEvent(body: unknown): NormalisedEvent {
  const e = BankEvent.parse(body);
  const amount = e.amount === undefined || e.amount === null ? null : decimalFrom(e.amount);
  if (e.amount !== undefined && e.amount !== null && amount === null) {
    throw new InvalidPayloadError("amount must be a decimal");
  }
  const common = { eventType: e.event_type, eventKey: e.event_id };
  switch (e.event_type) {
    case "collection.succeeded":
      return {
        ...common,
        payload: {
          action: "funding.succeeded",
          funding_session_id: e.reference,
          amount,
          receipt: e.receipt ?? null,
        },
      };
    case "collection.failed":
      return {
        ...common,
        payload: {
          action: "funding.failed",
          funding_session_id: e.reference,
          outcome: e.result_code === "CANCELLED" ? "cancelled" : "failed",
          result_code: e.result_code ?? "failed",
          result_desc: (e.result_desc ?? "").slice(0, 500),
        },
      };
    case "payout.succeeded":
      return {
        ...common,
        payload: {
          action: "payout.succeeded",
          withdrawal_id: e.reference,
          amount,
          receipt: e.receipt ?? null,
        },
      };
    case "payout.failed":
      return {
        ...common,
        payload: {
          action: "payout.failed",
          withdrawal_id: e.reference,
          result_code: e.result_code ?? "failed",
          result_desc: (e.result_desc ?? "").slice(0, 500),
        },
      };
    case "payout.reversed":
      return {
        ...common,
        payload: {
          action: "payout.reversed",
          withdrawal_id: e.reference,
          result_desc: (e.result_desc ?? "reversed by the bank").slice(0, 500),
        },
      };
  }
}
