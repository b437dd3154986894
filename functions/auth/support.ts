// Helpers shared by the auth handlers: client details, token responses, outgoing mail.
import type { Context } from "hono";
import { clientIp } from "../_shared/clientip.ts";
import { config } from "../_shared/config.ts";
import type { Tx } from "../_shared/db.ts";
import { ApiError } from "../_shared/errors.ts";
import { log } from "../_shared/log.ts";
import { mailer, type MailMessage } from "../_shared/mailer.ts";
import { type AppRole, mintAccessToken, newOpaqueToken, sha256Hex } from "../_shared/tokens.ts";

/** A row of hazina.auth_sign_in, as the database returns it. */
export interface SignInRow {
  outcome: string;
  user_id: string | null;
  email: string | null;
  role: AppRole | null;
  session_id: string | null;
  refresh_expires_at: Date | null;
}

export const invalidCredentials = () =>
  new ApiError(
    401,
    "invalid_credentials",
    "The email or password is wrong, or the account is temporarily locked after repeated failures.",
  );
export const emailNotVerified = () =>
  new ApiError(
    403,
    "email_not_verified",
    "Verify your email address first: we sent you a link (POST /auth/verify-email to get a new one).",
  );
export const invalidRefreshToken = () =>
  new ApiError(
    401,
    "invalid_refresh_token",
    "The refresh token is invalid, expired or revoked. Sign in again.",
  );
export const refreshTokenReused = () =>
  new ApiError(
    401,
    "refresh_token_reused",
    "This refresh token was already used, so the session was revoked for safety. Sign in again.",
  );

/**
 * User agent and client IP for the session row; informational only, never trusted for
 * access. The IP is clientIp's: X-Forwarded-For only from a trusted proxy.
 */
export function clientInfo(c: Context): { userAgent: string | null; ip: string | null } {
  const userAgent = c.req.header("user-agent")?.slice(0, 512) ?? null;
  return { userAgent, ip: clientIp(c) };
}

/** A fresh refresh token and the hash the database keeps instead of it. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = newOpaqueToken();
  return { token, hash: sha256Hex(token) };
}

/** The body of every successful sign-in: access token, refresh token, who signed in. */
export async function tokenResponse(row: SignInRow, refreshToken: string) {
  if (!row.user_id || !row.email || !row.role || !row.session_id || !row.refresh_expires_at) {
    throw new Error(`sign-in row is incomplete (outcome ${row.outcome})`);
  }
  const access = await mintAccessToken({
    userId: row.user_id,
    email: row.email,
    appRole: row.role,
    sessionId: row.session_id,
  });
  return {
    ...access,
    refresh_token: refreshToken,
    refresh_token_expires_at: row.refresh_expires_at.toISOString(),
    session_id: row.session_id,
    user: { id: row.user_id, email: row.email, role: row.role },
  };
}

/** Store a new single-use token for the user (inside the caller's transaction); returns the token. */
export async function issueVerificationToken(
  tx: Tx,
  userId: string,
  purpose: "email_verification" | "password_reset",
): Promise<string> {
  const cfg = config();
  const token = newOpaqueToken();
  const ttl = purpose === "password_reset"
    ? cfg.AUTH_RESET_TTL_SECONDS
    : cfg.AUTH_VERIFICATION_TTL_SECONDS;
  await tx`select hazina.verification_token_issue(${userId}, ${purpose}, ${
    sha256Hex(
      token,
    )
  }, ${ttl})`;
  return token;
}

/**
 * The link a mail carries: the app's page under AUTH_SITE_URL when one is configured, else
 * the auth function's own page (<PUBLIC_FUNCTIONS_URL>/auth/pages/…), so a link works
 * without any app. `page` is "verify-email" or "reset-password".
 */
export function siteLink(page: "verify-email" | "reset-password", token?: string): string {
  const cfg = config();
  const url = new URL(
    cfg.AUTH_SITE_URL
      ? `${cfg.AUTH_SITE_URL}/${page}`
      : `${cfg.PUBLIC_FUNCTIONS_URL}/auth/pages/${page}`,
  );
  if (token) url.searchParams.set("token", token);
  return url.toString();
}

/**
 * Send after the transaction committed. A mail failure is logged, not returned: the
 * response must not depend on whether (or to whom) mail went out.
 */
export async function sendMail(message: MailMessage, requestId: string | undefined): Promise<void> {
  try {
    await mailer().send(message);
  } catch (err) {
    log("error", "mail delivery failed", {
      request_id: requestId,
      kind: message.kind,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

export const mails = {
  verification: (to: string, token: string): MailMessage => {
    const link = siteLink("verify-email", token);
    return {
      to,
      kind: "email_verification",
      subject: "Confirm your Hazina email address",
      link,
      text: `Confirm your email address by opening this link:\n\n${link}\n\n` +
        `It expires in ${Math.round(config().AUTH_VERIFICATION_TTL_SECONDS / 3600)} hours. ` +
        "If you did not create a Hazina account, ignore this email.",
    };
  },
  alreadyRegistered: (to: string): MailMessage => {
    const link = siteLink("reset-password");
    return {
      to,
      kind: "already_registered",
      subject: "Someone tried to create a Hazina account with your email",
      link,
      text:
        "Someone (maybe you) tried to sign up with this email address, which already has an account.\n\n" +
        `If it was you, sign in, or reset your password here:\n\n${link}\n\nOtherwise, ignore this email.`,
    };
  },
  passwordReset: (to: string, token: string): MailMessage => {
    const link = siteLink("reset-password", token);
    return {
      to,
      kind: "password_reset",
      subject: "Reset your Hazina password",
      link,
      text: `Choose a new password by opening this link:\n\n${link}\n\n` +
        `It expires in ${
          Math.round(config().AUTH_RESET_TTL_SECONDS / 60)
        } minutes and signs you out everywhere. ` +
        "If you did not ask for this, ignore this email: your password stays as it is.",
    };
  },
};
