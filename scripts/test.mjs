// `npm test`: throwaway database → migrations → pgTAP → vitest → deno check + lint + fmt → drop.
// Uses DATABASE_URL's server when set, otherwise the local server at 127.0.0.1:5432.
import postgres from "postgres";
import { readdirSync } from "node:fs";
import path from "node:path";
import {
  bin,
  checkEdgeLogin,
  dbmate,
  edgeDatabaseUrl,
  localServerUrl,
  root,
  run,
  which,
  withDatabase,
} from "./lib.mjs";
import { pgbouncerBinary, startPgbouncer } from "./pooler.mjs";

const serverUrl = process.env.DATABASE_URL ?? localServerUrl;
// TEST_ONLY=word runs only the pgTAP files and vitest suites whose names contain `word`
// (handy while working on one feature; CI always runs everything).
const only = process.env.TEST_ONLY;
const testDb = `hazina_test_${Date.now()}_${process.pid}`;
const testUrl = withDatabase(serverUrl, testDb);
const admin = postgres(withDatabase(serverUrl, "postgres"), { max: 1, onnotice: () => {} });

// The suites that also run through a transaction-mode pgbouncer, as Supabase's edge
// functions reach Postgres through its pooler (vitest path filters).
const POOLED_SUITES = [
  "auth.test",
  "wallets.test",
  "concurrency.test",
  "money-movement.test",
  "health.test",
  "pooler.test",
];

// The suites that move hazina.clock() (tests/functions paths): they run on their own, after
// the others (see the vitest step).
const CLOCK_SUITES = ["tests/functions/installments.test.ts"];

const results = [];
async function step(name, fn) {
  console.log(`\n=== ${name}`);
  const ok = await fn();
  results.push({ name: ok === "skipped" ? `${name}: SKIPPED` : name, ok: ok !== false });
  if (!ok) console.error(`--- ${name}: FAILED`);
}

function pgTapMissingHelp() {
  console.error(
    `pgTAP is not installed on this server. Install it (and plpgsql_check, which the lint test uses) with:
  sudo apt-get install postgresql-$(pg_config --version | sed -E 's/[^0-9]*([0-9]+).*/\\1/')-pgtap pgtap postgresql-$(pg_config --version | sed -E 's/[^0-9]*([0-9]+).*/\\1/')-plpgsql-check
(Debian/Ubuntu; pg_prove comes with the 'pgtap' package), or see https://pgtap.org.`,
  );
}

let exitCode = 1;
try {
  await admin.unsafe(`create database "${testDb}"`);
  console.log(`test database: ${testDb}`);

  await step("migrations (dbmate up)", async () => {
    try {
      dbmate(testUrl, ["--no-dump-schema", "up"], { quiet: true });
      return true;
    } catch (err) {
      console.error(err.message);
      return false;
    }
  });

  await step("pgTAP (tests/database)", async () => {
    const db = postgres(testUrl, { max: 1, onnotice: () => {} });
    try {
      await db`create extension if not exists pgtap with schema extensions`;
    } catch (err) {
      console.error(err.message);
      pgTapMissingHelp();
      return false;
    } finally {
      await db.end();
    }
    const prove = which("pg_prove");
    if (!prove) {
      pgTapMissingHelp();
      return false;
    }
    const files = readdirSync(path.join(root, "tests/database"))
      .filter((f) => f.endsWith(".test.sql") && (!only || f.includes(only))).sort()
      .map((f) => path.join("tests/database", f));
    if (files.length === 0) {
      console.log("no pgTAP files selected");
      return true;
    }
    const u = new URL(testUrl);
    const code = await run(prove, [
      "--ext",
      ".sql",
      "-h",
      u.hostname,
      "-p",
      u.port || "5432",
      "-U",
      decodeURIComponent(u.username || "postgres"),
      "-d",
      testDb,
      "--set",
      "ON_ERROR_STOP=1",
      ...files,
    ], {
      cwd: root,
      env: {
        ...process.env,
        PGPASSWORD: decodeURIComponent(u.password),
        PGOPTIONS: "--search_path=public,extensions",
      },
    });
    return code === 0;
  });

  await step("vitest (tests/functions)", async () => {
    try {
      await checkEdgeLogin(edgeDatabaseUrl(testUrl));
    } catch (err) {
      console.error(err.message);
      return false;
    }
    // DATABASE_URL is the owner's (fixtures, assertions); the edge, in-process and as the
    // real Deno server, connects as authenticator, exactly as it does in production.
    const options = {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: testUrl,
        EDGE_DATABASE_URL: edgeDatabaseUrl(testUrl),
        TEST_SERVER_URL: serverUrl,
      },
    };
    // The suites that move the commerce clock (hazina.clock_travel) run after the others, one
    // at a time: the clock is one for the database, and every commerce time rule reads it
    // (intent expiry, overdue invoices, escrow auto-release, QR expiry), so a suite running
    // meanwhile would see its intents expire days early.
    const clockSuites = CLOCK_SUITES.filter((suite) => !only || suite.includes(only));
    const code = await run(bin("vitest"), [
      "run",
      ...(only ? [only, "--passWithNoTests"] : []),
      ...CLOCK_SUITES.flatMap((suite) => ["--exclude", suite]),
    ], options);
    if (clockSuites.length === 0) return code === 0;
    console.log(`\nthe suites that move the commerce clock, alone: ${clockSuites.join(", ")}`);
    const clockCode = await run(
      bin("vitest"),
      ["run", "--no-file-parallelism", ...clockSuites],
      options,
    );
    return code === 0 && clockCode === 0;
  });

  await step(
    "vitest through pgbouncer, transaction mode (auth, wallets, concurrency, money movement)",
    async () => {
      const suites = POOLED_SUITES.filter((suite) => !only || suite.includes(only));
      if (suites.length === 0) {
        console.log("no pooled suite selected");
        return true;
      }
      if (!pgbouncerBinary()) {
        const message =
          "pgbouncer is not installed, so the suites did not run through a transaction-mode pooler " +
          "(Debian/Ubuntu: apt-get install pgbouncer; macOS: brew install pgbouncer)";
        if (process.env.CI) {
          console.error(message);
          return false;
        }
        console.warn(`\n${"!".repeat(100)}\n!!! SKIPPED: ${message}\n${"!".repeat(100)}\n`);
        return "skipped";
      }
      // A database of its own: the suites use fixed provider ids, which a second run on the
      // same database would (rightly) see as duplicates.
      const pooledDb = `${testDb}_pooled`;
      const pooledUrl = withDatabase(serverUrl, pooledDb);
      let pooler;
      try {
        await admin.unsafe(`create database "${pooledDb}"`);
        dbmate(pooledUrl, ["--no-dump-schema", "up"], { quiet: true });
        pooler = await startPgbouncer({
          serverUrl: edgeDatabaseUrl(pooledUrl),
          password: process.env.AUTHENTICATOR_PASSWORD,
          // A pool of two server connections for tests/functions/pooler.test.ts alone.
          aliases: { hazina_pool_probe: { dbname: pooledDb, poolSize: 2 } },
        });
        const pooledEdgeUrl = pooler.url(pooledDb);
        await checkEdgeLogin(pooledEdgeUrl);
        console.log(
          `pgbouncer (pool_mode = transaction) on 127.0.0.1:${pooler.port} in front of ${pooledDb}; the edge runs with DB_PREPARE=false`,
        );
        const code = await run(bin("vitest"), ["run", ...suites], {
          cwd: root,
          env: {
            ...process.env,
            DATABASE_URL: pooledUrl,
            EDGE_DATABASE_URL: pooledEdgeUrl,
            TEST_SERVER_URL: serverUrl,
            DB_PREPARE: "false",
            HAZINA_TEST_POOLER_ADMIN_URL: pooler.adminUrl,
            HAZINA_TEST_POOLER_PROBE_URL: pooler.url("hazina_pool_probe"),
          },
        });
        return code === 0;
      } catch (err) {
        console.error(err.message);
        return false;
      } finally {
        await pooler?.stop();
        await admin.unsafe(`drop database if exists "${pooledDb}" with (force)`).catch((err) =>
          console.error(`could not drop ${pooledDb}: ${err.message}`)
        );
      }
    },
  );

  await step("deno check + lint + fmt (functions/, scripts/)", async () => {
    const deno = bin("deno");
    const check = await run(deno, ["check", "functions/", "scripts/serve.ts", "scripts/jobs.ts"], {
      cwd: root,
    });
    const lint = await run(deno, ["lint"], { cwd: root });
    // One format for the edge and the scripts (deno.json "fmt"); `deno fmt` fixes it.
    const fmt = await run(deno, ["fmt", "--check"], { cwd: root });
    if (fmt !== 0) console.error("formatting differs: run `node_modules/.bin/deno fmt`");
    return check === 0 && lint === 0 && fmt === 0;
  });

  const failed = results.filter((r) => !r.ok);
  console.log("\n=== summary");
  for (const r of results) console.log(`${r.ok ? "ok    " : "FAILED"} ${r.name}`);
  console.log(`${results.length - failed.length} passed, ${failed.length} failed`);
  exitCode = failed.length === 0 ? 0 : 1;
} catch (err) {
  console.error(err);
} finally {
  try {
    await admin.unsafe(`drop database if exists "${testDb}" with (force)`);
  } catch (err) {
    console.error(`could not drop ${testDb}: ${err.message}`);
  }
  await admin.end();
}
process.exit(exitCode);
