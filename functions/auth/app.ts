// The auth function: sign-up, password and OAuth sign-in, refresh-token rotation, sessions,
// email verification and password reset. It writes the auth tables as service_role
// through the hazina.* functions, which own every rule (lockout, rotation, reuse
// detection, single-use tokens); it reads the caller's own rows as the caller, under RLS.
// Endpoint reference: docs/auth.md.
import { createFunctionApp } from "../_shared/app.ts";
import { requireUser, verifyAccessToken } from "../_shared/auth.ts";
import { config } from "../_shared/config.ts";
import { asService, asUser } from "../_shared/db.ts";
import { ApiError, fromDatabaseError } from "../_shared/errors.ts";
import { log } from "../_shared/log.ts";
import { hashPassword, verifyPassword } from "../_shared/password.ts";
import { publicJwks, sha256Hex } from "../_shared/tokens.ts";
import { verifyIdToken } from "./oidc.ts";
import {
  LoginBody,
  LogoutBody,
  OAuthBody,
  OAuthParam,
  PasswordResetBody,
  RefreshBody,
  SessionIdParam,
  SignupBody,
  VerifyEmailBody,
} from "./schemas.ts";
import {
  clientInfo,
  emailNotVerified,
  invalidCredentials,
  invalidRefreshToken,
  issueVerificationToken,
  mails,
  newRefreshToken,
  refreshTokenReused,
  sendMail,
  type SignInRow,
  tokenResponse,
} from "./support.ts";

export const app = createFunctionApp("auth");

// The same answer whether or not the email has an account.
const ACCEPTED = {
  signup: { status: "pending_verification", message: "Check your inbox for a link to confirm your email address." },
  verification: { status: "sent", message: "If this address has an unconfirmed account, we sent it a new link." },
  reset: { status: "sent", message: "If this address has an account, we sent it a link to reset the password." },
};

app.post("/signup", async (c) => {
  const input = SignupBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  // Hash before touching the database, for new and known emails alike.
  const passwordHash = await hashPassword(input.password);
  const outcome = await asService(requestId, async (tx) => {
    const [row] = await tx<{ user_id: string; created: boolean }[]>`
      select user_id, created from hazina.signup(${input.email}, ${passwordHash}, ${input.name ?? null},
                                                 ${input.phone ?? null}, ${input.role})`;
    const token = row.created ? await issueVerificationToken(tx, row.user_id, "email_verification") : null;
    return { created: row.created, token };
  });
  // A known email gets a notice instead of a verification link: verifying an account that
  // someone else may have created with this address would hand it to them.
  await sendMail(outcome.token ? mails.verification(input.email, outcome.token) : mails.alreadyRegistered(input.email), requestId);
  return c.json(ACCEPTED.signup, 202);
});

app.post("/token", async (c) => {
  const input = LoginBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  const cfg = config();
  const [account] = await asService(requestId, (tx) =>
    tx<{ user_id: string; password_hash: string | null }[]>`
      select user_id, password_hash from hazina.password_login_lookup(${input.email})`);
  // Always a full argon2id verification (a dummy one for unknown emails): same cost either way.
  const passwordOk = await verifyPassword(input.password, account?.password_hash);
  if (!account) throw invalidCredentials();

  const refresh = await newRefreshToken();
  const { userAgent, ip } = clientInfo(c);
  const [result] = await asService(requestId, (tx) =>
    tx<SignInRow[]>`
      select * from hazina.password_login(${account.user_id}, ${passwordOk}, ${cfg.AUTH_REQUIRE_EMAIL_VERIFICATION},
                                          ${refresh.hash}, ${cfg.AUTH_REFRESH_TTL_SECONDS}, ${userAgent}, ${ip})`);
  if (result.outcome === "ok") return c.json(await tokenResponse(result, refresh.token));
  log("info", "password login refused", { request_id: requestId, user_id: account.user_id, outcome: result.outcome });
  if (result.outcome === "email_not_verified") throw emailNotVerified();
  throw invalidCredentials();
});

app.post("/token/refresh", async (c) => {
  const input = RefreshBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  const next = await newRefreshToken();
  const { userAgent, ip } = clientInfo(c);
  // The database commits a revocation (reuse, suspension) before we answer with the error.
  const [result] = await asService(requestId, async (tx) =>
    tx<SignInRow[]>`
      select * from hazina.session_refresh(${await sha256Hex(input.refresh_token)}, ${next.hash},
                                           ${config().AUTH_REFRESH_TTL_SECONDS}, ${userAgent}, ${ip})`);
  if (result.outcome === "ok") return c.json(await tokenResponse(result, next.token));
  log(result.outcome === "reused" ? "warn" : "info", "refresh refused", {
    request_id: requestId,
    user_id: result.user_id,
    session_id: result.session_id,
    outcome: result.outcome,
  });
  if (result.outcome === "reused") throw refreshTokenReused();
  throw invalidRefreshToken();
});

app.post("/logout", requireUser, async (c) => {
  const text = await c.req.text();
  const { scope } = LogoutBody.parse(text.trim() ? JSON.parse(text) : {});
  const userId = c.get("userId");
  const sessionId = c.get("claims").session_id;
  const currentSession = typeof sessionId === "string" && /^[0-9a-f-]{36}$/i.test(sessionId) ? sessionId : null;
  await asService(c.get("requestId"), async (tx) => {
    if (scope === "global") {
      await tx`select hazina.session_revoke_all(${userId}, 'logout_global')`;
    } else if (scope === "others") {
      await tx`select hazina.session_revoke_all(${userId}, 'logout_others', ${currentSession})`;
    } else if (currentSession) {
      // A token whose session is already gone (purged) has nothing left to revoke.
      await tx`select hazina.session_revoke(${userId}, ${currentSession}, 'logout')`.catch((err) => {
        if (fromDatabaseError(err)?.code !== "session_not_found") throw err;
      });
    }
  });
  return c.body(null, 204);
});

app.get("/me", requireUser, async (c) => {
  // Read as the caller: RLS and the column grants decide what comes back.
  const { user, identities } = await asUser(c.get("claims"), c.get("requestId"), async (tx) => {
    const [user] = await tx`
      select id, email, email_verified_at, name, phone, role, status, created_at, updated_at
        from public.auth_users where id = auth.uid()`;
    const identities = await tx`
      select provider, created_at from public.auth_accounts order by created_at, provider`;
    return { user, identities };
  });
  if (!user) throw new ApiError(404, "user_not_found", "This account no longer exists.");
  return c.json({ ...user, email_verified: user.email_verified_at !== null, identities });
});

app.get("/sessions", requireUser, async (c) => {
  const current = c.get("claims").session_id;
  const rows = await asUser(c.get("claims"), c.get("requestId"), (tx) =>
    tx<{ id: string; created_at: Date; last_refreshed_at: Date; expires_at: Date; user_agent: string | null; ip: string | null }[]>`
      select s.family_id as id,
             (select min(f.created_at) from public.auth_sessions f where f.family_id = s.family_id) as created_at,
             s.created_at as last_refreshed_at, s.expires_at, s.user_agent, host(s.ip) as ip
        from public.auth_sessions s
       where s.rotated_at is null and s.revoked_at is null and s.expires_at > now()
       order by s.created_at desc
       limit 100`);
  // A user has a handful of sessions; the list is never paged, but keeps the list shape.
  return c.json({ data: rows.map((row) => ({ ...row, current: row.id === current })), next_cursor: null });
});

app.delete("/sessions/:id", requireUser, async (c) => {
  const { id } = SessionIdParam.parse(c.req.param());
  await asService(c.get("requestId"), (tx) => tx`select hazina.session_revoke(${c.get("userId")}, ${id}, 'revoked_by_user')`);
  return c.body(null, 204);
});

app.post("/verify-email", async (c) => {
  const input = VerifyEmailBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  if ("token" in input) {
    await asService(requestId, async (tx) => tx`select hazina.email_verify_confirm(${await sha256Hex(input.token)})`);
    return c.json({ status: "verified" });
  }
  const token = await asService(requestId, async (tx) => {
    const [user] = await tx<{ id: string }[]>`
      select id from public.auth_users where email = ${input.email} and email_verified_at is null and status <> 'disabled'`;
    return user ? await issueVerificationToken(tx, user.id, "email_verification") : null;
  });
  if (token) await sendMail(mails.verification(input.email, token), requestId);
  return c.json(ACCEPTED.verification, 202);
});

app.post("/password-reset", async (c) => {
  const input = PasswordResetBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  if ("token" in input) {
    const passwordHash = await hashPassword(input.password);
    await asService(requestId, async (tx) =>
      tx`select hazina.password_reset_confirm(${await sha256Hex(input.token)}, ${passwordHash})`);
    return c.json({ status: "password_updated", message: "Password changed; every session was signed out." });
  }
  const token = await asService(requestId, async (tx) => {
    const [user] = await tx<{ id: string }[]>`
      select id from public.auth_users where email = ${input.email} and status <> 'disabled'`;
    return user ? await issueVerificationToken(tx, user.id, "password_reset") : null;
  });
  if (token) await sendMail(mails.passwordReset(input.email, token), requestId);
  return c.json(ACCEPTED.reset, 202);
});

app.post("/oauth/:provider", async (c) => {
  const { provider } = OAuthParam.parse(c.req.param());
  const input = OAuthBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  const identity = await verifyIdToken(provider, input.id_token, input.nonce);

  // Signed in already: link this identity to the caller's account.
  const authorization = c.req.header("authorization");
  if (authorization) {
    const match = /^Bearer\s+([A-Za-z0-9_\-.]+)$/i.exec(authorization);
    if (!match) throw new ApiError(401, "unauthenticated", "Send a bearer access token.");
    const claims = await verifyAccessToken(match[1]);
    if (claims.role !== "authenticated" || typeof claims.sub !== "string") {
      throw new ApiError(401, "invalid_token", "The access token is not a user token.");
    }
    const [row] = await asService(requestId, (tx) =>
      tx<{ linked: boolean }[]>`select hazina.oauth_link(${claims.sub!}, ${provider}, ${identity.subject}) as linked`);
    return c.json({ provider, linked: true, created: row.linked });
  }

  const refresh = await newRefreshToken();
  const { userAgent, ip } = clientInfo(c);
  const [result] = await asService(requestId, (tx) =>
    tx<SignInRow[]>`
      select * from hazina.oauth_sign_in(${provider}, ${identity.subject}, ${identity.email},
                                         ${identity.emailVerified}, ${identity.name}, ${refresh.hash},
                                         ${config().AUTH_REFRESH_TTL_SECONDS}, ${userAgent}, ${ip})`);
  return c.json(await tokenResponse(result, refresh.token));
});

app.get("/.well-known/jwks.json", async (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json(await publicJwks());
});
