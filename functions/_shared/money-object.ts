// The routes and steps every stateful money object shares (the money-object pattern,
// README "Architecture"): read one of mine, list mine newest first, and create-then-send for
// objects a provider must act on. Each object only names its table, its SQL shape function
// and its words; the queries, the paging and the order of the steps live here once.
import type { Hono } from "hono";
import { z } from "zod";
import type { Tx } from "./db.ts";
import { ApiError } from "./errors.ts";
import { type FunctionDocs, listOf, type RouteDoc } from "./openapi.ts";
import { type ObjectTable, pageNewestFirst, PageParams } from "./pagination.ts";
import { type SignedInContext, type UserEnv, userTx, Uuid } from "./user.ts";

/** A money object as its function's routes present it. */
export interface MoneyObject extends ObjectTable {
  /** The OpenAPI schema of its shape (functions/<name>/schemas.ts). */
  schema: z.ZodType;
  /** "top-up", "withdrawal": for summaries. */
  noun: string;
  /** The 404 when it is not one of mine (RLS hides other people's). */
  notFound: { code: string; message: string };
}

/** One object as the caller sees it (RLS decides), in its one shape; 404 when not theirs. */
export async function readObject(tx: Tx, object: MoneyObject, id: string): Promise<unknown> {
  const rows = await tx`
    select ${tx.unsafe(`public.${object.json}`)}(o) as json from ${
    tx(`public.${object.table}`)
  } o where o.id = ${id}`;
  if (!rows[0]) throw new ApiError(404, object.notFound.code, object.notFound.message);
  return rows[0].json;
}

/**
 * GET / (mine, newest first, paged) and GET /:id (one of mine). Register after every other
 * GET route of the function: `/:id` would otherwise answer for them.
 */
export function objectReadRoutes(
  app: Hono<UserEnv>,
  docs: FunctionDocs,
  object: MoneyObject,
): void {
  docs.route({
    method: "get",
    path: "/",
    summary: `List my ${object.noun}s, newest first`,
    auth: "bearer",
    query: PageParams,
    responses: {
      200: { description: `A page of ${object.noun}s.`, schema: listOf(object.schema) },
    },
    errors: [],
  });
  app.get("/", async (c) => {
    const params = PageParams.parse(c.req.query());
    return c.json(await userTx(c, (tx) => pageNewestFirst(tx, object, params)));
  });

  docs.route({
    method: "get",
    path: "/:id",
    summary: `One of my ${object.noun}s`,
    auth: "bearer",
    params: z.object({ id: Uuid }),
    responses: { 200: { description: `The ${object.noun}.`, schema: object.schema } },
    errors: [object.notFound.code],
  });
  app.get("/:id", async (c) => {
    const id = Uuid.parse(c.req.param("id"));
    return c.json(await userTx(c, (tx) => readObject(tx, object, id)));
  });
}

/**
 * Create an object (a public.* function, idempotent by the client's ref), send a new one to
 * its provider outside any transaction (commit, call, commit), and answer with what it is
 * now: 201 when this request created it, 200 for the one this ref created before.
 */
export async function createThenSend<T extends { id: string; created: boolean }>(
  c: SignedInContext,
  object: MoneyObject,
  create: (tx: Tx) => Promise<T>,
  send: (created: T, requestId: string) => Promise<void>,
): Promise<{ body: unknown; status: 200 | 201 }> {
  const created = await userTx(c, create);
  if (created.created) await send(created, c.var.requestId);
  const body = await userTx(c, (tx) => readObject(tx, object, created.id));
  return { body, status: created.created ? 201 : 200 };
}

/**
 * The OpenAPI entry of POST / for an object created from the client's Idempotency-Key (its
 * client_ref): 201 when this request created it, 200 for the one the key created before.
 */
export function createRouteDoc(
  object: MoneyObject,
  route: Pick<RouteDoc, "summary" | "description" | "body" | "bodyExample" | "errors"> & {
    created: string;
  },
): RouteDoc {
  return {
    method: "post",
    path: "/",
    auth: "bearer",
    idempotencyKey: "required",
    summary: route.summary,
    description: route.description,
    body: route.body,
    bodyExample: route.bodyExample,
    responses: {
      200: {
        description: `Replayed: the ${object.noun} this Idempotency-Key created before.`,
        schema: object.schema,
      },
      201: { description: route.created, schema: object.schema },
    },
    errors: route.errors,
  };
}

/** The body of a POST that may be empty (`{}`): verbs like capture, cancel or pay take one. */
export async function optionalBody(req: { text: () => Promise<string> }): Promise<unknown> {
  const text = await req.text();
  return text.trim() ? JSON.parse(text) : {};
}

/** Answer a create: 201 when this request created it, 200 for the one its key created before. */
export function created(
  row: Record<string, unknown>,
): { body: Record<string, unknown>; status: 200 | 201 } {
  const { created, ...body } = row;
  return { body, status: created ? 201 : 200 };
}
