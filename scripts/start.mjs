// `npm start`: database (embedded PostgreSQL unless DATABASE_URL is set) → migrations →
// seeds → every edge function served by Deno on http://localhost:$PORT/functions/v1/<name>.
import postgres from "postgres";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { LocalCluster } from "./cluster.mjs";
import {
  bin,
  checkEdgeLogin,
  dbmate,
  defaultDataDir,
  edgeDatabaseUrl,
  root,
  seedsDir,
  shownUrl,
  withDatabase,
} from "./lib.mjs";
import {
  archiveSettings,
  backupLayout,
  ensureStanza,
  installHint,
  pgbackrestBinary,
  writeConfig,
} from "./pgbackrest.mjs";

const port = Number(process.env.PORT ?? 8000);
const embeddedPort = Number(process.env.EMBEDDED_PG_PORT ?? 54329);
// HAZINA_DATA_DIR moves the embedded cluster (tests use a temporary folder).
const dataDir = defaultDataDir();
// WAL archiving to pgBackRest (docs/operations.md "Backups"): on when pgBackRest is
// installed, unless HAZINA_BACKUPS=off.
const backups = process.env.HAZINA_BACKUPS !== "off" && pgbackrestBinary()
  ? backupLayout(dataDir)
  : undefined;
// A fixed development secret: tokens minted locally only. Production sets its own (and
// HAZINA_ENV=production refuses this one). Keep equal to DEV_JWT_SECRET in
// functions/_shared/config.ts (tests/functions/layout.test.ts checks).
// The demo QR code database/seeds/002_qr_codes.sql creates (its slug is fixed there).
const DEMO_QR_SLUG = "dukalamamademotillqrcodeab";
const devJwtSecret = "hazina-local-development-secret-change-me-0123456789";

// Every process npm start runs. npm start lives exactly as long as all of them: a signal
// (to it or to its process group) or the death of its parent stops them all (exit 0 for a
// signal), and any of them dying on its own stops the rest with a non-zero exit, so a
// restart-on-failure supervisor restarts the whole.
const children = [];
let stopping = false;

function watch(name, child) {
  children.push({ name, child });
  child.on("exit", (code, signal) => {
    if (stopping) return;
    // A Ctrl-C reaches the whole process group at once; let our own SIGINT handler win the
    // race before calling this a failure.
    setTimeout(() => {
      if (stopping) return;
      console.error(
        `${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`,
      );
      shutdown(code || 1);
    }, 300);
  });
  child.on("error", (err) => {
    if (stopping) return;
    console.error(`${name} could not run: ${err.message}; stopping everything`);
    shutdown(1);
  });
  return child;
}

const exited = (child) => child.exitCode !== null || child.signalCode !== null;

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  const running = children.filter(({ child }) => !exited(child) && child !== embedded?.process);
  for (const { child } of running) child.kill("SIGTERM");
  await Promise.all(running.map(({ child }) =>
    new Promise((resolve) => {
      if (exited(child)) return resolve();
      const force = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
    })
  ));
  await stopEmbedded();
  process.exit(code);
}
const stopSignals = ["SIGINT", "SIGTERM", "SIGHUP"];
const ours = new Set();
for (const signal of stopSignals) {
  const listener = () => shutdown(0);
  ours.add(listener);
  process.on(signal, listener);
}
// The parent died (a terminal closed, a supervisor killed): we were re-parented. Polling
// works on Linux and macOS alike.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) {
    console.error("npm start: parent process gone; stopping everything");
    shutdown(1);
  }
}, 500).unref();
let embedded;
/** A path fit to print: relative inside the checkout, absolute elsewhere. */
const shownPath = (p) => (p.startsWith(root + path.sep) ? path.relative(root, p) : p);
// DATABASE_URL is the owner's: migrations and seeds. The edge logs in as `authenticator`
// (EDGE_DATABASE_URL, else derived from DATABASE_URL with AUTHENTICATOR_PASSWORD).
let databaseUrl = process.env.DATABASE_URL;
let edgeUrl;

async function startEmbedded() {
  embedded = new LocalCluster({
    databaseDir: dataDir,
    port: embeddedPort,
    user: "postgres",
    password: "postgres",
    settings: backups ? archiveSettings(backups) : {},
  });
  if (!process.env.HAZINA_DATA_DIR && !dataDir.startsWith(root + path.sep)) {
    console.log(
      `the checkout is in a folder the postgres OS user cannot enter, so the embedded cluster lives in ${
        path.dirname(dataDir)
      }/ (HAZINA_DATA_DIR moves it)`,
    );
  }
  if (!embedded.initialised()) {
    console.log(`initialising embedded PostgreSQL in ${shownPath(dataDir)}/`);
    await embedded.initialise();
  }
  if (backups) writeConfig(backups, embedded);
  await embedded.start();
  if (backups) {
    ensureStanza(backups);
    console.log(
      `backups: WAL archived by pgBackRest to ${
        shownPath(backups.repo)
      }/ (stanza hazina); \`npm run backup\` takes one`,
    );
  } else {
    console.log(
      `backups: off (${process.env.HAZINA_BACKUPS === "off" ? "HAZINA_BACKUPS=off" : installHint})`,
    );
  }
  const adminUrl = `postgres://postgres:postgres@127.0.0.1:${embeddedPort}/postgres`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const [exists] = await admin`select 1 from pg_database where datname = 'hazina'`;
  if (!exists) await admin`create database hazina`;
  await admin.end();
  return withDatabase(adminUrl, "hazina");
}

/**
 * The embedded server asks every login for a password: give authenticator a fresh one at
 * each start (AUTHENTICATOR_PASSWORD when set), known only to this process and the edge.
 */
async function setEmbeddedAuthenticatorPassword(url) {
  const password = process.env.AUTHENTICATOR_PASSWORD ?? randomBytes(24).toString("hex");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`select set_config('hazina.p', ${password}, false)`;
    await sql.unsafe(
      `do $$ begin execute format('alter role authenticator password %L', current_setting('hazina.p')); end $$`,
    );
  } finally {
    await sql.end();
  }
  return edgeDatabaseUrl(url, password);
}

/** Seeds are idempotent SQL files; each is recorded so it runs once per database. */
async function loadSeeds(url) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`create table if not exists dbmate.seeds_applied (name text primary key, applied_at timestamptz not null default now())`;
    for (const file of readdirSync(seedsDir).filter((f) => f.endsWith(".sql")).sort()) {
      const [done] = await sql`select 1 from dbmate.seeds_applied where name = ${file}`;
      if (done) continue;
      await sql.begin(async (tx) => {
        await tx.unsafe(readFileSync(path.join(seedsDir, file), "utf8"));
        await tx`insert into dbmate.seeds_applied (name) values (${file})`;
      });
      console.log(`seeded ${file}`);
    }
  } finally {
    await sql.end();
  }
}

async function stopEmbedded() {
  if (embedded) {
    const instance = embedded;
    embedded = undefined;
    // stop() waits for an exit that already happened when PostgreSQL died (or got the
    // process group's signal) first.
    const postmaster = instance.process;
    if (postmaster && (postmaster.exitCode !== null || postmaster.signalCode !== null)) return;
    await instance.stop().catch(() => {});
  }
}

try {
  if (!databaseUrl) databaseUrl = await startEmbedded();
  console.log(`database: ${shownUrl(databaseUrl)}${embedded ? " (embedded)" : ""}`);
  dbmate(databaseUrl, ["--no-dump-schema", "up"]);
  await loadSeeds(databaseUrl);
  edgeUrl = process.env.EDGE_DATABASE_URL ??
    (embedded ? await setEmbeddedAuthenticatorPassword(databaseUrl) : edgeDatabaseUrl(databaseUrl));
  await checkEdgeLogin(edgeUrl);
} catch (err) {
  console.error(`startup failed: ${err.message}`);
  await stopEmbedded();
  process.exit(1);
}

if (stopping) await new Promise(() => {}); // a signal arrived during startup: shutdown() exits
if (embedded?.process) watch("PostgreSQL", embedded.process);

// The edge and the sandbox never see the owner's URL.
const env = {
  ...process.env,
  DATABASE_URL: edgeUrl,
  PORT: String(port),
  JWT_SECRET: process.env.JWT_SECRET ?? (process.env.JWT_JWKS_URL ? undefined : devJwtSecret),
};
if (!env.JWT_SECRET) delete env.JWT_SECRET;
delete env.EDGE_DATABASE_URL;
// Mail links point at the functions' own pages (unless AUTH_SITE_URL names an app), so the
// functions must know the URL they are reached at.
env.PUBLIC_FUNCTIONS_URL ??= `http://127.0.0.1:${port}/functions/v1`;
// Without SMTP nothing is delivered: mail waits in the development mailbox page instead.
const smtpConfigured = Boolean(env.SMTP_URL || env.SMTP_HOST);
const localMailbox = !smtpConfigured && env.HAZINA_ENV !== "production";
if (localMailbox) env.AUTH_DEV_MAILBOX ??= "true";
// Payment providers: the local sandbox (scripts/provider-sandbox.ts) unless PROVIDER_SANDBOX=off.
const sandboxPort = Number(process.env.PROVIDER_SANDBOX_PORT ?? 8090);
const denoRun = ["run", "--allow-net", "--allow-env", "--allow-read"];
if (process.env.PROVIDER_SANDBOX !== "off") {
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  env.MPESA_BASE_URL ??= `${sandboxUrl}/mpesa`;
  env.KCB_BASE_URL ??= `${sandboxUrl}/kcb`;
  env.DTB_BASE_URL ??= `${sandboxUrl}/dtb`;
  watch(
    "the provider sandbox",
    spawn(bin("deno"), [...denoRun, "scripts/provider-sandbox.ts"], {
      cwd: root,
      env: { ...env, PROVIDER_SANDBOX_PORT: String(sandboxPort) },
      stdio: "inherit",
    }),
  );
}
// EDGE_PROCESSES > 1 serves from several processes on one port (scripts/serve.ts); the
// default, 1, keeps the development mailbox in one place.
const edgeFlags = Number(env.EDGE_PROCESSES ?? 1) > 1 ? ["--unstable-net", "--allow-run"] : [];
watch(
  "the edge server",
  spawn(bin("deno"), [
    "run",
    "--unstable-no-legacy-abort",
    ...edgeFlags,
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "scripts/serve.ts",
  ], {
    cwd: root,
    env,
    stdio: "inherit",
  }),
);
// The job runner (scripts/jobs.ts): hold expiry, sweeps, purges; JOB_RUNNER=off leaves them
// to another runner or pg_cron.
if (process.env.JOB_RUNNER !== "off") {
  watch(
    "the job runner",
    spawn(bin("deno"), [...denoRun, "scripts/jobs.ts"], { cwd: root, env, stdio: "inherit" }),
  );
}
console.log(
  `edge functions: http://localhost:${port}/functions/v1/<name> (try /functions/v1/health); Ctrl-C stops`,
);
// The seeded QR code (database/seeds/002_qr_codes.sql): its checkout page and its image.
console.log(
  `demo checkout: ${env.PUBLIC_FUNCTIONS_URL}/checkout/${DEMO_QR_SLUG} (QR code: ${env.PUBLIC_FUNCTIONS_URL}/qr-codes/${DEMO_QR_SLUG}.png)`,
);
if (localMailbox && /^(true|1)$/.test(env.AUTH_DEV_MAILBOX)) {
  console.log(
    `mailbox: http://localhost:${port}/functions/v1/auth/dev/mailbox (mail is kept here, not delivered; set SMTP_URL to deliver)`,
  );
} else if (smtpConfigured) {
  console.log("mail: delivered through SMTP");
}
