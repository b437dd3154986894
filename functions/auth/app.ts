// The auth function: sign-up, password and OAuth sign-in, refresh-token rotation, sessions,
// email verification and password reset. It writes the auth tables as service_role
// through the hazina.* functions, which own every rule (lockout, rotation, reuse
// detection, single-use tokens); it reads the caller's own rows as the caller, under RLS.
// Endpoint reference: docs/auth.md.
import { createFunctionApp } from "../_shared/app.ts";
import { bearerToken, requireUser, verifyAccessToken } from "../_shared/auth.ts";
import { config } from "../_shared/config.ts";
import { asService } from "../_shared/db.ts";
import { userTx } from "../_shared/user.ts";
import { ApiError } from "../_shared/errors.ts";
import { log } from "../_shared/log.ts";
import { apiDocs, listOf, MerchantApplication, serveOpenApi } from "../_shared/openapi.ts";
import { hashPassword, verifyPassword } from "../_shared/password.ts";
import { publicJwks, sha256Hex } from "../_shared/tokens.ts";
import { registerDevMailbox } from "./mailbox.ts";
import {
  confirmEmail,
  confirmPasswordReset,
  requestPasswordReset,
  requestVerificationMail,
} from "./flows.ts";
import { verifyIdToken } from "./oidc.ts";
import { registerPages } from "./pages.ts";
import {
  Accepted,
  Jwks,
  LoginBody,
  LogoutBody,
  Me,
  MerchantRequestBody,
  OAuthBody,
  OAuthParam,
  OAuthResult,
  PasswordResetBody,
  RefreshBody,
  Session,
  SessionIdParam,
  SignupBody,
  TokenResponse,
  Verified,
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
export const docs = apiDocs(
  "auth",
  "Sign-up, sign-in, sessions",
  "Accounts, password and OIDC sign-in, refresh-token rotation, sessions, email verification, password reset. " +
    "See docs/auth.md.",
);
serveOpenApi(app, docs);

// The same answer whether or not the email has an account.
const ACCEPTED = {
  signup: {
    status: "pending_verification",
    message: "Check your inbox for a link to confirm your email address.",
  },
  verification: {
    status: "sent",
    message: "If this address has an unconfirmed account, we sent it a new link.",
  },
  reset: {
    status: "sent",
    message: "If this address has an account, we sent it a link to reset the password.",
  },
};

docs.route({
  method: "post",
  path: "/signup",
  summary: "Create an account (a customer; optionally asking to be a merchant)",
  description:
    "Answers the same when the email already has an account; its owner gets a notice instead of a " +
    "verification link. With `role: merchant` the account is still a customer, with a pending merchant " +
    "application that an admin approves (POST /ops/merchants/{user_id}/approve).",
  auth: "none",
  body: SignupBody,
  bodyExample: {
    email: "wanjiku@example.com",
    password: "correct-Horse-battery-42",
    name: "Wanjiku",
    phone: "+254712345678",
  },
  responses: { 202: { description: "Check your inbox.", schema: Accepted } },
  errors: ["invalid_argument"],
});
app.post("/signup", async (c) => {
  const input = SignupBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  // Hash before touching the database, for new and known emails alike.
  const passwordHash = await hashPassword(input.password);
  const outcome = await asService(requestId, async (tx) => {
    const [row] = await tx<{ user_id: string; created: boolean }[]>`
      select user_id, created from hazina.signup(${input.email}, ${passwordHash}, ${
      input.name ?? null
    },
                                                 ${input.phone ?? null})`;
    // Nobody makes themselves a merchant: a new account asking to be one is a customer with
    // a pending application an admin decides (*_merchant_applications.sql).
    if (row.created && input.role === "merchant") {
      await tx`select hazina.merchant_application_submit(${row.user_id}, ${
        input.business_name ?? input.name!
      })`;
    }
    const token = row.created
      ? await issueVerificationToken(tx, row.user_id, "email_verification")
      : null;
    return { created: row.created, token };
  });
  // A known email gets a notice instead of a verification link: verifying an account that
  // someone else may have created with this address would hand it to them.
  await sendMail(
    outcome.token
      ? mails.verification(input.email, outcome.token)
      : mails.alreadyRegistered(input.email),
    requestId,
  );
  return c.json(ACCEPTED.signup, 202);
});

docs.route({
  method: "post",
  path: "/token",
  summary: "Sign in with email and password",
  auth: "none",
  body: LoginBody,
  bodyExample: { email: "wanjiku@example.com", password: "hazina-demo-2026" },
  responses: { 200: { description: "Signed in.", schema: TokenResponse } },
  errors: ["invalid_credentials", "email_not_verified", "invalid_argument"],
});
app.post("/token", async (c) => {
  const input = LoginBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  const cfg = config();
  const [account] = await asService(
    requestId,
    (tx) =>
      tx<{ user_id: string; password_hash: string | null }[]>`
      select user_id, password_hash from hazina.password_login_lookup(${input.email})`,
  );
  // Always a full argon2id verification (a dummy one for unknown emails): same cost either way.
  const passwordOk = await verifyPassword(input.password, account?.password_hash);
  if (!account) throw invalidCredentials();

  const refresh = newRefreshToken();
  const { userAgent, ip } = clientInfo(c);
  const [result] = await asService(requestId, (tx) =>
    tx<SignInRow[]>`
      select * from hazina.password_login(${account.user_id}, ${passwordOk}, ${cfg.AUTH_REQUIRE_EMAIL_VERIFICATION},
                                          ${refresh.hash}, ${cfg.AUTH_REFRESH_TTL_SECONDS}, ${userAgent}, ${ip})`);
  if (result.outcome === "ok") return c.json(await tokenResponse(result, refresh.token));
  log("info", "password login refused", {
    request_id: requestId,
    user_id: account.user_id,
    outcome: result.outcome,
  });
  if (result.outcome === "email_not_verified") throw emailNotVerified();
  throw invalidCredentials();
});

docs.route({
  method: "post",
  path: "/token/refresh",
  summary: "Rotate a refresh token for a new access token",
  description: "The old refresh token is used up; presenting it again revokes the whole session.",
  auth: "none",
  body: RefreshBody,
  responses: { 200: { description: "New tokens.", schema: TokenResponse } },
  errors: ["refresh_token_reused", "invalid_refresh_token", "invalid_argument"],
});
app.post("/token/refresh", async (c) => {
  const input = RefreshBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  const next = newRefreshToken();
  const { userAgent, ip } = clientInfo(c);
  // The database commits a revocation (reuse, suspension) before we answer with the error.
  const [result] = await asService(requestId, (tx) =>
    tx<SignInRow[]>`
      select * from hazina.session_refresh(${sha256Hex(input.refresh_token)}, ${next.hash},
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

docs.route({
  method: "post",
  path: "/logout",
  summary: "End this session, every other session, or all of them",
  description:
    "Refresh tokens stop at once. Access tokens of an ended login still read until they expire, but " +
    "act no more: such a token (or a disabled user's) cannot log out or end sessions either.",
  auth: "bearer",
  body: LogoutBody,
  bodyOptional: true,
  responses: { 204: { description: "Signed out.", contentType: null } },
  errors: [],
});
app.post("/logout", requireUser, async (c) => {
  const text = await c.req.text();
  const { scope } = LogoutBody.parse(text.trim() ? JSON.parse(text) : {});
  // As the caller: the database refuses a token whose login is revoked or whose user is
  // suspended (hazina.caller_id()), so a stolen token cannot end the owner's new logins.
  await userTx(c, (tx) => tx`select public.session_logout(${scope})`);
  return c.body(null, 204);
});

docs.route({
  method: "get",
  path: "/me",
  summary: "My account",
  auth: "bearer",
  responses: { 200: { description: "My account.", schema: Me } },
  errors: ["user_not_found"],
});
app.get("/me", requireUser, async (c) => {
  // Read as the caller: RLS and the column grants decide what comes back.
  const { user, identities } = await userTx(c, async (tx) => {
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

docs.route({
  method: "get",
  path: "/sessions",
  summary: "My live sessions",
  auth: "bearer",
  responses: {
    200: { description: "One entry per live sign-in (never paged).", schema: listOf(Session) },
  },
  errors: [],
});
app.get("/sessions", requireUser, async (c) => {
  const current = c.get("claims").session_id;
  const rows = await userTx(
    c,
    (tx) =>
      tx<
        {
          id: string;
          created_at: Date;
          last_refreshed_at: Date;
          expires_at: Date;
          user_agent: string | null;
          ip: string | null;
        }[]
      >`
      select s.family_id as id,
             (select min(f.created_at) from public.auth_sessions f where f.family_id = s.family_id) as created_at,
             s.created_at as last_refreshed_at, s.expires_at, s.user_agent, host(s.ip) as ip
        from public.auth_sessions s
       where s.rotated_at is null and s.revoked_at is null and s.expires_at > now()
       order by s.created_at desc
       limit 100`,
  );
  // A user has a handful of sessions; the list is never paged, but keeps the list shape.
  return c.json({
    data: rows.map((row) => ({ ...row, current: row.id === current })),
    next_cursor: null,
  });
});

docs.route({
  method: "delete",
  path: "/sessions/:id",
  summary: "Revoke one of my sessions",
  auth: "bearer",
  params: SessionIdParam,
  responses: { 204: { description: "Revoked.", contentType: null } },
  errors: ["session_not_found"],
});
app.delete("/sessions/:id", requireUser, async (c) => {
  const { id } = SessionIdParam.parse(c.req.param());
  await userTx(c, (tx) => tx`select public.session_end(${id})`);
  return c.body(null, 204);
});

docs.route({
  method: "post",
  path: "/merchant-request",
  summary: "Ask to become a merchant",
  description:
    "Records a pending merchant application; the account stays a customer until an admin approves it. " +
    "Asking again while one is pending returns it (200).",
  auth: "bearer",
  body: MerchantRequestBody,
  bodyExample: { business_name: "Duka la Mama" },
  responses: {
    201: { description: "Application recorded.", schema: MerchantApplication },
    200: { description: "An application is already pending.", schema: MerchantApplication },
  },
  errors: ["already_merchant", "forbidden", "invalid_argument"],
});
app.post("/merchant-request", requireUser, async (c) => {
  const input = MerchantRequestBody.parse(await c.req.json());
  const [row] = await userTx(
    c,
    (tx) =>
      tx<{ application: Record<string, unknown> & { created: boolean } }[]>`
      select public.merchant_apply(${input.business_name}) as application`,
  );
  const { created, ...application } = row.application;
  return c.json(application, created ? 201 : 200);
});

docs.route({
  method: "get",
  path: "/merchant-request",
  summary: "My latest merchant application",
  auth: "bearer",
  responses: {
    200: { description: "Pending, approved or rejected.", schema: MerchantApplication },
  },
  errors: ["merchant_application_not_found"],
});
app.get("/merchant-request", requireUser, async (c) => {
  // Read as the caller: RLS shows applicants only their own applications.
  const [row] = await userTx(c, (tx) =>
    tx`
    select id, user_id, business_name, status, decided_by, decided_at, decision_reason, created_at, updated_at
      from public.merchant_applications where user_id = auth.uid() order by created_at desc limit 1`);
  if (!row) {
    throw new ApiError(
      404,
      "merchant_application_not_found",
      "You have not asked to become a merchant.",
    );
  }
  return c.json(row);
});

docs.route({
  method: "post",
  path: "/verify-email",
  summary: "Send a new verification link, or confirm with the link's token",
  description:
    "`{ email }` sends a link (the same answer for every address); `{ token }` confirms.",
  auth: "none",
  body: VerifyEmailBody,
  responses: {
    200: { description: "Confirmed.", schema: Verified },
    202: { description: "Sent (if the address has an unconfirmed account).", schema: Accepted },
  },
  errors: [
    "verification_token_invalid",
    "verification_token_used",
    "verification_token_expired",
    "invalid_argument",
  ],
});
app.post("/verify-email", async (c) => {
  const input = VerifyEmailBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  if ("token" in input) {
    await confirmEmail(input.token, requestId);
    return c.json({ status: "verified" });
  }
  await requestVerificationMail(input.email, requestId);
  return c.json(ACCEPTED.verification, 202);
});

docs.route({
  method: "post",
  path: "/password-reset",
  summary: "Mail a reset link, or set a new password with the link's token",
  description:
    "`{ email }` mails a link (the same answer for every address); `{ token, password }` sets the " +
    "password, revokes every session and marks the email verified.",
  auth: "none",
  body: PasswordResetBody,
  responses: {
    200: { description: "Password changed.", schema: Accepted },
    202: { description: "Sent (if the address has an account).", schema: Accepted },
  },
  errors: [
    "verification_token_invalid",
    "verification_token_used",
    "verification_token_expired",
    "invalid_argument",
  ],
});
app.post("/password-reset", async (c) => {
  const input = PasswordResetBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  if ("token" in input) {
    await confirmPasswordReset(input.token, input.password, requestId);
    return c.json({
      status: "password_updated",
      message: "Password changed; every session was signed out.",
    });
  }
  await requestPasswordReset(input.email, requestId);
  return c.json(ACCEPTED.reset, 202);
});

docs.route({
  method: "post",
  path: "/oauth/:provider",
  summary: "Sign in with an OIDC ID token, or link it to my account",
  description:
    "Without Authorization it signs in (creating a verified account when the provider vouches for a new " +
    "email). With a bearer token it links the identity to the caller instead.",
  auth: "optional",
  params: OAuthParam,
  body: OAuthBody,
  responses: {
    200: {
      description: "Signed in (TokenResponse), or linked (`{ provider, linked, created }`).",
      schema: OAuthResult,
    },
  },
  errors: [
    "invalid_id_token",
    "oauth_provider_not_found",
    "oauth_email_not_verified",
    "oauth_account_in_use",
    "account_disabled",
    "invalid_argument",
  ],
});
app.post("/oauth/:provider", async (c) => {
  const { provider } = OAuthParam.parse(c.req.param());
  const input = OAuthBody.parse(await c.req.json());
  const requestId = c.get("requestId");
  const identity = await verifyIdToken(provider, input.id_token, input.nonce);

  // Signed in already: link this identity to the caller's account.
  const authorization = c.req.header("authorization");
  if (authorization) {
    const token = bearerToken(authorization);
    if (!token) throw new ApiError(401, "unauthenticated", "Send a bearer access token.");
    const claims = await verifyAccessToken(token);
    if (claims.role !== "authenticated" || typeof claims.sub !== "string") {
      throw new ApiError(401, "invalid_token", "The access token is not a user token.");
    }
    // As service_role (the edge vouches for the ID token), but acting for the caller: the
    // caller's claims go along so hazina.caller_id() refuses a revoked login or a suspended
    // user, as on every acting path.
    const [row] = await asService(requestId, async (tx) => {
      await tx`select set_config('request.jwt.claims', ${
        JSON.stringify({ ...claims, role: "authenticated" })
      }, true)`;
      return await tx<{ linked: boolean }[]>`
        select hazina.oauth_link(hazina.caller_id(), ${provider}, ${identity.subject}) as linked`;
    });
    return c.json({ provider, linked: true, created: row.linked });
  }

  const refresh = newRefreshToken();
  const { userAgent, ip } = clientInfo(c);
  const [result] = await asService(requestId, (tx) =>
    tx<SignInRow[]>`
      select * from hazina.oauth_sign_in(${provider}, ${identity.subject}, ${identity.email},
                                         ${identity.emailVerified}, ${identity.name}, ${refresh.hash},
                                         ${config().AUTH_REFRESH_TTL_SECONDS}, ${userAgent}, ${ip})`);
  return c.json(await tokenResponse(result, refresh.token));
});

docs.route({
  method: "get",
  path: "/.well-known/jwks.json",
  summary: "Public keys of our access tokens (JWKS)",
  auth: "none",
  responses: { 200: { description: "The key set (cached 5 minutes).", schema: Jwks } },
  errors: [],
});
app.get("/.well-known/jwks.json", async (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json(await publicJwks());
});

// The pages mail links open when no AUTH_SITE_URL is set, and the development mailbox.
registerPages(app, docs);
registerDevMailbox(app, docs);
