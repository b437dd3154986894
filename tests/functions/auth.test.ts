// The auth function against the real database: the whole account lifecycle, and the
// attacks it must refuse. Mail is read from the development mailer's outbox.
import { createServer, type Server } from "node:http";
import process from "node:process";
import {
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWK,
  jwtVerify,
  createLocalJWKSet,
  SignJWT,
} from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { resetConfigForTests } from "../../functions/_shared/config.ts";
import { sentMail } from "../../functions/_shared/mailer.ts";
import { sha256Hex } from "../../functions/_shared/tokens.ts";
import { admin } from "../helpers/db.ts";
import { TEST_JWT_SECRET } from "../helpers/env.ts";
import { call, signUpVerifiedUser, STRONG_PASSWORD, tokenFromMail, uniqueEmail } from "../helpers/auth.ts";
import { requestInit } from "../helpers/request.ts";

const secret = new TextEncoder().encode(TEST_JWT_SECRET);

async function userByEmail(email: string) {
  const [row] = await admin`select * from public.auth_users where email = ${email}`;
  return row;
}

async function sessionRows(userId: string) {
  return await admin`select * from public.auth_sessions where user_id = ${userId} order by created_at, id`;
}

// A local OIDC identity provider: an RSA key whose public half is served as a JWKS over HTTP.
const IDP_ISSUER = "https://idp.hazina.test";
const IDP_AUDIENCE = "hazina-test-client";
let idpServer: Server;
let idpKey: CryptoKey;
let idpJwks: { keys: JWK[] };

async function idToken(claims: Record<string, unknown>, opts: { key?: CryptoKey; alg?: string; issuer?: string; audience?: string; exp?: number | string } = {}) {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? "RS256", kid: "idp-key-1" })
    .setIssuer(opts.issuer ?? IDP_ISSUER)
    .setAudience(opts.audience ?? IDP_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "5m")
    .sign(opts.key ?? idpKey);
}

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  idpKey = privateKey;
  idpJwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "idp-key-1", alg: "RS256", use: "sig" }] };
  idpServer = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(req.url === "/jwks.json" ? idpJwks : {}));
  });
  await new Promise<void>((resolve) => idpServer.listen(0, "127.0.0.1", resolve));
  const { port } = idpServer.address() as { port: number };
  process.env.AUTH_OIDC_PROVIDERS = JSON.stringify({
    testidp: { issuer: IDP_ISSUER, jwks_url: `http://127.0.0.1:${port}/jwks.json`, audience: IDP_AUDIENCE },
  });
  resetConfigForTests();
});

afterAll(async () => {
  delete process.env.AUTH_OIDC_PROVIDERS;
  resetConfigForTests();
  await new Promise((resolve) => idpServer?.close(resolve));
});

describe("auth: the whole flow", () => {
  it("signup → verify → login → refresh → rotate → reuse detection → logout → reset", async () => {
    const email = uniqueEmail("flow");

    // Sign up: 202 and a verification mail; nothing readable about the account in the answer.
    const signup = await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD, name: "Wanjiku", phone: "+254712345678" } });
    expect(signup.status).toBe(202);
    expect(signup.body).toEqual({ status: "pending_verification", message: expect.any(String) });
    const user = await userByEmail(email);
    expect(user).toMatchObject({ name: "Wanjiku", phone: "+254712345678", role: "customer", status: "active", email_verified_at: null });
    expect(user.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(user.password_hash).not.toContain(STRONG_PASSWORD);
    const [credentials] = await admin`select provider, provider_account_id from public.auth_accounts where user_id = ${user.id}`;
    expect(credentials).toEqual({ provider: "credentials", provider_account_id: user.id });

    // Unverified: the right password is refused with a clear 403.
    const early = await call("POST", "/token", { body: { email, password: STRONG_PASSWORD } });
    expect(early.status).toBe(403);
    expect(early.body.error.code).toBe("email_not_verified");

    // Verify from the mailed link; only the token's hash is stored; the link works once.
    const verificationToken = tokenFromMail(email, "email_verification");
    const [stored] = await admin`select token_hash from public.auth_verification_token where user_id = ${user.id}`;
    expect(stored.token_hash).toBe(await sha256Hex(verificationToken));
    const verify = await call("POST", "/verify-email", { body: { token: verificationToken } });
    expect(verify.status).toBe(200);
    expect((await userByEmail(email)).email_verified_at).toBeInstanceOf(Date);
    const again = await call("POST", "/verify-email", { body: { token: verificationToken } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("verification_token_used");

    // Login: access token with the promised claims, refresh token stored only as a hash.
    const login = await call("POST", "/token", {
      body: { email: email.toUpperCase(), password: STRONG_PASSWORD },
      headers: { "user-agent": "vitest/flow", "x-forwarded-for": "203.0.113.7, 10.0.0.1" },
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: "bearer", expires_in: 3600, user: { id: user.id, email, role: "customer" } });
    expect(login.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { payload, protectedHeader } = await jwtVerify(login.body.access_token, secret, { algorithms: ["HS256"] });
    expect(protectedHeader.alg).toBe("HS256");
    expect(payload).toMatchObject({
      sub: user.id,
      role: "authenticated",
      aud: "authenticated",
      iss: "hazina",
      email,
      session_id: login.body.session_id,
      app_metadata: { role: "customer" },
    });
    expect(payload.exp! - payload.iat!).toBe(3600);
    let sessions = await sessionRows(user.id);
    expect(sessions).toHaveLength(1);
    // In-process there is no socket peer, and X-Forwarded-For from an untrusted peer is a
    // claim: the IP is unknown (clientIp; the served case is in tests/functions/hardening.test.ts).
    expect(sessions[0]).toMatchObject({ family_id: login.body.session_id, user_agent: "vitest/flow", ip: null });
    expect(sessions[0].refresh_token_hash).toBe(await sha256Hex(login.body.refresh_token));

    // /me as the user: own row, never the hash or the lockout counters.
    const me = await call("GET", "/me", { token: login.body.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, email, email_verified: true, role: "customer", identities: [{ provider: "credentials" }] });
    expect(me.body).not.toHaveProperty("password_hash");
    expect(me.body).not.toHaveProperty("failed_login_count");

    // Refresh rotates: a new refresh token, same session id, the old row marked rotated.
    const first = await call("POST", "/token/refresh", { body: { refresh_token: login.body.refresh_token } });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(login.body.refresh_token);
    expect(first.body.session_id).toBe(login.body.session_id);
    expect(decodeJwt(first.body.access_token).session_id).toBe(login.body.session_id);
    const second = await call("POST", "/token/refresh", { body: { refresh_token: first.body.refresh_token } });
    expect(second.status).toBe(200);
    sessions = await sessionRows(user.id);
    expect(sessions).toHaveLength(3);
    expect(sessions.filter((s) => s.rotated_at === null)).toHaveLength(1);
    expect(sessions[2].parent_id).toBe(sessions[1].id);

    // Reuse of a rotated token: refused, and the whole family is revoked, head included.
    const reuse = await call("POST", "/token/refresh", { body: { refresh_token: first.body.refresh_token } });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe("refresh_token_reused");
    sessions = await sessionRows(user.id);
    expect(sessions.every((s) => s.revoked_at !== null)).toBe(true);
    expect(sessions.filter((s) => s.revoked_reason === "refresh_token_reused")).toHaveLength(3);
    const head = await call("POST", "/token/refresh", { body: { refresh_token: second.body.refresh_token } });
    expect(head.status).toBe(401);
    expect(head.body.error.code).toBe("invalid_refresh_token");

    // A new login; it is listed; logout revokes it so its refresh token stops at once.
    const relogin = await call("POST", "/token", { body: { email, password: STRONG_PASSWORD } });
    expect(relogin.status).toBe(200);
    const list = await call("GET", "/sessions", { token: relogin.body.access_token });
    expect(list.status).toBe(200);
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.data).toEqual([expect.objectContaining({ id: relogin.body.session_id, current: true })]);
    const logout = await call("POST", "/logout", { token: relogin.body.access_token });
    expect(logout.status).toBe(204);
    const afterLogout = await call("POST", "/token/refresh", { body: { refresh_token: relogin.body.refresh_token } });
    expect(afterLogout.status).toBe(401);
    expect(afterLogout.body.error.code).toBe("invalid_refresh_token");
    // Documented: the access token itself lives until exp, for reading (RLS)...
    expect((await call("GET", "/me", { token: relogin.body.access_token })).status).toBe(200);
    // ...but a revoked login acts no more: no wallet, no transfer, no payout through it.
    const acting = await fetch(`${inject("edgeBaseUrl")}/functions/v1/wallets`,
      requestInit("POST", relogin.body.access_token, { currency: "KES" }));
    expect(acting.status).toBe(401);
    expect((await acting.json()).error.code).toBe("unauthenticated");

    // Password reset: mailed link, new password, every session revoked, old password dead.
    const stillIn = await call("POST", "/token", { body: { email, password: STRONG_PASSWORD } });
    expect(stillIn.status).toBe(200);
    const request = await call("POST", "/password-reset", { body: { email } });
    expect(request.status).toBe(202);
    const resetToken = tokenFromMail(email, "password_reset");
    const newPassword = "Another-secret-2027";
    const confirm = await call("POST", "/password-reset", { body: { token: resetToken, password: newPassword } });
    expect(confirm.status).toBe(200);
    expect((await call("POST", "/token/refresh", { body: { refresh_token: stillIn.body.refresh_token } })).status).toBe(401);
    sessions = await sessionRows(user.id);
    expect(sessions.every((s) => s.revoked_at !== null)).toBe(true);
    expect((await call("POST", "/token", { body: { email, password: STRONG_PASSWORD } })).status).toBe(401);
    expect((await call("POST", "/token", { body: { email, password: newPassword } })).status).toBe(200);
    const reused = await call("POST", "/password-reset", { body: { token: resetToken, password: "Yet-another-pass-1" } });
    expect(reused.status).toBe(409);
    expect(reused.body.error.code).toBe("verification_token_used");
  });

  it("never stores a raw refresh or verification token anywhere", async () => {
    const signedIn = await signUpVerifiedUser();
    const dump = await admin`
      select (select string_agg(s::text, '|') from public.auth_sessions s where s.user_id = ${signedIn.user.id}) as sessions,
             (select string_agg(a::text, '|') from public.audit_logs a where a.row_id = ${signedIn.user.id}) as audit`;
    expect(dump[0].sessions).not.toContain(signedIn.refresh_token);
    expect(dump[0].audit).not.toContain("$argon2id$");
  });
});

describe("auth: sign-up and login never reveal which emails exist", () => {
  it("answers a second sign-up with the same email exactly like the first, and changes nothing", async () => {
    const email = uniqueEmail("dup");
    const first = await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } });
    const before = await userByEmail(email);
    const second = await call("POST", "/signup", { body: { email: email.toUpperCase(), password: "Attacker-chosen-99" } });
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    const after = await userByEmail(email);
    expect(after.password_hash).toBe(before.password_hash);
    // The owner is told, with no verification link that could confirm someone else's account.
    expect(sentMail(email).map((m) => m.kind)).toEqual(["email_verification", "already_registered"]);
    expect((await admin`select count(*)::int as n from public.auth_users where email = ${email}`)[0].n).toBe(1);
  });

  it("answers an unknown email exactly like a wrong password, after the same argon2id work", async () => {
    const known = await signUpVerifiedUser();
    const unknownEmail = uniqueEmail("nobody");
    const timed = async (email: string) => {
      const started = performance.now();
      const res = await call("POST", "/token", { body: { email, password: "Wrong-password-123" } });
      return { res, ms: performance.now() - started };
    };
    const wrong = [await timed(known.email), await timed(known.email), await timed(known.email)];
    const unknown = [await timed(unknownEmail), await timed(unknownEmail), await timed(unknownEmail)];
    for (const { res } of [...wrong, ...unknown]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(wrong[0].res.body);
    }
    const median = (xs: { ms: number }[]) => xs.map((x) => x.ms).sort((a, b) => a - b)[1];
    // Without the dummy hash an unknown email answers ~10x faster than a known one.
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.4);
    const requestReset = await call("POST", "/password-reset", { body: { email: unknownEmail } });
    const requestResetKnown = await call("POST", "/password-reset", { body: { email: known.email } });
    expect(requestReset.status).toBe(202);
    expect(requestReset.body).toEqual(requestResetKnown.body);
    expect(sentMail(unknownEmail)).toHaveLength(0);
  });
});

describe("auth: password rules", () => {
  it.each([
    ["too short", "Short-1"],
    ["one character class", "alllowercaseletters"],
    ["digits only", "12345678901234"],
    ["too long", `Aa1-${"x".repeat(253)}`],
  ])("refuses a password that is %s, and writes nothing", async (_label, password) => {
    const email = uniqueEmail("weak");
    const res = await call("POST", "/signup", { body: { email, password } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.fields[0].path).toBe("password");
    expect(await userByEmail(email)).toBeUndefined();
  });

  it("accepts a 256-character password", async () => {
    const password = `Aa1-${"y".repeat(252)}`;
    const signedIn = await signUpVerifiedUser(uniqueEmail("long"), password);
    expect(signedIn.access_token).toBeTruthy();
  });
});

describe("auth: brute-force lockout", () => {
  it("locks password login after 5 failures for 15 minutes, without saying so, and unlocks by itself", async () => {
    const victim = await signUpVerifiedUser();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const res = await call("POST", "/token", { body: { email: victim.email, password: `Guess-number-${attempt}` } });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("invalid_credentials");
    }
    const locked = await userByEmail(victim.email);
    expect(locked.status).toBe("locked");
    const lockMinutes = (locked.locked_until.getTime() - Date.now()) / 60_000;
    expect(lockMinutes).toBeGreaterThan(14);
    expect(lockMinutes).toBeLessThanOrEqual(15);

    // The right password does not get in while locked, and the answer is the same.
    const right = await call("POST", "/token", { body: { email: victim.email, password: victim.password } });
    expect(right.status).toBe(401);
    expect(right.body.error.code).toBe("invalid_credentials");
    // Attempts while locked do not extend the lock.
    expect((await userByEmail(victim.email)).locked_until).toEqual(locked.locked_until);

    // The attacker cannot sign the owner out of an existing session.
    const refreshed = await call("POST", "/token/refresh", { body: { refresh_token: victim.refresh_token } });
    expect(refreshed.status).toBe(200);

    // Once the lock has run out, the right password works and the count starts again.
    await admin`update public.auth_users set locked_until = now() - interval '1 second' where id = ${victim.user.id}`;
    const after = await call("POST", "/token", { body: { email: victim.email, password: victim.password } });
    expect(after.status).toBe(200);
    expect(await userByEmail(victim.email)).toMatchObject({ status: "active", failed_login_count: 0, locked_until: null });
  });

  it("a successful login resets the failure count", async () => {
    const user = await signUpVerifiedUser();
    for (let i = 0; i < 4; i++) await call("POST", "/token", { body: { email: user.email, password: "Wrong-password-1" } });
    expect((await userByEmail(user.email)).failed_login_count).toBe(4);
    expect((await call("POST", "/token", { body: { email: user.email, password: user.password } })).status).toBe(200);
    expect((await userByEmail(user.email)).failed_login_count).toBe(0);
  });

  it("a password reset lifts a temporary lock", async () => {
    const user = await signUpVerifiedUser();
    for (let i = 0; i < 5; i++) await call("POST", "/token", { body: { email: user.email, password: "Wrong-password-1" } });
    expect((await userByEmail(user.email)).status).toBe("locked");
    await call("POST", "/password-reset", { body: { email: user.email } });
    const res = await call("POST", "/password-reset", {
      body: { token: tokenFromMail(user.email, "password_reset"), password: "Fresh-password-77" },
    });
    expect(res.status).toBe(200);
    expect((await call("POST", "/token", { body: { email: user.email, password: "Fresh-password-77" } })).status).toBe(200);
  });
});

describe("auth: sessions", () => {
  it("lists own sessions, revokes one by id, and cannot touch someone else's", async () => {
    const alice = await signUpVerifiedUser();
    const aliceSecond = await call("POST", "/token", { body: { email: alice.email, password: alice.password }, headers: { "user-agent": "phone" } });
    const bob = await signUpVerifiedUser();

    const list = await call("GET", "/sessions", { token: alice.access_token });
    expect(list.body.data.map((s: { id: string }) => s.id).sort()).toEqual([alice.session_id, aliceSecond.body.session_id].sort());
    expect(list.body.data.find((s: { id: string }) => s.id === alice.session_id).current).toBe(true);

    // Bob cannot revoke (or even find) Alice's session.
    const stolen = await call("DELETE", `/sessions/${alice.session_id}`, { token: bob.access_token });
    expect(stolen.status).toBe(404);
    expect(stolen.body.error.code).toBe("session_not_found");
    expect((await call("POST", "/token/refresh", { body: { refresh_token: alice.refresh_token } })).status).toBe(200);

    const revoke = await call("DELETE", `/sessions/${aliceSecond.body.session_id}`, { token: alice.access_token });
    expect(revoke.status).toBe(204);
    expect((await call("POST", "/token/refresh", { body: { refresh_token: aliceSecond.body.refresh_token } })).status).toBe(401);
    expect((await call("DELETE", "/sessions/not-a-uuid", { token: alice.access_token })).status).toBe(400);
    expect((await call("GET", "/sessions")).status).toBe(401);
  });

  it("logout scope 'others' keeps the current session, 'global' ends them all", async () => {
    const user = await signUpVerifiedUser();
    const other = await call("POST", "/token", { body: { email: user.email, password: user.password } });
    expect((await call("POST", "/logout", { token: user.access_token, body: { scope: "others" } })).status).toBe(204);
    expect((await call("POST", "/token/refresh", { body: { refresh_token: other.body.refresh_token } })).status).toBe(401);
    const kept = await call("POST", "/token/refresh", { body: { refresh_token: user.refresh_token } });
    expect(kept.status).toBe(200);
    expect((await call("POST", "/logout", { token: kept.body.access_token, body: { scope: "global" } })).status).toBe(204);
    expect((await call("POST", "/token/refresh", { body: { refresh_token: kept.body.refresh_token } })).status).toBe(401);
    expect((await call("POST", "/logout", { token: kept.body.access_token, body: { scope: "everything" } })).status).toBe(400);
  });

  it("a disabled user's sessions stop refreshing", async () => {
    const user = await signUpVerifiedUser();
    await admin`update public.auth_users set status = 'disabled' where id = ${user.user.id}`;
    expect((await call("POST", "/token/refresh", { body: { refresh_token: user.refresh_token } })).status).toBe(401);
    expect((await call("POST", "/token", { body: { email: user.email, password: user.password } })).status).toBe(401);
    const [row] = await admin`select revoked_reason from public.auth_sessions where family_id = ${user.session_id} limit 1`;
    expect(row.revoked_reason).toBe("user_suspended");
  });

  it("an expired refresh token is refused", async () => {
    const user = await signUpVerifiedUser();
    await admin`update public.auth_sessions set expires_at = now() - interval '1 second' where family_id = ${user.session_id}`;
    const res = await call("POST", "/token/refresh", { body: { refresh_token: user.refresh_token } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("invalid_refresh_token");
  });

  it("refreshes carry role changes into the next access token", async () => {
    const user = await signUpVerifiedUser();
    await admin`update public.auth_users set role = 'merchant' where id = ${user.user.id}`;
    const res = await call("POST", "/token/refresh", { body: { refresh_token: user.refresh_token } });
    expect(decodeJwt(res.body.access_token).app_metadata).toEqual({ role: "merchant" });
  });
});

describe("auth: verification and reset tokens", () => {
  it("refuses an expired reset token", async () => {
    const user = await signUpVerifiedUser();
    await call("POST", "/password-reset", { body: { email: user.email } });
    const token = tokenFromMail(user.email, "password_reset");
    await admin`update public.auth_verification_token set expires_at = now() - interval '1 second' where token_hash = ${await sha256Hex(token)}`;
    const res = await call("POST", "/password-reset", { body: { token, password: "Brand-new-pass-1" } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("verification_token_expired");
    expect((await call("POST", "/token", { body: { email: user.email, password: user.password } })).status).toBe(200);
  });

  it("a reset link cannot verify an email, and only the newest link works", async () => {
    const email = uniqueEmail("purpose");
    await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } });
    const firstVerification = tokenFromMail(email, "email_verification");
    await call("POST", "/password-reset", { body: { email } });
    const reset = tokenFromMail(email, "password_reset");
    const wrongPurpose = await call("POST", "/verify-email", { body: { token: reset } });
    expect(wrongPurpose.status).toBe(400);
    expect(wrongPurpose.body.error.code).toBe("verification_token_invalid");

    const resend = await call("POST", "/verify-email", { body: { email } });
    expect(resend.status).toBe(202);
    const newest = tokenFromMail(email, "email_verification");
    expect(newest).not.toBe(firstVerification);
    expect((await call("POST", "/verify-email", { body: { token: firstVerification } })).body.error.code).toBe("verification_token_invalid");
    expect((await call("POST", "/verify-email", { body: { token: newest } })).status).toBe(200);
    expect((await userByEmail(email)).email_verified_at).toBeInstanceOf(Date);
  });

  it("a made-up token is invalid", async () => {
    const res = await call("POST", "/verify-email", { body: { token: "A".repeat(43) } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("verification_token_invalid");
  });
});

describe("auth: access-token attacks against the shared middleware", () => {
  let victim: Awaited<ReturnType<typeof signUpVerifiedUser>>;
  beforeAll(async () => {
    victim = await signUpVerifiedUser();
  });

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const claims = () => ({
    sub: victim.user.id,
    role: "authenticated",
    aud: "authenticated",
    iss: "hazina",
    email: victim.email,
    app_metadata: { role: "admin" },
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 600,
  });
  const sign = (payload: Record<string, unknown>, key: Uint8Array | CryptoKey = secret, alg = "HS256") =>
    new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(key);

  async function refused(token: string, code = "invalid_token") {
    const res = await call("GET", "/me", { token });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe(code);
  }

  it("accepts the genuine token (control)", async () => {
    expect((await call("GET", "/me", { token: victim.access_token })).status).toBe(200);
    expect((await call("GET", "/me", { token: await sign(claims()) })).status).toBe(200);
  });

  it("refuses alg: none", async () => {
    await refused(`${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.`);
    await refused(`${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.c2ln`);
  });

  it("refuses a token signed with the wrong key", async () => {
    await refused(await sign(claims(), new TextEncoder().encode("not-the-secret-not-the-secret-000000")));
    const { privateKey } = await generateKeyPair("ES256");
    await refused(await sign(claims(), privateKey, "ES256"));
    const rsa = await generateKeyPair("RS256");
    await refused(await sign(claims(), rsa.privateKey, "RS256"));
  });

  it("refuses an expired token", async () => {
    await refused(await sign({ ...claims(), iat: 1_000_000, exp: 1_000_600 }), "token_expired");
  });

  it("refuses a wrong audience or issuer, and a token without sub or with another role", async () => {
    await refused(await sign({ ...claims(), aud: "somebody-else" }));
    await refused(await sign({ ...claims(), iss: "https://evil.example" }));
    const { sub: _sub, ...withoutSub } = claims();
    await refused(await sign(withoutSub));
    await refused(await sign({ ...claims(), role: "service_role" }));
  });

  it("refuses a tampered payload", async () => {
    const [header, , signature] = victim.access_token.split(".");
    const forged = { ...decodeJwt(victim.access_token), app_metadata: { role: "admin" } };
    await refused(`${header}.${b64(forged)}.${signature}`);
    const other = await signUpVerifiedUser();
    await refused(`${header}.${b64({ ...decodeJwt(victim.access_token), sub: other.user.id })}.${signature}`);
  });

  it("refuses garbage and missing bearer tokens", async () => {
    expect((await call("GET", "/me")).status).toBe(401);
    expect((await call("GET", "/me", { headers: { authorization: "Basic abc" } })).status).toBe(401);
    await refused("abc.def.ghi");
  });
});

describe("auth: ES256 tokens with JWT_PRIVATE_JWK", () => {
  let publicJwk: JWK;
  beforeAll(async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    process.env.JWT_PRIVATE_JWK = JSON.stringify({ ...(await exportJWK(privateKey)), kid: "hazina-test-es256" });
    resetConfigForTests();
  });
  afterAll(() => {
    delete process.env.JWT_PRIVATE_JWK;
    resetConfigForTests();
  });

  it("publishes only the public key and signs access tokens with it", async () => {
    const jwks = await call("GET", "/.well-known/jwks.json");
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toHaveLength(1);
    publicJwk = jwks.body.keys[0];
    expect(publicJwk).toMatchObject({ kty: "EC", crv: "P-256", kid: "hazina-test-es256", alg: "ES256", use: "sig" });
    expect(publicJwk).not.toHaveProperty("d");

    const user = await signUpVerifiedUser();
    expect(decodeProtectedHeader(user.access_token)).toMatchObject({ alg: "ES256", kid: "hazina-test-es256" });
    const { payload } = await jwtVerify(user.access_token, createLocalJWKSet(jwks.body), { audience: "authenticated", issuer: "hazina" });
    expect(payload.sub).toBe(user.user.id);
    expect((await call("GET", "/me", { token: user.access_token })).status).toBe(200);
    // And the refreshed token too.
    const refreshed = await call("POST", "/token/refresh", { body: { refresh_token: user.refresh_token } });
    expect(decodeProtectedHeader(refreshed.body.access_token).alg).toBe("ES256");
  });

  it("refuses HS/ES confusion: an HS256 token keyed with the published public key", async () => {
    const user = await signUpVerifiedUser();
    const payload = decodeJwt(user.access_token);
    for (const keyMaterial of [JSON.stringify(publicJwk), publicJwk.x!, `${publicJwk.x}${publicJwk.y}`]) {
      const forged = await new SignJWT({ ...payload, app_metadata: { role: "admin" } })
        .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: publicJwk.kid })
        .sign(new TextEncoder().encode(keyMaterial.padEnd(32, "=")));
      const res = await call("GET", "/me", { token: forged });
      expect(res.status).toBe(401);
    }
    // An ES256 token from another key with our kid is refused too.
    const { privateKey } = await generateKeyPair("ES256");
    const impostor = await new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: publicJwk.kid }).sign(privateKey);
    expect((await call("GET", "/me", { token: impostor })).status).toBe(401);
  });

  it("with HS256 configured, the JWKS is empty: the secret is never published", async () => {
    delete process.env.JWT_PRIVATE_JWK;
    resetConfigForTests();
    expect((await call("GET", "/.well-known/jwks.json")).body).toEqual({ keys: [] });
  });
});

describe("auth: OAuth / OIDC", () => {
  it("signs in a new user with a verified ID token, and the same identity again", async () => {
    const email = uniqueEmail("oidc");
    const subject = `sub-${crypto.randomUUID()}`;
    const first = await call("POST", "/oauth/testidp", { body: { id_token: await idToken({ sub: subject, email, email_verified: true, name: "Achieng" }) } });
    expect(first.status).toBe(200);
    expect(first.body.user).toMatchObject({ email, role: "customer" });
    const user = await userByEmail(email);
    expect(user.password_hash).toBeNull();
    expect(user.email_verified_at).toBeInstanceOf(Date);
    const again = await call("POST", "/oauth/testidp", { body: { id_token: await idToken({ sub: subject, email: "changed@example.com", email_verified: true }) } });
    expect(again.status).toBe(200);
    expect(again.body.user.id).toBe(user.id);
    const me = await call("GET", "/me", { token: again.body.access_token });
    expect(me.body.identities.map((i: { provider: string }) => i.provider)).toEqual(["testidp"]);
    // An OAuth-only user has no password to guess.
    expect((await call("POST", "/token", { body: { email, password: "Anything-at-all-1" } })).status).toBe(401);
  });

  it("refuses ID tokens with a bad signature, issuer, audience, expiry or algorithm", async () => {
    const email = uniqueEmail("oidc-bad");
    const claims = { sub: `sub-${crypto.randomUUID()}`, email, email_verified: true };
    const other = await generateKeyPair("RS256");
    const bad = [
      await idToken(claims, { key: other.privateKey }),
      await idToken(claims, { issuer: "https://evil.example" }),
      await idToken(claims, { audience: "someone-elses-client" }),
      await idToken(claims, { exp: Math.floor(Date.now() / 1000) - 120 }),
      await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: "idp-key-1" }).setIssuer(IDP_ISSUER)
        .setAudience(IDP_AUDIENCE).setIssuedAt().setExpirationTime("5m")
        .sign(new TextEncoder().encode(JSON.stringify(idpJwks.keys[0]))),
    ];
    for (const token of bad) {
      const res = await call("POST", "/oauth/testidp", { body: { id_token: token } });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("invalid_id_token");
    }
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;
    expect((await call("POST", "/oauth/testidp", { body: { id_token: none } })).status).toBe(400);
    expect(await userByEmail(email)).toBeUndefined();
  });

  it("checks the nonce when one is in play", async () => {
    const claims = { sub: `sub-${crypto.randomUUID()}`, email: uniqueEmail("nonce"), email_verified: true };
    const token = await idToken({ ...claims, nonce: "n-0S6_WzA2Mj" });
    expect((await call("POST", "/oauth/testidp", { body: { id_token: token } })).status).toBe(401);
    expect((await call("POST", "/oauth/testidp", { body: { id_token: token, nonce: "other" } })).status).toBe(401);
    expect((await call("POST", "/oauth/testidp", { body: { id_token: token, nonce: "n-0S6_WzA2Mj" } })).status).toBe(200);
  });

  it("needs a provider-verified email to create or find an account", async () => {
    const email = uniqueEmail("unverified");
    const res = await call("POST", "/oauth/testidp", { body: { id_token: await idToken({ sub: `sub-${crypto.randomUUID()}`, email, email_verified: false }) } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("oauth_email_not_verified");
    expect(await userByEmail(email)).toBeUndefined();
    const unknown = await call("POST", "/oauth/nosuchidp", { body: { id_token: await idToken({ sub: "x" }) } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("oauth_provider_not_found");
  });

  it("takes an unverified account back from whoever pre-registered the email", async () => {
    const email = uniqueEmail("prehijack");
    const attackerPassword = "Attacker-pass-123";
    await call("POST", "/signup", { body: { email, password: attackerPassword } });
    const preRegistered = await userByEmail(email);
    const owner = await call("POST", "/oauth/testidp", { body: { id_token: await idToken({ sub: `sub-${crypto.randomUUID()}`, email, email_verified: true }) } });
    expect(owner.status).toBe(200);
    expect(owner.body.user.id).toBe(preRegistered.id);
    const after = await userByEmail(email);
    expect(after.password_hash).toBeNull();
    expect(after.email_verified_at).toBeInstanceOf(Date);
    expect((await call("POST", "/token", { body: { email, password: attackerPassword } })).status).toBe(401);
  });

  it("links an identity to the signed-in user, and never to a second user", async () => {
    const alice = await signUpVerifiedUser();
    const bob = await signUpVerifiedUser();
    const subject = `sub-${crypto.randomUUID()}`;
    const token = await idToken({ sub: subject, email: uniqueEmail("alias"), email_verified: true });
    const linked = await call("POST", "/oauth/testidp", { body: { id_token: token }, token: alice.access_token });
    expect(linked.status).toBe(200);
    expect(linked.body).toEqual({ provider: "testidp", linked: true, created: true });
    const stolen = await call("POST", "/oauth/testidp", { body: { id_token: token }, token: bob.access_token });
    expect(stolen.status).toBe(409);
    expect(stolen.body.error.code).toBe("oauth_account_in_use");
    const signIn = await call("POST", "/oauth/testidp", { body: { id_token: token } });
    expect(signIn.body.user.id).toBe(alice.user.id);
  });
});

describe("auth: hostile and oversized input", () => {
  it("refuses SQL-ish emails and tokens with a 400 and writes nothing", async () => {
    const before = (await admin`select count(*)::int as n from public.auth_users`)[0].n;
    for (const email of ["a'); drop table auth_users;--@example.com", "' or 1=1 --", "x@example.com' --", "admin@example.com\u0000"]) {
      const signup = await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD } });
      expect(signup.status).toBe(400);
      expect(signup.body.error.code).toBe("validation_failed");
      expect((await call("POST", "/token", { body: { email, password: "' or '1'='1" } })).status).toBe(400);
      expect((await call("POST", "/password-reset", { body: { email } })).status).toBe(400);
    }
    expect((await call("POST", "/token/refresh", { body: { refresh_token: "' or 1=1; --" } })).status).toBe(400);
    expect((await call("POST", "/verify-email", { body: { token: "x' union select password_hash from auth_users --" } })).status).toBe(400);
    expect((await admin`select count(*)::int as n from public.auth_users`)[0].n).toBe(before);
  });

  it("stores SQL-looking names verbatim (parameters, never string building)", async () => {
    const email = uniqueEmail("bobby");
    const name = "Robert'); DROP TABLE auth_users;--";
    expect((await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD, name } })).status).toBe(202);
    expect((await userByEmail(email)).name).toBe(name);
  });

  it("refuses oversized, malformed and unexpected input with a clear 4xx", async () => {
    const email = uniqueEmail("big");
    const huge = await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD, name: "x".repeat(2 * 1024 * 1024) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("payload_too_large");
    const longEmail = `${"a".repeat(250)}@example.com`;
    expect((await call("POST", "/signup", { body: { email: longEmail, password: STRONG_PASSWORD } })).status).toBe(400);
    expect((await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD, name: "n".repeat(201) } })).status).toBe(400);
    expect((await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD, role: "admin" } })).status).toBe(400);
    expect((await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD, is_admin: true } })).status).toBe(400);
    expect((await call("POST", "/signup", { body: { email, password: STRONG_PASSWORD, phone: "0712345678" } })).status).toBe(400);
    expect((await call("POST", "/signup", { rawBody: "{not json" })).body.error.code).toBe("invalid_json");
    expect((await call("POST", "/signup", { body: [email] })).status).toBe(400);
    expect((await call("POST", "/oauth/testidp", { body: { id_token: `a.${"b".repeat(9000)}.c` } })).status).toBe(400);
    expect((await call("POST", "/verify-email", { body: { email, token: "A".repeat(43) } })).status).toBe(400);
    expect(await userByEmail(email)).toBeUndefined();
  });
});

describe("auth over real HTTP (Deno edge server)", () => {
  it("signs up, signs in and answers /me through /functions/v1/auth", async () => {
    const base = `${inject("edgeBaseUrl")}/functions/v1/auth`;
    const email = uniqueEmail("http");
    const post = (path: string, body: unknown) => fetch(`${base}${path}`, requestInit("POST", undefined, body));
    expect((await post("/signup", { email, password: STRONG_PASSWORD })).status).toBe(202);
    // The Deno server's outbox is its own; mark the email verified as the link would.
    await admin`update public.auth_users set email_verified_at = now() where email = ${email}`;
    const login = await post("/token", { email, password: STRONG_PASSWORD });
    expect(login.status).toBe(200);
    const tokens = await login.json();
    const me = await fetch(`${base}/me`, requestInit("GET", tokens.access_token));
    expect(me.status).toBe(200);
    expect((await me.json()).email).toBe(email);
    const refreshed = await post("/token/refresh", { refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(200);
    expect((await fetch(`${base}/.well-known/jwks.json`)).status).toBe(200);
  });
});
