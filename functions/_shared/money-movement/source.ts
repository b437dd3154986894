// What funding and withdrawals share before they call a provider: the row they act on and
// the details of the user's source (phone number or bank account) it goes to or comes from.
import { asService } from "../db.ts";
import type { ProviderName } from "../providers/types.ts";

/** A funding session or withdrawal as the state functions return it (the fields a provider call needs). */
export interface MovementRow {
  id: string;
  provider: ProviderName;
  source_id: string;
  amount: string;
  currency: string;
}

export interface SourceDetails {
  msisdn: string | null;
  account_number: string | null;
  account_name: string | null;
}

export async function sourceDetails(sourceId: string, requestId?: string): Promise<SourceDetails> {
  const [row] = await asService(
    requestId,
    (tx) =>
      tx`select msisdn, account_number, account_name from public.wallet_sources where id = ${sourceId}`,
  );
  return row as unknown as SourceDetails;
}
