// A throwaway PostgreSQL cluster of a test's own (embedded binaries, scripts/cluster.mjs):
// for suites that crash, back up or restore a server, which the shared test database must
// never see. As root it runs as the `postgres` OS user, in a folder that user can reach.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
// @ts-expect-error: plain JavaScript shared with the npm scripts
import { LocalCluster } from "../../scripts/cluster.mjs";
// @ts-expect-error: plain JavaScript shared with the npm scripts
import { dbmate } from "../../scripts/lib.mjs";
import { freePort } from "./ports.ts";

export interface TestCluster {
  /** The LocalCluster: start(), stop(), databaseDir, port, socketDir. */
  cluster: {
    start(): Promise<void>; stop(): Promise<void>; createDatabase(name: string): Promise<void>;
    databaseDir: string; port: number; socketDir: string; url: string;
  };
  /** The folder holding everything (data in ./postgres); removed by remove(). */
  dir: string;
  /** The owner's URL of the migrated `hazina` database. */
  url: string;
  /** Stop the cluster and delete its folder. */
  remove(): Promise<void>;
}

/**
 * Create, start and (unless migrate: false) migrate a cluster in a new temporary folder.
 * `settings` go to every start (`-c name=value`); `settingsFor(dir)` when they name paths.
 */
export async function startTestCluster({ prefix = "hazina-cluster-", settingsFor = () => ({}), migrate = true }: {
  prefix?: string; settingsFor?: (dir: string) => Record<string, string>; migrate?: boolean;
} = {}): Promise<TestCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755); // as root, the postgres OS user must enter it
  const cluster = new LocalCluster({ databaseDir: path.join(dir, "postgres"), port: await freePort(), settings: settingsFor(dir) });
  await cluster.initialise();
  await cluster.start();
  await cluster.createDatabase("hazina");
  const url = `postgres://postgres:postgres@127.0.0.1:${cluster.port}/hazina`;
  if (migrate) dbmate(url, ["--no-dump-schema", "up"], { quiet: true });
  return {
    cluster, dir, url,
    remove: async () => {
      try {
        await cluster.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * SIGKILL a cluster's postmaster and every backend, as a power cut or `pg_ctl stop -m
 * immediate` would: no shutdown checkpoint. Children first (found through /proc: field 4 of
 * /proc/<pid>/stat is the parent), so none outlives the postmaster holding its shared memory.
 */
export function killCluster(dataDir: string): void {
  const postmaster = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  for (const entry of readdirSync("/proc").filter((name) => /^[0-9]+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === postmaster) process.kill(Number(entry), "SIGKILL");
    } catch {
      // gone already
    }
  }
  process.kill(postmaster, "SIGKILL");
}
