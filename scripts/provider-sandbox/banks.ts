// The sandbox's KCB and DTB: the minimal bank API our adapter defines
// (functions/_shared/providers/bank.ts), with HMAC-signed webhooks back to us.
import { Hono } from "hono";
import type { Context } from "hono";
import { randomId, type SandboxContext } from "./context.ts";

interface BankRecord {
  reference: string;
  requestId: string;
  amount: string;
  currency: string;
  callbackUrl: string;
  status: "pending" | "succeeded" | "failed" | "reversed" | "expired";
  resultCode: string | null;
  resultDesc: string;
  receipt: string;
}

export function bankApp(ctx: SandboxContext, name: "kcb" | "dtb"): Hono {
  const bank = new Hono();
  const store = {
    collections: new Map<string, BankRecord>(),
    payouts: new Map<string, BankRecord>(),
  };
  if (name === "kcb") {
    bank.post("/oauth/token", (c) => {
      const expected = `Basic ${btoa(`${ctx.creds.KCB_CLIENT_ID}:${ctx.creds.KCB_CLIENT_SECRET}`)}`;
      if (c.req.header("authorization") !== expected) {
        return c.json({ error: "invalid_client" }, 401);
      }
      const token = crypto.randomUUID().replace(/-/g, "");
      ctx.tokens.add(token);
      return c.json({ access_token: token, token_type: "Bearer", expires_in: 3600 });
    });
  }
  bank.use("/v1/*", async (c, next) => {
    const ok = name === "kcb"
      ? ctx.tokens.has(/^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? "")
      : c.req.header("x-api-key") === ctx.creds.DTB_API_KEY;
    if (!ok) {
      return c.json({ error: { code: "unauthorized", message: "invalid credentials" } }, 401);
    }
    await next();
  });

  const create = (kind: "collections" | "payouts") => async (c: Context) => {
    const body = await c.req.json() as Record<string, unknown>;
    const reference = String(body.reference ?? "");
    const account = String(body.account_number ?? "");
    const amount = String(body.amount ?? "");
    if (
      !/^[0-9a-f-]{36}$/.test(reference) || !/^[0-9]{6,20}$/.test(account) ||
      !/^[0-9]+\.[0-9]{2}$/.test(amount) ||
      typeof body.callback_url !== "string"
    ) {
      return c.json({
        error: {
          code: "invalid_request",
          message: "reference, account_number, amount (0.00) and callback_url are required",
        },
      }, 400);
    }
    const records = kind === "collections" ? store.collections : store.payouts;
    const existing = records.get(reference);
    if (existing) return c.json({ request_id: existing.requestId, status: "accepted" }, 200);
    const scenario = ctx.scenarios.for(account);
    if (scenario === "reject") {
      return c.json(
        { error: { code: "invalid_account", message: "the account cannot be used" } },
        400,
      );
    }
    if (scenario === "unavailable") {
      return c.json({ error: { code: "unavailable", message: "try later" } }, 503);
    }
    const record: BankRecord = {
      reference,
      requestId: randomId(`${name.toUpperCase()}-`, 12),
      amount,
      currency: String(body.currency ?? "KES"),
      callbackUrl: body.callback_url,
      status: "pending",
      resultCode: null,
      resultDesc: "",
      receipt: randomId(`${name.toUpperCase()}R`, 10),
    };
    records.set(reference, record);
    const prefix = kind === "collections" ? "collection" : "payout";
    const event = (type: string) => ({
      event_id: crypto.randomUUID(),
      event_type: type,
      reference,
      request_id: record.requestId,
      amount,
      currency: record.currency,
      receipt: type.endsWith("succeeded") ? record.receipt : null,
      result_code: record.resultCode,
      result_desc: record.resultDesc,
      occurred_at: new Date().toISOString(),
    });
    if (scenario === "cancelled" || scenario === "fail") {
      record.status = "failed";
      record.resultCode = scenario === "cancelled" ? "CANCELLED" : "INSUFFICIENT_FUNDS";
      record.resultDesc = scenario === "cancelled"
        ? "Declined by the account holder"
        : "Insufficient funds";
      const e = event(`${prefix}.failed`);
      ctx.schedule(() => ctx.signedDeliver(name, record.callbackUrl, e));
    } else if (scenario === "timeout") {
      record.status = kind === "collections" ? "expired" : "pending";
      if (kind === "payouts") records.delete(reference); // the bank never got it: a status query finds nothing
    } else {
      record.status = "succeeded";
      record.resultCode = "0";
      record.resultDesc = "Success";
      const e = event(`${prefix}.succeeded`);
      if (scenario === "early_callback") {
        await ctx.schedule(() => ctx.signedDeliver(name, record.callbackUrl, e), true);
      } else if (scenario !== "silent_success") {
        const succeeded = ctx.schedule(() => ctx.signedDeliver(name, record.callbackUrl, e));
        if (scenario === "duplicate") {
          ctx.schedule(() => ctx.signedDeliver(name, record.callbackUrl, e));
        }
        if (scenario === "reversed" && kind === "payouts") {
          ctx.schedule(async () => {
            // A bank reverses a credit it has already reported, never one still on its way.
            await succeeded;
            await new Promise((resolve) => setTimeout(resolve, ctx.delayMs));
            record.status = "reversed";
            record.resultDesc = "Credit reversed by the beneficiary bank";
            await ctx.signedDeliver(name, record.callbackUrl, event("payout.reversed"));
          });
        }
      }
    }
    return c.json({ request_id: record.requestId, status: "accepted" }, 202);
  };
  const read = (kind: "collections" | "payouts") => (c: Context) => {
    const record = (kind === "collections" ? store.collections : store.payouts).get(
      c.req.param("reference") ?? "",
    );
    if (!record) return c.json({ error: { code: "not_found", message: "no such request" } }, 404);
    return c.json({
      reference: record.reference,
      request_id: record.requestId,
      status: record.status === "expired" ? "failed" : record.status,
      amount: record.amount,
      currency: record.currency,
      receipt: record.status === "succeeded" ? record.receipt : null,
      result_code: record.status === "expired" ? "EXPIRED" : record.resultCode,
      result_desc: record.status === "expired"
        ? "The request expired unanswered"
        : record.resultDesc,
    });
  };
  bank.post("/v1/collections", create("collections"));
  bank.get("/v1/collections/:reference", read("collections"));
  bank.post("/v1/payouts", create("payouts"));
  bank.get("/v1/payouts/:reference", read("payouts"));
  return bank;
}
