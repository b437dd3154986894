// The client apps' chosen client: @supabase/supabase-js calling the payments function
// through the real HTTP server (`supabase.functions.invoke`), exactly as docs/payments.md
// shows it. On Node 20 supabase-js needs `ws` as its realtime transport.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createClient, FunctionsHttpError } from "@supabase/supabase-js";
import WebSocket from "ws";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { paymentIntentFee } from "../helpers/payments.ts";
import { idempotencyKey as key } from "../helpers/request.ts";

/** A supabase-js client acting with a user's access token against our edge. */
function clientFor(party: Party) {
  return createClient(inject("edgeBaseUrl"), "anon-key-unused-by-hazina", {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Authorization: `Bearer ${party.token}` } },
    realtime: { transport: WebSocket as never },
  });
}

let duka: Party;
let amina: Party;

beforeAll(async () => {
  await paymentIntentFee();
  duka = await partyWithWallet("merchant");
  amina = await partyWithWallet();
  await fund(amina.walletId, "100.00");
});

describe("supabase-js", () => {
  it("creates an intent, pays it from the wallet and reads it through functions.invoke", async () => {
    const merchant = clientFor(duka);
    const customer = clientFor(amina);
    const created = await merchant.functions.invoke("payments/intents", {
      method: "POST",
      body: { amount: "60.00", customer_id: amina.userId },
      headers: { "Idempotency-Key": key() },
    });
    expect(created.error).toBeNull();
    expect(created.data).toMatchObject({ status: "requires_confirmation", amount: "60.0000" });

    const paid = await customer.functions.invoke(`payments/intents/${created.data.id}/confirm`, {
      method: "POST",
      body: { sources: [{ type: "wallet", wallet_id: amina.walletId, amount: "60.00" }] },
      headers: { "Idempotency-Key": key() },
    });
    expect(paid.error).toBeNull();
    expect(paid.data).toMatchObject({ status: "succeeded", amount_received: "60.0000" });
    expect(await balanceOf(amina.walletId)).toBe("40.0000");

    // A refusal arrives as a FunctionsHttpError carrying our error envelope.
    const again = await customer.functions.invoke(`payments/intents/${created.data.id}/confirm`, {
      method: "POST",
      body: { sources: [{ type: "wallet", wallet_id: amina.walletId, amount: "60.00" }] },
      headers: { "Idempotency-Key": key() },
    });
    expect(again.error).toBeInstanceOf(FunctionsHttpError);
    const response = (again.error as FunctionsHttpError).context as Response;
    expect(response.status).toBe(409);
    expect((await response.json()).error.code).toBe("intent_not_confirmable");

    const read = await merchant.functions.invoke(`payments/intents/${created.data.id}`, { method: "GET" });
    expect(read.data.status).toBe("succeeded");
    await expectBooksBalanced();
  });
});
