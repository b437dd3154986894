// Idempotency-Key middleware for every mutating endpoint, backed by payment_idempotency
// (see database/migrations/*_idempotency.sql for the lifecycle):
//   same key + same request      → the stored response, with `Idempotent-Replayed: true`
//   same key + different request → 422 idempotency_key_reused
//   same key while still running → 409 idempotency_key_in_use
//   a new key over the owner's RATE_LIMIT_PER_MINUTE → 429 rate_limited (+ Retry-After)
// Responses below 500 are stored (a refused transfer stays refused on retry); a 5xx
// releases the key so the client may retry. Keys expire after 24 hours. A replayed body
// says it is a replay, as the header does (replayedBody).
// Except 503 database_unavailable: the work may have committed with only the reply lost,
// so the key is kept (a different request under it stays 422) and only its lock is lifted,
// once the database answers again: the retry then runs the work again, which is idempotent
// by ref and returns the committed result (one key → one posting).
//
// `oneTransaction: true` (routes that call no provider: transfers, batches, reversals): the
// key record, the work and the stored response commit together, in one transaction of the
// request (see oneTransaction below), so nothing of a request is ever half-recorded: a crash
// or a lost connection leaves either nothing (the retry runs afresh) or the completed record.
// Routes that call a provider keep the separate transactions (the key committed before the
// call, so a duplicate sees it while the provider is asked).
import type { Context, Next } from "hono";
import { createMiddleware } from "hono/factory";
import type { AuthVariables } from "./auth.ts";
import { config } from "./config.ts";
import { asService, callerRole, inTransaction, type Tx } from "./db.ts";
import { ApiError, isConnectionError } from "./errors.ts";
import { log } from "./log.ts";
import { sha256Hex } from "./tokens.ts";

type Vars = AuthVariables & {
  requestId: string;
  idempotencyKey: string | undefined;
  requestTx?: Tx;
};

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Fingerprint of a request: method, path and the body as canonical JSON (key order ignored). */
function requestHash(method: string, path: string, rawBody: string): string {
  let body: unknown = rawBody;
  try {
    body = rawBody ? canonical(JSON.parse(rawBody)) : null;
  } catch {
    // Not JSON: hash the raw text; the handler will reject it anyway.
  }
  return sha256Hex(JSON.stringify([method, path, body]));
}

/**
 * The stored body as a replay tells it: a top-level `replayed` field becomes true, and in a
 * batch (`data: [...]` of item results) every item that posted is now a replayed item,
 * exactly what posting the same items again would answer. Refusals are stored as they were.
 */
export function replayedBody(body: unknown): unknown {
  if (!body || typeof body !== "object" || Array.isArray(body)) return body;
  const replay: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  if (typeof replay.replayed === "boolean") replay.replayed = true;
  if (Array.isArray(replay.data)) {
    replay.data = replay.data.map((item) => {
      if (
        !item || typeof item !== "object" ||
        typeof (item as Record<string, unknown>).replayed !== "boolean"
      ) return item;
      const result: Record<string, unknown> = {
        ...(item as Record<string, unknown>),
        replayed: true,
      };
      if (result.status === "posted") result.status = "replayed";
      return result;
    });
  }
  return replay;
}

/**
 * In the background, lift the lock of an in-progress key as soon as the database answers
 * again (for as long as the lock would last anyway), so a retry need not wait it out.
 */
function unlockWhenDatabaseIsBack(owner: string, key: string, requestId: string): void {
  const giveUpAt = Date.now() + 60_000;
  const attempt = async (): Promise<void> => {
    try {
      await asService(requestId, (tx) => tx`select hazina.idempotency_unlock(${owner}, ${key})`);
    } catch (err) {
      if (isConnectionError(err) && Date.now() < giveUpAt) {
        setTimeout(attempt, 500);
        return;
      }
      log("warn", "idempotency: could not unlock a key after a database outage; its lock lapses", {
        request_id: requestId,
        error: (err as Error).message,
      });
    }
  };
  setTimeout(attempt, 100);
}

/** Thrown inside the request transaction to undo what it did (the error response stands). */
class Rollback extends Error {}

/** The JSON body of a response (null when it has none), read from a clone so it can still be sent. */
async function responseJson(res: Response): Promise<unknown> {
  try {
    return await res.clone().json();
  } catch {
    return null;
  }
}

/**
 * One request, one transaction: take the key (as service_role), switch to the caller's role
 * for the work (the handler's userTx runs on this transaction, in a savepoint), store the
 * response, commit. Round trips: BEGIN, key + role (two pipelined statements), SAVEPOINT,
 * the work, role + complete (pipelined), COMMIT.
 *   - a refusal (4xx): the work is rolled back to the savepoint and the refusal stored;
 *   - a server error (5xx): everything is rolled back, the key included, so a retry runs
 *     again; a lost connection likewise leaves nothing, or (lost at COMMIT) the completed
 *     record, so no unlock is needed afterwards;
 *   - a concurrent duplicate: the begin's advisory try-lock refuses it at once (409).
 */
async function oneTransaction(
  c: Context<{ Variables: Vars }>,
  next: Next,
  owner: string,
  key: string,
  scope: string,
  hash: string,
): Promise<Response | void> {
  const caller = callerRole(c.get("claims"));
  const headers = JSON.stringify({ "x-request-id": c.get("requestId") ?? null });
  let replay: { status: number; body: unknown } | undefined;
  try {
    await inTransaction(async (tx) => {
      // Both statements go out at once; the role becomes the caller's only once the key is taken.
      const [, [begin]] = await Promise.all([
        tx`select set_config('role', 'service_role', true), set_config('request.headers', ${headers}, true)`,
        tx`select b.outcome, b.response_status, b.response_body,
                  set_config('role', ${caller.role}, true),
                  set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true)
             from hazina.idempotency_begin(${owner}, ${key}, ${scope}, ${hash}, ${
          config().RATE_LIMIT_PER_MINUTE || null
        }) b`,
      ]);
      if (begin.outcome === "replay") {
        replay = { status: begin.response_status, body: begin.response_body };
        return;
      }
      try {
        await tx.savepoint(async (work) => {
          c.set("requestTx", work);
          await next();
          if (c.error || c.res.status >= 400) throw new Rollback();
        });
      } catch (err) {
        // The handler's own error is already its response (c.res); a broken connection is not.
        if (isConnectionError(err) || (!(err instanceof Rollback) && c.res.status < 400)) throw err;
      } finally {
        c.set("requestTx", undefined);
      }
      const status = c.res.status;
      if (status >= 500) throw new Rollback();
      const body = await responseJson(c.res);
      await Promise.all([
        tx`select set_config('role', 'service_role', true)`,
        tx`select hazina.idempotency_complete(${owner}, ${key}, ${status}, ${
          tx.json(body as never)
        })`,
      ]);
    });
  } catch (err) {
    if (err instanceof Rollback) return; // the 5xx response stands; nothing was kept
    throw err;
  }
  if (replay) return replayResponse(c, replay.status, replay.body);
}

/** What a grouped route's handler gets: the key record's fields, as the middleware computed them. */
export interface IdempotentRequest {
  owner: string;
  key: string;
  scope: string;
  hash: string;
}

/**
 * A route's group-commit handler (functions/_shared/group-commit.ts): runs the request in a
 * group of concurrent ones, key record and stored response included, and answers it; or
 * answers undefined when this request should run alone (the one-transaction path).
 */
export type GroupHandler = (
  c: Context<{ Variables: Vars }>,
  request: IdempotentRequest,
) => Promise<Response | undefined>;

/** The answer to a request whose key holds a stored response (`Idempotent-Replayed: true`). */
export function replayResponse(c: Context, status: number, body: unknown): Response {
  c.header("Idempotent-Replayed", "true");
  return c.json(replayedBody(body), status as never);
}

/** What an Idempotency-Key may be (the database's rule, hazina.idempotency_begin). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,255}$/;

/**
 * The Idempotency-Key of a create that is idempotent by its object's own (owner, client_ref)
 * instead of idempotent(): one whose response holds a secret a replay record must not keep
 * for 24 h (API keys, webhook endpoints). Refuses a missing or malformed key (400).
 */
export function requiredIdempotencyKey(c: Context): string {
  const key = c.req.header("idempotency-key");
  if (!key) {
    throw new ApiError(
      400,
      "idempotency_key_required",
      "Send an Idempotency-Key header (8-255 characters).",
    );
  }
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new ApiError(
      400,
      "invalid_idempotency_key",
      "The Idempotency-Key must be 8-255 letters, digits, or _ . : -",
    );
  }
  return key;
}

/**
 * The Idempotency-Key middleware. `required`: refuse a request without a key (400).
 * `oneTransaction`: the key, the work and the response commit in one transaction (only for
 * handlers whose SQL all goes through userTx and that call no provider). `group`: with
 * GROUP_COMMIT on as well, the request is first offered to the route's group-commit handler.
 */
export function idempotent(
  options: { required: boolean; oneTransaction?: boolean; group?: GroupHandler } = {
    required: true,
  },
) {
  return createMiddleware<{ Variables: Vars }>(async (c, next) => {
    const key = c.req.header("idempotency-key");
    c.set("idempotencyKey", key);
    if (!key) {
      if (options.required) {
        throw new ApiError(
          400,
          "idempotency_key_required",
          "Send an Idempotency-Key header (8-255 characters).",
        );
      }
      return await next();
    }
    const owner = c.get("userId");
    const requestId = c.get("requestId");
    const scope = `${c.req.method} ${c.req.routePath}`;
    const hash = requestHash(c.req.method, c.req.path, await c.req.text());
    if (options.oneTransaction && config().IDEMPOTENCY_ONE_TRANSACTION) {
      if (options.group && config().GROUP_COMMIT) {
        const grouped = await options.group(c, { owner, key, scope, hash });
        if (grouped) return grouped;
      }
      return await oneTransaction(c, next, owner, key, scope, hash);
    }
    let begin;
    try {
      [begin] = await asService(requestId, (tx) =>
        tx`select outcome, response_status, response_body
             from hazina.idempotency_begin(${owner}, ${key}, ${scope}, ${hash}, ${
          config().RATE_LIMIT_PER_MINUTE || null
        })`);
    } catch (err) {
      // The key record may have committed with the reply lost: unlock it once we can.
      if (isConnectionError(err)) unlockWhenDatabaseIsBack(owner, key, requestId);
      throw err;
    }
    if (begin.outcome === "replay") {
      c.header("Idempotent-Replayed", "true");
      return c.json(replayedBody(begin.response_body), begin.response_status);
    }

    await next();

    const status = c.res.status;
    const code = status >= 500
      ? await c.res.clone().json().then((b) => b?.error?.code, () => undefined)
      : undefined;
    if (code === "database_unavailable") {
      unlockWhenDatabaseIsBack(owner, key, requestId);
      return;
    }
    try {
      if (status >= 500) {
        await asService(requestId, (tx) => tx`select hazina.idempotency_abandon(${owner}, ${key})`);
        return;
      }
      let body: unknown = null;
      try {
        body = await c.res.clone().json();
      } catch {
        body = null;
      }
      await asService(
        requestId,
        (tx) =>
          tx`select hazina.idempotency_complete(${owner}, ${key}, ${status}, ${
            tx.json(body as never)
          })`,
      );
    } catch (err) {
      // The work is done (maybe committed) but the database went away before the key
      // recorded it: the client gets 503 and its retry replays the work by ref.
      if (isConnectionError(err)) unlockWhenDatabaseIsBack(owner, key, requestId);
      throw err;
    }
  });
}
