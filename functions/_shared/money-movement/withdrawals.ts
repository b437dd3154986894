// Withdrawals between our database and a provider: commit intent → call the provider →
// commit what it said (see funding.ts for why no transaction spans the call).
import { config } from "../config.ts";
import { asService } from "../db.ts";
import { log } from "../log.ts";
import { provider } from "../providers/index.ts";
import {
  type ProviderName,
  ProviderUnavailableError,
  type StatusResult,
} from "../providers/types.ts";
import type { MovementRow } from "./source.ts";
import { recordStatusQuery } from "./status-queries.ts";

/** A withdrawal as the state functions return it; source_id is null for a guest refund's payout. */
export type WithdrawalRow = Omit<MovementRow, "source_id"> & { source_id: string | null };

interface PayoutDestination {
  msisdn: string | null;
  account_number: string | null;
  account_name: string | null;
  payment_refund_id: string | null;
}

/** Where a payout goes: its source's details, or (a guest refund) the phone that paid. */
async function payoutDestination(
  withdrawalId: string,
  requestId?: string,
): Promise<PayoutDestination> {
  const [row] = await asService(
    requestId,
    (tx) => tx`select * from hazina.payout_destination(${withdrawalId})`,
  );
  return row as unknown as PayoutDestination;
}

/**
 * A new withdrawal: sent at once, or held back WITHDRAWAL_SUBMIT_DELAY_SECONDS (cancellable
 * until the sweep sends it).
 */
export async function startWithdrawal(
  withdrawal: WithdrawalRow,
  requestId?: string,
): Promise<void> {
  const delay = config().WITHDRAWAL_SUBMIT_DELAY_SECONDS;
  if (delay === 0) return await submitWithdrawal(withdrawal, requestId);
  await asService(
    requestId,
    (tx) => tx`select hazina.withdrawal_defer(${withdrawal.id}, ${`${delay} seconds`}::interval)`,
  );
}

/**
 * Send a withdrawal to its provider. Marks it submitted first (from then on the owner can
 * no longer cancel). A definite refusal (the provider did not take it: HTTP 503, refused
 * credentials, never sent) fails it and releases the hold at once; an unknown outcome
 * (timeout, connection lost after sending, gateway error) leaves it pending for the sweep
 * to ask about — the hold stays in place.
 */
export async function submitWithdrawal(
  withdrawal: WithdrawalRow,
  requestId?: string,
): Promise<void> {
  try {
    await asService(
      requestId,
      (tx) => tx`select hazina.withdrawal_mark_submitted(${withdrawal.id})`,
    );
  } catch (err) {
    if ((err as { message?: string }).message === "withdrawal_not_pending") return; // cancelled or settled meanwhile
    throw err;
  }
  const source = await payoutDestination(withdrawal.id, requestId);
  let result;
  try {
    result = await provider(withdrawal.provider).startPayout({
      withdrawalId: withdrawal.id,
      amount: withdrawal.amount,
      currency: withdrawal.currency,
      msisdn: source.msisdn,
      accountNumber: source.account_number,
      accountName: source.account_name,
      description: source.payment_refund_id ? "Hazina refund" : "Hazina withdrawal",
    });
  } catch (err) {
    if (!(err instanceof ProviderUnavailableError)) throw err;
    if (err.outcome === "not_accepted") {
      log("warn", "withdrawal: the provider did not take it; failed", {
        provider: withdrawal.provider,
        withdrawal_id: withdrawal.id,
        error: err.message,
      });
      await asService(
        requestId,
        (tx) =>
          tx`select hazina.withdrawal_fail(${withdrawal.id}, 'provider_refused', ${err.message})`,
      );
      return;
    }
    log("warn", "withdrawal: outcome unknown; the sweep will ask", {
      provider: withdrawal.provider,
      withdrawal_id: withdrawal.id,
      error: err.message,
    });
    return;
  }
  if (result.accepted) {
    await asService(
      requestId,
      (tx) => tx`select hazina.withdrawal_mark_processing(${withdrawal.id}, ${result.reference})`,
    );
  } else {
    await asService(
      requestId,
      (tx) =>
        tx`select hazina.withdrawal_fail(${withdrawal.id}, ${result.code}, ${result.message})`,
    );
  }
}

/** Settle a withdrawal by what its provider said when asked; returns the sweep's action. */
export async function applyPayoutStatus(
  id: string,
  provider: ProviderName,
  status: StatusResult,
  requestId?: string,
): Promise<string> {
  switch (status.state) {
    case "succeeded":
      await asService(
        requestId,
        (tx) => tx`select hazina.withdrawal_complete(${id}, ${status.receipt}, ${status.amount})`,
      );
      return "completed";
    case "failed":
      await asService(
        requestId,
        (tx) => tx`select hazina.withdrawal_fail(${id}, ${status.code}, ${status.message})`,
      );
      return "failed";
    case "requested":
      // Daraja answers by callback: record the query so only its answer is believed.
      return await recordStatusQuery(
        provider,
        { type: "withdrawal", key: id, party: config().MPESA_B2C_SHORTCODE },
        status,
        requestId,
      );
    default:
      // Never give up on a payout without the provider's word: money may have left.
      return "checked_later";
  }
}

/** Ask the provider what became of a submitted withdrawal, and settle it by the answer. */
export async function checkWithdrawal(
  id: string,
  providerName: ProviderName,
  requestId?: string,
): Promise<string> {
  const [row] = await asService(
    requestId,
    (tx) => tx`select provider_conversation_id from public.wallet_withdrawals where id = ${id}`,
  );
  const status = await provider(providerName).queryPayout({
    withdrawalId: id,
    reference: row?.provider_conversation_id ?? null,
  });
  return await applyPayoutStatus(id, providerName, status, requestId);
}
