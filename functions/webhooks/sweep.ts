// POST /webhooks/sweep: re-query overdue top-ups and withdrawals at their providers and
// settle them (functions/_shared/money-movement/sweep.ts). For schedulers (X-Sweep-Secret)
// and admins.
import type { Hono } from "hono";
import { z } from "zod";
import { bearerToken, verifyAccessToken } from "../_shared/auth.ts";
import { config } from "../_shared/config.ts";
import { asUser } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { sweep } from "../_shared/money-movement/sweep.ts";
import type { AppEnv } from "../_shared/app.ts";
import type { FunctionDocs } from "../_shared/openapi.ts";
import { timingSafeEqual } from "../_shared/providers/hmac.ts";

export function sweepRoutes(app: Hono<AppEnv>, docs: FunctionDocs): void {
  docs.route({
    method: "post",
    path: "/sweep",
    summary: "Re-query overdue top-ups and withdrawals and settle them",
    description: "For schedulers (X-Sweep-Secret) and admins (bearer token).",
    auth: "bearer",
    alternativeSecurity: ["sweepSecret"],
    query: z.object({
      limit: z.number().int().min(1).max(1000).default(100).describe(
        "Items to claim; clamped to 1-1000.",
      ),
    }),
    validates: false,
    responses: {
      200: {
        description: "What the SQL sweep and each claimed item did.",
        schema: z.object({
          sql: z.record(z.string(), z.unknown()),
          items: z.array(z.object({
            kind: z.enum(["funding", "withdrawal", "paybill"]),
            id: z.guid().describe(
              "The session or withdrawal; for paybill, the confirmation waiting for M-Pesa's word.",
            ),
            provider: z.string(),
            action: z.string(),
            error: z.string().optional(),
          })),
        }),
      },
    },
    errors: ["forbidden"],
  });
  // Operator / scheduler: re-query overdue sessions and withdrawals and settle them.
  // Authorised by X-Sweep-Secret (SWEEP_SECRET, for pg_cron + pg_net or any scheduler) or an
  // admin's access token.
  app.post("/sweep", async (c) => {
    const secret = config().SWEEP_SECRET;
    const presented = c.req.header("x-sweep-secret");
    let allowed = false;
    if (presented !== undefined) {
      allowed = secret !== undefined && (await timingSafeEqual(presented, secret));
    } else {
      const token = bearerToken(c.req.header("authorization"));
      if (!token) {
        throw new ApiError(
          401,
          "unauthenticated",
          "Send X-Sweep-Secret or an admin's bearer token.",
        );
      }
      // Admin is decided in the database, as for ops (hazina.assert_admin: an active
      // auth_users row with role 'admin'), never by the token's own app_metadata.
      const claims = await verifyAccessToken(token);
      await asUser(
        claims,
        c.get("requestId"),
        (tx) => tx`select public.provider_sweep_authorize()`,
      );
      allowed = true;
    }
    if (!allowed) throw new ApiError(403, "forbidden", "You are not allowed to run the sweep.");
    // Clamped, as documented: any value gives a whole number of items from 1 to 1000.
    const limit = Math.min(
      Math.max(Math.trunc(Number(c.req.query("limit") ?? 100)) || 100, 1),
      1000,
    );
    return c.json(await sweep(c.get("requestId"), limit));
  });
}
