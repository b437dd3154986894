// Cursor pagination for lists ordered newest first by (created_at, id): the query params
// and the page envelope `{ data, next_cursor }`. Handlers fetch limit + 1 rows.
import { z } from "zod";
import type postgres from "postgres";
import type { Tx } from "./db.ts";

// A query fragment (e.g. a column list) built with the same transaction.
type Fragment = postgres.PendingQuery<postgres.Row[]>;

export const PageParams = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().uuid("must be a UUID").optional(),
}).strict();

/** The page to return from `limit + 1` fetched rows, and the cursor of the next page. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number): { data: T[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  return { data, next_cursor: rows.length > limit ? data[data.length - 1].id : null };
}

/**
 * One page of `table`'s rows newest first, after the row named by the cursor. It runs as
 * the caller, so row-level security decides whose rows these are.
 */
export async function newestFirst(
  tx: Tx,
  table: "wallet_funding_sessions" | "wallet_withdrawals",
  columns: Fragment,
  params: z.infer<typeof PageParams>,
): Promise<{ data: { id: string }[]; next_cursor: string | null }> {
  const from = tx(`public.${table}`);
  const rows = await tx`
    select ${columns} from ${from}
     where ${params.cursor ? tx`(created_at, id) < (select created_at, id from ${from} where id = ${params.cursor})` : tx`true`}
     order by created_at desc, id desc limit ${params.limit + 1}`;
  return pageOf([...rows] as unknown as { id: string }[], params.limit);
}
