import { describe, expect, it } from "vitest";
import { app } from "../../functions/ops/app.ts";
import { admin, createUser } from "../helpers/db.ts";
import { expectBooksBalanced, fund, partyWithWallet } from "../helpers/money.ts";
import { accessToken } from "../helpers/tokens.ts";
import { appCaller } from "../helpers/request.ts";

const call = appCaller(app, "/ops");

describe("ops", () => {
  it("lets admins reconcile, sweep and freeze; everyone else gets 403", async () => {
    const adminId = await createUser("admin");
    const adminToken = await accessToken(adminId, { appRole: "admin" });
    const customer = await partyWithWallet();
    await fund(customer.walletId, "10.00");
    // A customer claiming the admin role in a token it minted is still not an admin:
    // the database checks auth_users.
    const forged = await accessToken(customer.userId, { appRole: "admin" });
    for (const [method, path, body] of [["GET", "/reconciliation"], ["POST", "/sweeps"], ["POST", `/wallets/${customer.walletId}/status`, { status: "frozen" }]] as const) {
      const res = await call(forged, method, path, body);
      expect(res.status, path).toBe(403);
      expect((await res.json()).error.code).toBe("forbidden");
    }

    const report = await (await call(adminToken, "GET", "/reconciliation")).json();
    expect(report.discrepancies).toEqual([]);
    expect(report.trial_balance.find((t: { currency: string }) => t.currency === "KES").total).toBe("0.0000");

    const sweeps = await call(adminToken, "POST", "/sweeps");
    expect(sweeps.status).toBe(200);
    expect(await sweeps.json()).toMatchObject({ holds_expired: expect.any(Number) });

    const frozen = await call(adminToken, "POST", `/wallets/${customer.walletId}/status`, { status: "frozen" });
    expect(await frozen.json()).toMatchObject({ id: customer.walletId, status: "frozen" });
    const notEmpty = await call(adminToken, "POST", `/wallets/${customer.walletId}/status`, { status: "closed" });
    expect(notEmpty.status).toBe(409);
    expect((await notEmpty.json()).error.code).toBe("wallet_not_empty");
    const [audit] = await admin`select actor_id from public.audit_logs
                                 where table_name = 'wallets' and row_id = ${customer.walletId} and action = 'UPDATE'`;
    expect(audit.actor_id).toBe(adminId);
    const bad = await call(adminToken, "POST", `/wallets/${customer.walletId}/status`, { status: "gone" });
    expect(bad.status).toBe(400);
    await call(adminToken, "POST", `/wallets/${customer.walletId}/status`, { status: "active" });

    // Reversals: idempotent by key, bounded by the original, admins only.
    const payee = await partyWithWallet();
    const [paid] = await admin`select hazina.transfer(${"ops-test:" + crypto.randomUUID()}, ${customer.walletId}::uuid,
                                 ${payee.walletId}::uuid, 6.00, 'p2p_transfer') ->> 'transaction_id' as id`;
    const reverse = (token: string, key: string, body: unknown) =>
      app.request(`/ops/transactions/${paid.id}/reverse`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(body),
      });
    expect((await reverse(forged, "rev-key-00001", { amount: "1.00", reason: "x" })).status).toBe(403);
    const first = await reverse(adminToken, "rev-key-00001", { amount: "2.50", reason: "customer dispute" });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ reverses: paid.id, amount: "2.5000", currency: "KES" });
    const again = await reverse(adminToken, "rev-key-00001", { amount: "2.50", reason: "customer dispute" });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const tooMuch = await reverse(adminToken, "rev-key-00002", { amount: "4.00", reason: "again" });
    expect(tooMuch.status).toBe(409);
    expect((await tooMuch.json()).error).toMatchObject({ code: "reversal_exceeds_original", details: { remaining: "3.5000" } });
    const [{ balance }] = await admin`select balance::text from public.wallet_balances where wallet_id = ${payee.walletId}`;
    expect(balance).toBe("3.5000");
    await expectBooksBalanced();
  });
});
