// A real Deno edge server (scripts/serve.ts) of a suite's own, with its own environment and
// its stdout/stderr captured: for what only the served process shows (log lines, how it
// binds, the peer address it passes on, refusing to start).
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { TEST_JWT_SECRET } from "./env.ts";
import { freePort } from "./ports.ts";

const root = path.resolve(import.meta.dirname, "../..");

export interface EdgeServer {
  baseUrl: string;
  port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  close(): Promise<void>;
}

/** Start scripts/serve.ts; resolves once it answers /health, or once it exited (refused to start). */
export async function startEdgeServer(env: Record<string, string | undefined> = {}): Promise<EdgeServer> {
  const port = await freePort();
  let output = "";
  const child: ChildProcess = spawn(
    path.join(root, "node_modules/.bin/deno"),
    ["run", "--unstable-no-legacy-abort", "--allow-net", "--allow-env", "--allow-read", "scripts/serve.ts"],
    {
      cwd: root,
      env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", JWT_SECRET: process.env.JWT_SECRET ?? TEST_JWT_SECRET, LOG_LEVEL: "info", ...env } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  let ended = false;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => {
    ended = true;
    resolve(code);
  }));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !ended) {
    if (/edge functions listening/.test(output)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    baseUrl,
    port,
    output: () => output,
    exited,
    close: async () => {
      if (!ended) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}
