// Merchant API keys over the real HTTP server: created once with the secret, listed by
// prefix, accepted as `Authorization: Bearer` on the merchant's endpoints of every function
// (acting as the merchant under RLS), never with admin powers, and refused at once when revoked.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { type Party, partyWithWallet } from "../helpers/money.ts";
import { httpCaller, idempotencyKey as key, readResponse } from "../helpers/request.ts";

const call = httpCaller(() => `${inject("edgeBaseUrl")}/functions/v1`);

let duka: Party;
let amina: Party;

beforeAll(async () => {
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
});

describe("merchant API keys", () => {
  it("create once, list by prefix, act as the merchant everywhere, never as admin, revoke at once", async () => {
    const refused = await readResponse(await call(amina.token, "POST", "/payments/api-keys", { name: "x" }, { "idempotency-key": key() }));
    expect([refused.status, refused.body.error.code]).toEqual([403, "api_keys_merchants_only"]);

    const k = key();
    const created = await readResponse(await call(duka.token, "POST", "/payments/api-keys", { name: "shop backend" },
      { "idempotency-key": k }));
    expect(created.status).toBe(201);
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^hz_test_[0-9a-f]{64}$/);
    expect(created.body).toMatchObject({ object: "api_key", name: "shop backend", mode: "test", status: "active",
      prefix: secret.slice(0, 16) });
    const again = await readResponse(await call(duka.token, "POST", "/payments/api-keys", { name: "shop backend" },
      { "idempotency-key": k }));
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(created.body.id);
    expect(again.body).not.toHaveProperty("secret");
    // The secret is stored nowhere: not in the key row, not in an idempotency record.
    const stored = await admin`select count(*)::int as n from public.payment_idempotency where response_body::text like ${"%" + secret + "%"}`;
    expect(stored[0].n).toBe(0);

    const listed = await readResponse(await call(duka.token, "GET", "/payments/api-keys"));
    expect(listed.body.data.map((x: { id: string }) => x.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    // The key acts as the merchant on this function and on others.
    const intent = await readResponse(await call(secret, "POST", "/payments/intents", { amount: "25.00" }, { "idempotency-key": key() }));
    expect(intent.status).toBe(201);
    expect(intent.body.merchant_id).toBe(duka.userId);
    const wallets = await readResponse(await call(secret, "GET", "/wallets"));
    expect(wallets.status).toBe(200);
    expect(wallets.body.data.map((w: { id: string }) => w.id)).toEqual([duka.walletId]);
    // Never admin powers.
    const ops = await readResponse(await call(secret, "GET", "/ops/reconciliation"));
    expect(ops.status).toBe(403);
    const [used] = await admin`select last_used_at from public.api_keys where id = ${created.body.id}`;
    expect(used.last_used_at).not.toBeNull();

    const revoked = await readResponse(await call(duka.token, "DELETE", `/payments/api-keys/${created.body.id}`));
    expect(revoked.body.status).toBe("revoked");
    const after = await readResponse(await call(secret, "GET", `/payments/intents/${intent.body.id}`));
    expect([after.status, after.body.error.code]).toEqual([401, "invalid_api_key"]);
    const other = await readResponse(await call(amina.token, "DELETE", `/payments/api-keys/${created.body.id}`));
    expect(other.status).toBe(404);
  });
});
