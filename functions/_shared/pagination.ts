// Cursor pagination for lists ordered newest first by (created_at, id): the query params
// and the page envelope `{ data, next_cursor }`. Handlers fetch limit + 1 rows.
import { z } from "zod";

export const PageParams = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().uuid("must be a UUID").optional(),
}).strict();

/** The page to return from `limit + 1` fetched rows, and the cursor of the next page. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number): { data: T[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  return { data, next_cursor: rows.length > limit ? data[data.length - 1].id : null };
}
