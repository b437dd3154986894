// Wallet statements: one query (RLS applies: callers only see their own entries) and the
// CSV rendering. Entries page newest first by entry number: the bigint column, never its
// text form (as text "99" sorts after "100", and paging by a numeric cursor over a text
// order repeats and drops entries).
import type { Tx } from "../_shared/db.ts";

export interface StatementFilter {
  limit: number;
  cursor?: string;
  from?: string;
  to?: string;
}

export interface StatementRow {
  id: string;
  transaction_id: string;
  created_at: Date;
  kind: string;
  leg: string;
  direction: string;
  amount: string;
  currency: string;
  balance_after: string | null;
  description: string | null;
}

export async function statementQuery(
  tx: Tx,
  walletId: string,
  filter: StatementFilter,
): Promise<StatementRow[]> {
  const rows = await tx`
    select l.id::text as id, transaction_id, created_at, kind, leg, direction, amount::text, currency,
           balance_after::text, description
      from public.wallet_ledger l
     where wallet_id = ${walletId}
       ${filter.cursor ? tx`and l.id < ${filter.cursor}::bigint` : tx``}
       ${filter.from ? tx`and created_at >= ${filter.from}::timestamptz` : tx``}
       ${filter.to ? tx`and created_at < ${filter.to}::timestamptz` : tx``}
     order by l.id desc
     limit ${filter.limit}`;
  return rows as unknown as StatementRow[];
}

const CSV_COLUMNS: (keyof StatementRow)[] = [
  "id",
  "created_at",
  "transaction_id",
  "kind",
  "leg",
  "direction",
  "amount",
  "currency",
  "balance_after",
  "description",
];

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = value instanceof Date ? value.toISOString() : String(value);
  // Neutralise spreadsheet formulas in free text (CSV injection).
  if (/^[=+\-@\t\r]/.test(text) && !/^-?[0-9.]+$/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function statementCsv(rows: StatementRow[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const row of rows) lines.push(CSV_COLUMNS.map((column) => csvCell(row[column])).join(","));
  return lines.join("\r\n") + "\r\n";
}
