// EDGE_PROCESSES=2: scripts/serve.ts starts one copy of itself and both serve one port
// (SO_REUSEPORT). Every request is answered whichever process the kernel hands it to; the
// copy stops when the first process stops (SIGTERM), and the first stops (non-zero) when
// the copy dies, so a supervisor (npm start) never runs a half edge.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/ports.ts";

const root = path.resolve(import.meta.dirname, "../..");

function childrenOf(pid: number): number[] {
  const ps = spawnSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" });
  return ps.stdout.trim().split("\n").map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => ppid === pid).map(([child]) => child);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startTwo(): Promise<{ server: ChildProcess; base: string; copy: number; exited: Promise<number | null> }> {
  const port = await freePort();
  const server = spawn(path.join(root, "node_modules/.bin/deno"), ["run", "--unstable-no-legacy-abort", "--unstable-net",
    "--allow-run", "--allow-net", "--allow-env", "--allow-read", "scripts/serve.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: process.env.EDGE_DATABASE_URL ?? process.env.DATABASE_URL, EDGE_DATABASE_URL: undefined,
           PORT: String(port), HOST: "127.0.0.1", EDGE_PROCESSES: "2", LOG_LEVEL: "error" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  let copy: number | undefined;
  while (Date.now() < deadline) {
    copy = childrenOf(server.pid!)[0];
    const up = await fetch(`${base}/functions/v1/health`).then((r) => r.status === 200, () => false);
    if (up && copy) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(copy, "the copy process").toBeDefined();
  return { server, base, copy: copy!, exited };
}

describe("EDGE_PROCESSES=2", () => {
  it("serves every request from two processes on one port, and stops both on SIGTERM", { timeout: 60_000 }, async () => {
    const { server, base, copy, exited } = await startTwo();
    // Fresh connections each time, so the kernel spreads them over both listeners.
    const statuses = await Promise.all(Array.from({ length: 40 }, () =>
      fetch(`${base}/functions/v1/health`, { headers: { connection: "close" } }).then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([200]));
    server.kill("SIGTERM");
    expect(await exited).toBe(0);
    const deadline = Date.now() + 10_000;
    while (alive(copy) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(copy), "the copy stopped with the first process").toBe(false);
  });

  it("stops with a non-zero exit when its copy dies", { timeout: 60_000 }, async () => {
    const { copy, exited } = await startTwo();
    process.kill(copy, "SIGKILL");
    expect(await exited).not.toBe(0);
  });
});
