// The edge's vocabularies (functions/_shared/vocabulary.ts) are the database's, value for
// value: a provider added to the domain, or a transaction type added as a row, without the
// TypeScript list (or the other way round) fails here instead of at a customer's request.
import { describe, expect, it } from "vitest";
import { admin } from "../helpers/db.ts";
import { PROVIDERS, TRANSACTION_TYPES } from "../../functions/_shared/vocabulary.ts";

/** The values a text domain's CHECK (value in (...)) allows, read from the catalog. */
async function domainValues(domain: string): Promise<string[]> {
  const rows = await admin`
    select (regexp_matches(pg_get_constraintdef(c.oid), '''([^'']+)''', 'g'))[1] as value
      from pg_constraint c where c.contypid = ${domain}::regtype`;
  return rows.map((r) => r.value as string).sort();
}

describe("shared vocabularies", () => {
  it("PROVIDERS are the values of the payment_provider domain", async () => {
    expect(await domainValues("public.payment_provider")).toEqual([...PROVIDERS].sort());
    // and the domain accepts each of them (the parse above read the right constraint)
    for (const name of PROVIDERS) {
      const [row] = await admin`select ${name}::public.payment_provider as name`;
      expect(row.name).toBe(name);
    }
  });

  it("every provider has a clearing wallet in every currency, and every clearing wallet a provider", async () => {
    const clearingCodes = (await domainValues("public.system_wallet_code")).filter((c) => c.endsWith("_clearing"));
    expect(clearingCodes).toEqual(PROVIDERS.map((p) => `${p}_clearing`).sort());
    const missing = await admin`
      select c.code as currency, p as provider from public.currencies c cross join unnest(${[...PROVIDERS]}::text[]) p
       where hazina.system_wallet(p || '_clearing', c.code) is null`;
    expect(missing).toEqual([]);
  });

  it("TRANSACTION_TYPES are the rows of public.transaction_types", async () => {
    const rows = await admin`select code from public.transaction_types order by code`;
    expect(rows.map((r) => r.code)).toEqual([...TRANSACTION_TYPES].sort());
  });
});
