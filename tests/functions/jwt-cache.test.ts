// The verified-token cache (JWT_VERIFY_CACHE_SECONDS, functions/_shared/auth.ts): it reuses
// only a valid token's verdict, never past the token's exp, never across a configuration
// change, and hands out copies. Revocation staying immediate with a cached token is proven
// in powers.test.ts (a token used just before logout answers 401 session_revoked at once).
import { afterEach, describe, expect, it } from "vitest";
import process from "node:process";
import { clearVerifiedTokens, verifyAccessToken } from "../../functions/_shared/auth.ts";
import { resetConfigForTests } from "../../functions/_shared/config.ts";
import { accessToken } from "../helpers/tokens.ts";

async function code(token: string): Promise<string> {
  try {
    await verifyAccessToken(token);
    return "ok";
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe("verified-token cache", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    resetConfigForTests();
    clearVerifiedTokens();
  });

  // Tokens live 3 s (exp = the issue second + 3, so at least 2 s): the first check passes even
  // on a loaded machine; 4.1 s later the token is past exp whatever second it was issued in.
  it("never outlives the token's exp", async () => {
    const token = await accessToken(crypto.randomUUID(), { expiresIn: "3s" });
    expect(await code(token)).toBe("ok");
    await new Promise((r) => setTimeout(r, 4100)); // exp is whole seconds: at most 3 s after issue
    expect(await code(token)).toBe("token_expired");
  });

  it("is dropped when the configuration changes", async () => {
    const token = await accessToken(crypto.randomUUID(), { audience: "elsewhere" });
    expect(await code(token)).toBe("invalid_token");
    process.env.JWT_AUDIENCE = "elsewhere";
    resetConfigForTests();
    expect(await code(token)).toBe("ok"); // valid under the new configuration
    delete process.env.JWT_AUDIENCE;
    resetConfigForTests();
    expect(await code(token)).toBe("invalid_token"); // the success was not kept across configurations
  });

  it("hands out copies: a caller changing its claims changes nothing for the next one", async () => {
    const token = await accessToken(crypto.randomUUID());
    const first = await verifyAccessToken(token);
    first.role = "service_role";
    expect((await verifyAccessToken(token)).role).toBe("authenticated");
  });

  it("JWT_VERIFY_CACHE_SECONDS=0 verifies every time", async () => {
    process.env.JWT_VERIFY_CACHE_SECONDS = "0";
    resetConfigForTests();
    const token = await accessToken(crypto.randomUUID(), { expiresIn: "3s" });
    expect(await code(token)).toBe("ok");
    await new Promise((r) => setTimeout(r, 4100)); // exp is whole seconds: at most 3 s after issue
    expect(await code(token)).toBe("token_expired");
  });
});
