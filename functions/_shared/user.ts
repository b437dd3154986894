// What a signed-in route handler works with: the Env its app is typed with, `userTx` to run
// SQL as the verified caller, and the id type of every path parameter. One definition, so
// no function re-declares them.
import { z } from "zod";
import type { AuthVariables } from "./auth.ts";
import { asUser, type JwtClaims, type Tx } from "./db.ts";

/** The variables a function app sees behind requireUser and idempotent(). */
export type UserEnv = { Variables: AuthVariables & { requestId: string; idempotencyKey: string | undefined } };

/** What userTx reads from any route's context: the verified claims (requireUser) and the request id. */
export interface SignedInContext {
  readonly var: { readonly claims: JwtClaims; readonly requestId: string };
}

/** Run `fn` in one transaction as the request's verified caller (PostgREST-style role + claims). */
export function userTx<T>(c: SignedInContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return asUser(c.var.claims, c.var.requestId, fn);
}

/** A UUID in a path or a body. */
export const Uuid = z.string().uuid("must be a UUID");
