// The error catalog (functions/_shared/errors.ts) is complete: every business code the
// migrations can raise has an HTTP status and a message there, so no code answers a guessed
// status, and a code nobody catalogued is treated as our failure (500), never the caller's.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DATABASE_CODES, fromDatabaseError } from "../../functions/_shared/errors.ts";

const migrations = path.resolve(import.meta.dirname, "../../database/migrations");

/** The `-- migrate:up` half of every migration. */
function upSql(): { file: string; sql: string }[] {
  return readdirSync(migrations).filter((f) => f.endsWith(".sql")).sort()
    .map((file) => ({ file, sql: readFileSync(path.join(migrations, file), "utf8").split("-- migrate:down")[0] }));
}

describe("error catalog", () => {
  it("lists every code the migrations raise (raise_error literals and P0001 messages)", () => {
    const raised = new Map<string, string>();
    for (const { file, sql } of upSql()) {
      for (const m of sql.matchAll(/raise_error\(\s*'([a-z0-9_]+)'/g)) raised.set(m[1], file);
      for (const m of sql.matchAll(/errcode\s*=\s*'P0001'\s*,\s*message\s*=\s*'([a-z0-9_]+)'/g)) raised.set(m[1], file);
    }
    expect(raised.size).toBeGreaterThan(40);
    const missing = [...raised].filter(([code]) => !(code in DATABASE_CODES)).map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });

  it("can see every code: raise_error is only ever called with a literal code", () => {
    const dynamic: string[] = [];
    for (const { file, sql } of upSql()) {
      for (const m of sql.matchAll(/raise_error\(\s*([^'\s)][^,)]*)/g)) {
        if (!/^p_code\s+text/.test(m[1]) && m[1] !== "text") dynamic.push(`${file}: raise_error(${m[1]}`);
      }
    }
    expect(dynamic).toEqual([]);
  });

  it("answers a catalogued code with its status, and an unknown one as our failure", () => {
    expect(fromDatabaseError({ code: "P0001", message: "ledger_immutable" })).toMatchObject({ status: 403, code: "ledger_immutable" });
    expect(fromDatabaseError({ code: "P0001", message: "insufficient_funds", detail: '{"available":"1.00"}' }))
      .toMatchObject({ status: 409, code: "insufficient_funds", details: { available: "1.00" } });
    // Before the catalog was complete, an uncatalogued code answered 400 with its own name.
    expect(fromDatabaseError({ code: "P0001", message: "some_code_nobody_catalogued" })).toBeUndefined();
  });
});
