// Top-ups between our database and a provider. The rule (for withdrawals too): never hold
// a database transaction open across a provider call (a callback can arrive before the
// call returns and must not wait on our locks), so each step is: commit intent → call the
// provider → commit what it said.
import { config } from "../config.ts";
import { asService } from "../db.ts";
import { ApiError } from "../errors.ts";
import { log } from "../log.ts";
import { provider } from "../providers/index.ts";
import { ProviderUnavailableError, type StatusResult } from "../providers/types.ts";
import { type MovementRow, sourceDetails } from "./source.ts";

export type FundingRow = MovementRow;

/** Send a new funding session to its provider (STK push / bank collection). */
export async function submitFunding(
  session: FundingRow & { msisdn?: string; description?: string },
  requestId?: string,
): Promise<void> {
  // A payment intent's M-Pesa part names the phone itself (its session has no source).
  const source = session.msisdn
    ? { msisdn: session.msisdn, account_number: null, account_name: null }
    : await sourceDetails(session.source_id, requestId);
  const adapter = provider(session.provider);
  let result;
  try {
    result = await adapter.startCollection({
      sessionId: session.id,
      amount: session.amount,
      currency: session.currency,
      msisdn: source.msisdn,
      accountNumber: source.account_number,
      description: session.description ?? "Hazina top-up",
    });
  } catch (err) {
    if (!(err instanceof ProviderUnavailableError)) throw err;
    log("warn", "funding: provider unavailable", {
      provider: session.provider,
      funding_session_id: session.id,
      error: err.message,
    });
    // The outcome is unknown (the request may have reached the provider): expire the
    // session rather than fail it, so a success that still arrives is credited
    // (hazina.funding_orphan_claim finds an STK push whose checkout id we never learned).
    await asService(
      requestId,
      (tx) =>
        tx`select hazina.funding_expire(${session.id}, ${`provider_unavailable: ${err.message}`})`,
    );
    throw new ApiError(
      502,
      "provider_unavailable",
      "The payment provider could not be reached; try again later.",
      {
        funding_session_id: session.id,
      },
    );
  }
  if (result.accepted) {
    await asService(
      requestId,
      (tx) =>
        tx`select hazina.funding_mark_requested(${session.id}, ${result.requestId}, ${result.reference})`,
    );
  } else {
    await asService(
      requestId,
      (tx) =>
        tx`select hazina.funding_fail(${session.id}, 'failed', ${result.code}, ${result.message})`,
    );
  }
}

/** Settle a top-up by what its provider said when the sweep asked; returns the sweep's action. */
export async function applyFundingStatus(
  id: string,
  status: StatusResult,
  checkCount: number,
  requestId?: string,
): Promise<string> {
  switch (status.state) {
    case "succeeded":
      await asService(
        requestId,
        (tx) => tx`select hazina.funding_complete(${id}, ${status.amount}, ${status.receipt})`,
      );
      return "completed";
    case "failed":
      if (status.outcome === "expired") {
        await asService(
          requestId,
          (tx) => tx`select hazina.funding_expire(${id}, ${`${status.code}: ${status.message}`})`,
        );
        return "expired";
      }
      await asService(
        requestId,
        (tx) =>
          tx`select hazina.funding_fail(${id}, ${status.outcome}, ${status.code}, ${status.message})`,
      );
      return status.outcome;
    default:
      if (checkCount >= config().FUNDING_MAX_CHECKS) {
        await asService(
          requestId,
          (tx) =>
            tx`select hazina.funding_expire(${id}, 'the provider could not confirm the payment')`,
        );
        return "expired";
      }
      return "checked_later";
  }
}
