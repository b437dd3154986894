// Starts the real Deno edge server once for suites that talk HTTP (tests/functions/http.*).
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { TEST_JWT_SECRET } from "./env.ts";
import { freePort } from "./ports.ts";

let server: ChildProcess | undefined;


export async function setup({ provide }: { provide: (key: string, value: string) => void }) {
  const root = path.resolve(import.meta.dirname, "../..");
  const port = await freePort();
  server = spawn(path.join(root, "node_modules/.bin/deno"), ["run", "--unstable-no-legacy-abort", "--allow-net", "--allow-env", "--allow-read", "scripts/serve.ts"], {
    cwd: root,
    // As in production, the server logs in as authenticator (scripts/test.mjs derives
    // EDGE_DATABASE_URL) and never holds the owner's URL.
    env: {
      ...process.env, DATABASE_URL: process.env.EDGE_DATABASE_URL ?? process.env.DATABASE_URL, EDGE_DATABASE_URL: undefined,
      PORT: String(port), HOST: "127.0.0.1", JWT_SECRET: process.env.JWT_SECRET ?? TEST_JWT_SECRET, LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}/functions/v1/health`);
      if (res.status === 200 || res.status === 503) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  provide("edgeBaseUrl", baseUrl);
}

export async function teardown() {
  server?.kill("SIGTERM");
}

declare module "vitest" {
  export interface ProvidedContext {
    edgeBaseUrl: string;
  }
}
