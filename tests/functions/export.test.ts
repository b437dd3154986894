// `npm run export`: a merchant's export holds their wallets, ledger entries, transactions
// and fee charges, and no row of anybody else (not the paying customer's wallet or entries,
// not another merchant's anything), with no secret column; the platform export is a pg_dump
// archive pg_restore can read.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { app } from "../../functions/wallets/app.ts";
import { expectBooksBalanced, fund, type Party, partyWithWallet } from "../helpers/money.ts";

const root = path.resolve(import.meta.dirname, "../..");
const out = mkdtempSync(path.join(os.tmpdir(), "hazina-export-"));

let customer: Party;
let merchant: Party;
let otherMerchant: Party;

async function pay(from: Party, to: Party, amount: string) {
  const res = await app.request("/wallets/transfers", {
    method: "POST",
    headers: { authorization: `Bearer ${from.token}`, "content-type": "application/json", "idempotency-key": `export-${crypto.randomUUID()}` },
    body: JSON.stringify({ from_wallet_id: from.walletId, to_wallet_id: to.walletId, amount }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

function exportScript(args: string[]) {
  const result = spawnSync(process.execPath, ["scripts/export.mjs", ...args], { cwd: root, env: process.env, encoding: "utf8" });
  expect(result.status, result.stdout + result.stderr).toBe(0);
  return result.stdout;
}

/** RFC 4180 CSV (PostgreSQL's csv format) into objects keyed by the header row. */
function readCsv(file: string): Record<string, string>[] {
  const text = readFileSync(file, "utf8");
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"', i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") (row.push(field), field = "");
    else if (ch === "\n") (row.push(field), rows.push(row), row = [], field = "");
    else field += ch;
  }
  const [header, ...data] = rows;
  return data.map((values) => Object.fromEntries(header.map((name, i) => [name, values[i]])));
}

beforeAll(async () => {
  customer = await partyWithWallet();
  merchant = await partyWithWallet("merchant");
  otherMerchant = await partyWithWallet("merchant");
  await fund(customer.walletId, "500.00");
  await pay(customer, merchant, "120.00");
  await pay(customer, merchant, "30.50");
  await pay(customer, otherMerchant, "75.00");
});

afterAll(async () => {
  rmSync(out, { recursive: true, force: true });
  await expectBooksBalanced();
});

describe("npm run export -- --merchant", () => {
  it("holds the merchant's wallets, ledger and transactions, and nobody else's rows", { timeout: 60_000 }, () => {
    const dir = path.join(out, "merchant");
    exportScript(["--merchant", merchant.userId, "--out", dir]);
    const manifest = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8"));
    expect(manifest.user_id).toBe(merchant.userId);
    expect(readFileSync(path.join(dir, "schema.sql"), "utf8")).toContain("CREATE TABLE public.wallet_ledger");

    const wallets = readCsv(path.join(dir, "wallets.csv"));
    expect(wallets.map((w) => w.id)).toEqual([merchant.walletId]);
    expect(wallets[0].user_id).toBe(merchant.userId);

    const entries = readCsv(path.join(dir, "wallet_ledger.csv"));
    expect(entries.length).toBeGreaterThanOrEqual(2); // the two payments (and the fees they bore)
    expect(entries.every((e) => e.wallet_id === merchant.walletId)).toBe(true);
    expect(entries.filter((e) => e.direction === "credit").map((e) => e.amount).sort()).toEqual(["120.0000", "30.5000"]);

    const transactions = readCsv(path.join(dir, "wallet_transactions.csv"));
    expect(new Set(transactions.map((t) => t.id))).toEqual(new Set(entries.map((e) => e.transaction_id)));
    const fees = readCsv(path.join(dir, "billing_ledger.csv"));
    expect(fees.every((f) => f.payer_user_id === merchant.userId)).toBe(true);
    expect(readCsv(path.join(dir, "auth_users.csv")).map((u) => u.id)).toEqual([merchant.userId]);
    expect(readFileSync(path.join(dir, "auth_users.csv"), "utf8")).not.toMatch(/password|secret|hash/i);

    // Nothing of the other merchant anywhere, and none of the customer's own rows.
    for (const file of readdirSync(dir)) {
      const text = readFileSync(path.join(dir, file), "utf8");
      expect(text.includes(otherMerchant.userId) || text.includes(otherMerchant.walletId), file).toBe(false);
      if (file.endsWith(".csv")) {
        for (const row of readCsv(path.join(dir, file))) {
          expect(row.user_id === customer.userId || row.wallet_id === customer.walletId, `${file}: ${JSON.stringify(row)}`).toBe(false);
        }
      }
    }
    expect(manifest.tables.wallet_ledger.rows).toBe(entries.length);
  });

  it("refuses an id that is not a UUID", () => {
    const result = spawnSync(process.execPath, ["scripts/export.mjs", "--merchant", "duka"], { cwd: root, env: process.env, encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("a UUID");
  });
});

describe("npm run export (the whole platform)", () => {
  it("writes a pg_dump archive with every table and its rows", { timeout: 120_000 }, () => {
    const file = path.join(out, "platform.dump");
    exportScript(["--out", file]);
    const listing = execFileSync("pg_restore", ["--list", file], { encoding: "utf8" });
    for (const table of ["wallets", "wallet_ledger", "wallet_transactions", "auth_users"]) {
      expect(listing).toMatch(new RegExp(`TABLE DATA public ${table} `));
    }
  });
});
