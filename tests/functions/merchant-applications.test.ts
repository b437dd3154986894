// Becoming a merchant, over real HTTP (the Deno edge server): signing up as a merchant
// records an application and leaves a customer; payments to them stay P2P until an admin
// approves through ops; approval makes merchant payments and is audited.
import { decodeJwt } from "jose";
import { describe, expect, inject, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { expectBooksBalanced, fund } from "../helpers/money.ts";
import { STRONG_PASSWORD, uniqueEmail } from "../helpers/auth.ts";

const base = () => `${inject("edgeBaseUrl")}/functions/v1`;

async function http(method: string, path: string, opts: { token?: string; body?: unknown; idempotent?: boolean } = {}) {
  const res = await fetch(`${base()}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(opts.idempotent ? { "idempotency-key": `merchant-${crypto.randomUUID()}` } : {}),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function signUp(body: Record<string, unknown>, role?: "admin") {
  const email = uniqueEmail("merchant");
  expect((await http("POST", "/auth/signup", { body: { email, password: STRONG_PASSWORD, ...body } })).status).toBe(202);
  await admin`update public.auth_users set email_verified_at = now() where email = ${email}`;
  if (role) await admin`update public.auth_users set role = ${role} where email = ${email}`;
  const login = await http("POST", "/auth/token", { body: { email, password: STRONG_PASSWORD } });
  expect(login.status).toBe(200);
  return { email, ...login.body } as { email: string; access_token: string; refresh_token: string; user: { id: string; role: string } };
}

describe("merchant applications (over HTTP)", () => {
  it("signing up as a merchant gives a customer with a pending application, until an admin approves", async () => {
    const shop = await signUp({ role: "merchant", business_name: "Mama Mboga" });
    expect(shop.user.role).toBe("customer");
    expect(decodeJwt(shop.access_token).app_metadata).toEqual({ role: "customer" });
    const mine = await http("GET", "/auth/merchant-request", { token: shop.access_token });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ user_id: shop.user.id, business_name: "Mama Mboga", status: "pending", decided_by: null });

    const payer = await signUp({});
    const payerWallet = (await http("POST", "/wallets", { token: payer.access_token, body: { currency: "KES" } })).body.id;
    const shopWallet = (await http("POST", "/wallets", { token: shop.access_token, body: { currency: "KES" } })).body;
    expect(shopWallet.kind).toBe("user");
    await fund(payerWallet, "100.00");
    const pay = () => http("POST", "/wallets/transfers", { token: payer.access_token, idempotent: true,
      body: { from_wallet_id: payerWallet, to_wallet_id: shopWallet.id, amount: "10.00" } });
    const before = await pay();
    expect(before.status).toBe(201);
    expect(before.body.transaction_type).toBe("p2p_transfer");

    // Neither the applicant nor a forged admin claim approves; a real admin does.
    const selfApproval = await http("POST", `/ops/merchants/${shop.user.id}/approve`, { token: shop.access_token });
    expect(selfApproval.status).toBe(403);
    expect(selfApproval.body.error.code).toBe("forbidden");
    const ops = await signUp({}, "admin");
    const approved = await http("POST", `/ops/merchants/${shop.user.id}/approve`, { token: ops.access_token,
      body: { reason: "KRA PIN checked" } });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: "approved", decided_by: ops.user.id, decision_reason: "KRA PIN checked" });
    const again = await http("POST", `/ops/merchants/${shop.user.id}/approve`, { token: ops.access_token });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(approved.body.id);
    const reject = await http("POST", `/ops/merchants/${shop.user.id}/reject`, { token: ops.access_token });
    expect(reject.status).toBe(409);
    expect(reject.body.error.code).toBe("merchant_application_not_pending");

    const after = await pay();
    expect(after.body).toMatchObject({ transaction_type: "merchant_payment", fee_payer: "receiver" });
    const refreshed = await http("POST", "/auth/token/refresh", { body: { refresh_token: shop.refresh_token } });
    expect(decodeJwt(refreshed.body.access_token).app_metadata).toEqual({ role: "merchant" });
    const [audit] = await admin`select actor_id from public.audit_logs
                                 where table_name = 'auth_users' and row_id = ${shop.user.id} and action = 'UPDATE'
                                   and old_values ->> 'role' = 'customer' and new_values ->> 'role' = 'merchant'`;
    expect(audit.actor_id).toBe(ops.user.id);
    await expectBooksBalanced();
  });

  it("a signed-in customer asks, is rejected, stays a customer and may ask again", async () => {
    const user = await signUp({ name: "Otieno" });
    expect((await http("GET", "/auth/merchant-request", { token: user.access_token })).status).toBe(404);
    const asked = await http("POST", "/auth/merchant-request", { token: user.access_token, body: { business_name: "Otieno Hardware" } });
    expect(asked.status).toBe(201);
    expect(asked.body.status).toBe("pending");
    expect((await http("POST", "/auth/merchant-request", { token: user.access_token, body: { business_name: "Otieno Hardware" } })).status)
      .toBe(200);
    expect((await http("POST", "/auth/merchant-request", { token: user.access_token, body: { business_name: "" } })).status).toBe(400);

    const ops = await signUp({}, "admin");
    const rejected = await http("POST", `/ops/merchants/${user.user.id}/reject`, { token: ops.access_token, body: { reason: "no permit" } });
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe("rejected");
    const [row] = await admin`select role from public.auth_users where id = ${user.user.id}`;
    expect(row.role).toBe("customer");
    expect((await http("POST", `/ops/merchants/${crypto.randomUUID()}/approve`, { token: ops.access_token })).status).toBe(404);
    expect((await http("POST", "/auth/merchant-request", { token: user.access_token, body: { business_name: "Otieno Tools" } })).status)
      .toBe(201);
  });

  it("a merchant sign-up needs a business name, checked before the database (known emails answer alike)", async () => {
    const res = await http("POST", "/auth/signup", { body: { email: uniqueEmail("nobiz"), password: STRONG_PASSWORD, role: "merchant" } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
  });
});
