// The sweep's provider half: every overdue session and withdrawal is re-queried at its
// provider and settled by what the provider says (the SQL half is hazina.money_sweep_sql).
import { asService } from "../db.ts";
import { log } from "../log.ts";
import { provider } from "../providers/index.ts";
import { type ProviderName, ProviderUnavailableError } from "../providers/types.ts";
import { applyFundingStatus } from "./funding.ts";
import { confirmPaybillPayment } from "./paybill.ts";
import { checkWithdrawal, submitWithdrawal, type WithdrawalRow } from "./withdrawals.ts";

export interface SweepItemReport {
  kind: "funding" | "withdrawal" | "paybill";
  id: string;
  provider: string;
  action: string;
  error?: string;
}

export interface SweepReport {
  sql: Record<string, unknown>;
  items: SweepItemReport[];
}

interface ClaimedItem {
  kind: "funding" | "withdrawal";
  id: string;
  provider: ProviderName;
  reference: string | null;
  submitted: boolean;
  check_count: number;
}

async function sweepFunding(item: ClaimedItem, requestId?: string): Promise<string> {
  if (!item.submitted) {
    await asService(
      requestId,
      (tx) => tx`select hazina.funding_expire(${item.id}, 'never acknowledged by the provider')`,
    );
    return "expired";
  }
  const status = await provider(item.provider).queryCollection({
    sessionId: item.id,
    reference: item.reference ?? "",
  });
  return await applyFundingStatus(item.id, status, item.check_count, requestId);
}

async function sweepWithdrawal(item: ClaimedItem, requestId?: string): Promise<string> {
  if (!item.submitted) {
    const [row] = await asService(
      requestId,
      (tx) =>
        tx`select id, provider, source_id, amount::text, currency from public.wallet_withdrawals where id = ${item.id}`,
    );
    await submitWithdrawal(row as unknown as WithdrawalRow, requestId);
    return "submitted";
  }
  return await checkWithdrawal(item.id, item.provider, requestId);
}

/** Paybill confirmations M-Pesa has not confirmed yet: ask again (id = the waiting event). */
async function sweepPaybill(requestId?: string, limit = 100): Promise<SweepItemReport[]> {
  const due = await asService(
    requestId,
    (tx) => tx`select * from hazina.paybill_unconfirmed_due(${limit})`,
  );
  const items: SweepItemReport[] = [];
  for (const row of due) {
    items.push({
      kind: "paybill",
      id: row.event_id,
      provider: row.provider,
      action: await confirmPaybillPayment(row.trans_id, requestId),
    });
  }
  return items;
}

/**
 * One sweep: the SQL part (abandoned sessions, re-applying unmatched/failed events), then
 * every overdue session and withdrawal is re-queried at its provider and settled by what
 * the provider says. Safe to run concurrently (items are claimed with skip locked).
 */
export async function sweep(requestId?: string, limit = 100): Promise<SweepReport> {
  const [sqlRow] = await asService(
    requestId,
    (tx) => tx`select hazina.money_sweep_sql() as report`,
  );
  const claimed = await asService(
    requestId,
    (tx) => tx`select * from hazina.money_sweep_claim(${limit})`,
  );
  const items: SweepItemReport[] = [];
  for (const row of claimed) {
    const item = row as unknown as ClaimedItem;
    const report: SweepItemReport = {
      kind: item.kind,
      id: item.id,
      provider: item.provider,
      action: "none",
    };
    try {
      report.action = item.kind === "funding"
        ? await sweepFunding(item, requestId)
        : await sweepWithdrawal(item, requestId);
    } catch (err) {
      report.action = "error";
      report.error = err instanceof ProviderUnavailableError
        ? "provider_unavailable"
        : (err as Error).message;
      log("warn", "sweep: item failed", { ...report });
    }
    items.push(report);
  }
  items.push(...await sweepPaybill(requestId, limit));
  return { sql: sqlRow.report as Record<string, unknown>, items };
}
