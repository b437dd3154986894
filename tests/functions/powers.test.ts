// What ends a power, over real HTTP (the Deno edge server): a disabled user, an admin whose
// logins all ended and a revoked token each hold a token that verifies until its `exp`,
// and each must be refused by every acting path (money, ops, logout). The rule lives in the
// database (hazina.caller_id(), public.is_admin()); these tests prove the edge reaches it.
import { describe, expect, inject, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { balanceOf, expectBooksBalanced, fund } from "../helpers/money.ts";
import { STRONG_PASSWORD, uniqueEmail } from "../helpers/auth.ts";

const base = () => `${inject("edgeBaseUrl")}/functions/v1`;
const key = () => `powers-${crypto.randomUUID()}`;

async function http(method: string, path: string, opts: { token?: string; body?: unknown; idempotent?: boolean } = {}) {
  const res = await fetch(`${base()}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(opts.idempotent ? { "idempotency-key": key() } : {}),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A verified user signed in over HTTP (a real login: its token carries session_id). */
async function signedIn(role: "customer" | "admin" = "customer") {
  const email = uniqueEmail("powers");
  expect((await http("POST", "/auth/signup", { body: { email, password: STRONG_PASSWORD } })).status).toBe(202);
  await admin`update public.auth_users set email_verified_at = now(), role = ${role} where email = ${email}`;
  return await login(email);
}

async function login(email: string) {
  const res = await http("POST", "/auth/token", { body: { email, password: STRONG_PASSWORD } });
  expect(res.status).toBe(200);
  return { email, ...res.body } as { email: string; access_token: string; refresh_token: string; session_id: string; user: { id: string } };
}

async function openWallet(token: string): Promise<string> {
  const res = await http("POST", "/wallets", { token, body: { currency: "KES" } });
  expect(res.status).toBeLessThan(300);
  return res.body.id;
}

describe("powers that should have ended (over HTTP)", () => {
  it("a disabled user's live access token moves no money (403 account_disabled)", async () => {
    const payer = await signedIn();
    const payee = await signedIn();
    const from = await openWallet(payer.access_token);
    const to = await openWallet(payee.access_token);
    await fund(from, "100.00");
    const pay = (amount: string) =>
      http("POST", "/wallets/transfers", { token: payer.access_token, idempotent: true,
        body: { from_wallet_id: from, to_wallet_id: to, amount } });
    expect((await pay("1.00")).status).toBe(201);
    // (Other suites may configure a P2P fee in this shared database: compare, don't compute.)
    const balanceBefore = await balanceOf(from);

    await admin`update public.auth_users set status = 'disabled' where id = ${payer.user.id}`;
    const refused = await pay("2.00");
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("account_disabled");
    expect((await http("POST", "/wallets", { token: payer.access_token, body: { currency: "USD" } })).body.error.code)
      .toBe("account_disabled");
    expect(await balanceOf(from)).toBe(balanceBefore);
    // Reading stays possible until exp (documented): only acting is refused.
    expect((await http("GET", "/wallets", { token: payer.access_token })).status).toBe(200);
    await expectBooksBalanced();
  });

  it("an admin whose sessions were all ended can no longer reverse, freeze or sweep", async () => {
    const ops = await signedIn("admin");
    const payer = await signedIn();
    const payee = await signedIn();
    const from = await openWallet(payer.access_token);
    const to = await openWallet(payee.access_token);
    await fund(from, "50.00");
    const paid = await http("POST", "/wallets/transfers", { token: payer.access_token, idempotent: true,
      body: { from_wallet_id: from, to_wallet_id: to, amount: "5.00" } });
    expect(paid.status).toBe(201);

    // Control: the live admin login acts.
    expect((await http("POST", `/ops/wallets/${to}/status`, { token: ops.access_token, body: { status: "frozen" } })).status).toBe(200);
    expect((await http("POST", `/ops/wallets/${to}/status`, { token: ops.access_token, body: { status: "active" } })).status).toBe(200);

    expect((await http("POST", "/auth/logout", { token: ops.access_token, body: { scope: "global" } })).status).toBe(204);
    const attempts = [
      await http("POST", `/ops/transactions/${paid.body.transaction_id}/reverse`, { token: ops.access_token, idempotent: true,
        body: { reason: "after logout" } }),
      await http("POST", `/ops/wallets/${to}/status`, { token: ops.access_token, body: { status: "frozen" } }),
      await http("POST", "/ops/sweeps", { token: ops.access_token }),
      await http("GET", "/ops/reconciliation", { token: ops.access_token }),
    ];
    for (const attempt of attempts) {
      expect(attempt.status).toBe(401);
      expect(attempt.body.error).toMatchObject({ code: "unauthenticated", details: { reason: "session_revoked" } });
    }
    const [{ reversals }] = await admin`select count(*)::int as reversals from public.wallet_transactions
                                          where reverses_id = ${paid.body.transaction_id}`;
    expect(reversals).toBe(0);
    const [{ status }] = await admin`select status::text from public.wallets where id = ${to}`;
    expect(status).toBe("active");
    await expectBooksBalanced();
  });

  it("a revoked token cannot log out or end sessions, and the owner's new session survives", async () => {
    const first = await signedIn();
    expect((await http("POST", "/auth/logout", { token: first.access_token })).status).toBe(204);
    const second = await login(first.email);

    const global = await http("POST", "/auth/logout", { token: first.access_token, body: { scope: "global" } });
    expect(global.status).toBe(401);
    expect(global.body.error).toMatchObject({ code: "unauthenticated", details: { reason: "session_revoked" } });
    expect((await http("POST", "/auth/logout", { token: first.access_token, body: { scope: "others" } })).status).toBe(401);
    expect((await http("DELETE", `/auth/sessions/${second.session_id}`, { token: first.access_token })).status).toBe(401);

    const refreshed = await http("POST", "/auth/token/refresh", { body: { refresh_token: second.refresh_token } });
    expect(refreshed.status).toBe(200);
    // The live login still logs itself out.
    expect((await http("POST", "/auth/logout", { token: refreshed.body.access_token })).status).toBe(204);
  });

  it("a disabled user's token cannot end their sessions either", async () => {
    const user = await signedIn();
    const other = await login(user.email);
    await admin`update public.auth_users set status = 'disabled' where id = ${user.user.id}`;
    const res = await http("DELETE", `/auth/sessions/${other.session_id}`, { token: user.access_token });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("account_disabled");
  });
});
