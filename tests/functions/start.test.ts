// `npm start` as a user runs it, with an embedded PostgreSQL (the default) and against an
// existing server (DATABASE_URL): migrations, seeds, the provider sandbox, the job runner and
// every function come up; the demo user can sign in; Ctrl-C (SIGINT) stops everything
// cleanly. Faults: SIGTERM to its process group stops every process it started (exit 0); a
// process of it dying on its own stops the rest with a non-zero exit; so does its parent dying.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/ports.ts";
import { requestInit } from "../helpers/request.ts";

const root = path.resolve(import.meta.dirname, "../..");


async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

interface StartRun {
  base: string;
  sandboxPort: number;
  pid: number;
  output: () => string;
  stop: () => Promise<number | null>;
  exited: Promise<number | null>;
}

/** Every live process (pid → parent pid), on Linux and macOS. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  const ps = spawnSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" });
  for (const line of ps.stdout.trim().split("\n")) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    table.set(pid, ppid);
  }
  return table;
}

/** The processes `pid` started, and theirs (PostgreSQL's backends, Deno's), recursively. */
function descendants(pid: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [child, ppid] of table) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Run `node scripts/start.mjs` with `env` until /health answers 200. */
async function startHazina(env: Record<string, string | undefined>, options: { detached?: boolean; viaNpm?: boolean } = {}): Promise<StartRun> {
  const [port, sandboxPort] = [await freePort(), await freePort()];
  const fullEnv: Record<string, string | undefined> = {
    ...process.env, ...env, PORT: String(port), PROVIDER_SANDBOX_PORT: String(sandboxPort), LOG_LEVEL: "warn",
  };
  delete fullEnv.JWT_SECRET; // npm start brings its development secret
  delete fullEnv.EDGE_DATABASE_URL; // npm test's (another database): npm start derives its own
  if (!env.DATABASE_URL) delete fullEnv.DATABASE_URL;
  // viaNpm: `npm start` itself (npm, then the script), as a user or a supervisor runs it.
  const npm = process.env.npm_execpath;
  const command = options.viaNpm ? (npm ? [process.execPath, npm, "start"] : ["npm", "start"]) : [process.execPath, "scripts/start.mjs"];
  const child = spawn(command[0], command.slice(1), {
    cwd: root, env: fullEnv, stdio: ["ignore", "pipe", "pipe"], detached: options.detached ?? false,
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}/functions/v1`;
  const deadline = Date.now() + 100_000;
  let status: number | undefined;
  while (Date.now() < deadline && child.exitCode === null) {
    status = (await fetch(`${base}/health`).catch(() => undefined))?.status;
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  expect(status, output).toBe(200);
  return {
    base, sandboxPort, pid: child.pid!, output: () => output, exited,
    stop: async () => {
      child.kill("SIGINT");
      return await exited;
    },
  };
}

async function expectDemoWorks(run: StartRun) {
  expect(run.output()).toContain("edge functions: http://localhost:");
  const login = await fetch(`${run.base}/auth/token`,
    requestInit("POST", undefined, { email: "wanjiku@example.com", password: "hazina-demo-2026" }));
  expect(login.status, run.output()).toBe(200);
  const { access_token } = await login.json();
  const wallets = await (await fetch(`${run.base}/wallets`, requestInit("GET", access_token))).json();
  expect(wallets.data[0]).toMatchObject({ currency: "KES", balance: "5000.0000" });
  expect(await reachable(`http://127.0.0.1:${run.sandboxPort}/`)).toBe(true);
  // The banner's demo checkout page (the seeded QR code) opens.
  const checkout = /demo checkout: (\S+)/.exec(run.output())?.[1];
  expect(checkout, run.output()).toMatch(/\/functions\/v1\/checkout\/dukalamamademotillqrcodeab$/);
  const page = await fetch(checkout!);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("Duka la Mama");
}

/** Mail stays local: the banner names the mailbox, which shows a sign-up's link, and the link works. */
async function expectMailboxWorks(run: StartRun) {
  expect(run.output()).toContain(`mailbox: http://localhost:${new URL(run.base).port}/functions/v1/auth/dev/mailbox`);
  const email = `start-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = "correct-Horse-battery-42";
  const signup = await fetch(`${run.base}/auth/signup`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }),
  });
  expect(signup.status).toBe(202);
  const mailbox = await (await fetch(`${run.base}/auth/dev/mailbox?format=json&to=${encodeURIComponent(email)}`)).json();
  const link: string = mailbox.data[0].link;
  expect(link.startsWith(`${run.base}/auth/pages/verify-email?token=`)).toBe(true);
  expect(await (await fetch(`${run.base}/auth/dev/mailbox`)).text()).toContain(email);
  const page = await (await fetch(link)).text();
  const token = /name="token" value="([^"]+)"/.exec(page)![1];
  const confirmed = await fetch(new URL("verify-email", link), {
    method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token }),
  });
  expect(await confirmed.text()).toContain("Your email address is confirmed");
  const login = await fetch(`${run.base}/auth/token`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email, password }),
  });
  expect(login.status).toBe(200);
}

async function expectStopsCleanly(run: StartRun) {
  expect(await run.stop()).toBe(0);
  expect(await reachable(`${run.base}/health`)).toBe(false);
  expect(await reachable(`http://127.0.0.1:${run.sandboxPort}/`)).toBe(false);
}

describe("npm start", () => {
  const database = `hazina_start_${Date.now()}_${process.pid}`;
  const server = new URL(process.env.DATABASE_URL!);
  const adminUrl = new URL(server);
  adminUrl.pathname = "/postgres";
  const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });

  afterAll(async () => {
    await admin.unsafe(`drop database if exists "${database}" with (force)`);
    await admin.end();
  });

  it("with DATABASE_URL: serves the demo end to end and stops cleanly on Ctrl-C", { timeout: 120_000 }, async () => {
    await admin.unsafe(`create database "${database}"`);
    const url = new URL(server);
    url.pathname = `/${database}`;
    const run = await startHazina({ DATABASE_URL: url.toString() });
    await expectDemoWorks(run);
    await expectMailboxWorks(run);
    await expectStopsCleanly(run);
  });

  it("stops the edge, the sandbox, the job runner and PostgreSQL on SIGTERM to its process group", { timeout: 150_000 }, async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "hazina-embedded-"));
    chmodSync(dataDir, 0o755);
    try {
      const run = await startHazina({ HAZINA_DATA_DIR: path.join(dataDir, "postgres"), EMBEDDED_PG_PORT: String(await freePort()) },
        { detached: true });
      const started = descendants(run.pid);
      // PostgreSQL (and its backends), the sandbox, the edge server and the job runner.
      expect(started.length, run.output()).toBeGreaterThanOrEqual(4);
      process.kill(-run.pid, "SIGTERM");
      expect(await run.exited, run.output()).toBe(0);
      await new Promise((r) => setTimeout(r, 200));
      expect(started.filter(alive), run.output()).toEqual([]);
      expect(await reachable(`${run.base}/health`)).toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("through npm: SIGINT or SIGTERM to the npm process alone stops everything", { timeout: 120_000 }, async () => {
    const url = new URL(server);
    url.pathname = `/${database}_npm`;
    await admin.unsafe(`create database "${database}_npm"`);
    try {
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        const run = await startHazina({ DATABASE_URL: url.toString() }, { viaNpm: true });
        const started = descendants(run.pid);
        expect(started.length, run.output()).toBeGreaterThanOrEqual(4); // npm start itself, sandbox, edge, job runner
        process.kill(run.pid, signal);
        const gone = Date.now() + 20_000;
        while (Date.now() < gone && started.some(alive)) await new Promise((r) => setTimeout(r, 200));
        expect(started.filter(alive), `${signal}: ${run.output()}`).toEqual([]);
        await run.exited;
      }
    } finally {
      await admin.unsafe(`drop database if exists "${database}_npm" with (force)`);
    }
  });

  it("when one of its processes dies, stops the rest and exits non-zero", { timeout: 120_000 }, async () => {
    const url = new URL(server);
    url.pathname = `/${database}_crash`;
    await admin.unsafe(`create database "${database}_crash"`);
    try {
      const run = await startHazina({ DATABASE_URL: url.toString() });
      const table = processTable();
      const children = [...table].filter(([, ppid]) => ppid === run.pid).map(([pid]) => pid);
      expect(children.length, run.output()).toBe(3); // sandbox, edge server, job runner
      const edge = children.find((pid) => spawnSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).stdout.includes("serve.ts"))!;
      process.kill(edge, "SIGKILL");
      const code = await run.exited;
      expect(code, run.output()).not.toBe(0);
      expect(run.output()).toContain("the edge server exited unexpectedly");
      await new Promise((r) => setTimeout(r, 200));
      expect(children.filter(alive)).toEqual([]);
    } finally {
      await admin.unsafe(`drop database if exists "${database}_crash" with (force)`);
    }
  });

  it("stops everything when its parent dies", { timeout: 120_000 }, async () => {
    const url = new URL(server);
    url.pathname = `/${database}_orphan`;
    await admin.unsafe(`create database "${database}_orphan"`);
    try {
      const [port, sandboxPort] = [await freePort(), await freePort()];
      const env: Record<string, string | undefined> = {
        ...process.env, DATABASE_URL: url.toString(), PORT: String(port), PROVIDER_SANDBOX_PORT: String(sandboxPort), LOG_LEVEL: "warn",
      };
      delete env.JWT_SECRET;
      delete env.EDGE_DATABASE_URL;
      // A parent shell that prints npm start's pid, then is killed.
      const parent = spawn("sh", ["-c", `"${process.execPath}" scripts/start.mjs >/dev/null 2>&1 & echo $!; wait`], {
        cwd: root, env, stdio: ["ignore", "pipe", "ignore"],
      });
      const startPid = Number(await new Promise<string>((resolve) => parent.stdout.once("data", (d) => resolve(String(d)))));
      const base = `http://127.0.0.1:${port}/functions/v1`;
      const deadline = Date.now() + 100_000;
      while (Date.now() < deadline && (await fetch(`${base}/health`).catch(() => undefined))?.status !== 200) {
        await new Promise((r) => setTimeout(r, 300));
      }
      const started = [startPid, ...descendants(startPid)];
      expect(started.length).toBeGreaterThanOrEqual(4);
      parent.kill("SIGKILL");
      const gone = Date.now() + 20_000;
      while (Date.now() < gone && started.some(alive)) await new Promise((r) => setTimeout(r, 200));
      expect(started.filter(alive)).toEqual([]);
    } finally {
      await admin.unsafe(`drop database if exists "${database}_orphan" with (force)`);
    }
  });

  it("by default: boots an embedded PostgreSQL, serves the demo, and stops it on Ctrl-C", { timeout: 150_000 }, async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "hazina-embedded-"));
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as `postgres`, which must reach the folder
    const pgPort = await freePort();
    try {
      const run = await startHazina({ HAZINA_DATA_DIR: path.join(dataDir, "postgres"), EMBEDDED_PG_PORT: String(pgPort) });
      expect(run.output()).toContain("(embedded)");
      await expectDemoWorks(run);
      await expectStopsCleanly(run);
      const stopped = postgres(`postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres`, { max: 1, connect_timeout: 2 });
      await expect(stopped`select 1`).rejects.toThrow();
      await stopped.end();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
