// Request bodies of the auth function. Every object is strict: unknown fields are a 400,
// not silently ignored.
import { z } from "zod";
import { passwordSchema } from "../_shared/password.ts";
import { OPAQUE_TOKEN } from "../_shared/tokens.ts";

// Control characters have no business in names, emails or tokens.
const NO_CONTROL_CHARS = /^[^\p{Cc}]*$/u;

export const emailSchema = z.string().trim().toLowerCase().max(254).email("must be an email address");

export const opaqueTokenSchema = z.string().regex(OPAQUE_TOKEN, "is not a token we issued");

export const SignupBody = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: z.string().trim().min(1).max(200).regex(NO_CONTROL_CHARS, "must not contain control characters").optional(),
  phone: z.string().regex(/^\+[1-9][0-9]{6,14}$/, "must be E.164, e.g. +254712345678").optional(),
  role: z.enum(["customer", "merchant"]).default("customer"),
}).strict();

export const LoginBody = z.object({
  email: emailSchema,
  // Login checks only the length bound: the rules apply when a password is chosen.
  password: z.string().min(1).max(256),
}).strict();

export const RefreshBody = z.object({ refresh_token: opaqueTokenSchema }).strict();

export const LogoutBody = z.object({
  // local: this session; others: every other session; global: all sessions.
  scope: z.enum(["local", "others", "global"]).default("local"),
}).strict();

export const SessionIdParam = z.object({ id: z.string().uuid("must be a session id") });

export const VerifyEmailBody = z.union([
  z.object({ email: emailSchema }).strict(),
  z.object({ token: opaqueTokenSchema }).strict(),
]);

export const PasswordResetBody = z.union([
  z.object({ email: emailSchema }).strict(),
  z.object({ token: opaqueTokenSchema, password: passwordSchema }).strict(),
]);

export const OAuthParam = z.object({ provider: z.string().regex(/^[a-z0-9_-]{1,40}$/, "unknown provider") });

export const OAuthBody = z.object({
  id_token: z.string().min(1).max(8192).regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "must be a compact JWT"),
  nonce: z.string().min(1).max(512).optional(),
}).strict();
