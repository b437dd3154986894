// Request bodies of the auth function. Every object is strict: unknown fields are a 400,
// not silently ignored. Then the response shapes, for the OpenAPI document.
import { z } from "zod";
import { named } from "../_shared/openapi.ts";
import { passwordSchema } from "../_shared/password.ts";
import { OPAQUE_TOKEN } from "../_shared/tokens.ts";

// Control characters have no business in names, emails or tokens.
const NO_CONTROL_CHARS = /^[^\p{Cc}]*$/u;

export const emailSchema = z.string().trim().toLowerCase().max(254).email(
  "must be an email address",
);

export const opaqueTokenSchema = z.string().regex(OPAQUE_TOKEN, "is not a token we issued");

export const SignupBody = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: z.string().trim().min(1).max(200).regex(
    NO_CONTROL_CHARS,
    "must not contain control characters",
  ).optional(),
  phone: z.string().regex(/^\+[1-9][0-9]{6,14}$/, "must be E.164, e.g. +254712345678").optional(),
  role: z.enum(["customer", "merchant"]).default("customer")
    .describe(
      "merchant records a merchant application an admin approves; until then the account is a customer.",
    ),
  business_name: z.string().trim().min(1).max(200).regex(
    NO_CONTROL_CHARS,
    "must not contain control characters",
  )
    .optional().describe("With role merchant: the business applying (defaults to name)."),
}).strict().superRefine((body, ctx) => {
  // Checked before the database, so a new and a known email are answered alike.
  if (body.role === "merchant" && !(body.business_name ?? body.name)) {
    ctx.addIssue({
      code: "custom",
      path: ["business_name"],
      message: "is required with role merchant (or send name)",
    });
  }
});

export const MerchantRequestBody = z.object({
  business_name: z.string().trim().min(1).max(200).regex(
    NO_CONTROL_CHARS,
    "must not contain control characters",
  ),
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

export const OAuthParam = z.object({
  provider: z.string().regex(/^[a-z0-9_-]{1,40}$/, "unknown provider"),
});

export const OAuthBody = z.object({
  id_token: z.string().min(1).max(8192).regex(
    /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
    "must be a compact JWT",
  ),
  nonce: z.string().min(1).max(512).optional(),
}).strict();

// --- responses (documentation: GET /auth/openapi.json) ------------------------------------

const Timestamp = z.iso.datetime({ offset: true });
const AppRole = z.enum(["customer", "merchant", "admin"]);

export const TokenResponse = named(
  "TokenResponse",
  z.object({
    access_token: z.string().describe("A Supabase-compatible JWT for `Authorization: Bearer`."),
    token_type: z.literal("bearer"),
    expires_in: z.number().int().describe("Seconds until the access token expires."),
    expires_at: z.number().int().describe("Unix time the access token expires."),
    refresh_token: z.string().regex(OPAQUE_TOKEN).describe(
      "Single use: POST /auth/token/refresh returns a new one.",
    ),
    refresh_token_expires_at: Timestamp,
    session_id: z.guid(),
    user: z.object({ id: z.guid(), email: z.string(), role: AppRole }),
  }),
  "A successful sign-in.",
);

export const Accepted = named(
  "Accepted",
  z.object({ status: z.string(), message: z.string() }),
  "The same answer whether or not the email has an account.",
);

export const Me = named(
  "Me",
  z.object({
    id: z.guid(),
    email: z.string(),
    email_verified: z.boolean(),
    email_verified_at: Timestamp.nullable(),
    name: z.string().nullable(),
    phone: z.string().nullable(),
    role: AppRole,
    status: z.string(),
    created_at: Timestamp,
    updated_at: Timestamp,
    identities: z.array(z.object({ provider: z.string(), created_at: Timestamp })),
  }),
  "My account, as RLS and the column grants show it.",
);

export const Session = named(
  "Session",
  z.object({
    id: z.guid().describe(
      "The session id: the access token's session_id claim, stable across refreshes.",
    ),
    created_at: Timestamp,
    last_refreshed_at: Timestamp,
    expires_at: Timestamp,
    user_agent: z.string().nullable(),
    ip: z.string().nullable(),
    current: z.boolean().describe("The session of the token making this call."),
  }),
  "A live sign-in.",
);

export const Verified = z.object({ status: z.literal("verified") });

export const OAuthLinked = named(
  "OAuthLinked",
  z.object({
    provider: z.string(),
    linked: z.literal(true),
    created: z.boolean().describe("False when the identity was already linked to me."),
  }),
  "The identity is linked to the caller's account.",
);

/** POST /oauth/:provider: a sign-in without a bearer token, a link with one. */
export const OAuthResult = z.union([TokenResponse, OAuthLinked]);

export const Jwks = named(
  "Jwks",
  z.object({ keys: z.array(z.looseObject({ kty: z.string() })) }),
  "Public keys for ES256 access tokens; empty with HS256 (a shared secret is never published).",
);
