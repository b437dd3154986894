// Group commit of POST /wallets/transfers (GROUP_COMMIT, functions/wallets/transfer-group.ts,
// the group_commit migration), on an edge server of this suite's own whatever the global
// setting: concurrent requests of one edge process share one database transaction, each
// keeping its own answer, its own Idempotency-Key record and its own caller checks
// (decided in the database per item), and one failing item never fails the others; a lone
// request does not wait for the window.
// "One transaction" is read from the rows: every row version carries the id of the
// transaction that wrote it (xmin).
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GroupCommitter } from "../../functions/_shared/group-commit.ts";
import { admin } from "../helpers/db.ts";
import { type EdgeServer, startEdgeServer } from "../helpers/edge-server.ts";
import { TEST_JWT_SECRET } from "../helpers/env.ts";
import { toUnits } from "../helpers/decimal.ts";
import {
  balanceOf,
  expectBalancesFromAnswers,
  expectBooksBalanced,
  fund,
  type Party,
  partyWithWallet,
  type PostedTransfer,
} from "../helpers/money.ts";
import { type Json, requestInit } from "../helpers/request.ts";

// A long window, so that requests sent together while a group is held in the database
// certainly gather in the next group, and so that a lone request waiting for it would show.
const WINDOW_MS = 400;
let edge: EdgeServer;

beforeAll(async () => {
  edge = await startEdgeServer({
    GROUP_COMMIT: "true",
    GROUP_COMMIT_WINDOW_MS: String(WINDOW_MS),
    GROUP_COMMIT_MAX_ITEMS: "64",
    LOG_LEVEL: "debug", // the edge logs the size of every group it sends
  });
}, 60_000);
afterAll(async () => {
  await edge?.close();
});

interface Sent {
  status: number;
  body: Json;
  replayed: boolean;
}

async function transfer(
  from: Party,
  to: Party,
  amount: string,
  key = `gc-${crypto.randomUUID()}`,
  opts: { token?: string; fromWallet?: string } = {},
): Promise<Sent> {
  const res = await fetch(
    `${edge.baseUrl}/functions/v1/wallets/transfers`,
    requestInit("POST", opts.token ?? from.token, {
      from_wallet_id: opts.fromWallet ?? from.walletId,
      to_wallet_id: to.walletId,
      amount,
    }, { "idempotency-key": key }),
  );
  return {
    status: res.status,
    body: await res.json(),
    replayed: res.headers.get("idempotent-replayed") === "true",
  };
}

/** The transaction id that wrote the ledger transaction posted under `key` by `owner`. */
async function postingXid(owner: string, key: string): Promise<string | undefined> {
  const [row] = await admin`select xmin::text as xid from public.wallet_transactions
                             where ref = ${`transfer:${owner}:${key}`}`;
  return row?.xid;
}

async function keyRecord(owner: string, key: string) {
  const [row] = await admin`select xmin::text as xid, status, response_status
                              from public.payment_idempotency where idempotency_key = ${owner + "/" + key}`;
  return row as { xid: string; status: string; response_status: number } | undefined;
}

/**
 * Hold `party`'s wallet row locked while `during` runs: a transfer from it is then stuck in
 * the database, so its group stays in flight and the requests sent meanwhile gather in the
 * next group.
 */
async function whileHeld<T>(party: Party, payee: Party, during: () => Promise<T>): Promise<T> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = admin.begin(async (tx) => {
    await tx`select 1 from public.wallets where id = ${party.walletId} for update`;
    locked();
    await released;
  });
  await isLocked;
  const stuck = transfer(party, payee, "1.00");
  try {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const [{ waiting }] = await admin`
        select count(*)::int as waiting from pg_stat_activity
         where application_name = 'hazina-edge' and wait_event_type = 'Lock'
           and query like '%hazina.transfer_group(%'`;
      if (waiting > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return await during();
  } finally {
    release();
    await holder;
    expect((await stuck).status).toBe(201);
  }
}

/** The sizes of the groups the edge sent so far, from its debug log. */
function groupSizes(): number[] {
  return [...edge.output().matchAll(/"msg":"group commit: a group leaves","items":([0-9]+)/g)].map((m) => Number(m[1]));
}

/** A token for `userId` naming a login (session family), as the auth service issues them. */
async function tokenWithSession(userId: string, sessionId: string): Promise<string> {
  return await new SignJWT({ role: "authenticated", app_metadata: { role: "customer" }, session_id: sessionId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setAudience("authenticated")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(process.env.JWT_SECRET ?? TEST_JWT_SECRET));
}

describe("group commit of concurrent transfers", () => {
  it("coalesces concurrent requests into fewer transactions, each with its own result and key record", async () => {
    const payers = await Promise.all(Array.from({ length: 12 }, () => partyWithWallet()));
    const payees = await Promise.all(Array.from({ length: 12 }, () => partyWithWallet()));
    await Promise.all(payers.map((p) => fund(p.walletId, "100.00")));
    const keys = payers.map(() => `gc-${crypto.randomUUID()}`);
    const sent = await Promise.all(payers.map((p, i) => transfer(p, payees[i], `${i + 1}.00`, keys[i])));
    const xids = new Set<string>();
    for (const [i, s] of sent.entries()) {
      expect(s.status, JSON.stringify(s.body)).toBe(201);
      expect(s.body).toMatchObject({
        ref: keys[i],
        from_wallet_id: payers[i].walletId,
        to_wallet_id: payees[i].walletId,
        amount: `${i + 1}.0000`,
        replayed: false,
      });
      const xid = (await postingXid(payers[i].userId, keys[i]))!;
      const record = (await keyRecord(payers[i].userId, keys[i]))!;
      expect(record).toMatchObject({ status: "completed", response_status: 201 });
      expect(record.xid, "the key record commits with its posting").toBe(xid);
      // Each request's own caller: created_by and initiated_by are its user, not a neighbour's.
      const [t] = await admin`select created_by::text, metadata ->> 'initiated_by' as initiated_by
                                from public.wallet_transactions where ref = ${`transfer:${payers[i].userId}:${keys[i]}`}`;
      expect(t).toEqual({ created_by: payers[i].userId, initiated_by: payers[i].userId });
      xids.add(xid);
    }
    // The first request goes alone; those that came while it was in the database go together
    // (every posting here goes set-based, in the group's own transaction, so with its key record).
    expect(xids.size, "transactions for 12 concurrent transfers").toBeLessThan(12);
    expect(xids.size).toBeLessThanOrEqual(4);
    await expectBooksBalanced();
  });

  it("one failing item fails alone, with its own error, in the same transaction as the others", { timeout: 60_000 }, async () => {
    const blocker = await partyWithWallet();
    const blockerPayee = await partyWithWallet();
    await fund(blocker.walletId, "10.00");
    const payee = await partyWithWallet();
    const ok1 = await partyWithWallet();
    const ok2 = await partyWithWallet();
    const poor = await partyWithWallet();
    const thief = await partyWithWallet();
    const revoked = await partyWithWallet();
    const disabled = await partyWithWallet();
    const twice = await partyWithWallet();
    const reuser = await partyWithWallet();
    for (const p of [ok1, ok2, revoked, disabled, twice, reuser]) await fund(p.walletId, "100.00");
    await fund(poor.walletId, "5.00");

    // A login that has since been revoked (logged out), and a user disabled since their token was issued.
    const family = crypto.randomUUID();
    await admin`insert into public.auth_sessions (user_id, refresh_token_hash, family_id, expires_at, revoked_at, revoked_reason)
                values (${revoked.userId}, ${"gc-" + crypto.randomUUID()}, ${family}, now() + interval '1 day', now(), 'logout')`;
    const revokedToken = await tokenWithSession(revoked.userId, family);
    await admin`update public.auth_users set status = 'disabled' where id = ${disabled.userId}`;

    // A key already used (and completed) before: same request → its stored response; another → 422.
    const usedKey = `gc-${crypto.randomUUID()}`;
    expect((await transfer(reuser, payee, "3.00", usedKey)).status).toBe(201);

    const k = (label: string) => `gc-${label}-${crypto.randomUUID()}`;
    const keys = {
      ok1: k("ok1"), ok2: k("ok2"), poor: k("poor"), thief: k("thief"), revoked: k("revoked"),
      disabled: k("disabled"), twice: k("twice"),
    };
    const results = await whileHeld(blocker, blockerPayee, () =>
      Promise.all([
        transfer(ok1, payee, "10.00", keys.ok1),
        transfer(poor, payee, "50.00", keys.poor),
        transfer(thief, payee, "1.00", keys.thief, { fromWallet: ok1.walletId }),
        transfer(revoked, payee, "1.00", keys.revoked, { token: revokedToken }),
        transfer(disabled, payee, "1.00", keys.disabled),
        transfer(twice, payee, "2.00", keys.twice),
        transfer(twice, payee, "2.00", keys.twice),
        transfer(reuser, payee, "3.00", usedKey),
        transfer(reuser, payee, "4.00", usedKey),
        transfer(ok2, payee, "20.00", keys.ok2),
      ]));
    const [rOk1, rPoor, rThief, rRevoked, rDisabled, rTwiceA, rTwiceB, rReplay, rReused, rOk2] = results;

    expect(rOk1.status, JSON.stringify(rOk1.body)).toBe(201);
    expect(rOk2.status, JSON.stringify(rOk2.body)).toBe(201);
    expect(rPoor.status).toBe(409);
    expect(rPoor.body.error.code).toBe("insufficient_funds");
    expect(rThief.status).toBe(404);
    expect(rThief.body.error).toMatchObject({ code: "wallet_not_found", details: { wallet_id: ok1.walletId } });
    expect(rRevoked.status).toBe(401);
    expect(rRevoked.body.error).toMatchObject({ code: "unauthenticated", details: { reason: "session_revoked" } });
    expect(rDisabled.status).toBe(403);
    expect(rDisabled.body.error.code).toBe("account_disabled");
    // The same key twice in one group: one posts, the other is the concurrent duplicate.
    expect([rTwiceA.status, rTwiceB.status].sort()).toEqual([201, 409]);
    expect([rTwiceA, rTwiceB].find((r) => r.status === 409)!.body.error.code).toBe("idempotency_key_in_use");
    expect(rReplay).toMatchObject({ status: 201, replayed: true });
    expect(rReplay.body.replayed).toBe(true);
    expect(rReused.status).toBe(422);
    expect(rReused.body.error.code).toBe("idempotency_key_reused");

    // The ten requests went as one group, and one transaction stored every answer of it
    // (hazina.idempotency_complete_group: the records' completed versions share one xid;
    // the postings, here item by item since one item cannot pay, are subtransactions of it).
    expect(groupSizes()).toContain(10);
    const xid = (await keyRecord(ok1.userId, keys.ok1))!.xid;
    for (const [owner, key, status] of [
      [ok1.userId, keys.ok1, 201], [ok2.userId, keys.ok2, 201], [poor.userId, keys.poor, 409],
      [thief.userId, keys.thief, 404], [revoked.userId, keys.revoked, 401],
      [disabled.userId, keys.disabled, 403], [twice.userId, keys.twice, 201],
    ] as const) {
      expect(await keyRecord(owner, key), key).toMatchObject({ xid, status: "completed", response_status: status });
    }
    for (const [owner, key] of [[ok1.userId, keys.ok1], [ok2.userId, keys.ok2], [twice.userId, keys.twice]] as const) {
      expect(await postingXid(owner, key), key).toBeDefined();
    }
    // Nothing of a refused item was posted.
    for (const [owner, key] of [[poor.userId, keys.poor], [thief.userId, keys.thief],
      [revoked.userId, keys.revoked], [disabled.userId, keys.disabled]] as const) {
      expect(await postingXid(owner, key), key).toBeUndefined();
    }
    const [{ n }] = await admin`select count(*)::int as n from public.wallet_transactions
                                  where ref = ${`transfer:${reuser.userId}:${usedKey}`}`;
    expect(n).toBe(1);

    // Each stored refusal replays as itself.
    const again = await transfer(poor, payee, "50.00", keys.poor);
    expect(again).toMatchObject({ status: 409, replayed: true });
    expect(again.body.error.code).toBe("insufficient_funds");
    const thiefAgain = await transfer(thief, payee, "1.00", keys.thief, { fromWallet: ok1.walletId });
    expect(thiefAgain).toMatchObject({ status: 404, replayed: true });
    await expectBooksBalanced();
  });

  it("a group that fails as a whole (at COMMIT) reruns every request alone: the others post once, the poisoned one gets a 500 with its key released", { timeout: 60_000 }, async () => {
    const blocker = await partyWithWallet();
    const blockerPayee = await partyWithWallet();
    await fund(blocker.walletId, "10.00");
    const payee = await partyWithWallet();
    const payers = await Promise.all(Array.from({ length: 5 }, () => partyWithWallet()));
    const poisoned = await partyWithWallet();
    const poor = await partyWithWallet();
    for (const p of [...payers, poisoned]) await fund(p.walletId, "100.00");
    await fund(poor.walletId, "5.00");
    const wallets = [...payers, poisoned, poor, payee].map((p) => p.walletId);
    const start = new Map<string, bigint>();
    for (const w of wallets) start.set(w, toUnits(await balanceOf(w)));
    const keys = payers.map((_, i) => `gc-fallback-${i}-${crypto.randomUUID()}`);
    const poisonKey = `gc-poison-${crypto.randomUUID()}`;
    const poorKey = `gc-poor-${crypto.randomUUID()}`;
    const poisonRef = `transfer:${poisoned.userId}:${poisonKey}`;
    const warnings = () => edge.output().split("group commit: the group failed as a whole").length - 1;
    const warningsBefore = warnings();
    const sizesBefore = groupSizes().length;

    // A deferred constraint trigger that fails the COMMIT of any transaction that posted the
    // poisoned transfer: its group's transaction fails as a whole, after every item of it
    // succeeded (no per-item savepoint can catch it), and so does the poisoned one alone.
    // Names and the ref are uuids and fixed text: nothing of them needs quoting.
    const tag = `gc_poison_${crypto.randomUUID().replaceAll("-", "")}`;
    await admin.unsafe(`
      create function public.${tag}() returns trigger language plpgsql set search_path = '' as $f$
      begin
        if new.ref = '${poisonRef}' then
          raise exception 'group commit test: the poisoned transfer fails at commit';
        end if;
        return null;
      end $f$`);
    let results: Sent[];
    try {
      await admin.unsafe(`
        create constraint trigger ${tag} after insert on public.wallet_transactions
          deferrable initially deferred for each row execute function public.${tag}()`);
      results = await whileHeld(blocker, blockerPayee, () =>
        Promise.all([
          ...payers.map((p, i) => transfer(p, payee, `${i + 1}.25`, keys[i])),
          transfer(poisoned, payee, "7.00", poisonKey),
          transfer(poor, payee, "50.00", poorKey),
        ]));

      // They went as one group, the group failed as a whole, and each request ran again alone.
      expect(groupSizes().slice(sizesBefore), "the group of 7").toContain(7);
      expect(warnings() - warningsBefore, "the group failed as a whole").toBeGreaterThanOrEqual(1);

      const posted: PostedTransfer[] = [];
      for (const [i, r] of results.slice(0, payers.length).entries()) {
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        expect(r.body).toMatchObject({
          ref: keys[i],
          from_wallet_id: payers[i].walletId,
          to_wallet_id: payee.walletId,
          amount: `${i + 1}.2500`,
          replayed: false,
        });
        posted.push(r.body as unknown as PostedTransfer);
        const [{ n }] = await admin`select count(*)::int as n from public.wallet_transactions
                                      where ref = ${`transfer:${payers[i].userId}:${keys[i]}`}`;
        expect(n, `${keys[i]} posted exactly once`).toBe(1);
        const xid = (await postingXid(payers[i].userId, keys[i]))!;
        expect(await keyRecord(payers[i].userId, keys[i]), "alone: the key record commits with its posting")
          .toMatchObject({ xid, status: "completed", response_status: 201 });
      }
      // Alone, each posting is its own transaction (none of them is the failed group's).
      const xids = await Promise.all(payers.map((p, i) => postingXid(p.userId, keys[i])));
      expect(new Set(xids).size).toBe(payers.length);

      const rPoison = results[payers.length];
      expect(rPoison.status, JSON.stringify(rPoison.body)).toBe(500);
      expect(rPoison.body.error.code).toBe("internal_error");
      expect(await postingXid(poisoned.userId, poisonKey), "nothing of the poisoned transfer was kept").toBeUndefined();
      expect(await keyRecord(poisoned.userId, poisonKey), "its key is released").toBeUndefined();

      const rPoor = results[payers.length + 1];
      expect(rPoor.status).toBe(409);
      expect(rPoor.body.error.code).toBe("insufficient_funds");
      expect(await keyRecord(poor.userId, poorKey)).toMatchObject({ status: "completed", response_status: 409 });

      // To the cent: only the five postings moved money (the poisoned and the poor ones did not).
      await expectBalancesFromAnswers(start, posted);

      // Every key replays what it answered.
      for (const [i, p] of payers.entries()) {
        const again = await transfer(p, payee, `${i + 1}.25`, keys[i]);
        expect(again).toMatchObject({ status: 201, replayed: true });
        expect(again.body).toEqual({ ...results[i].body, replayed: true });
      }
      const poorAgain = await transfer(poor, payee, "50.00", poorKey);
      expect(poorAgain).toMatchObject({ status: 409, replayed: true });
    } finally {
      await admin.unsafe(`drop trigger if exists ${tag} on public.wallet_transactions`);
      await admin.unsafe(`drop function if exists public.${tag}()`);
    }

    // Once the poison is gone, a retry under the same key posts, once.
    const retry = await transfer(poisoned, payee, "7.00", poisonKey);
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(retry.body).toMatchObject({ ref: poisonKey, amount: "7.0000", replayed: false });
    const [{ n }] = await admin`select count(*)::int as n from public.wallet_transactions where ref = ${poisonRef}`;
    expect(n).toBe(1);
    expect(await transfer(poisoned, payee, "7.00", poisonKey)).toMatchObject({ status: 201, replayed: true });
    const [{ double }] = await admin`
      select count(*)::int as double from (select ref from public.wallet_transactions
        where ref = any(${[...payers.map((p, i) => `transfer:${p.userId}:${keys[i]}`), poisonRef]})
        group by ref having count(*) > 1) d`;
    expect(double, "nothing posted twice").toBe(0);
    await expectBalancesFromAnswers(start, [...results!.slice(0, payers.length).map((r) => r.body as unknown as PostedTransfer), retry.body as unknown as PostedTransfer]);
    await expectBooksBalanced();
  });

  it("answers like a request alone would (same body, same stored response)", async () => {
    const payer = await partyWithWallet();
    const merchant = await partyWithWallet("merchant");
    await fund(payer.walletId, "100.00");
    const key = `gc-${crypto.randomUUID()}`;
    const sent = await transfer(payer, merchant, "12.50", key);
    expect(sent.status).toBe(201);
    const [row] = await admin`select hazina.transfer_result(id, false) || jsonb_build_object('ref', ${key}::text) as expected
                                from public.wallet_transactions where ref = ${`transfer:${payer.userId}:${key}`}`;
    expect(sent.body).toEqual(row.expected);
    expect(sent.body.transaction_type).toBe("merchant_payment");
    const replay = await transfer(payer, merchant, "12.50", key);
    expect(replay.replayed).toBe(true);
    expect(replay.body).toEqual({ ...sent.body, replayed: true });
  });

  it("does not delay a lone request by the window", async () => {
    const payer = await partyWithWallet();
    const payee = await partyWithWallet();
    await fund(payer.walletId, "100.00");
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      const sent = await transfer(payer, payee, "1.00");
      times.push(performance.now() - started);
      expect(sent.status).toBe(201);
    }
    times.sort((a, b) => a - b);
    // Waiting for the window would take at least WINDOW_MS every time.
    expect(times[3], `median of ${times.map(Math.round).join(", ")} ms`).toBeLessThan(WINDOW_MS / 2);
  });
});

// The batching rule itself (functions/_shared/group-commit.ts), with a fake database call
// whose groups the test completes by hand.
describe("GroupCommitter (adaptive batching)", () => {
  function fakeRun() {
    const groups: { items: number[]; done: () => void; fail: (err: Error) => void }[] = [];
    const run = (items: number[]) =>
      new Promise<number[]>((resolve, reject) => {
        groups.push({ items, done: () => resolve(items.map((i) => i * 10)), fail: reject });
      });
    return { groups, run };
  }
  const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

  it("sends a lone request at once, and those arriving meanwhile as the next group when it is done", async () => {
    const { groups, run } = fakeRun();
    const committer = new GroupCommitter(run, { windowMs: 10_000, maxItems: 100 });
    const first = committer.submit(1);
    expect(groups.map((g) => g.items), "no waiting when nothing is in flight").toEqual([[1]]);
    const later = [committer.submit(2), committer.submit(3), committer.submit(4)];
    await tick();
    expect(groups.length, "they wait while the first group is in the database").toBe(1);
    groups[0].done();
    expect(await first).toBe(10);
    await tick();
    expect(groups.map((g) => g.items)).toEqual([[1], [2, 3, 4]]);
    groups[1].done();
    expect(await Promise.all(later), "each its own result").toEqual([20, 30, 40]);
    expect(committer.stats).toEqual({ groups: 2, items: 4, largest: 3 });
  });

  it("sends the next group after the window even while one is still in flight", async () => {
    const { groups, run } = fakeRun();
    const committer = new GroupCommitter(run, { windowMs: 30, maxItems: 100 });
    void committer.submit(1);
    const a = committer.submit(2);
    const b = committer.submit(3);
    await tick(80);
    expect(groups.map((g) => g.items)).toEqual([[1], [2, 3]]);
    groups[1].done();
    expect(await Promise.all([a, b])).toEqual([20, 30]);
    groups[0].done();
  });

  it("sends a full group at once (maxItems), and one group's failure is only its own", async () => {
    const { groups, run } = fakeRun();
    const committer = new GroupCommitter(run, { windowMs: 10_000, maxItems: 2 });
    const first = committer.submit(1);
    const second = [committer.submit(2), committer.submit(3)];
    expect(groups.map((g) => g.items), "full: no wait for the window").toEqual([[1], [2, 3]]);
    groups[1].fail(new Error("lost connection"));
    await expect(second[0]).rejects.toThrow("lost connection");
    await expect(second[1]).rejects.toThrow("lost connection");
    groups[0].done();
    expect(await first).toBe(10);
  });
});
