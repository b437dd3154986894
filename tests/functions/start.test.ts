// `npm start` as a user runs it, with an embedded PostgreSQL (the default) and against an
// existing server (DATABASE_URL): migrations, seeds, the provider sandbox and every
// function come up; the demo user can sign in; Ctrl-C (SIGINT) stops everything cleanly.
import { spawn } from "node:child_process";
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

interface StartRun { base: string; sandboxPort: number; output: () => string; stop: () => Promise<number | null> }

/** Run `node scripts/start.mjs` with `env` until /health answers 200. */
async function startHazina(env: Record<string, string | undefined>): Promise<StartRun> {
  const [port, sandboxPort] = [await freePort(), await freePort()];
  const fullEnv: Record<string, string | undefined> = {
    ...process.env, ...env, PORT: String(port), PROVIDER_SANDBOX_PORT: String(sandboxPort), LOG_LEVEL: "warn",
  };
  delete fullEnv.JWT_SECRET; // npm start brings its development secret
  delete fullEnv.EDGE_DATABASE_URL; // npm test's (another database): npm start derives its own
  if (!env.DATABASE_URL) delete fullEnv.DATABASE_URL;
  const child = spawn(process.execPath, ["scripts/start.mjs"], { cwd: root, env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
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
    base, sandboxPort, output: () => output,
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
