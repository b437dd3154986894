// Hardening (issue 10, item 10): response headers, CORS in production, where the client IP
// comes from, how the local server binds, and the longest access-token lifetime.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { networkInterfaces } from "node:os";
import process from "node:process";
import { SignJWT } from "jose";
import { Hono } from "hono";
import { app as auth } from "../../functions/auth/app.ts";
import { app as wallets } from "../../functions/wallets/app.ts";
import { clientIp } from "../../functions/_shared/clientip.ts";
import { config, resetConfigForTests } from "../../functions/_shared/config.ts";
import { admin } from "../helpers/db.ts";
import { signUpVerifiedUser } from "../helpers/auth.ts";
import { type EdgeServer, startEdgeServer } from "../helpers/edge-server.ts";
import { TEST_JWT_SECRET } from "../helpers/env.ts";
import { accessToken } from "../helpers/tokens.ts";

/** Run with these variables (undefined removes one), then restore them, also for async work. */
function withEnv<T>(env: Record<string, string | undefined>, run: () => T): T {
  const saved = { ...process.env };
  const restore = () => {
    process.env = saved;
    resetConfigForTests();
  };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  resetConfigForTests();
  let result: T;
  try {
    result = run();
  } catch (err) {
    restore();
    throw err;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}

describe("response headers", () => {
  it("every response says nosniff, and token responses (all API responses) are never cached", async () => {
    const user = await signUpVerifiedUser();
    const responses = [
      await auth.request("/auth/token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: user.email, password: user.password }),
      }),
      await auth.request("/auth/token/refresh", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refresh_token: user.refresh_token }),
      }),
      await auth.request("/auth/token", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }),
      await wallets.request("/wallets", { headers: { authorization: `Bearer ${user.access_token}` } }),
      await wallets.request("/wallets"),
      await auth.request("/auth/no-such-route"),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 400, 200, 401, 404]);
    expect((await responses[0].clone().json()).access_token).toBeTruthy();
    for (const res of responses) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    // A public document may still say how long it keeps.
    const jwks = await auth.request("/auth/.well-known/jwks.json");
    expect(jwks.headers.get("x-content-type-options")).toBe("nosniff");
    expect(jwks.headers.get("cache-control")).toMatch(/^public/);
  });
});

describe("configuration", () => {
  it("refuses CORS '*' in production and asks for the origins", () => {
    expect(() => withEnv({ HAZINA_ENV: "production", CORS_ORIGINS: undefined }, () => config()))
      .toThrow(/CORS_ORIGINS: is '\*'.*list the allowed origins/);
    expect(() => withEnv({ HAZINA_ENV: "production", CORS_ORIGINS: "https://app.example.com,*" }, () => config()))
      .toThrow(/CORS_ORIGINS: is '\*'/);
    // Explicit origins satisfy it (other production checks may still complain).
    let message = "";
    try {
      withEnv({ HAZINA_ENV: "production", CORS_ORIGINS: "https://app.example.com" }, () => config());
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toContain("CORS_ORIGINS");
    expect(withEnv({ CORS_ORIGINS: undefined }, () => config().CORS_ORIGINS)).toBe("*"); // development keeps '*'
  });

  it("validates TRUSTED_PROXIES and a token lifetime within the maximum", () => {
    expect(() => withEnv({ TRUSTED_PROXIES: "10.0.0.0/8, proxy.internal" }, () => config())).toThrow(/TRUSTED_PROXIES: 'proxy.internal'/);
    expect(() => withEnv({ TRUSTED_PROXIES: "10.0.0.0/33" }, () => config())).toThrow(/TRUSTED_PROXIES/);
    expect(withEnv({ TRUSTED_PROXIES: "10.0.0.0/8, ::1, fd00::/8" }, () => config().TRUSTED_PROXIES.map((range) => range.text))).toEqual(["10.0.0.0/8", "::1", "fd00::/8"]);
    expect(() => withEnv({ JWT_MAX_LIFETIME_SECONDS: "600", JWT_EXPIRES_IN_SECONDS: "3600" }, () => config()))
      .toThrow(/JWT_EXPIRES_IN_SECONDS: must not exceed JWT_MAX_LIFETIME_SECONDS/);
  });
});

describe("clientIp", () => {
  const probe = new Hono().get("/ip", (c) => c.json({ ip: clientIp(c) }));
  const ipOf = async (peer: string | undefined, forwarded?: string) => {
    const res = await probe.request("/ip", { headers: forwarded ? { "x-forwarded-for": forwarded } : {} },
      peer ? { remoteAddr: { hostname: peer, port: 40000, transport: "tcp" } } : undefined);
    return (await res.json()).ip;
  };

  it("is the socket peer unless the peer is a trusted proxy", async () => {
    await withEnv({ TRUSTED_PROXIES: undefined }, async () => {
      expect(await ipOf("198.51.100.20", "203.0.113.7")).toBe("198.51.100.20"); // a forged header changes nothing
      expect(await ipOf(undefined, "203.0.113.7")).toBeNull(); // no socket, no idea
      expect(await ipOf("::ffff:198.51.100.20")).toBe("198.51.100.20");
    });
  });

  it("behind trusted proxies, is the right-most forwarded address that is not one of them", async () => {
    await withEnv({ TRUSTED_PROXIES: "10.0.0.0/8,2001:db8::/32" }, async () => {
      expect(await ipOf("10.1.2.3", "6.6.6.6, 203.0.113.7")).toBe("203.0.113.7"); // 6.6.6.6 is what the client claimed
      expect(await ipOf("10.1.2.3", "6.6.6.6, 203.0.113.7, 10.9.9.9")).toBe("203.0.113.7"); // two of our proxies
      expect(await ipOf("10.1.2.3", "10.8.8.8, 10.9.9.9")).toBe("10.8.8.8"); // all ours: the left-most
      expect(await ipOf("10.1.2.3")).toBe("10.1.2.3"); // no header: the proxy itself
      expect(await ipOf("10.1.2.3", "6.6.6.6, not-an-ip")).toBeNull(); // never guess past garbage
      expect(await ipOf("2001:db8::1", "2001:0:0:0:0:0:0:5, 2001:DB8::2")).toBe("2001::5"); // IPv6, normalised
      expect(await ipOf("2001:db8::1", "2001:0db8:0:0:0:0:0:5, 2001:DB8::2")).toBe("2001:db8::5");
      expect(await ipOf("2001:db8::1", "[2001:0:0:0:0:0:0:5]")).toBe("2001::5");
      expect(await ipOf("198.51.100.20", "203.0.113.7")).toBe("198.51.100.20"); // peer not ours: header ignored
    });
  });
});

describe("the local server", () => {
  let plain: EdgeServer;
  let proxied: EdgeServer;

  beforeAll(async () => {
    [plain, proxied] = await Promise.all([
      startEdgeServer({ HOST: undefined }),
      startEdgeServer({ TRUSTED_PROXIES: "127.0.0.1" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), proxied?.close()]);
  });

  it("binds 127.0.0.1 unless HOST is set", async () => {
    expect(plain.output()).toContain('"hostname":"127.0.0.1"');
    const res = await fetch(`${plain.baseUrl}/functions/v1/health`);
    expect(res.status).toBe(200);
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal);
    if (external) {
      await expect(fetch(`http://${external.address}:${plain.port}/functions/v1/health`)).rejects.toThrow();
    }
    const missing = await fetch(`${plain.baseUrl}/functions/v1/no-such-function`);
    expect(missing.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("records the peer as the session IP, and X-Forwarded-For only from a trusted proxy", async () => {
    const user = await signUpVerifiedUser();
    const login = async (server: EdgeServer) => {
      const res = await fetch(`${server.baseUrl}/functions/v1/auth/token`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "6.6.6.6, 203.0.113.7" },
        body: JSON.stringify({ email: user.email, password: user.password }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const { session_id } = await res.json();
      const [row] = await admin`select host(ip) as ip from public.auth_sessions where family_id = ${session_id}`;
      return row.ip;
    };
    expect(await login(plain)).toBe("127.0.0.1");
    expect(await login(proxied)).toBe("203.0.113.7");
  });
});

describe("access token lifetime", () => {
  const secret = new TextEncoder().encode(process.env.JWT_SECRET ?? TEST_JWT_SECRET);
  const status = async (token: string) => {
    const res = await wallets.request("/wallets", { headers: { authorization: `Bearer ${token}` } });
    return [res.status, (await res.json()).error?.code ?? "ok"];
  };

  it("refuses a token that lives longer than JWT_MAX_LIFETIME_SECONDS, or says nothing of its age", async () => {
    const userId = crypto.randomUUID();
    expect(await status(await accessToken(userId, { expiresIn: "23h" }))).toEqual([200, "ok"]);
    expect(await status(await accessToken(userId, { expiresIn: "25h" }))).toEqual([401, "invalid_token"]);
    expect(await status(await accessToken(userId, { expiresIn: "365d" }))).toEqual([401, "invalid_token"]);
    const ageless = await new SignJWT({ role: "authenticated" }).setProtectedHeader({ alg: "HS256" })
      .setSubject(userId).setAudience("authenticated").setExpirationTime("10m").sign(secret);
    expect(await status(ageless)).toEqual([401, "invalid_token"]);
    // The maximum is a setting.
    await withEnv({ JWT_MAX_LIFETIME_SECONDS: "7200", JWT_EXPIRES_IN_SECONDS: "3600" }, async () => {
      expect(await status(await accessToken(userId, { expiresIn: "3h" }))).toEqual([401, "invalid_token"]);
      expect(await status(await accessToken(userId, { expiresIn: "1h" }))).toEqual([200, "ok"]);
    });
  });
});
