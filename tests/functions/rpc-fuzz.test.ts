// The direct path (supabase-js `rpc()` through PostgREST) fuzzed: every public function a
// signed-in client may execute, called the way PostgREST calls it (a transaction with
// `role authenticated` and `request.jwt.claims`), as a customer, an admin and an anonymous
// client, with hostile arguments of each parameter's type. Every refusal must be a business
// error (SQLSTATE P0001, a stable code), bad input (class 22) or a denied privilege (42501):
// never an internal error, an undefined object, a unique violation or a deadlock. The
// functions are found in the catalog, so a new one is fuzzed without editing this file.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import postgres from "postgres";
import process from "node:process";
import { admin, createUser } from "../helpers/db.ts";
import { expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";
import { seeded } from "../helpers/random.ts";

const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 25);
const sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });

let customer: Party;
let other: Party;
let adminId: string;
let sourceId: string;

beforeAll(async () => {
  customer = await partyWithWallet();
  other = await partyWithWallet("merchant");
  await fund(customer.walletId, "500.00");
  adminId = await createUser("admin");
  const [source] = await admin`select (hazina.wallet_source_add(${customer.userId}::uuid, 'mpesa', '0712000999', null, null, null, true)) ->> 'id' as id`;
  sourceId = source.id;
});

afterAll(async () => {
  await sql.end();
});

describe("fuzzing the public database functions (the PostgREST path)", () => {
  it("refuse garbage only with business codes, bad-input or privilege errors", async () => {
    const { rand, pick } = seeded("rpc fuzz", "FUZZ_SEED", 100000);

    const uuids = [null, crypto.randomUUID(), "00000000-0000-0000-0000-000000000000", customer.walletId, other.walletId, sourceId, customer.userId];
    const byType: Record<string, unknown[]> = {
      uuid: uuids,
      numeric: [null, "0", "-1", "1.00", "0.00001", "10.5", "100", "1e15", "1e20", "99999999999999999999.9999", "NaN", "Infinity"],
      text: [null, "", " ", "KES", "USD", "kes", "mpesa", "kcb", "frozen", "active", "closed", "p2p_transfer", "254712345678",
             "0712345678", "1100223344", "'; drop table wallets; --", "💸", "x".repeat(2000), crypto.randomUUID()],
      "text[]": [null, "{}", "{*}", "{NULL}", "{*,invoice.paid}", "{payment_intent.*}", "{\"a b\"}", `{${"x".repeat(300)}}`],
      boolean: [null, true, false],
      integer: [null, 0, -1, 60, 86400, 2147483647],
      // (postgres.js serialises these through Date, so only values a Date can hold.)
      "timestamp with time zone": [null, "2026-12-01T00:00:00Z", "1970-01-01", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"],
      jsonb: [null, "[]", "{}", "\"x\"", "[{}]", "[1, 2]", JSON.stringify([{ ref: "r1", from_wallet_id: customer.walletId, to_wallet_id: other.walletId, amount: "1.00" }]),
              JSON.stringify([{ ref: "", from_wallet_id: "x", to_wallet_id: null, amount: "abc" }]),
              JSON.stringify([{ type: "wallet", wallet_id: customer.walletId, amount: "1.00" }]),
              JSON.stringify([{ type: "wallet", wallet_id: "x", amount: 5 }, { type: "mpesa" }, { type: null }]),
              JSON.stringify(Array.from({ length: 3 }, (_, i) => ({ ref: `r-${i}`, from_wallet_id: customer.walletId, to_wallet_id: customer.walletId, amount: "-1" })))],
    };
    const functions = await admin`
      select p.proname as name, array(select format_type(t, null) from unnest(p.proargtypes) t) as types
        from pg_proc p
       where p.pronamespace = 'public'::regnamespace and p.prokind = 'f'
         and has_function_privilege('authenticated', p.oid, 'EXECUTE') order by 1`;
    expect(functions.length).toBeGreaterThan(10);
    const rowTypes = new Set((await admin`
      select format_type(c.reltype, null) as t from pg_class c
       where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'v')`).map((r) => r.t as string));
    const ROW_VALUES = [null, "()", "(x)", "(,,,)", "not a record", `(${crypto.randomUUID()})`];

    const allowed = (code: string) => code === "P0001" || code === "42501" || code.startsWith("22");
    const surprises: string[] = [];
    let calls = 0;
    for (const fn of functions) {
      const types = fn.types as string[];
      for (const [label, sub, role] of [["customer", customer.userId, "authenticated"], ["admin", adminId, "authenticated"], ["anon", null, "anon"]] as const) {
        for (let round = 0; round < (role === "anon" ? 2 : ROUNDS); round++) {
          const args = types.map((t) => {
            // A table's row type (the money objects' shape functions take one): garbage records.
            const values = byType[t] ?? (rowTypes.has(t) ? ROW_VALUES : undefined);
            if (!values) throw new Error(`no fuzz values for parameter type ${t} of ${fn.name}`);
            return pick(values);
          });
          const call = `select public.${fn.name}(${types.map((t, i) => `$${i + 1}::${t}`).join(", ")})`;
          const claims = JSON.stringify(sub ? { sub, role } : { role });
          calls++;
          try {
            await sql.begin(async (tx) => {
              await tx`select set_config('role', ${role}, true), set_config('request.jwt.claims', ${claims}, true)`;
              await tx.unsafe(call, args as never[]);
            });
          } catch (err) {
            const code = (err as { code?: string }).code ?? "none";
            if (!allowed(code)) surprises.push(`${label} ${fn.name}(${JSON.stringify(args).slice(0, 200)}) → ${code} ${(err as Error).message}`);
          }
        }
      }
    }
    expect(calls).toBeGreaterThan(300);
    expect(surprises).toEqual([]);
    await expectBooksBalanced();
  });
});
