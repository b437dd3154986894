// One transaction per mutating request that calls no provider (idempotent({ oneTransaction })):
// the Idempotency-Key record, the transfer and the stored response of one POST
// /wallets/transfers commit together, and a concurrent duplicate of a request still running
// is refused at once (409 idempotency_key_in_use), not queued behind it.
// "One commit" is read from the rows themselves: every row version a transaction writes
// carries its transaction id (xmin), so the key record (as completed), the posted
// transaction and its entries share one xmin exactly when they were written by one transaction.
import { beforeAll, describe, expect, inject, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { type Json, requestInit } from "../helpers/request.ts";

let payer: Party;
let payee: Party;

beforeAll(async () => {
  payer = await partyWithWallet();
  payee = await partyWithWallet();
  await fund(payer.walletId, "1000.00");
});

function transfer(key: string, amount: string, from = payer): Promise<Response> {
  return fetch(`${inject("edgeBaseUrl")}/functions/v1/wallets/transfers`, requestInit("POST", from.token,
    { from_wallet_id: from.walletId, to_wallet_id: payee.walletId, amount }, { "idempotency-key": key }));
}

/** The transaction ids that wrote the key record and the transfer posted under `key`. */
async function writers(owner: string, key: string): Promise<{ record: string[]; posting: string[] }> {
  const record = await admin`select xmin::text as xid, status from public.payment_idempotency
                              where idempotency_key = ${owner + "/" + key}`;
  const posting = await admin`
    select t.xmin::text as xid from public.wallet_transactions t where t.ref like ${"%:" + key}
    union all
    select e.xmin::text from public.wallet_ledger e
      join public.wallet_transactions t on t.id = e.transaction_id where t.ref like ${"%:" + key}`;
  expect(record.map((r) => r.status)).toEqual(["completed"]);
  return { record: record.map((r) => r.xid), posting: posting.map((r) => r.xid) };
}

describe("one transaction per transfer request", () => {
  it("commits the key record, the posting and the stored response in one transaction", async () => {
    const key = `one-tx-${crypto.randomUUID()}`;
    const res = await transfer(key, "10.00");
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
    const { record, posting } = await writers(payer.userId, key);
    expect(posting.length).toBeGreaterThanOrEqual(3); // the transaction and at least two entries
    expect(new Set([...record, ...posting]).size, "distinct writing transactions (commits)").toBe(1);

    // The stored response is the one sent, replayed as a replay.
    const replay = await transfer(key, "10.00");
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const body: Json = await replay.json();
    expect(body.replayed).toBe(true);
    expect(body.transaction_id).toBe((await res.json()).transaction_id);
  });

  it("stores a refusal with nothing of the work, in the same single transaction", async () => {
    const key = `one-tx-${crypto.randomUUID()}`;
    const res = await transfer(key, "999999.00");
    expect(res.status).toBe(409);
    expect((await res.json()).error.code).toBe("insufficient_funds");
    const [{ count }] = await admin`select count(*)::int from public.wallet_transactions where ref like ${"%:" + key}`;
    expect(count).toBe(0);
    const again = await transfer(key, "999999.00");
    expect(again.status).toBe(409);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
  });

  it("refuses a concurrent duplicate at once with 409 idempotency_key_in_use", { timeout: 30_000 }, async () => {
    const key = `one-tx-${crypto.randomUUID()}`;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // Hold the payer's wallet row, so the first request takes the key and then waits in its transfer.
    const holder = admin.begin(async (tx) => {
      await tx`select 1 from public.wallets where id = ${payer.walletId} for update`;
      locked();
      await released;
    });
    await isLocked;
    const first = transfer(key, "5.00");
    try {
      // Wait until the first request holds the key (its transaction is waiting on the wallet
      // lock, alone or as a group of one: GROUP_COMMIT).
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const [{ waiting }] = await admin`
          select count(*)::int as waiting from pg_stat_activity
           where application_name = 'hazina-edge' and wait_event_type = 'Lock'
             and (query like '%public.transfer(%' or query like '%hazina.transfer_group(%')`;
        if (waiting > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const started = Date.now();
      const duplicate = await transfer(key, "5.00");
      const waitedMs = Date.now() - started;
      expect(duplicate.status).toBe(409);
      expect((await duplicate.json()).error.code).toBe("idempotency_key_in_use");
      expect(waitedMs, "the duplicate is answered while the first still runs").toBeLessThan(5_000);
    } finally {
      release();
      await holder;
    }
    const done = await first;
    expect(done.status).toBe(201);
    const retry = await transfer(key, "5.00");
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const [{ count }] = await admin`select count(*)::int from public.wallet_transactions where ref like ${"%:" + key}`;
    expect(count).toBe(1);
    await expectBooksBalanced();
  });
});
