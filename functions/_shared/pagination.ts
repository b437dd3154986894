// Cursor pagination for lists ordered newest first by (created_at, id): the query params,
// the page envelope `{ data, next_cursor }`, and the one query that pages a money object.
// The cursor is the id of the last item of the previous page.
import { z } from "zod";
import type { Tx } from "./db.ts";

export const PageParams = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().uuid("must be a UUID").optional(),
}).strict();
export type PageParams = z.infer<typeof PageParams>;

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/** The page to return from `limit + 1` fetched rows, and the cursor of the next page. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const data = rows.slice(0, limit);
  return { data, next_cursor: rows.length > limit ? data[data.length - 1].id : null };
}

/**
 * A money object as the API lists it: its table in `public` (with `id` and `created_at`)
 * and the SQL function that builds its shape from a row (the money-object pattern, README).
 */
export interface ObjectTable {
  table: string;
  json: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * One page of `object`, newest first, as the caller sees it: the rows come through RLS in
 * the caller's transaction, each shaped by the object's SQL function. `filter` narrows the
 * rows further (a fragment over the alias `o`).
 */
export async function pageNewestFirst<T extends { id: string }>(
  tx: Tx,
  object: ObjectTable,
  params: PageParams,
  filter?: ReturnType<Tx>,
): Promise<Page<T>> {
  if (!IDENTIFIER.test(object.table) || !IDENTIFIER.test(object.json)) {
    throw new Error(`pageNewestFirst: bad object ${object.table}/${object.json}`);
  }
  const table = tx(`public.${object.table}`);
  const rows = await tx`
    select ${tx.unsafe(`public.${object.json}`)}(o) as json from ${table} o
     where ${filter ?? tx`true`}
       and ${
    params.cursor
      ? tx`(o.created_at, o.id) < (select created_at, id from ${table} where id = ${params.cursor})`
      : tx`true`
  }
     order by o.created_at desc, o.id desc limit ${params.limit + 1}`;
  return pageOf(rows.map((r) => r.json as T), params.limit);
}
