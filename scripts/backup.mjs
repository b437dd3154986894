// `npm run backup [-- --type=full|incr|diff]`: a pgBackRest backup of the embedded cluster
// (full by default; incr = changes since the last backup of any type, diff = since the last
// full). The cluster keeps running; when it is not running it is started for the backup and
// stopped after. Restore with `npm run restore` (docs/operations.md "Backups").
import { parseArgs } from "node:util";
import { defaultDataDir } from "./lib.mjs";
import {
  backupLayout,
  ensureStanza,
  listBackups,
  pgbackrest,
  withRunningCluster,
} from "./pgbackrest.mjs";

const { values } = parseArgs({ options: { type: { type: "string", default: "full" } } });
if (!["full", "incr", "diff"].includes(values.type)) {
  console.error(`--type must be full, incr or diff (got ${values.type})`);
  process.exit(2);
}
if (process.env.DATABASE_URL) {
  console.error(
    "DATABASE_URL is set: `npm run backup` backs up the embedded cluster only. Back a server of your own up with its own pgBackRest setup (docs/operations.md).",
  );
  process.exit(2);
}

const dataDir = defaultDataDir();
const layout = backupLayout(dataDir);
try {
  const started = Date.now();
  await withRunningCluster(dataDir, layout, async () => {
    ensureStanza(layout);
    pgbackrest(layout, ["backup", `--type=${values.type}`]);
  });
  const latest = listBackups(layout).at(-1);
  console.log(
    `${values.type} backup ${latest.label} of ${dataDir} in ${
      ((Date.now() - started) / 1000).toFixed(1)
    } s ` +
      `(${(latest.repoSize / 1e6).toFixed(1)} MB stored) to ${layout.repo}`,
  );
  console.log("backups in the repository:");
  for (const b of listBackups(layout)) {
    console.log(`  ${b.label}  ${b.type.padEnd(4)}  ${b.stop.toISOString()}`);
  }
} catch (err) {
  console.error(`backup failed: ${err.message}`);
  process.exit(1);
}
