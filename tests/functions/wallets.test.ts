import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import process from "node:process";
import { app } from "../../functions/wallets/app.ts";
import { admin } from "../helpers/db.ts";
import { difference } from "../helpers/decimal.ts";
import { balanceOf, expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { accessToken } from "../helpers/tokens.ts";
import { seeded } from "../helpers/random.ts";
import { appCaller, idempotencyKey as key } from "../helpers/request.ts";

const request = appCaller(app, "/wallets");

let alice: Party;
let bob: Party;
let duka: Party;

beforeAll(async () => {
  alice = await partyWithWallet();
  bob = await partyWithWallet();
  duka = await partyWithWallet("merchant");
  await fund(alice.walletId, "1000.00");
  // Fees for these tests: P2P 0.5% (min 1, max 100), merchant payments 1.5%.
  await admin`insert into public.billing_fee_catalog (transaction_type, percentage_bps, minimum_amount, maximum_amount)
              select 'p2p_transfer', 50, 1, 100 where not exists (select 1 from public.billing_fee_catalog where transaction_type = 'p2p_transfer')`;
  await admin`insert into public.billing_fee_catalog (transaction_type, percentage_bps)
              select 'merchant_payment', 150 where not exists (select 1 from public.billing_fee_catalog where transaction_type = 'merchant_payment')`;
});

afterAll(async () => {
  await expectBooksBalanced();
});

describe("authentication", () => {
  it("refuses a missing, malformed, expired or foreign token with 401", async () => {
    expect((await request(undefined, "GET", "")).status).toBe(401);
    const malformed = await request("not-a-jwt", "GET", "");
    expect(malformed.status).toBe(401);
    expect((await malformed.json()).error.code).toBe("invalid_token");
    const expired = await request(await accessToken(alice.userId, { expiresIn: "-1m" }), "GET", "");
    expect((await expired.json()).error.code).toBe("token_expired");
    const foreign = await request(await accessToken(alice.userId, { secret: "x".repeat(40) }), "GET", "");
    expect(foreign.status).toBe(401);
    const wrongAudience = await request(await accessToken(alice.userId, { audience: "other" }), "GET", "");
    expect(wrongAudience.status).toBe(401);
    const unsigned = ["eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", btoa(JSON.stringify({ sub: alice.userId, role: "authenticated", aud: "authenticated", exp: 9999999999 })).replace(/=+$/, ""), ""].join(".");
    expect((await request(unsigned, "GET", "")).status).toBe(401);
  });
});

describe("wallets", () => {
  it("lists only my wallets, money as strings", async () => {
    const res = await request(alice.token, "GET", "");
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ id: alice.walletId, currency: "KES", balance: "1000.0000", held: "0.0000", available: "1000.0000" });
    expect(body.next_cursor).toBeNull();
  });

  it("opens a wallet per currency, idempotently", async () => {
    const first = await request(alice.token, "POST", "", { currency: "USD" });
    expect(first.status).toBe(201);
    const wallet = await first.json();
    expect(wallet).toMatchObject({ currency: "USD", balance: "0.0000", kind: "user" });
    const again = await request(alice.token, "POST", "", { currency: "USD" });
    expect(again.status).toBe(200);
    expect((await again.json()).id).toBe(wallet.id);
  });

  it("rejects bad wallet input with 400 and a stable code", async () => {
    const unknown = await request(alice.token, "POST", "", { currency: "XYZ" });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.code).toBe("currency_not_supported");
    const lowercase = await request(alice.token, "POST", "", { currency: "kes" });
    expect((await lowercase.json()).error.code).toBe("validation_failed");
    const extra = await request(alice.token, "POST", "", { currency: "KES", balance: "100" });
    expect(extra.status).toBe(400);
    const notJson = await request(alice.token, "POST", "", "{not json");
    expect(notJson.status).toBe(400);
  });
});

describe("rate limit", () => {
  it("refuses new mutating requests over RATE_LIMIT_PER_MINUTE with 429 and Retry-After; replays still answer", async () => {
    const busy = await partyWithWallet();
    const limit = Number(process.env.RATE_LIMIT_PER_MINUTE);
    const first = key();
    for (let i = 0; i < limit; i++) {
      const res = await request(busy.token, "POST", "", { currency: "KES" }, { "idempotency-key": i === 0 ? first : key() });
      expect(res.status, `request ${i}`).toBe(200);
    }
    const over = await request(busy.token, "POST", "", { currency: "KES" }, { "idempotency-key": key() });
    expect(over.status).toBe(429);
    expect((await over.json()).error).toMatchObject({ code: "rate_limited", details: { limit_per_minute: limit } });
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const replay = await request(busy.token, "POST", "", { currency: "KES" }, { "idempotency-key": first });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    // Other users are not affected.
    const other = await request(alice.token, "POST", "", { currency: "KES" }, { "idempotency-key": key() });
    expect(other.status).toBe(200);
  });
});

describe("transfers", () => {
  it("requires an Idempotency-Key", async () => {
    const res = await request(alice.token, "POST", "/transfers", { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "1.00" });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("idempotency_key_required");
  });

  it("moves money with the catalog fee, once per key", async () => {
    const k = key();
    const body = { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "100.00", description: "lunch" };
    const first = await request(alice.token, "POST", "/transfers", body, { "idempotency-key": k });
    expect(first.status).toBe(201);
    const result = await first.json();
    expect(result).toMatchObject({ amount: "100.0000", fee: "1.0000", fee_payer: "sender", currency: "KES", transaction_type: "p2p_transfer", ref: k });

    const replay = await request(alice.token, "POST", "/transfers", body, { "idempotency-key": k });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    // The replay says it is one, in the body as in the header (issue 10, item 12).
    expect(await replay.json()).toEqual({ ...result, replayed: true });

    const reordered = { description: "lunch", amount: "100.00", to_wallet_id: bob.walletId, from_wallet_id: alice.walletId };
    expect((await request(alice.token, "POST", "/transfers", reordered, { "idempotency-key": k })).status).toBe(201);

    const different = await request(alice.token, "POST", "/transfers", { ...body, amount: "101.00" }, { "idempotency-key": k });
    expect(different.status).toBe(422);
    expect((await different.json()).error.code).toBe("idempotency_key_reused");

    expect(await balanceOf(alice.walletId)).toBe("899.0000");
    expect(await balanceOf(bob.walletId)).toBe("100.0000");
  });

  it("gives concurrent duplicates one result: one posting, the rest replay or wait", async () => {
    const k = key();
    const body = { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "10.00" };
    const before = await balanceOf(alice.walletId);
    const responses = await Promise.all(Array.from({ length: 8 }, () =>
      request(alice.token, "POST", "/transfers", body, { "idempotency-key": k })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses).toContain(201);
    for (const r of responses.filter((r) => r.status === 409)) {
      expect((await r.json()).error.code).toBe("idempotency_key_in_use");
    }
    const [{ count }] = await admin`select count(*)::int from public.wallet_transactions where ref = ${"transfer:" + alice.userId + ":" + k}`;
    expect(count).toBe(1);
    const after = await balanceOf(alice.walletId);
    expect(difference(before, after)).toBe("11.0000");
  });

  it("makes paying a merchant a merchant payment, fee borne by the merchant", async () => {
    const res = await request(alice.token, "POST", "/transfers", { from_wallet_id: alice.walletId, to_wallet_id: duka.walletId, amount: "200.00" }, { "idempotency-key": key() });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ transaction_type: "merchant_payment", fee: "3.0000", fee_payer: "receiver" });
    expect(await balanceOf(duka.walletId)).toBe("197.0000");
  });

  it("refuses what must not happen, with stable codes and nothing written", async () => {
    const [{ count: before }] = await admin`select count(*)::int from public.wallet_transactions`;
    const cases: [unknown, number, string][] = [
      [{ from_wallet_id: bob.walletId, to_wallet_id: alice.walletId, amount: "1.00" }, 404, "wallet_not_found"],
      [{ from_wallet_id: alice.walletId, to_wallet_id: alice.walletId, amount: "1.00" }, 400, "same_wallet"],
      [{ from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "100000.00" }, 409, "insufficient_funds"],
      [{ from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "1.005" }, 400, "invalid_amount"],
      [{ from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: 5 }, 400, "validation_failed"],
      [{ from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "0.00" }, 400, "validation_failed"],
      [{ from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "-1" }, 400, "validation_failed"],
      [{ from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "1e3" }, 400, "validation_failed"],
      [{ from_wallet_id: "not-a-uuid", to_wallet_id: bob.walletId, amount: "1.00" }, 400, "validation_failed"],
      [{ from_wallet_id: alice.walletId, to_wallet_id: crypto.randomUUID(), amount: "1.00" }, 404, "wallet_not_found"],
    ];
    for (const [body, status, code] of cases) {
      const res = await request(alice.token, "POST", "/transfers", body, { "idempotency-key": key() });
      const json = await res.json();
      expect({ status: res.status, code: json.error?.code }, JSON.stringify(body)).toEqual({ status, code });
    }
    await admin`update public.wallets set status = 'frozen' where id = ${bob.walletId}`;
    const frozen = await request(alice.token, "POST", "/transfers", { from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "1.00" }, { "idempotency-key": key() });
    await admin`update public.wallets set status = 'active' where id = ${bob.walletId}`;
    expect(frozen.status).toBe(409);
    expect((await frozen.json()).error.code).toBe("wallet_not_active");
    const [{ count: after }] = await admin`select count(*)::int from public.wallet_transactions`;
    expect(after).toBe(before);
  });

  it("says the currency's real rule when an amount is too fine (issue 10, item 14)", async () => {
    const body = (amount: string) => ({ from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount });
    const cents = await request(alice.token, "POST", "/transfers", body("1.005"), { "idempotency-key": key() });
    expect(cents.status).toBe(400);
    const { error } = await cents.json();
    expect(error).toMatchObject({ code: "invalid_amount", details: { currency: "KES", decimals: 2 } });
    expect(error.message).toBe("KES amounts must be greater than zero with at most 2 decimal places, e.g. \"1250.00\".");
    // Finer than any currency: refused before the database, still naming the real rule.
    const tooFine = await request(alice.token, "POST", "/transfers", body("1.00001"), { "idempotency-key": key() });
    const refused = (await tooFine.json()).error;
    expect(refused.code).toBe("validation_failed");
    expect(refused.details.fields[0].message).toContain("KES: 2");
    expect(JSON.stringify(refused)).not.toContain("4 decimals");
  });

  it("never answers 500 to garbage (fuzz)", async () => {
    const { rand, pick } = seeded("transfer fuzz", "FUZZ_SEED", 100000);
    const values = [null, true, 0, -1, 1.5, "", " ", "1.00", "abc", "'; drop table wallets; --", "9".repeat(40), "\u0000", [], {}, alice.walletId, bob.walletId, "1e309", "NaN", "0x10"];
    for (let i = 0; i < 60; i++) {
      const body: Record<string, unknown> = {};
      for (const field of ["from_wallet_id", "to_wallet_id", "amount", "description", "extra"]) {
        if (rand() < 0.8) body[field] = pick(values);
      }
      const res = await request(alice.token, "POST", "/transfers", rand() < 0.1 ? "[" : body, { "idempotency-key": key() });
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
      expect((await res.json()).error?.code ?? "ok").toMatch(/^[a-z_]+$/);
    }
  });
});

describe("idempotent replays over HTTP (issue 10, item 12)", () => {
  const http = (token: string, path: string, body: unknown, idempotencyKey: string) =>
    fetch(`${inject("edgeBaseUrl")}/functions/v1/wallets${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": idempotencyKey },
      body: JSON.stringify(body),
    });

  it("a replayed transfer says replayed in its body, as its header does", async () => {
    const payer = await partyWithWallet();
    await fund(payer.walletId, "20.00");
    const k = key();
    const body = { from_wallet_id: payer.walletId, to_wallet_id: bob.walletId, amount: "5.00" };
    const first = await http(payer.token, "/transfers", body, k);
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const original = await first.json();
    expect(original.replayed).toBe(false);

    const replay = await http(payer.token, "/transfers", body, k);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual({ ...original, replayed: true });
    expect(await balanceOf(payer.walletId)).toBe("14.0000"); // 5.00 + the 1.00 minimum fee, once
  });

  it("a replayed batch reports its posted items as replayed; failed items stay failed", async () => {
    const payer = await partyWithWallet();
    await fund(payer.walletId, "20.00");
    const k = key();
    const items = [
      { ref: `r-${crypto.randomUUID()}`, from_wallet_id: payer.walletId, to_wallet_id: bob.walletId, amount: "2.00" },
      { ref: `r-${crypto.randomUUID()}`, from_wallet_id: payer.walletId, to_wallet_id: bob.walletId, amount: "500.00" },
    ];
    const first = await http(payer.token, "/transfers/batch", { items }, k);
    expect(first.status).toBe(200);
    const original = (await first.json()).data;
    expect(original.map((r: { status: string; replayed?: boolean }) => [r.status, r.replayed ?? null]))
      .toEqual([["posted", false], ["failed", null]]);

    const replay = await http(payer.token, "/transfers/batch", { items }, k);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const replayed = (await replay.json()).data;
    expect(replayed).toEqual([{ ...original[0], status: "replayed", replayed: true }, original[1]]);
    // Exactly what posting the same items again would answer for the posted one.
    const direct = (await (await http(payer.token, "/transfers/batch", { items: [items[0]] }, key())).json()).data;
    expect(direct[0]).toEqual({ ...replayed[0], index: 0 });
  });
});

describe("statements", () => {
  it("pages my ledger newest first with a cursor, filters by date and exports CSV", async () => {
    const carol = await partyWithWallet();
    await fund(carol.walletId, "50.00");
    for (let i = 0; i < 3; i++) {
      const res = await request(carol.token, "POST", "/transfers", { from_wallet_id: carol.walletId, to_wallet_id: bob.walletId, amount: "1.00" }, { "idempotency-key": key() });
      expect(res.status).toBe(201);
    }
    // 1 funding entry + 3 × (principal + fee) = 7 entries
    const page1 = await (await request(carol.token, "GET", `/${carol.walletId}/ledger?limit=4`)).json();
    expect(page1.data).toHaveLength(4);
    expect(page1.next_cursor).toMatch(/^[0-9]+$/);
    const page2 = await (await request(carol.token, "GET", `/${carol.walletId}/ledger?limit=4&cursor=${page1.next_cursor}`)).json();
    expect(page2.data).toHaveLength(3);
    expect(page2.next_cursor).toBeNull();
    const all = [...page1.data, ...page2.data];
    expect(new Set(all.map((e: { id: string }) => e.id)).size).toBe(7);
    expect(all[0].balance_after).toBe("44.0000");
    expect(all.at(-1)).toMatchObject({ direction: "credit", amount: "50.0000", kind: "funding" });

    const future = await (await request(carol.token, "GET", `/${carol.walletId}/ledger?from=2999-01-01T00:00:00Z`)).json();
    expect(future.data).toEqual([]);

    const csv = await request(carol.token, "GET", `/${carol.walletId}/ledger?format=csv`);
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const lines = (await csv.text()).trim().split("\r\n");
    expect(lines[0]).toBe("id,created_at,transaction_id,kind,leg,direction,amount,currency,balance_after,description");
    expect(lines).toHaveLength(8);
  });

  it("pages in entry-number order across digit boundaries: every entry exactly once (issue 10, item 11)", async () => {
    // Entry numbers are global, so move the sequence to just below two powers of ten and
    // post entries across each: the ids then go …98, 99, 100, 101… (in their own magnitude),
    // where a text sort puts "99" before "100" and paging repeats and drops entries.
    const dave = await partyWithWallet();
    const [{ seq }] = await admin`select pg_get_serial_sequence('public.wallet_ledger', 'id') as seq`;
    const digitLengthsCrossed = new Set<number>();
    for (let round = 0; round < 6 && digitLengthsCrossed.size < 2; round++) {
      const [{ last }] = await admin`select coalesce(pg_sequence_last_value(${seq}::regclass), 1)::text as last`;
      const boundary = 10n ** BigInt(last.length);
      // Only ever forward: entry numbers must stay unique.
      await admin`select setval(${seq}::regclass, greatest(${String(boundary - 30n)}::bigint, nextval(${seq}::regclass)))`;
      for (let i = 0; i < 55; i++) await fund(dave.walletId, "1.00");
      // Other suites take numbers at the same time; count the boundaries dave's entries really straddle.
      const ids = (await admin`select id from public.wallet_ledger where wallet_id = ${dave.walletId} order by id`)
        .map((row) => String(row.id));
      for (let i = 1; i < ids.length; i++) if (ids[i].length > ids[i - 1].length) digitLengthsCrossed.add(ids[i].length);
    }
    expect(digitLengthsCrossed.size).toBeGreaterThanOrEqual(2);
    const expected = (await admin`select id from public.wallet_ledger where wallet_id = ${dave.walletId} order by id desc`)
      .map((row) => String(row.id));
    expect(expected.length).toBeGreaterThan(100);
    for (const limit of [7, 10, 33]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await request(dave.token, "GET", `/${dave.walletId}/ledger?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
        expect(res.status).toBe(200);
        const page = await res.json();
        expect(page.data.length).toBeLessThanOrEqual(limit);
        seen.push(...page.data.map((e: { id: string }) => e.id));
        cursor = page.next_cursor;
      } while (cursor !== null && seen.length <= expected.length);
      expect(seen, `limit ${limit}`).toEqual(expected);
    }
    const csv = (await (await request(dave.token, "GET", `/${dave.walletId}/ledger?format=csv`)).text()).trim().split("\r\n");
    expect(csv.slice(1).map((line) => line.split(",")[0])).toEqual(expected);
  });

  it("hides other users' statements and rejects bad parameters", async () => {
    const other = await request(bob.token, "GET", `/${alice.walletId}/ledger`);
    expect(other.status).toBe(404);
    expect((await request(alice.token, "GET", `/not-a-uuid/ledger`)).status).toBe(400);
    expect((await request(alice.token, "GET", `/${alice.walletId}/ledger?limit=100000`)).status).toBe(400);
    expect((await request(alice.token, "GET", `/${alice.walletId}/ledger?cursor=abc`)).status).toBe(400);
  });
});

describe("batch transfers", () => {
  it("posts each item once with its own result; failures stand alone", async () => {
    const payer = await partyWithWallet("merchant");
    await fund(payer.walletId, "100.00");
    const items = [
      { ref: "payout-1", from_wallet_id: payer.walletId, to_wallet_id: bob.walletId, amount: "10.00" },
      { ref: "payout-2", from_wallet_id: payer.walletId, to_wallet_id: alice.walletId, amount: "1000.00" },
      { ref: "payout-3", from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "1.00" },
      { ref: "payout-4", from_wallet_id: payer.walletId, to_wallet_id: crypto.randomUUID(), amount: "1.00" },
      { ref: "payout-5", from_wallet_id: payer.walletId, to_wallet_id: duka.walletId, amount: "20.00" },
    ];
    const k = key();
    const res = await request(payer.token, "POST", "/transfers/batch", { items }, { "idempotency-key": k });
    expect(res.status, await res.clone().text()).toBe(200);
    const { data } = await res.json();
    expect(data.map((r: { ref: string; status: string; error?: string }) => [r.ref, r.status, r.error ?? null])).toEqual([
      ["payout-1", "posted", null],
      ["payout-2", "failed", "insufficient_funds"],
      ["payout-3", "failed", "wallet_not_found"],
      ["payout-4", "failed", "wallet_not_found"],
      ["payout-5", "posted", null],
    ]);
    expect(data[4]).toMatchObject({ transaction_type: "merchant_payment", fee_payer: "receiver" });
    // payer (a merchant) pays 10.00 + P2P fee 1.00 and 20.00 to another merchant (fee on the receiver)
    expect(await balanceOf(payer.walletId)).toBe("69.0000");

    const replay = await request(payer.token, "POST", "/transfers/batch", { items }, { "idempotency-key": k });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    // A new key with the same item refs posts nothing twice.
    const again = await (await request(payer.token, "POST", "/transfers/batch", { items: [items[0]] }, { "idempotency-key": key() })).json();
    expect(again.data[0]).toMatchObject({ ref: "payout-1", status: "replayed" });
    expect(await balanceOf(payer.walletId)).toBe("69.0000");
  });

  it("rejects malformed batches whole, writing nothing", async () => {
    const dup = { ref: "x", from_wallet_id: alice.walletId, to_wallet_id: bob.walletId, amount: "1.00" };
    const duplicates = await request(alice.token, "POST", "/transfers/batch", { items: [dup, dup] }, { "idempotency-key": key() });
    expect(duplicates.status).toBe(400);
    expect((await duplicates.json()).error.code).toBe("duplicate_ref");
    const empty = await request(alice.token, "POST", "/transfers/batch", { items: [] }, { "idempotency-key": key() });
    expect((await empty.json()).error.code).toBe("validation_failed");
    const numeric = await request(alice.token, "POST", "/transfers/batch", { items: [{ ...dup, amount: 1 }] }, { "idempotency-key": key() });
    expect(numeric.status).toBe(400);
  });
});

describe("transport", () => {
  it("refuses bodies over the limit with 413 and answers CORS preflights", async () => {
    const huge = JSON.stringify({ currency: "KES", padding: "x".repeat(1024 * 1024 + 10) });
    const tooBig = await request(alice.token, "POST", "", huge, { "content-length": String(huge.length) });
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error.code).toBe("payload_too_large");
    const preflight = await app.request("/wallets/transfers", {
      method: "OPTIONS",
      headers: { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization,idempotency-key" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("idempotency-key");
  });
});
