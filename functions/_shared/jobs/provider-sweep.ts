// The provider re-query sweep as a job. The one import of the money-movement module's
// sweep lives here, so moving that module means changing this line only.
import { sweep } from "../money-movement/sweep.ts";
import { asService } from "../db.ts";
import type { EdgeJob } from "./types.ts";

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

export const providerSweepJob: EdgeJob = async (limit, requestId) => {
  const result = await sweep(requestId, limit);
  const [row] = await asService(
    requestId,
    (tx) => tx`select hazina.money_sweep_backlog()::text as remaining`,
  );
  return {
    processed: result.items.length,
    remaining: Number(row.remaining),
    item_errors: result.items.filter((item) => item.action === "error").length,
    actions: countBy(result.items.map((item) => item.action)),
    sql: result.sql,
  };
};
