// Withdrawals between our database and a provider: commit intent → call the provider →
// commit what it said (see funding.ts for why no transaction spans the call).
import { asService } from "../db.ts";
import { log } from "../log.ts";
import { provider } from "../providers/index.ts";
import { ProviderUnavailableError, type StatusResult } from "../providers/types.ts";
import { type MovementRow, sourceDetails } from "./source.ts";

export type WithdrawalRow = MovementRow;

/**
 * Send a withdrawal to its provider. Marks it submitted first (from then on the owner can
 * no longer cancel); if the provider cannot be reached the outcome is unknown, so the
 * withdrawal stays pending for the sweep to ask about — the hold stays in place.
 */
export async function submitWithdrawal(withdrawal: WithdrawalRow, requestId?: string): Promise<void> {
  try {
    await asService(requestId, (tx) => tx`select hazina.withdrawal_mark_submitted(${withdrawal.id})`);
  } catch (err) {
    if ((err as { message?: string }).message === "withdrawal_not_pending") return; // cancelled or settled meanwhile
    throw err;
  }
  const source = await sourceDetails(withdrawal.source_id, requestId);
  let result;
  try {
    result = await provider(withdrawal.provider).startPayout({
      withdrawalId: withdrawal.id,
      amount: withdrawal.amount,
      currency: withdrawal.currency,
      msisdn: source.msisdn,
      accountNumber: source.account_number,
      accountName: source.account_name,
      description: "Hazina withdrawal",
    });
  } catch (err) {
    if (!(err instanceof ProviderUnavailableError)) throw err;
    log("warn", "withdrawal: provider unavailable; the sweep will ask", { provider: withdrawal.provider, withdrawal_id: withdrawal.id, error: err.message });
    return;
  }
  if (result.accepted) {
    await asService(requestId, (tx) => tx`select hazina.withdrawal_mark_processing(${withdrawal.id}, ${result.reference})`);
  } else {
    await asService(requestId, (tx) => tx`select hazina.withdrawal_fail(${withdrawal.id}, ${result.code}, ${result.message})`);
  }
}

/** Settle a withdrawal by what its provider said when the sweep asked; returns the sweep's action. */
export async function applyPayoutStatus(id: string, status: StatusResult, requestId?: string): Promise<string> {
  switch (status.state) {
    case "succeeded":
      await asService(requestId, (tx) => tx`select hazina.withdrawal_complete(${id}, ${status.receipt}, ${status.amount})`);
      return "completed";
    case "failed":
      await asService(requestId, (tx) => tx`select hazina.withdrawal_fail(${id}, ${status.code}, ${status.message})`);
      return "failed";
    case "requested":
      return "status_requested";
    default:
      // Never give up on a payout without the provider's word: money may have left.
      return "checked_later";
  }
}
