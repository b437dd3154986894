// No secret reaches a log line (issue 10, item 1): the real server's log, captured while
// secrets travel in paths, query strings and headers, and log() itself in-process.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import process from "node:process";
import { resetConfigForTests } from "../../functions/_shared/config.ts";
import { log } from "../../functions/_shared/log.ts";
import { redactPath } from "../../functions/_shared/redact.ts";
import { type EdgeServer, startEdgeServer } from "../helpers/edge-server.ts";
import { accessToken } from "../helpers/tokens.ts";

const CALLBACK_TOKEN = `callback-${crypto.randomUUID().replaceAll("-", "")}`;
const SWEEP_SECRET = `sweep-${crypto.randomUUID().replaceAll("-", "")}`;
const QUERY_SECRET = `query-${crypto.randomUUID().replaceAll("-", "")}`;
const NEAR_MISS = `${CALLBACK_TOKEN.slice(0, -1)}x`; // a wrong token is often the right one mistyped

describe("the access log of the real server", () => {
  let server: EdgeServer;
  let bearer: string;

  beforeAll(async () => {
    server = await startEdgeServer({ MPESA_CALLBACK_TOKEN: CALLBACK_TOKEN, SWEEP_SECRET, MPESA_CONFIRM_CALLBACKS: "false" });
    bearer = await accessToken(crypto.randomUUID());
  });
  afterAll(async () => {
    await server?.close();
  });

  it("never carries a path token, a secret query parameter, a bearer token or a sweep secret", async () => {
    const base = `${server.baseUrl}/functions/v1`;
    const calls: [string, RequestInit][] = [
      [`/webhooks/mpesa/stk/${CALLBACK_TOKEN}`, { method: "POST", body: "{not json" }],
      [`/webhooks/mpesa/c2b/confirmation/${CALLBACK_TOKEN}`, { method: "POST", body: "{}" }],
      [`/webhooks/mpesa/b2c/result/${NEAR_MISS}`, { method: "POST", body: "{}" }],
      [`/wallets?access_token=${QUERY_SECRET}`, { method: "GET" }],
      [`/wallets/${QUERY_SECRET}/ledger?code=${QUERY_SECRET}&sig=${QUERY_SECRET}`, { method: "GET", headers: { authorization: `Bearer ${bearer}` } }],
      [`/webhooks/sweep`, { method: "POST", headers: { "x-sweep-secret": `${SWEEP_SECRET}-wrong` } }],
    ];
    for (const [path, init] of calls) {
      const res = await fetch(`${base}${path}`, init);
      expect(res.status, path).toBeLessThan(500);
      await res.body?.cancel();
    }
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && (server.output().match(/"msg":"request"/g) ?? []).length < calls.length) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const output = server.output();
    // The requests were logged, with the paths they came on, minus the secrets.
    expect(output).toContain('"path":"/webhooks/mpesa/stk/[redacted]"');
    expect(output).toContain('"path":"/webhooks/mpesa/c2b/confirmation/[redacted]"');
    expect(output).toContain('"path":"/webhooks/mpesa/b2c/result/[redacted]"');
    expect(output).toContain('"path":"/wallets/[redacted]/ledger"');
    expect((output.match(/"msg":"request"/g) ?? []).length).toBe(calls.length);
    for (const secret of [CALLBACK_TOKEN, NEAR_MISS, QUERY_SECRET, SWEEP_SECRET, bearer, bearer.split(".")[1]]) {
      expect(output).not.toContain(secret);
    }
  });
});

describe("log()", () => {
  const saved = { ...process.env };
  beforeAll(() => {
    Object.assign(process.env, { LOG_LEVEL: "debug", MPESA_CALLBACK_TOKEN: CALLBACK_TOKEN, SWEEP_SECRET });
    resetConfigForTests();
  });
  afterAll(() => {
    process.env = saved;
    resetConfigForTests();
  });

  function captured(write: () => void): string {
    const out = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      write();
      return [...out.mock.calls, ...err.mock.calls].map((args) => args.join(" ")).join("\n");
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  it("strips secrets from error messages and stacks, secret-named fields and any string", async () => {
    const jwt = await accessToken(crypto.randomUUID());
    const failure = new Error(`POST https://api.example/webhooks/mpesa/stk/${CALLBACK_TOKEN} failed; ` +
      `retry https://x.example/cb?token=${QUERY_SECRET}&state=ok with Bearer ${jwt}`);
    const text = captured(() => {
      log("error", "unhandled error", { error: { name: failure.name, message: failure.message, stack: failure.stack } });
      log("warn", `sweep with ${SWEEP_SECRET}`, {
        authorization: "Basic dXNlcjpwYXNz",
        "x-sweep-secret": "anything at all",
        refresh_token: "opaque-value-0001",
        headers: { "x-hazina-signature": "sha256=abcdef", cookie: "sid=1" },
        database: `postgres://hazina:${QUERY_SECRET}@db.example:5432/hazina`,
        nested: [{ note: `token ${CALLBACK_TOKEN} in free text` }],
      });
    });
    for (const secret of [CALLBACK_TOKEN, QUERY_SECRET, SWEEP_SECRET, jwt, "dXNlcjpwYXNz", "anything at all", "opaque-value-0001", "sha256=abcdef", "sid=1"]) {
      expect(text).not.toContain(secret);
    }
    // What is not secret stays readable.
    expect(text).toContain("state=ok");
    expect(text).toContain("https://api.example/webhooks/mpesa/stk/[redacted] failed");
    expect(text).toContain("db.example:5432");
  });

  it("keeps ids in request paths and hides opaque segments", () => {
    const id = crypto.randomUUID();
    expect(redactPath(`/wallets/${id}/ledger`)).toBe(`/wallets/${id}/ledger`);
    expect(redactPath("/auth/.well-known/jwks.json")).toBe("/auth/.well-known/jwks.json");
    expect(redactPath(`/webhooks/mpesa/status/timeout/short`)).toBe("/webhooks/mpesa/status/timeout/[redacted]");
    expect(redactPath(`/auth/magic/${"A1b2".repeat(8)}`)).toBe("/auth/magic/[redacted]");
  });
});
