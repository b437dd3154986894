// Behind a transaction-mode pooler (Supabase's, pgbouncer pool_mode=transaction) a client's
// consecutive transactions run on whichever server connection is free, and a server
// connection carries whatever session state the previous client left. So the edge keeps all
// of its state transaction-local (set_config(..., true) inside db().begin) and names no
// prepared statements (DB_PREPARE=false). `npm test` runs this file and the auth, wallets,
// concurrency and money-movement suites a second time through a real pgbouncer; the
// source check below runs in both passes.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import postgres from "postgres";
import { describe, expect, inject, it } from "vitest";
import { app } from "../../functions/health/app.ts";

const root = path.resolve(import.meta.dirname, "../..");
const adminUrl = process.env.HAZINA_TEST_POOLER_ADMIN_URL;
const probeUrl = process.env.HAZINA_TEST_POOLER_PROBE_URL;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(path.join(dir, entry.name)) : entry.name.endsWith(".ts") ? [path.join(dir, entry.name)] : []);
}

/** Every `set_config(...)` call in `text`, parentheses balanced. */
function setConfigCalls(text: string): string[] {
  const calls: string[] = [];
  for (let start = text.indexOf("set_config("); start >= 0; start = text.indexOf("set_config(", start + 1)) {
    let depth = 0;
    for (let i = start + "set_config".length; i < text.length; i++) {
      if (text[i] === "(") depth++;
      else if (text[i] === ")" && --depth === 0) {
        calls.push(text.slice(start, i + 1));
        break;
      }
    }
  }
  return calls;
}

describe("session state in the edge", () => {
  it("is only ever transaction-local: every set_config is local, no SET, LISTEN or session advisory lock", () => {
    for (const file of sourceFiles(path.join(root, "functions"))) {
      const text = readFileSync(file, "utf8");
      for (const call of setConfigCalls(text)) {
        expect(call, `${path.relative(root, file)}: ${call}`).toMatch(/,\s*true\s*\)$/);
      }
      expect(text, path.relative(root, file)).not.toMatch(/[`'"]\s*(set|reset)\s+(session\s+)?[a-z_.]+\s*(=|to)\b/i);
      expect(text, path.relative(root, file)).not.toMatch(/\b(listen|unlisten)\s+[a-z_]+|pg_advisory_lock\(|\.listen\(/i);
    }
  });
});

describe.skipIf(!adminUrl)("through pgbouncer in transaction mode", () => {
  /** Rows of a pgbouncer console command, as objects keyed by column name. */
  function show(command: string): Record<string, string>[] {
    const [header, ...rows] = execFileSync("psql", [adminUrl!, "-AX", "-F", "\t", "-c", command], { encoding: "utf8" })
      .trim().split("\n").slice(0, -1).map((line) => line.split("\t")); // the last line counts the rows
    return rows.map((values) => Object.fromEntries(header.map((name, i) => [name, values[i]])));
  }

  it("is where the edge connects, pooling per transaction, with unnamed statements", () => {
    expect(new URL(process.env.EDGE_DATABASE_URL!).port).toBe(new URL(adminUrl!).port);
    expect(show("show config").find((row) => row.key === "pool_mode")?.value).toBe("transaction");
    expect(process.env.DB_PREPARE).toBe("false");
  });

  it("serves requests in-process and through the real Deno server", async () => {
    expect((await app.request("/health")).status).toBe(200);
    expect((await fetch(`${inject("edgeBaseUrl")}/functions/v1/health`)).status).toBe(200);
    const database = new URL(process.env.EDGE_DATABASE_URL!).pathname.slice(1);
    const stats = show("show stats").find((row) => row.database === database);
    expect(Number(stats?.total_xact_count)).toBeGreaterThan(0);
  });

  it("hands one client's session state to another client: why the edge keeps none", async () => {
    // Two server connections in this pool; A leaves session state behind, then B opens
    // transactions until one lands on A's old server connection (at most two).
    const a = postgres(probeUrl!, { max: 1, prepare: false, onnotice: () => {} });
    const b = postgres(probeUrl!, { max: 2, prepare: false, onnotice: () => {} });
    try {
      await a`select set_config('hazina.left_behind', 'by A', false)`;
      // The edge's way: transaction-local, gone at commit.
      await a.begin((tx) => tx`select set_config('request.jwt.claims', '{"sub":"A"}', true)`);
      const seen: (string | null)[] = [];
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const opened: Promise<unknown>[] = [];
      for (let i = 0; i < 2 && !seen.includes("by A"); i++) {
        let ready!: () => void;
        const looked = new Promise<void>((resolve) => (ready = resolve));
        opened.push(b.begin(async (tx) => {
          const [row] = await tx`select current_setting('hazina.left_behind', true) as left, current_setting('request.jwt.claims', true) as claims`;
          seen.push(row.left);
          expect(row.claims ?? "").toBe(""); // transaction-local state never leaks
          ready();
          await held; // keep this server connection busy so the next one is the other
        }));
        await looked;
      }
      release();
      await Promise.all(opened);
      expect(seen).toContain("by A"); // session state leaked across clients
    } finally {
      await a.end();
      await b.end();
    }
  });
});
