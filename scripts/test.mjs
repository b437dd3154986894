// `npm test`: throwaway database → migrations → pgTAP → vitest → deno check + lint → drop.
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

const serverUrl = process.env.DATABASE_URL ?? localServerUrl;
// TEST_ONLY=word runs only the pgTAP files and vitest suites whose names contain `word`
// (handy while working on one feature; CI always runs everything).
const only = process.env.TEST_ONLY;
const testDb = `hazina_test_${Date.now()}_${process.pid}`;
const testUrl = withDatabase(serverUrl, testDb);
const admin = postgres(withDatabase(serverUrl, "postgres"), { max: 1, onnotice: () => {} });

const results = [];
async function step(name, fn) {
  console.log(`\n=== ${name}`);
  const ok = await fn();
  results.push({ name, ok });
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
    const code = await run(bin("vitest"), ["run", ...(only ? [only, "--passWithNoTests"] : [])], {
      cwd: root,
      // DATABASE_URL is the owner's (fixtures, assertions); the edge, in-process and as the
      // real Deno server, connects as authenticator, exactly as it does in production.
      env: {
        ...process.env,
        DATABASE_URL: testUrl,
        EDGE_DATABASE_URL: edgeDatabaseUrl(testUrl),
        TEST_SERVER_URL: serverUrl,
      },
    });
    return code === 0;
  });

  await step("deno check + lint (functions/)", async () => {
    const deno = bin("deno");
    const check = await run(deno, ["check", "functions/", "scripts/serve.ts", "scripts/jobs.ts"], {
      cwd: root,
    });
    const lint = await run(deno, ["lint"], { cwd: root });
    return check === 0 && lint === 0;
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
