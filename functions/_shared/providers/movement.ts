// The steps between our database and a provider, shared by the edge functions and the
// sweep. The rule: never hold a database transaction open across a provider call (a
// callback can arrive before the call returns and must not wait on our locks), so each
// step is: commit intent → call the provider → commit what it said.
import { asService } from "../db.ts";
import { ApiError } from "../errors.ts";
import { log } from "../log.ts";
import { config } from "../config.ts";
import { provider } from "./index.ts";
import { type ProviderName, ProviderUnavailableError, type StatusResult } from "./types.ts";

interface SourceDetails {
  msisdn: string | null;
  account_number: string | null;
  account_name: string | null;
}

async function sourceDetails(sourceId: string, requestId?: string): Promise<SourceDetails> {
  const [row] = await asService(requestId, (tx) =>
    tx`select msisdn, account_number, account_name from public.wallet_sources where id = ${sourceId}`);
  return row as unknown as SourceDetails;
}

export interface FundingRow {
  id: string;
  provider: ProviderName;
  source_id: string;
  amount: string;
  currency: string;
}

/** Send a new funding session to its provider (STK push / bank collection). */
export async function submitFunding(session: FundingRow, requestId?: string): Promise<void> {
  const source = await sourceDetails(session.source_id, requestId);
  const adapter = provider(session.provider);
  let result;
  try {
    result = await adapter.startCollection({
      sessionId: session.id,
      amount: session.amount,
      currency: session.currency,
      msisdn: source.msisdn,
      accountNumber: source.account_number,
      description: "Hazina top-up",
    });
  } catch (err) {
    if (!(err instanceof ProviderUnavailableError)) throw err;
    log("warn", "funding: provider unavailable", { provider: session.provider, funding_session_id: session.id, error: err.message });
    // The outcome is unknown (the request may have reached the provider): expire the
    // session rather than fail it, so a success that still arrives is credited
    // (hazina.funding_orphan_claim finds an STK push whose checkout id we never learned).
    await asService(requestId, (tx) =>
      tx`select hazina.funding_expire(${session.id}, ${`provider_unavailable: ${err.message}`})`);
    throw new ApiError(502, "provider_unavailable", "The payment provider could not be reached; try again later.", {
      funding_session_id: session.id,
    });
  }
  if (result.accepted) {
    await asService(requestId, (tx) =>
      tx`select hazina.funding_mark_requested(${session.id}, ${result.requestId}, ${result.reference})`);
  } else {
    await asService(requestId, (tx) =>
      tx`select hazina.funding_fail(${session.id}, 'failed', ${result.code}, ${result.message})`);
  }
}

export interface WithdrawalRow {
  id: string;
  provider: ProviderName;
  source_id: string;
  amount: string;
  currency: string;
}

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

export interface SweepItemReport {
  kind: "funding" | "withdrawal";
  id: string;
  provider: string;
  action: string;
  error?: string;
}

export interface SweepReport {
  sql: Record<string, unknown>;
  items: SweepItemReport[];
}

async function applyFundingStatus(id: string, status: StatusResult, checkCount: number, requestId?: string): Promise<string> {
  switch (status.state) {
    case "succeeded":
      await asService(requestId, (tx) => tx`select hazina.funding_complete(${id}, ${status.amount}, ${status.receipt})`);
      return "completed";
    case "failed":
      if (status.outcome === "expired") {
        await asService(requestId, (tx) => tx`select hazina.funding_expire(${id}, ${`${status.code}: ${status.message}`})`);
        return "expired";
      }
      await asService(requestId, (tx) => tx`select hazina.funding_fail(${id}, ${status.outcome}, ${status.code}, ${status.message})`);
      return status.outcome;
    default:
      if (checkCount >= config().FUNDING_MAX_CHECKS) {
        await asService(requestId, (tx) => tx`select hazina.funding_expire(${id}, 'the provider could not confirm the payment')`);
        return "expired";
      }
      return "checked_later";
  }
}

async function applyPayoutStatus(id: string, status: StatusResult, requestId?: string): Promise<string> {
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

/**
 * One sweep: the SQL part (abandoned sessions, re-applying unmatched/failed events), then
 * every overdue session and withdrawal is re-queried at its provider and settled by what
 * the provider says. Safe to run concurrently (items are claimed with skip locked).
 */
export async function sweep(requestId?: string, limit = 100): Promise<SweepReport> {
  const [sqlRow] = await asService(requestId, (tx) => tx`select hazina.money_sweep_sql() as report`);
  const claimed = await asService(requestId, (tx) => tx`select * from hazina.money_sweep_claim(${limit})`);
  const items: SweepItemReport[] = [];
  for (const item of claimed) {
    const kind = item.kind as "funding" | "withdrawal";
    const report: SweepItemReport = { kind, id: item.id, provider: item.provider, action: "none" };
    try {
      const adapter = provider(item.provider as ProviderName);
      if (kind === "funding") {
        if (!item.submitted) {
          await asService(requestId, (tx) => tx`select hazina.funding_expire(${item.id}, 'never acknowledged by the provider')`);
          report.action = "expired";
        } else {
          const status = await adapter.queryCollection({ sessionId: item.id, reference: item.reference });
          report.action = await applyFundingStatus(item.id, status, item.check_count, requestId);
        }
      } else if (!item.submitted) {
        const [row] = await asService(requestId, (tx) =>
          tx`select id, provider, source_id, amount::text, currency from public.wallet_withdrawals where id = ${item.id}`);
        await submitWithdrawal(row as unknown as WithdrawalRow, requestId);
        report.action = "submitted";
      } else {
        const [row] = await asService(requestId, (tx) =>
          tx`select provider_conversation_id from public.wallet_withdrawals where id = ${item.id}`);
        const status = await adapter.queryPayout({ withdrawalId: item.id, reference: row?.provider_conversation_id ?? null });
        report.action = await applyPayoutStatus(item.id, status, requestId);
      }
    } catch (err) {
      report.action = "error";
      report.error = err instanceof ProviderUnavailableError ? "provider_unavailable" : (err as Error).message;
      log("warn", "sweep: item failed", { ...report });
    }
    items.push(report);
  }
  return { sql: sqlRow.report as Record<string, unknown>, items };
}
