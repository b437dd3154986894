// Group commit of POST /wallets/transfers (README "Configuration": GROUP_COMMIT_*). The
// transfers one edge process receives while a group of them is in the database go together
// in the next group: ONE transaction runs hazina.transfer_group (each item as its own
// caller, with its own Idempotency-Key record, checks and outcome, storing the postings'
// responses; see the group_commit migration), then stores the refusals' responses (the
// error catalog is the edge's: only when there are any), then commits. Each request gets its own
// answer, exactly what it would get alone:
//   posted  → 201 with the transfer (stored under its key);
//   refused by the transfer or its checks (a 4xx) → that error (stored);
//   its key could not be taken (in use, reused, rate limited) → that error (nothing kept);
//   a server error of its own (5xx) → 500, its key released, so it may retry;
//   a replay → the stored response.
// Should the group's transaction fail as a whole for a reason that is not a lost connection
// (a bug, a deadlock), nothing of it was kept and every request runs again alone (the
// one-transaction path), so one item can never fail the others. A lost connection answers
// 503 to every request of the group, as it would alone (the retry replays by ref).
import type { Context } from "hono";
import { config } from "../_shared/config.ts";
import { callerRole, inTransaction, type JwtClaims } from "../_shared/db.ts";
import { ApiError, fromDatabaseError, isConnectionError } from "../_shared/errors.ts";
import { GroupCommitter } from "../_shared/group-commit.ts";
import { type IdempotentRequest, replayResponse } from "../_shared/idempotency.ts";
import { log } from "../_shared/log.ts";

/** One request of a group, as hazina.transfer_group takes it. */
interface TransferItem extends IdempotentRequest {
  claims: JwtClaims;
  headers: Record<string, unknown>;
  from_wallet_id: string;
  to_wallet_id: string;
  amount: string;
  description?: string;
}

interface DatabaseError {
  sqlstate: string;
  message: string;
  detail: string | null;
}

type DatabaseOutcome =
  | { outcome: "refused"; error: DatabaseError }
  | { outcome: "replay"; status: number; body: unknown }
  | { outcome: "posted"; result: unknown }
  | { outcome: "failed"; error: DatabaseError };

/** What one request of a group answers. */
export type TransferOutcome =
  | { kind: "response"; status: number; body: unknown }
  | { kind: "replay"; status: number; body: unknown }
  | { kind: "error"; error: ApiError }
  | { kind: "alone" };

function apiError(error: DatabaseError): ApiError {
  return fromDatabaseError({
    code: error.sqlstate,
    message: error.message,
    detail: error.detail ?? undefined,
  }) ??
    new ApiError(500, "internal_error", "Something went wrong on our side. It has been logged.");
}

/** Run one group: one transaction, one outcome per item. */
export async function runTransferGroup(items: TransferItem[]): Promise<TransferOutcome[]> {
  log("debug", "group commit: a group leaves", { items: items.length });
  try {
    return await inTransaction(async (tx) => {
      const [, [row]] = await Promise.all([
        tx`select set_config('role', 'service_role', true)`,
        tx`select hazina.transfer_group(${tx.json(items as never)}, ${
          config().RATE_LIMIT_PER_MINUTE || null
        }, 201) as outcomes`,
      ]);
      const outcomes = row.outcomes as DatabaseOutcome[];
      const completions: Record<string, unknown>[] = [];
      const answers = outcomes.map((o, i): TransferOutcome => {
        const { owner, key } = items[i];
        switch (o.outcome) {
          case "replay":
            return { kind: "replay", status: o.status, body: o.body };
          case "refused":
            return { kind: "error", error: apiError(o.error) };
          case "posted": // already stored by transfer_group, with this status
            return { kind: "response", status: 201, body: o.result };
          case "failed": {
            const error = apiError(o.error);
            if (error.status >= 500) {
              log("error", "group commit: a transfer failed", {
                request_id: items[i].headers["x-request-id"],
                error: o.error,
              });
              completions.push({ owner, key }); // released: nothing is stored for a 5xx
              return { kind: "error", error };
            }
            const body = error.toJSON();
            completions.push({ owner, key, status: error.status, body });
            return { kind: "response", status: error.status, body };
          }
        }
      });
      if (completions.length > 0) {
        await tx`select hazina.idempotency_complete_group(${tx.json(completions as never)})`;
      }
      return answers;
    });
  } catch (err) {
    if (isConnectionError(err)) throw err;
    log("warn", "group commit: the group failed as a whole; its requests run alone", {
      items: items.length,
      error: (err as Error)?.message ?? String(err),
    });
    return items.map(() => ({ kind: "alone" }));
  }
}

let committer: GroupCommitter<TransferItem, TransferOutcome> | undefined;

/** This process's group committer of transfers (created on first use, from the configuration). */
export function transferCommitter(): GroupCommitter<TransferItem, TransferOutcome> {
  const cfg = config();
  committer ??= new GroupCommitter(runTransferGroup, {
    windowMs: cfg.GROUP_COMMIT_WINDOW_MS,
    maxItems: cfg.GROUP_COMMIT_MAX_ITEMS,
  });
  return committer;
}

/** The transfer body a group can take (the route's schema, already validated). */
export interface TransferInput {
  from_wallet_id: string;
  to_wallet_id: string;
  amount: string;
  description?: string;
}

/**
 * Answer one validated transfer request through the group committer, or undefined when it
 * must run alone (its group failed as a whole).
 */
export async function groupTransfer(
  c: Context,
  request: IdempotentRequest,
  input: TransferInput,
): Promise<Response | undefined> {
  const claims = c.get("claims") as JwtClaims | undefined;
  const outcome = await transferCommitter().submit({
    ...request,
    claims: callerRole(claims).claims,
    headers: { "x-request-id": c.get("requestId") ?? null },
    from_wallet_id: input.from_wallet_id,
    to_wallet_id: input.to_wallet_id,
    amount: input.amount,
    ...(input.description !== undefined ? { description: input.description } : {}),
  });
  switch (outcome.kind) {
    case "replay":
      return replayResponse(c, outcome.status, outcome.body);
    case "response":
      return c.json(outcome.body as never, outcome.status as never);
    case "error":
      throw outcome.error;
    case "alone":
      return undefined;
  }
}
