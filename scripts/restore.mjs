// `npm run restore -- --to "<timestamp>"`: point-in-time restore of the embedded cluster
// into a NEW data folder (never over the live one): pgBackRest picks the last backup before
// the time, and the restored cluster replays archived WAL up to it, then opens read-write
// on a new timeline. `--to latest` replays everything archived. `--verify` starts the
// restored cluster once on a spare port and checks the books (a restore drill).
//
//   npm run restore -- --to "2026-12-01 14:05:00+03" [--target-dir <dir>] [--set <label>] [--verify]
import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { giveToClusterUser, isEmptyDir, LocalCluster } from "./cluster.mjs";
import { defaultDataDir } from "./lib.mjs";
import { backupLayout, listBackups, pgbackrest, runningPort } from "./pgbackrest.mjs";

const { values } = parseArgs({
  options: {
    to: { type: "string" },
    "target-dir": { type: "string" },
    set: { type: "string" },
    verify: { type: "boolean", default: false },
  },
});
const usage =
  'usage: npm run restore -- --to "<timestamp with zone, e.g. 2026-12-01 14:05:00+03>" | --to latest [--target-dir <dir>] [--set <backup label>] [--verify]';
// A time without a zone would be read in the server's time zone: refuse the ambiguity.
const withZone = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$/i;
const parses = (text) =>
  !Number.isNaN(
    Date.parse(
      text.replace(" ", "T").replace(/([+-]\d{2}):?(\d{2})?$/, (_, h, m) => `${h}:${m ?? "00"}`),
    ),
  );
if (!values.to || (values.to !== "latest" && !(withZone.test(values.to) && parses(values.to)))) {
  console.error(
    values.to
      ? `--to ${JSON.stringify(values.to)} is not a timestamp with a time zone\n${usage}`
      : usage,
  );
  process.exit(2);
}

const liveDir = defaultDataDir();
const layout = backupLayout(liveDir);
if (!existsSync(layout.confFile)) {
  console.error(
    `no pgBackRest configuration at ${layout.confFile}: nothing was ever backed up from ${liveDir} (npm start with pgBackRest installed, then npm run backup)`,
  );
  process.exit(1);
}
const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
const targetDir = path.resolve(
  values["target-dir"] ?? path.join(path.dirname(liveDir), "restores", stamp, "postgres"),
);
if (targetDir === liveDir || targetDir.startsWith(liveDir + path.sep)) {
  console.error(
    `refusing to restore into the live data folder ${liveDir}: pick another --target-dir`,
  );
  process.exit(2);
}
if (!isEmptyDir(targetDir)) {
  console.error(`${targetDir} is not empty: a restore goes into a new folder`);
  process.exit(2);
}

try {
  const started = Date.now();
  const livePort = runningPort(liveDir);
  if (livePort && values.to !== "latest") {
    await sealWal(new LocalCluster({ databaseDir: liveDir, port: livePort }));
  }
  const backups = listBackups(layout);
  if (backups.length === 0) {
    throw new Error(`the repository ${layout.repo} holds no backup yet: npm run backup`);
  }
  // pgBackRest records backup times to the second: the target must be after the first whole
  // second in which a backup had finished.
  const target = values.to === "latest" ? null : Date.parse(
    values.to.replace(" ", "T").replace(
      /([+-]\d{2}):?(\d{2})?$/,
      (_, h, m) => `${h}:${m ?? "00"}`,
    ),
  );
  if (target !== null && !values.set && !backups.some((b) => b.stop.getTime() + 1000 <= target)) {
    throw new Error(
      `no backup finished before ${values.to}: the first one (${backups[0].label}) finished at ${
        backups[0].stop.toISOString()
      }; restore to a later time, or --to latest`,
    );
  }
  giveToClusterUser(targetDir);
  pgbackrest(layout, [
    `--pg1-path=${targetDir}`,
    ...(values.to === "latest"
      ? ["--type=default"]
      : ["--type=time", `--target=${values.to}`, "--target-action=promote"]),
    ...(values.set ? [`--set=${values.set}`] : []),
    "restore",
  ]);
  console.log(
    `restored ${
      values.to === "latest" ? "everything archived" : `to ${values.to}`
    } into ${targetDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (values.verify) await verify(targetDir);
  console.log(`
Start it (on a port the live cluster does not use; it replays WAL up to the target, then opens read-write):
  HAZINA_DATA_DIR=${targetDir} EMBEDDED_PG_PORT=54339 PORT=8001 npm start
Check the books there: GET /functions/v1/ops/reconciliation, or
  psql postgres://postgres:postgres@127.0.0.1:54339/hazina -c 'select * from hazina.reconcile()'
It archives into its own repository (${
    path.join(path.dirname(targetDir), "backups")
  }); take a full backup once you switch to it.`);
} catch (err) {
  console.error(`restore failed: ${err.message}`);
  process.exit(1);
}

/**
 * Make the archive reach the present: recovery to time T stops at the first commit after T,
 * so one must be archived. Commit a transaction (one xid) and have pgBackRest switch and
 * archive the WAL segment (`check` waits until it is in the repository).
 */
async function sealWal(cluster) {
  const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
  try {
    await sql`select txid_current()`;
  } finally {
    await sql.end();
  }
  pgbackrest(layout, ["check"], { quiet: true });
}

/** Start the restored cluster on a spare port (archiving off), check the books, stop it. */
async function verify(dataDir) {
  const { freePort } = await import("./free-port.mjs");
  const cluster = new LocalCluster({
    databaseDir: dataDir,
    port: await freePort(),
    settings: { archive_mode: "off" },
  });
  await cluster.start();
  const sql = postgres(cluster.url.replace(/\/postgres$/, "/hazina"), {
    max: 1,
    onnotice: () => {},
  });
  try {
    const [{ discrepancies }] =
      await sql`select count(*)::int as discrepancies from hazina.reconcile()`;
    const unbalanced =
      await sql`select currency, total::text from hazina.trial_balance() where total <> 0`;
    const [last] =
      await sql`select count(*)::int as transactions, max(created_at) as latest from public.wallet_transactions`;
    console.log(
      `verified: ${last.transactions} transactions, the latest at ${
        last.latest?.toISOString() ?? "-"
      }; ` +
        `${discrepancies} reconciliation discrepancies; ${unbalanced.length} unbalanced currencies`,
    );
    if (discrepancies > 0 || unbalanced.length > 0) {
      throw new Error("the restored books do not reconcile");
    }
  } finally {
    await sql.end();
    await cluster.stop();
  }
}
