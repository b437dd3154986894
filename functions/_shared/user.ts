// What a signed-in function works with: its app and docs (createSignedInFunction), the Env
// its app is typed with, `userTx` to run SQL as the verified caller, and the id type of
// every path parameter. One definition, so
// no function re-declares them.
import type { Context, Hono } from "hono";
import { z } from "zod";
import { createFunctionApp } from "./app.ts";
import { type AuthVariables, requireUser } from "./auth.ts";
import { asUser, type JwtClaims, type Tx } from "./db.ts";
import { apiDocs, type FunctionDocs, serveOpenApi } from "./openapi.ts";

/** The variables a function app sees behind requireUser and idempotent(). */
export type UserEnv = {
  Variables: AuthVariables & {
    requestId: string;
    idempotencyKey: string | undefined;
    requestTx?: Tx;
  };
};

/**
 * A function whose routes all act for a signed-in user: its app (request id, logs, CORS,
 * errors), its OpenAPI docs served without a token, and requireUser in front of the rest.
 */
export function createSignedInFunction(
  name: string,
  title: string,
  description: string,
  options: {
    /**
     * Requests that may come without a token (a guest paying with a client_secret): when it
     * returns an owner for the Idempotency-Key (e.g. `guest:<intent id>`) and the request has
     * no Authorization header, requireUser is skipped and `claims` stays unset; the route
     * itself checks what the guest presents.
     */
    guest?: (c: Context) => string | undefined;
  } = {},
): {
  app: Hono<UserEnv>;
  docs: FunctionDocs;
} {
  const app = createFunctionApp<UserEnv>(name);
  const docs = apiDocs(name, title, description);
  serveOpenApi(app, docs); // before requireUser (and before any GET /:id): the document is public
  app.use("*", async (c, next) => {
    const guestOwner = options.guest && !c.req.header("authorization")
      ? options.guest(c)
      : undefined;
    if (guestOwner) {
      c.set("userId", guestOwner);
      return await next();
    }
    return await requireUser(c as never, next);
  });
  return { app, docs };
}

/** What userTx reads from any route's context: the verified claims (requireUser) and the request id. */
export interface SignedInContext {
  readonly var: { readonly claims: JwtClaims; readonly requestId: string; readonly requestTx?: Tx };
}

/**
 * Run `fn` in one transaction as the request's verified caller (PostgREST-style role + claims):
 * the request's own transaction when idempotent({ oneTransaction: true }) opened one (already
 * in the caller's role, with the key taken), else a transaction of its own.
 */
export function userTx<T>(c: SignedInContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (c.var.requestTx) return fn(c.var.requestTx);
  return asUser(c.var.claims, c.var.requestId, fn);
}

/** A UUID in a path or a body. */
export const Uuid = z.string().uuid("must be a UUID");
