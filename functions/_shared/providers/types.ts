// One interface for every payment provider (M-Pesa Daraja, KCB, DTB). The edge functions
// and the sweep only speak this; each adapter translates to its provider's HTTP API.
//
// Money crosses this boundary as decimal strings ("1250.00"), never JS numbers.
import { type Provider, PROVIDERS } from "../vocabulary.ts";
export type ProviderName = Provider;
export { PROVIDERS };

export interface CollectionRequest {
  /** Our funding session id: the reference the provider echoes back where it can. */
  sessionId: string;
  amount: string;
  currency: string;
  msisdn?: string | null;
  accountNumber?: string | null;
  description: string;
}

export interface PayoutRequest {
  /** Our withdrawal id, sent as the request's own id (Daraja: OriginatorConversationID). */
  withdrawalId: string;
  amount: string;
  currency: string;
  msisdn?: string | null;
  accountNumber?: string | null;
  accountName?: string | null;
  description: string;
}

/** The provider's synchronous answer to a request. */
export type SubmitResult =
  | { accepted: true; requestId: string | null; reference: string; message?: string }
  | { accepted: false; code: string; message: string };

/** What the provider says became of a request when asked. */
export type StatusResult =
  | { state: "succeeded"; amount: string | null; receipt: string | null }
  | { state: "failed"; outcome: "failed" | "cancelled" | "expired"; code: string; message: string }
  /** Still in progress at the provider. */
  | { state: "pending" }
  /**
   * The answer will arrive as a webhook (Daraja's Transaction Status is asynchronous);
   * queryId is the provider's id for our query (Daraja's OriginatorConversationID), which
   * the answer must name to be believed.
   */
  | { state: "requested"; queryId: string | null }
  | { state: "unknown"; message: string };

export interface PaymentProvider {
  readonly name: ProviderName;
  startCollection(request: CollectionRequest): Promise<SubmitResult>;
  queryCollection(query: { sessionId: string; reference: string }): Promise<StatusResult>;
  startPayout(request: PayoutRequest): Promise<SubmitResult>;
  queryPayout(query: { withdrawalId: string; reference: string | null }): Promise<StatusResult>;
}

/** Whether a request that did not get a usable answer may still have been carried out. */
export type RequestOutcome =
  /** Sent, and maybe carried out (timeout, connection lost, gateway error): ask later. */
  | "unknown"
  /** Definitely not carried out (never sent, or refused before acceptance, e.g. HTTP 503). */
  | "not_accepted";

/**
 * The provider could not be reached or answered with a server error. `outcome` says whether
 * the request may still have been carried out ("unknown") or certainly was not.
 */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly provider: ProviderName,
    message: string,
    readonly outcome: RequestOutcome = "unknown",
  ) {
    super(message);
    this.name = "ProviderUnavailableError";
  }
}

/** A provider message understood as one of the actions the database applies (webhook_dispatch). */
export interface NormalisedEvent {
  eventType: string;
  /** Unique per provider: the same message twice has the same key. */
  eventKey: string;
  payload: Record<string, unknown> & { action: string };
}

/** A provider message we cannot understand (stored, answered 400, never applied). */
export class InvalidPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidPayloadError";
  }
}
