import { readdirSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { describe, expect, inject, it } from "vitest";
import { app } from "../../functions/health/app.ts";
import { EXPECTED_SCHEMA_VERSION } from "../../functions/_shared/version.ts";

describe("health", () => {
  it("reports version, a reachable database and current migrations", async () => {
    const res = await app.request("/health");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const body = await res.json();
    expect(body).toMatchObject({
      status: "ok",
      version: expect.any(String),
      database: { reachable: true },
      migrations: { current: true, applied: EXPECTED_SCHEMA_VERSION },
    });
  });

  it("expects the newest migration in database/migrations", () => {
    const newest = readdirSync(path.resolve(import.meta.dirname, "../../database/migrations"))
      .filter((f) => f.endsWith(".sql")).sort().at(-1)!;
    expect(newest.split("_")[0]).toBe(EXPECTED_SCHEMA_VERSION);
  });

  it("keeps a sane caller-supplied request id and replaces a hostile one", async () => {
    const kept = await app.request("/health", { headers: { "x-request-id": "req-12345678" } });
    expect(kept.headers.get("x-request-id")).toBe("req-12345678");
    const replaced = await app.request("/health", { headers: { "x-request-id": "bad id <script>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await app.request("/health/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "route_not_found", message: expect.any(String) } });
  });

  it("is served over real HTTP by the Deno edge server under /functions/v1", async () => {
    const base = inject("edgeBaseUrl");
    const res = await fetch(`${base}/functions/v1/health`);
    expect(res.status).toBe(200);
    expect((await res.json()).migrations.current).toBe(true);
    const missing = await fetch(`${base}/functions/v1/no-such-function`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("function_not_found");
  });
});

describe("configuration", () => {
  it("refuses sandbox provider defaults and the development JWT secret in production", async () => {
    const { config, resetConfigForTests, DEV_JWT_SECRET } = await import("../../functions/_shared/config.ts");
    const saved = { ...process.env };
    try {
      process.env.HAZINA_ENV = "production";
      process.env.JWT_SECRET = DEV_JWT_SECRET;
      resetConfigForTests();
      expect(() => config()).toThrow(/MPESA_CONSUMER_KEY: still the sandbox default[\s\S]*JWT_SECRET: is the development secret/);
    } finally {
      process.env = saved;
      resetConfigForTests();
    }
    expect(config().HAZINA_ENV).toBe("development");
  });
});
