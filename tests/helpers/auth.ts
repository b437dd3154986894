// Helpers for the auth suites: call the auth app, read the development mailer's outbox,
// and run the sign-up → verify → login steps the way a client would.
import { expect } from "vitest";
import { app } from "../../functions/auth/app.ts";
import { sentMail } from "../../functions/_shared/mailer.ts";
import { readResponse, requestInit } from "./request.ts";

export interface CallOptions {
  body?: unknown;
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

/** Request the auth app in-process (app.request), path relative to /auth. */
export async function call(method: string, path: string, opts: CallOptions = {}) {
  // `body` is always JSON-encoded (a string too); `rawBody` is sent exactly as given.
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  return await readResponse(await app.request(`/auth${path}`, requestInit(method, opts.token, body, opts.headers)));
}

export function uniqueEmail(label = "user"): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
}

export const STRONG_PASSWORD = "correct-Horse-battery-42";

/** The token in the newest mail of this kind sent to `to`. */
export function tokenFromMail(to: string, kind: string): string {
  const mail = sentMail(to).filter((m) => m.kind === kind).at(-1);
  expect(mail, `a ${kind} mail to ${to}`).toBeDefined();
  const token = new URL(mail!.link!).searchParams.get("token");
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return token!;
}

/** Sign up, confirm the email from the mail, sign in; returns the sign-in body. */
export async function signUpVerifiedUser(email = uniqueEmail(), password = STRONG_PASSWORD) {
  const signup = await call("POST", "/signup", { body: { email, password } });
  expect(signup.status).toBe(202);
  const verify = await call("POST", "/verify-email", { body: { token: tokenFromMail(email, "email_verification") } });
  expect(verify.status).toBe(200);
  const login = await call("POST", "/token", { body: { email, password } });
  expect(login.status).toBe(200);
  return { email, password, ...login.body } as {
    email: string;
    password: string;
    access_token: string;
    refresh_token: string;
    session_id: string;
    user: { id: string; email: string; role: string };
  };
}
