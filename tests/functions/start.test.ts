// `npm start` as a user runs it (against an existing server via DATABASE_URL, so no
// embedded cluster is initialised here): migrations, seeds, the provider sandbox and every
// function come up; the demo user can sign in; Ctrl-C (SIGINT) stops everything cleanly.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import process from "node:process";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
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

  it("serves the demo end to end and stops cleanly on Ctrl-C", { timeout: 120_000 }, async () => {
    await admin.unsafe(`create database "${database}"`);
    const url = new URL(server);
    url.pathname = `/${database}`;
    const [port, sandboxPort] = [await freePort(), await freePort()];
    const env: Record<string, string | undefined> = {
      ...process.env, DATABASE_URL: url.toString(), PORT: String(port), PROVIDER_SANDBOX_PORT: String(sandboxPort),
      LOG_LEVEL: "warn",
    };
    delete env.JWT_SECRET; // npm start brings its development secret
    const child = spawn(process.execPath, ["scripts/start.mjs"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

    const base = `http://127.0.0.1:${port}/functions/v1`;
    const deadline = Date.now() + 90_000;
    let health: Response | undefined;
    while (Date.now() < deadline && child.exitCode === null) {
      health = await fetch(`${base}/health`).catch(() => undefined);
      if (health?.status === 200) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(health?.status, output).toBe(200);
    expect(output).toContain("edge functions: http://localhost:");

    const login = await fetch(`${base}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "wanjiku@example.com", password: "hazina-demo-2026" }),
    });
    expect(login.status, output).toBe(200);
    const { access_token } = await login.json();
    const wallets = await (await fetch(`${base}/wallets`, { headers: { authorization: `Bearer ${access_token}` } })).json();
    expect(wallets.data[0]).toMatchObject({ currency: "KES", balance: "5000.0000" });
    expect(await reachable(`http://127.0.0.1:${sandboxPort}/`)).toBe(true);

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(await reachable(`${base}/health`)).toBe(false);
    expect(await reachable(`http://127.0.0.1:${sandboxPort}/`)).toBe(false);
  });
});
